"""Who served it: what the server of a TLS connection presented, and what it proved.

The crawl's protocol tap takes, once per connection, the TLS version, the cipher suite
and the certificate chain the server sent (leaf first), and checks the chain
(archiver/capture/tlsverify.py) at the time of the handshake. The recorder writes what
is kept here into the WARC:

- on every record of the connection's exchanges, the IIPC extension fields
  ``WARC-Protocol`` (repeated, higher layer first: ``http/1.1`` then ``tls/1.3``) and
  ``WARC-Cipher-Suite`` (the IANA name);
- once per connection (and again in each new WARC file the connection's exchanges land
  in), a ``metadata`` record whose JSON block holds the chain as PEM, each
  certificate's SHA-256 and the verification result.

Nothing here imports Scrapy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from archiver.capture.ciphers import iana_name
from archiver.capture.tlsverify import (
    TrustStore,
    Verification,
    issuer_name,
    names_of,
    subject_host,
    verify_chain,
)
from archiver.catalog.db import iso_ms

CONTENT_TYPE = "application/json"
# OpenSSL's version names to the IIPC WARC-Protocol identifiers.
PROTOCOL_IDS = {
    "TLSv1.3": "tls/1.3",
    "TLSv1.2": "tls/1.2",
    "TLSv1.1": "tls/1.1",
    "TLSv1": "tls/1.0",
    "SSLv3": "ssl/3",
    "SSLv2": "ssl/2",
}


def fingerprint(cert: x509.Certificate) -> str:
    """``sha256:`` + lower-case hex of the DER bytes, as ``openssl x509 -outform DER |
    sha256sum`` prints it (the style of every digest in the archive)."""
    return "sha256:" + hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, eq=False)  # one per connection: told apart by identity
class PeerTls:
    version: str  # as OpenSSL names it: TLSv1.3
    openssl_cipher: str | None  # as OpenSSL names it: ECDHE-RSA-AES128-GCM-SHA256
    chain: tuple[x509.Certificate, ...]  # as presented, leaf first
    host: str  # the name asked for (SNI) and checked against
    port: int | None
    at: datetime  # when the handshake was seen
    verification: Verification
    trust_sources: tuple[str, ...] = ()

    @classmethod
    def observe(
        cls,
        *,
        version: str,
        cipher: str | None,
        chain: Sequence[x509.Certificate],
        host: str,
        port: int | None,
        at: datetime,
        trust: TrustStore,
    ) -> PeerTls:
        """What a connection's server presented, with the chain checked at ``at``."""
        return cls(
            version=version,
            openssl_cipher=cipher,
            chain=tuple(chain),
            host=host,
            port=port,
            at=at,
            verification=verify_chain(chain, host, at, trust),
            trust_sources=trust.sources,
        )

    @property
    def protocol(self) -> str | None:
        """The ``WARC-Protocol`` identifier of the TLS layer (``tls/1.3``)."""
        return PROTOCOL_IDS.get(self.version)

    @property
    def cipher_suite(self) -> str | None:
        """The IANA name (``WARC-Cipher-Suite``); None for a suite the table lacks."""
        return iana_name(self.openssl_cipher)

    @property
    def leaf(self) -> x509.Certificate | None:
        return self.chain[0] if self.chain else None

    @property
    def subject_host(self) -> str | None:
        return subject_host(self.leaf, self.host) if self.leaf is not None else None

    @property
    def issuer(self) -> str | None:
        return issuer_name(self.leaf) if self.leaf is not None else None

    @property
    def leaf_sha256(self) -> str | None:
        return fingerprint(self.leaf) if self.leaf is not None else None

    def warc_fields(self) -> list[tuple[str, str]]:
        """The TLS layer's fields, after the ``WARC-Protocol`` of the HTTP layer."""
        fields = [("WARC-Protocol", self.protocol)] if self.protocol else []
        if self.cipher_suite:
            fields.append(("WARC-Cipher-Suite", self.cipher_suite))
        return fields

    def record_block(self, ip_address: str | None) -> bytes:
        """The certificate record's JSON block."""
        document = {
            "host": self.host,
            "port": self.port,
            "ip_address": ip_address,
            "protocol": self.protocol or self.version,
            "cipher_suite": self.cipher_suite,
            "openssl_cipher": self.openssl_cipher,
            "handshake_at": iso_ms(self.at),
            "verification": self.verification.result,
            "problems": list(self.verification.problems),
            "trust_store": list(self.trust_sources),
            "certificates": [_describe(cert) for cert in self.chain],
        }
        return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _names(cert: x509.Certificate) -> list[str]:
    try:
        return names_of(cert)
    except ValueError:  # an extension cryptography cannot parse: the PEM still has it
        return []


def _describe(cert: x509.Certificate) -> dict[str, object]:
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "names": _names(cert),
        "serial_number": format(cert.serial_number, "x"),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "sha256": fingerprint(cert),
        "pem": cert.public_bytes(Encoding.PEM).decode("ascii"),
    }
