"""The operator key: the ECDSA P-384 key pair that signs the WACZ packages an archive exports.

One key per home, at ``HOME/keys/operator.pem`` (PKCS#8 PEM, readable by its owner alone).
The private key is a secret: it is read only to sign, never written anywhere else, never
logged, never in a WARC file, the catalog or a settings snapshot. What is published is
the public key (its SubjectPublicKeyInfo, DER, base64: the form WACZ's ``publicKey``
takes) and its fingerprint, the SHA-256 of that DER, which the operator gives out of band
(a web page, a printed letter) so that a stranger can tell a package signed with this
key from one signed by anyone else.

Signatures are made as the WACZ signing spec's anonymous shape is verified by
ReplayWeb.page (wabac.js) and made by ArchiveWeb.page: WebCrypto's ECDSA with SHA-256
over the UTF-8 bytes of the message, the signature as the raw ``r || s`` pair (IEEE P1363,
48 + 48 bytes for P-384), not DER.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from archiver.errors import ArchiverError

ALGORITHM = "ECDSA P-384"
CURVE = ec.SECP384R1()
SCALAR_BYTES = 48  # P-384: r and s are 384-bit integers


class KeyExists(ArchiverError):
    """``keys init`` where a key is already: it is never replaced."""


class NoKey(ArchiverError):
    """No operator key in the home."""


@dataclass(frozen=True)
class OperatorKey:
    path: Path
    _private: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def public_der(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_key(self) -> str:
        """The SubjectPublicKeyInfo, DER, base64: WACZ's ``publicKey``."""
        return base64.b64encode(self.public_der).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """``sha256:`` + hex of the SubjectPublicKeyInfo DER: what is published."""
        return fingerprint_of(self.public_der)

    def sign(self, message: bytes) -> bytes:
        """ECDSA with SHA-256 over ``message``; the signature as raw ``r || s`` (96 bytes),
        as WebCrypto makes and verifies it."""
        r, s = decode_dss_signature(self._private.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(SCALAR_BYTES, "big") + s.to_bytes(SCALAR_BYTES, "big")


def fingerprint_of(public_der: bytes) -> str:
    return "sha256:" + hashlib.sha256(public_der).hexdigest()


def create(path: Path) -> OperatorKey:
    """Make a new key at ``path``, mode 0600, in a folder of mode 0700. An existing key is
    never replaced: a key is the identity its published fingerprint names, and packages
    already signed with it verify only against it. Written to a temporary file first and
    linked into place, so the key is either whole or absent, and two commands racing
    cannot both win."""
    if path.exists():
        raise KeyExists(_exists_message(path))
    private = ec.generate_private_key(CURVE)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            os.link(partial, path)  # fails if a key appeared meanwhile
        finally:
            os.unlink(partial)
    except FileExistsError:
        raise KeyExists(_exists_message(path)) from None
    except OSError as exc:
        raise ArchiverError(
            f"cannot write the operator key at {path}: {exc.strerror or exc}; "
            "choose a writable home with --home or ARCHIVER_HOME"
        ) from exc
    return OperatorKey(path, private)


def load(path: Path) -> OperatorKey:
    """The key at ``path``. Like ssh with a private key, a file that other users may read
    or change, or that is not yours, is refused."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NoKey(f"no operator key at {path}: make one with 'archiver keys init'") from None
    if info.st_mode & 0o077 or info.st_uid != os.getuid():
        raise ArchiverError(
            f"operator key {path} is open to other users ({stat.filemode(info.st_mode)}) or "
            f"not yours: make it private with 'chmod 600 {path}' (and if others may have "
            "read it, make a new key and publish its fingerprint instead)"
        )
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ArchiverError(
            f"operator key {path} cannot be read as an unencrypted PKCS#8 PEM key ({exc}): "
            "restore it from your backup"
        ) from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != CURVE.name:
        raise ArchiverError(
            f"operator key {path} is not an {ALGORITHM} key, which WACZ signatures need: "
            "restore it from your backup"
        )
    return OperatorKey(path, private)


def _exists_message(path: Path) -> str:
    return (
        f"an operator key already exists at {path}: it is kept, not replaced (see it with "
        "'archiver keys show'); to make a new one, move that file away first, and publish "
        "the new fingerprint (packages already signed keep verifying against the old key)"
    )
