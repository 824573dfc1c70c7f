"""RFC 3161 timestamps: ask an authority to stamp bytes, and check a token offline.

``rfc3161-client`` builds the request and checks the token: the signature, a chain to a
root we trust that is valid at the token's genTime, the TSA certificate's critical
``timeStamping`` EKU, the nonce, and that the token covers our bytes. A token is kept
with its chain (the TSA's certificate first, the root last), so that a stranger can
check it years later without asking anyone.

Trusted roots: the PEM bundle in ``ARCHIVER_TSA_CA_FILE``, else the system's.
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from archiver.errors import ArchiverError

CONTENT_TYPE = "application/timestamp-query"
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


class StampError(ArchiverError):
    """An authority gave no usable token (unreachable, refused, or a token that fails)."""


class TokenRejected(StampError):
    """The authority answered with a token that does not verify: never trusted."""


class UntrustedRoot(StampError):
    """The token chains to no root we trust (yet): the operator's roots may be missing
    one, so the stamp stays pending rather than rejected."""


@dataclass(frozen=True)
class Token:
    """A verified timestamp token and what it says."""

    response: bytes  # the TimeStampResp, as the authority sent it
    gen_time: datetime
    serial: str
    policy: str
    nonce: str | None
    chain: list[x509.Certificate]  # the TSA's certificate first, the root last
    accuracy: float | None = None  # seconds either side of genTime, as the token states

    @property
    def margin(self) -> float:
        """How far the true time may be from genTime: the token's accuracy, and the
        fraction of a second lost when genTime is given to the second."""
        whole_second = 1.0 if self.gen_time.microsecond == 0 else 0.0
        return (self.accuracy or 0.0) + whole_second

    @property
    def chain_pem(self) -> str:
        return "".join(cert.public_bytes(Encoding.PEM).decode("ascii") for cert in self.chain)

    @property
    def signer(self) -> str:
        return self.chain[0].subject.rfc4514_string()

    @property
    def root(self) -> str:
        return self.chain[-1].subject.rfc4514_string()

    @property
    def root_fingerprint(self) -> str:
        return fingerprint(self.chain[-1])


def trusted_roots() -> list[x509.Certificate]:
    configured = os.environ.get("ARCHIVER_TSA_CA_FILE")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ArchiverError(
                f"ARCHIVER_TSA_CA_FILE names {path}, which is not a file: give a PEM bundle"
                " of the timestamp authorities' roots"
            )
        return x509.load_pem_x509_certificates(path.read_bytes())
    paths = [ssl.get_default_verify_paths().cafile or "", *SYSTEM_BUNDLES]
    for candidate in paths:
        if candidate and Path(candidate).is_file():
            return x509.load_pem_x509_certificates(Path(candidate).read_bytes())
    raise ArchiverError(
        "no trusted roots for timestamp authorities: set ARCHIVER_TSA_CA_FILE to a PEM bundle"
    )


def request_token(url: str, data: bytes, *, timeout: float = 10.0) -> Token:
    """Ask the authority at ``url`` to stamp ``data`` (its SHA-256), and verify the
    answer before anything is kept. Raises StampError, TokenRejected (with the bytes)."""
    request = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    http = urllib.request.Request(
        url, data=request.as_bytes(), headers={"Content-Type": CONTENT_TYPE}, method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as answer:
            raw = answer.read()
    except urllib.error.HTTPError as exc:
        raise StampError(f"{url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StampError(f"{url} is unreachable: {reason}") from exc
    try:
        response = decode_timestamp_response(raw)
    except ValueError as exc:
        raise StampError(f"{url} did not answer with a TimeStampResp: {exc}") from exc
    if PKIStatus(response.status) != PKIStatus.GRANTED:
        raise StampError(f"{url} refused to stamp (PKIStatus {response.status})")
    if response.tst_info.nonce != request.nonce:
        raise TokenRejected(f"{url} answered with another request's nonce")
    return check_token(raw, data, chain=None, roots=trusted_roots(), where=url)


def check_token(
    raw: bytes,
    data: bytes,
    *,
    chain: list[x509.Certificate] | None,
    roots: list[x509.Certificate] | None = None,
    where: str = "the token",
) -> Token:
    """Check a TimeStampResp over ``data`` offline: with ``chain`` (as recorded: the TSA
    certificate first, the root last) it must chain to that root; otherwise to one of
    ``roots``. Raises TokenRejected naming the broken link."""
    try:
        response = decode_timestamp_response(raw)
    except ValueError as exc:
        raise TokenRejected(f"{where} is damaged: it is not a readable TimeStampResp") from exc
    imprint = response.tst_info.message_imprint.message
    if imprint != hashlib.sha256(data).digest():
        raise TokenRejected(
            f"{where} does not cover the manifest: it stamps SHA-256 {imprint.hex()},"
            f" the manifest's is {hashlib.sha256(data).hexdigest()}"
        )
    embedded = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
    if chain is not None:
        _check_recorded_signer(response, embedded, chain[0], where)
        if roots is not None and chain[-1] not in roots:
            name = chain[-1].subject.rfc4514_string()
            raise TokenRejected(
                f"{where} chains to a root that is not trusted here ({name}, SHA-256"
                f" {fingerprint(chain[-1])}): it is in neither ARCHIVER_TSA_CA_FILE nor the"
                " system's roots"
            )
        candidates = [chain[-1]]
        intermediates = [*chain[:-1], *embedded]
    else:
        candidates = _issuers_of(embedded, roots or [])
        intermediates = embedded
        if not candidates:
            raise UntrustedRoot(
                f"{where} does not chain to a trusted root: add its root to"
                " ARCHIVER_TSA_CA_FILE (or the system's roots), then run 'archiver stamp'"
            )
    problem = ""
    for root in candidates:
        try:
            _verify(response, data, root, intermediates)
        except VerificationError as exc:
            problem = _say(str(exc), where)
            if "EKU" in str(exc) or "Nonce" in str(exc):
                break
            continue
        return Token(
            response=raw,
            gen_time=response.tst_info.gen_time.astimezone(UTC),
            serial=format(response.tst_info.serial_number, "x"),
            policy=response.tst_info.policy.dotted_string,
            nonce=str(response.tst_info.nonce) if response.tst_info.nonce is not None else None,
            chain=_chain(response, embedded, root),
            accuracy=_accuracy(response),
        )
    raise TokenRejected(problem)


def _check_recorded_signer(
    response: TimeStampResponse, embedded: list[x509.Certificate], recorded: x509.Certificate,
    where: str,
) -> None:  # fmt: skip
    """The recorded TSA certificate signed the token (the token's own copy, if it carries
    one, is the same certificate) and is a timestamping certificate."""
    if not any(
        recorded.issuer == signer.issuer and recorded.serial_number == signer.serial_number
        for signer in response.signed_data.signer_infos
    ):
        raise TokenRejected(f"{where} was not signed by the recorded TSA certificate")
    try:
        eku = recorded.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or x509.ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
        raise TokenRejected(
            f"{where} is signed by a certificate without the critical timeStamping EKU"
        )
    for cert in embedded:
        same_name = cert.issuer == recorded.issuer and cert.serial_number == recorded.serial_number
        if same_name and cert != recorded:
            raise TokenRejected(
                f"{where} carries a TSA certificate that differs from the recorded one"
                " (the token or the recorded chain was altered)"
            )


def _verify(
    response: TimeStampResponse, data: bytes, root: x509.Certificate,
    intermediates: list[x509.Certificate],
) -> None:  # fmt: skip
    others: list[x509.Certificate] = []
    for cert in intermediates:
        if cert != root and cert not in others:
            others.append(cert)
    VerifierBuilder(roots=[root], intermediates=others).build().verify_message(response, data)


def _say(message: str, where: str) -> str:
    if "EKU" in message:
        return f"{where} is signed by a certificate without the critical timeStamping EKU"
    if "certificates" in message.lower() or "signature" in message.lower():
        detail = re.search(r'Verify error: ([^"]+)', message)
        return (
            f"{where} does not verify against the recorded TSA root: its signature or its"
            " chain is broken, or the certificates were not valid at its genTime"
            + (f" ({detail.group(1)})" if detail else "")
        )
    return f"{where} fails verification: {message}"


def _issuers_of(
    certs: list[x509.Certificate], roots: list[x509.Certificate]
) -> list[x509.Certificate]:
    """The roots that issued one of ``certs`` (or are one of them)."""
    names = {cert.issuer for cert in certs} | {cert.subject for cert in certs}
    return [root for root in roots if root.subject in names]


def _chain(
    response: TimeStampResponse, embedded: list[x509.Certificate], root: x509.Certificate
) -> list[x509.Certificate]:
    """The certificate that signed the token, then each issuer up to ``root``."""
    signers = list(response.signed_data.signer_infos)
    leaf = next(
        (
            cert
            for cert in embedded
            for signer in signers
            if cert.issuer == signer.issuer and cert.serial_number == signer.serial_number
        ),
        None,
    )
    if leaf is None:
        return [root]
    by_subject = {cert.subject: cert for cert in embedded if cert != root}
    chain = [leaf]
    while chain[-1].issuer not in (chain[-1].subject, root.subject):
        issuer = by_subject.get(chain[-1].issuer)
        if issuer is None or issuer in chain:
            break
        chain.append(issuer)
    if chain[-1] != root:
        chain.append(root)
    return chain


def _accuracy(response: TimeStampResponse) -> float | None:
    accuracy = response.tst_info.accuracy
    if accuracy is None:
        return None
    return (accuracy.seconds or 0) + (accuracy.millis or 0) / 1e3 + (accuracy.micros or 0) / 1e6


def fingerprint(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex()


def load_chain(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode("ascii"))
