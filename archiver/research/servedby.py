"""Who served a capture, in words a citation or a proof can carry.

What the catalog keeps of the TLS connection a capture came over
(archiver/catalog/capturetls.py) becomes one sentence: "served over TLS 1.3 by a server
holding a certificate for example.org issued by Let's Encrypt (R10), verified OK at
capture", or the check's failure in place of the last words. A capture over plain HTTP,
or made before the archive kept TLS details, has no such sentence.
"""

from __future__ import annotations

from archiver.catalog.captures import Capture
from archiver.catalog.capturetls import TlsRow

_VERSIONS = {"tls/1.0": "TLS 1.0", "tls/1.1": "TLS 1.1", "tls/1.2": "TLS 1.2",
             "tls/1.3": "TLS 1.3", "ssl/2": "SSL 2.0", "ssl/3": "SSL 3.0"}  # fmt: skip


def protocol_name(protocol: str | None) -> str:
    """``tls/1.3`` (the WARC-Protocol identifier) as people write it: ``TLS 1.3``."""
    return _VERSIONS.get(protocol or "", "TLS")


def verdict(tls: TlsRow) -> str:
    if tls.verification == "ok":
        return "verified OK at capture"
    return f"which failed verification at capture: {tls.verification}"


def tls_statement(capture: Capture) -> str | None:
    """The sentence (lower-case, no final stop) saying who served ``capture``; None when
    it did not come over TLS or its TLS details were not kept."""
    tls = capture.tls
    if tls is None:
        return None
    over = f"served over {protocol_name(tls.protocol)}"
    if not tls.subject_host:
        return f"{over} by a server that presented no certificate, {verdict(tls)}"
    issuer = f" issued by {tls.issuer}" if tls.issuer else ""
    return (
        f"{over} by a server holding a certificate for {tls.subject_host}{issuer}, {verdict(tls)}"
    )
