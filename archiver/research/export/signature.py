"""The signature of a WACZ package: ``signedData`` in ``datapackage-digest.json``.

WACZ Signing and Verification 0.1.0 (specs.webrecorder.net/wacz-auth/0.1.0/), the
anonymous shape: ``hash`` (the digest of ``datapackage.json`` as the digest file gives it,
``sha256:`` + hex), ``created`` (the package's own ``created``: py-wacz's validator
refuses a package where they differ), ``software``, ``signature`` (base64 of the ECDSA
signature of ``hash``) and ``publicKey`` (base64 SubjectPublicKeyInfo). The spec allows
no other property in ``signedData``.

What is signed, and how, is what the verifiers check: ReplayWeb.page (wabac.js
``verifyWACZSignature``) imports ``publicKey`` as an SPKI P-384 key and calls WebCrypto's
``verify({name: "ECDSA", hash: "SHA-256"}, key, signature, utf8(hash))``, so the
signature is over the UTF-8 text of ``hash`` and is raw ``r || s``, as ArchiveWeb.page
signs it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from archiver.research.export.operatorkey import OperatorKey


def signed_data(key: OperatorKey, package_hash: str, created: str, software: str) -> dict[str, str]:
    """``signedData`` for a package whose ``datapackage.json`` has digest ``package_hash``
    (``sha256:…``) and ``created`` date ``created`` (the same string as in it)."""
    signature = key.sign(package_hash.encode("utf-8"))
    return {
        "hash": package_hash,
        "created": created,
        "software": software,
        "signature": base64.b64encode(signature).decode("ascii"),
        "publicKey": key.public_key,
    }


def signature_to_stamp(signed: Mapping[str, Any]) -> bytes:
    """The bytes a trusted timestamp over the signature covers: the ``signature`` value as
    written (its base64 text, ASCII). The spec's certificate shape stamps ``signature``
    this way (its ``timeSignature``; authsign hashes ``signature.encode("ascii")``); the
    anonymous shape has no property for a stamp, so the stamp goes beside ``signedData``,
    not in it."""
    return str(signed["signature"]).encode("ascii")
