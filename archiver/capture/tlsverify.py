"""Checking a server's certificate chain against a trust store, as a browser would.

The crawl does not verify certificates (a page behind a bad certificate is still
evidence worth keeping, as Heritrix and Browsertrix Crawler fetch it too); what a
browser would have made of the chain is worked out here and recorded beside the
capture. The check runs ``cryptography``'s path builder (the Web PKI profile of RFC 5280
and the CA/Browser Forum baseline) against the system's trust store, plus the CA
certificates of ``ARCHIVER_TLS_CA_FILE`` when set, at the time of the handshake.

The result is one word a reader can act on: ``ok``, ``expired`` (or not yet valid),
``name mismatch``, ``self-signed``, or ``untrusted: <reason>`` for anything else (a
certificate not yet valid, an issuer missing from the trust store, ...). When
several apply, the first in that order is the result; all of them are kept.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    DNSName,
    IPAddress,
    PolicyBuilder,
    Store,
    VerificationError,
)

from archiver.errors import ArchiverError

OK = "ok"
EXPIRED = "expired"
NAME_MISMATCH = "name mismatch"
SELF_SIGNED = "self-signed"
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
_ENCOUNTERED = re.compile(r"\s*\(encountered processing <Certificate\(subject=<Name\((.*?)\)>.*$")


@dataclass(frozen=True)
class Verification:
    """What a browser would have made of the chain: ``result`` and every problem found."""

    result: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.result == OK


@dataclass(frozen=True)
class TrustStore:
    """The CA certificates a chain is checked against, and the files they came from."""

    certificates: tuple[x509.Certificate, ...]
    sources: tuple[str, ...]

    @classmethod
    def load(cls, extra_ca_file: str | None = None) -> TrustStore:
        """The system's trust store (what Python's ``ssl`` module would load, so
        ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` apply), plus ``extra_ca_file``."""
        certificates, sources = list(_system_certificates()), []
        if certificates:
            paths = ssl.get_default_verify_paths()
            sources.append(paths.cafile or paths.capath or "system")
        if extra_ca_file:
            certificates += read_ca_file(extra_ca_file)
            sources.append(str(extra_ca_file))
        return cls(tuple(certificates), tuple(sources))

    @cached_property
    def subjects(self) -> frozenset[x509.Name]:
        return frozenset(cert.subject for cert in self.certificates)

    @cached_property
    def store(self) -> Store | None:
        return Store(list(self.certificates)) if self.certificates else None


def read_ca_file(path: str) -> list[x509.Certificate]:
    """The PEM certificates in ``path`` (ARCHIVER_TLS_CA_FILE); an error naming the fix
    when there are none."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ArchiverError(
            f"setting ARCHIVER_TLS_CA_FILE={path}: cannot read it ({exc.strerror or exc});"
            " give a PEM file of CA certificates"
        ) from None
    found = _parse_pem(data)
    if not found:
        raise ArchiverError(
            f"setting ARCHIVER_TLS_CA_FILE={path} holds no PEM certificate"
            " (-----BEGIN CERTIFICATE----- blocks)"
        )
    return found


def _parse_pem(data: bytes) -> list[x509.Certificate]:
    """Each PEM block on its own: one odd certificate in a system bundle spoils none."""
    found = []
    with warnings.catch_warnings():
        # System bundles hold a few old roots cryptography warns about (e.g. a negative
        # serial number): still roots a browser trusts.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in _PEM.findall(data):
            try:
                found.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                continue
    return found


def _system_certificates() -> list[x509.Certificate]:
    paths = ssl.get_default_verify_paths()
    if paths.cafile and Path(paths.cafile).is_file():
        return _cached_bundle(paths.cafile)
    if paths.capath and Path(paths.capath).is_dir():
        found = []
        for entry in sorted(Path(paths.capath).iterdir()):
            if entry.is_file():
                try:
                    found += _parse_pem(entry.read_bytes())
                except OSError:
                    continue
        return found
    return []


@lru_cache(maxsize=4)
def _cached_bundle(path: str) -> list[x509.Certificate]:
    return _parse_pem(Path(path).read_bytes())


def verify_chain(
    chain: Sequence[x509.Certificate], host: str, at: datetime, trust: TrustStore
) -> Verification:
    """Check the chain a server presented (leaf first) for ``host`` at ``at``."""
    try:
        return _verify(chain, host, at, trust)
    except ValueError as exc:  # an extension cryptography cannot parse
        return Verification(f"untrusted: unreadable certificate ({exc})")


def _verify(
    chain: Sequence[x509.Certificate], host: str, at: datetime, trust: TrustStore
) -> Verification:
    if not chain:
        return Verification("untrusted: the server presented no certificate")
    leaf = chain[0]
    problems = []
    if at > leaf.not_valid_after_utc:
        problems.append(EXPIRED)
    elif at < leaf.not_valid_before_utc:
        problems.append(f"untrusted: not valid before {leaf.not_valid_before_utc:%Y-%m-%d}")
    if matching_name(leaf, host) is None:
        problems.append(NAME_MISMATCH)
    if is_self_signed(leaf) and leaf not in trust.certificates:
        problems.append(SELF_SIGNED)
    if trust.store is None:
        problems.append("untrusted: no trust store (no system CA certificates found)")
        return Verification(problems[0], tuple(problems))
    verifier = PolicyBuilder().store(trust.store).time(at)
    try:
        verifier.build_server_verifier(_subject(host)).verify(leaf, list(chain[1:]))
    except VerificationError as exc:
        if not problems:
            problems.append(f"untrusted: {_untrusted_reason(chain, trust, exc)}")
    except ValueError as exc:  # a host name the verifier cannot take
        problems.append(f"untrusted: {exc}")
    else:
        return Verification(OK)
    return Verification(problems[0], tuple(problems))


def _subject(host: str) -> DNSName | IPAddress:
    try:
        return IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return DNSName(host.rstrip(".").lower())


def _untrusted_reason(
    chain: Sequence[x509.Certificate], trust: TrustStore, exc: VerificationError
) -> str:
    top = _top_of(chain)
    if top.issuer not in trust.subjects and top not in trust.certificates:
        what = "root" if is_self_signed(top) else "issuer"
        name = top.subject if is_self_signed(top) else top.issuer
        return f"{what} not in the trust store ({name.rfc4514_string()})"
    text = str(exc).removeprefix("validation failed: ")
    match = _ENCOUNTERED.search(text)
    if match:  # name the certificate instead of repeating cryptography's repr
        text = text[: match.start()] + f" ({match.group(1)})"
    return text


def _top_of(chain: Sequence[x509.Certificate]) -> x509.Certificate:
    """The last certificate reached from the leaf by issuer links within the chain."""
    current, seen = chain[0], {0}
    while not is_self_signed(current):
        nxt = next(
            (i for i, cert in enumerate(chain) if i not in seen and cert.subject == current.issuer),
            None,
        )
        if nxt is None:
            break
        seen.add(nxt)
        current = chain[nxt]
    return current


def is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def names_of(cert: x509.Certificate) -> list[str]:
    """The names a certificate is for: its subjectAltName entries (DNS names, IP
    addresses), else its common name."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        names = san.get_values_for_type(x509.DNSName)
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        if names:
            return names
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def matching_name(cert: x509.Certificate, host: str) -> str | None:
    """The subjectAltName entry that covers ``host`` (RFC 6125: a wildcard stands for
    one whole left-most label); None when none does. The common name is not consulted,
    as browsers no longer do."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        for ip in san.get_values_for_type(x509.IPAddress):
            if ip == address:
                return str(ip)
        return None
    wanted = host.rstrip(".").lower()
    for name in san.get_values_for_type(x509.DNSName):
        pattern = name.rstrip(".").lower()
        if pattern == wanted:
            return name
        if pattern.startswith("*.") and "." in wanted:
            label, rest = wanted.split(".", 1)
            if label and rest == pattern[2:]:
                return name
    return None


def subject_host(cert: x509.Certificate, host: str) -> str:
    """The name the certificate was for, as a citation names it: the entry covering
    ``host``, else its first name."""
    try:
        names = names_of(cert)
        return matching_name(cert, host) or (names[0] if names else cert.subject.rfc4514_string())
    except ValueError:  # an extension cryptography cannot parse
        return cert.subject.rfc4514_string()


def issuer_name(cert: x509.Certificate) -> str:
    """Who issued the certificate, as people name CAs: the organization, with the issuing
    CA's common name beside it ("Let's Encrypt (R10)"); one of them when alone."""
    org = [str(a.value) for a in cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    common = [str(a.value) for a in cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if org and common and org[0] != common[0]:
        return f"{org[0]} ({common[0]})"
    if org or common:
        return (org or common)[0]
    return cert.issuer.rfc4514_string()
