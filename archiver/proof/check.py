"""``archiver verify ID --proof``: from one capture to the timestamps that cover it,
offline, one link at a time.

1. the capture's records: their digests match the catalog;
2. its WARC file: the SHA-256 of the stored bytes matches the catalog;
3. the manifest: the file's line (that SHA-256, size and name) is in a manifest of its
   job whose stored bytes still have the SHA-256 recorded when it was made;
4. each token over that manifest: it covers the manifest's SHA-256, it was signed by the
   recorded TSA certificate (critical ``timeStamping`` EKU), which chains to the
   recorded root and was valid at the token's genTime.

The manifest, tokens and chains are read from the store (where a stranger finds them
beside the WARC files); the catalog's copies are used only for what was not stored.
Every step says what it checked; the first broken link is named.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from archiver.catalog import Catalog, proofs
from archiver.catalog.captures import Capture
from archiver.catalog.db import iso_ms
from archiver.errors import ArchiverError
from archiver.proof.manifest import lines_of, parse_line
from archiver.proof.stamping import manifest_key, token_keys
from archiver.proof.tsa import check_token, load_chain, trusted_roots
from archiver.research.retrieval import read_capture
from archiver.storage.base import Store
from archiver.storage.s3 import S3Options

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Stamp:
    authority: str
    state: str  # verified, failed, pending, rejected
    gen_time: str | None = None
    seconds_after_capture: float | None = None
    detail: str = ""


@dataclass
class Proof:
    capture_id: str
    captured_at: str
    steps: list[Step] = field(default_factory=list)
    stamps: list[Stamp] = field(default_factory=list)
    manifest: str | None = None  # its storage URI (or "catalog")

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def broken(self) -> Step | None:
        return next((step for step in self.steps if not step.ok), None)


def prove(catalog: Catalog, capture: Capture, store: Store, s3: S3Options | None) -> Proof:
    proof = Proof(capture.id, capture.captured_at)
    try:
        read_capture(capture, s3)
    except ArchiverError as exc:
        proof.steps.append(Step("records", False, str(exc)))
        return proof
    proof.steps.append(Step(
        "records", True,
        f"the response's block and payload digests match the catalog ({capture.payload_digest})",
    ))  # fmt: skip
    line = proofs.file_line(catalog, capture.warc_file or "")
    if capture.warc_state != "stored" or line is None or line.storage_key is None:
        where = (
            "is not in the store yet" if capture.warc_state != "stored" else "has no manifest line"
        )
        proof.steps.append(Step(
            "warc file", False,
            f"{capture.warc_file} {where}, so no manifest lists it: run 'archiver upload',"
            " then 'archiver stamp'",
        ))  # fmt: skip
        return proof
    try:
        digest = _sha256_of(store, line.storage_key)
    except ArchiverError as exc:
        proof.steps.append(Step("warc file", False, str(exc)))
        return proof
    if digest != line.sha256:
        proof.steps.append(Step(
            "warc file", False,
            f"{line.warc_file} in the store has SHA-256 {digest}, the catalog recorded"
            f" {line.sha256}: the file was altered after it was stored",
        ))  # fmt: skip
        return proof
    proof.steps.append(
        Step("warc file", True, f"{line.warc_file}: SHA-256 {digest} ({line.size} bytes)")
    )
    listed = parse_line(line.line)
    if (listed.sha256, listed.size, listed.name) != (digest, line.size, line.warc_file):
        proof.steps.append(Step(
            "manifest", False,
            f"the catalog's manifest line for {line.warc_file} does not match the file:"
            f" {line.line!r}",
        ))  # fmt: skip
        return proof
    _prove_manifest(catalog, proof, store, line)
    return proof


def _prove_manifest(catalog: Catalog, proof: Proof, store: Store, line: proofs.FileLine) -> None:
    holding = [m for m in proofs.job_manifests(catalog, line.job) if line.line in lines_of(m.body)]
    if not holding:
        proof.steps.append(Step(
            "manifest", False,
            f"no manifest of job {line.job} lists {line.warc_file} yet: run 'archiver stamp'",
        ))  # fmt: skip
        return
    # The earliest manifest with a timestamp proves the earliest time; else the earliest.
    stamped = [m for m in holding if _stamps_of(catalog, m, "stamped")]
    manifest = (stamped or holding)[0]
    key = manifest_key(manifest.job, manifest.number)
    try:
        data, where = _read(store, key, manifest.body.encode("utf-8"), manifest.storage_uri)
    except ArchiverError as exc:
        proof.steps.append(Step("manifest", False, str(exc)))
        return
    proof.manifest = where
    if hashlib.sha256(data).hexdigest() != manifest.sha256:
        proof.steps.append(Step(
            "manifest", False,
            f"manifest {manifest.number} of job {manifest.job} ({where}) has SHA-256"
            f" {hashlib.sha256(data).hexdigest()}, not the {manifest.sha256} it had when it was"
            " made: it was altered",
        ))  # fmt: skip
        return
    if line.line not in lines_of(data.decode("utf-8", "replace")):
        proof.steps.append(Step(
            "manifest", False,
            f"manifest {manifest.number} of job {manifest.job} ({where}) does not list"
            f" {line.warc_file} with that SHA-256",
        ))  # fmt: skip
        return
    proof.steps.append(Step(
        "manifest", True,
        f"manifest {manifest.number} of job {manifest.job} lists {line.warc_file};"
        f" its SHA-256 is {manifest.sha256} ({where})",
    ))  # fmt: skip
    _prove_tokens(catalog, proof, store, manifest, data)


def _prove_tokens(
    catalog: Catalog, proof: Proof, store: Store, manifest: proofs.Manifest, data: bytes
) -> None:
    captured = _parse(proof.captured_at)
    try:
        roots = trusted_roots()
    except ArchiverError as exc:
        proof.steps.append(Step("timestamp", False, str(exc)))
        return
    for stamp in proofs.manifest_timestamps(catalog, manifest.id):
        if stamp.state != "stamped":
            why = stamp.last_error or "not asked yet"
            proof.stamps.append(Stamp(stamp.authority, stamp.state, detail=why))
            continue
        token_key, chain_key = token_keys(stamp.job, stamp.manifest_number, stamp.authority)
        name = f"timestamp by {stamp.authority}"
        try:
            catalog_token = base64.b64decode(stamp.token or "")
            raw, _ = _read(store, token_key, catalog_token, stamp.token_uri)
            chain_pem, _ = _read(store, chain_key, (stamp.chain or "").encode(), stamp.chain_uri)
            token = check_token(raw, data, chain=load_chain(chain_pem.decode("ascii")),
                                roots=roots, where=f"the token of {stamp.authority}")  # fmt: skip
            if (raw, chain_pem) != (catalog_token, (stamp.chain or "").encode()):
                raise ArchiverError(
                    f"the stored token or chain of {stamp.authority} verifies, but is not the"
                    " one the catalog recorded when it came: it was replaced"
                )
        except (ArchiverError, ValueError) as exc:
            proof.stamps.append(Stamp(stamp.authority, "failed", stamp.gen_time, detail=str(exc)))
            proof.steps.append(Step(name, False, str(exc)))
            continue
        gap = (token.gen_time - captured).total_seconds()
        gen_time = iso_ms(token.gen_time)  # the token's own, not the catalog's copy
        proof.stamps.append(Stamp(
            stamp.authority, "verified", gen_time, round(gap, 3),
            f"signed by {token.signer}, chained to {token.root}"
            f" (SHA-256 {token.root_fingerprint})",
        ))  # fmt: skip
        proof.steps.append(Step(
            name, True,
            f"genTime {gen_time} (±{token.margin:g} s), {_gap(gap, token.margin)};"
            f" signed by {token.signer}, which chains to {token.root} (a trusted root, SHA-256"
            f" {token.root_fingerprint}) and was valid then",
        ))  # fmt: skip
    if not any(s.state == "verified" for s in proof.stamps) and not proof.broken:
        states = {s.state for s in proof.stamps}
        if "pending" in states:
            why = "its timestamps are pending (run 'archiver stamp')"
        elif "rejected" in states:
            why = "each authority's answer failed verification ('archiver stamp' asks again)"
        else:
            why = "no authority was set (ARCHIVER_TSA_URLS) when it was made"
        proof.steps.append(
            Step("timestamp", False, f"no trusted timestamp covers this capture: {why}")
        )


def _stamps_of(catalog: Catalog, manifest: proofs.Manifest, state: str) -> list[proofs.Timestamp]:
    return [t for t in proofs.manifest_timestamps(catalog, manifest.id) if t.state == state]


def _read(store: Store, key: str, catalog_copy: bytes, stored_uri: str | None) -> tuple[bytes, str]:
    """The stored object's bytes (and its URI), or the catalog's copy if it was not stored."""
    if stored_uri is None:
        return catalog_copy, "the catalog's copy (not stored yet)"
    info = store.stat(key)
    if info is None:
        raise ArchiverError(f"{stored_uri} is missing from the store")
    return store.read_range(key, 0, info.size), stored_uri


def _sha256_of(store: Store, key: str) -> str:
    digest = hashlib.sha256()
    info = store.stat(key)
    if info is None:
        raise ArchiverError(f"{store.uri_for(key)} is missing from the store")
    offset = 0
    while offset < info.size:
        chunk = store.read_range(key, offset, min(CHUNK, info.size - offset))
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _gap(seconds: float, margin: float) -> str:
    """The capture-to-genTime gap, honest about a genTime given to the second."""
    if seconds >= 0:
        return f"{_duration(seconds)} after capture"
    if -seconds <= margin:
        return (
            f"{_duration(-seconds)} before the capture's WARC-Date, within the genTime's precision"
        )
    return (
        f"{_duration(-seconds)} BEFORE the capture's WARC-Date, beyond the genTime's"
        " precision: the crawler's clock was ahead"
    )


def _duration(seconds: float) -> str:
    if abs(seconds) < 120:
        return f"{seconds:.1f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
