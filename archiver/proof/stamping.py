"""Stamping: make a job's next evidence manifest, have each authority timestamp it, and
keep the manifest, the tokens and their chains in the store beside the WARC files.

Run while a crawl goes on (every ``ARCHIVER_TSA_INTERVAL`` seconds), when a job ends,
and by ``archiver stamp``. Nothing here blocks or fails a capture: an authority that
cannot be reached, or whose token chains to no root trusted here, leaves its timestamp
pending (``archiver stamp --pending`` lists it) for the next run; one that answers with
a token that does not verify is recorded as rejected, with the reason, never trusted,
and asked again by ``archiver stamp``.

With no authority in ``ARCHIVER_TSA_URLS``, manifests are still made and stored (they
prove nothing on their own; captures say "no trusted timestamp").
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from archiver.catalog import Catalog, proofs
from archiver.catalog.db import iso_ms
from archiver.errors import ArchiverError
from archiver.secrets import is_secret_name
from archiver.storage.base import Store

if TYPE_CHECKING:
    from archiver.proof.tsa import Token

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 600.0


def authorities() -> list[str]:
    """The timestamp authorities' URLs in ``ARCHIVER_TSA_URLS`` (space or comma separated)."""
    urls = [u for u in re.split(r"[\s,]+", os.environ.get("ARCHIVER_TSA_URLS", "")) if u]
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArchiverError(
                f"ARCHIVER_TSA_URLS holds {url!r}, which is not an http(s) URL of a timestamp"
                " authority: list them like 'https://freetsa.org/tsr http://timestamp.digicert.com'"
            )
        secret_params = [n for n, _ in parse_qsl(parts.query) if _secret_param(n)]
        if parts.username or parts.password or secret_params:
            raise ArchiverError(
                f"ARCHIVER_TSA_URLS holds a URL with credentials ({parts.hostname}; in its user"
                " name, password or a parameter named like a secret): an"
                " authority's URL is written into the catalog and beside the WARC files, so"
                " it may not carry a user name or password; use an authority that needs none"
            )
    return urls


def _secret_param(name: str) -> bool:
    """A query parameter named like a credential: token, password, api_key, key, sig."""
    return is_secret_name(name.upper()) or bool(
        re.search(r"api.?key|^key$|signature|^sig$", name, re.IGNORECASE)
    )


def interval() -> float:
    raw = os.environ.get("ARCHIVER_TSA_INTERVAL", "")
    try:
        seconds = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        seconds = -1
    if seconds <= 0:
        raise ArchiverError(
            f"ARCHIVER_TSA_INTERVAL={raw!r} is not a number of seconds above 0 (the default"
            f" is {DEFAULT_INTERVAL:.0f})"
        )
    return seconds


def check_stamping() -> None:
    """Refuse a crawl whose stamping settings are wrong before it starts."""
    authorities()
    interval()


def manifest_key(job: str, number: int) -> str:
    return f"{job}/proof/{job}-manifest-{number:04d}.txt"


def token_keys(job: str, number: int, authority: str) -> tuple[str, str]:
    """Where an authority's token (``.tsr``) and its chain (``.chain.pem``) are stored."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", urlsplit(authority).hostname or "tsa").strip("-")
    # Two authorities may share a host: the URL's own hash tells their files apart.
    tag = hashlib.sha256(authority.encode("utf-8")).hexdigest()[:8]
    base = f"{job}/proof/{job}-manifest-{number:04d}.{slug}-{tag}"
    return base + ".tsr", base + ".chain.pem"


@dataclass
class StampReport:
    manifests: list[proofs.Manifest] = field(default_factory=list)  # made by this run
    stamped: list[tuple[proofs.Timestamp, Token]] = field(default_factory=list)
    pending: list[tuple[proofs.Timestamp, str]] = field(default_factory=list)
    rejected: list[tuple[proofs.Timestamp, str]] = field(default_factory=list)
    unstored: list[str] = field(default_factory=list)  # store problems (kept for later)

    @property
    def lines(self) -> list[str]:
        out = [
            f"manifest {m.number} of job {m.job}: {m.lines} WARC file(s), SHA-256 {m.sha256}"
            for m in self.manifests
        ]
        out += [
            f"stamped manifest {t.manifest_number} of job {t.job} by {t.authority}:"
            f" genTime {iso_ms(token.gen_time)}"
            for t, token in self.stamped
        ]
        out += [
            f"pending: manifest {t.manifest_number} of job {t.job} by {t.authority}: {why}"
            for t, why in self.pending
        ]
        out += [
            f"rejected: manifest {t.manifest_number} of job {t.job} by {t.authority}: {why}"
            for t, why in self.rejected
        ]
        return out + [f"not stored yet: {problem}" for problem in self.unstored]


def stamp(
    catalog: Catalog,
    store_for: Callable[[str], Store],
    *,
    job: str | None = None,
    timeout: float = 10.0,
    retry_rejected: bool = True,
    latest_only: bool = False,
    budget: float | None = None,
) -> StampReport:
    """Make the manifests due (of ``job``, or of every job), ask for the timestamps
    they are owed and those still pending, and store what is not stored yet.

    ``retry_rejected``: ask again the authorities whose last answer failed verification.
    ``latest_only``: ask only for each job's newest manifest (it lists every file the
    older ones do). ``budget``: seconds after which no authority is asked any more (what
    is left stays pending). A crawl closing uses the last two, so that an authority that
    does not answer holds it up for a bounded time."""
    started = time.monotonic()
    report = StampReport()
    urls = authorities()
    proofs.add_missing_lines(catalog)
    for name in proofs.jobs_with_new_lines(catalog, job):
        manifest = proofs.new_manifest(catalog, name, lambda b: hashlib.sha256(b).hexdigest())
        if manifest is None:
            continue
        report.manifests.append(manifest)
    if urls:  # an authority set since a job's last manifest was made stamps it too
        for manifest in proofs.latest_manifests(catalog, job):
            proofs.add_pending(catalog, manifest.id, urls)
    for manifest in proofs.unstored_manifests(catalog, job):
        _store_manifest(catalog, store_for, manifest, report)
    latest = {m.id for m in proofs.latest_manifests(catalog, job)} if latest_only else None
    for pending in proofs.pending_timestamps(catalog, job, with_rejected=retry_rejected):
        if latest is not None and pending.manifest_id not in latest:
            continue
        left = None if budget is None else budget - (time.monotonic() - started)
        if left is not None and left <= 0:
            report.pending.append((pending, "not asked: the time for stamping ran out"))
            continue
        _ask(catalog, pending, timeout if left is None else min(timeout, left), report)
    for stamped in proofs.unstored_timestamps(catalog, job):
        _store_token(catalog, store_for, stamped, report)
    return report


def _manifest_bytes(catalog: Catalog, manifest_id: int, job: str) -> bytes:
    for manifest in proofs.job_manifests(catalog, job):
        if manifest.id == manifest_id:
            return manifest.body.encode("utf-8")
    raise ArchiverError(f"manifest {manifest_id} of job {job} is not in the catalog")


def _ask(catalog: Catalog, pending: proofs.Timestamp, timeout: float, report: StampReport) -> None:
    from archiver.proof.tsa import StampError, TokenRejected, request_token

    data = _manifest_bytes(catalog, pending.manifest_id, pending.job)
    try:
        token = request_token(pending.authority, data, timeout=timeout)
    except TokenRejected as exc:
        proofs.stamp_rejected(catalog, pending.id, str(exc))
        report.rejected.append((pending, str(exc)))
        logger.error("timestamp rejected: %s", exc)
        return
    except (StampError, ArchiverError) as exc:
        proofs.stamp_failed(catalog, pending.id, str(exc))
        report.pending.append((pending, str(exc)))
        logger.warning("timestamp pending: %s", exc)
        return
    kept = proofs.stamped(
        catalog, pending.id, gen_time=iso_ms(token.gen_time), serial=token.serial,
        policy=token.policy, nonce=token.nonce,
        token=base64.b64encode(token.response).decode("ascii"), chain=token.chain_pem,
    )  # fmt: skip
    if kept:  # else another worker's token for it was kept first; this one is dropped
        report.stamped.append((pending, token))


def _put(store: Store, key: str, data: bytes) -> str:
    """Store ``data`` under ``key`` (verified); returns its URI."""
    with tempfile.NamedTemporaryFile(prefix=".archiver-proof-", delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    local = Path(handle.name)
    try:
        return store.put(local, key, sha256=hashlib.sha256(data).hexdigest()).uri
    finally:
        local.unlink(missing_ok=True)


def _store_manifest(
    catalog: Catalog, store_for: Callable[[str], Store], manifest: proofs.Manifest,
    report: StampReport,
) -> None:  # fmt: skip
    try:
        uri = _put(store_for(manifest.job), manifest_key(manifest.job, manifest.number),
                   manifest.body.encode("utf-8"))  # fmt: skip
    except (ArchiverError, OSError) as exc:
        report.unstored.append(f"manifest {manifest.number} of job {manifest.job}: {exc}")
        return
    proofs.manifest_stored(catalog, manifest.id, uri)


def _store_token(
    catalog: Catalog, store_for: Callable[[str], Store], stamped: proofs.Timestamp,
    report: StampReport,
) -> None:  # fmt: skip
    token_key, chain_key = token_keys(stamped.job, stamped.manifest_number, stamped.authority)
    try:
        store = store_for(stamped.job)
        token_uri = _put(store, token_key, base64.b64decode(stamped.token or ""))
        chain_uri = _put(store, chain_key, (stamped.chain or "").encode("ascii"))
    except (ArchiverError, OSError) as exc:
        report.unstored.append(
            f"timestamp of manifest {stamped.manifest_number} of job {stamped.job}"
            f" by {stamped.authority}: {exc}"
        )
        return
    proofs.timestamp_stored(catalog, stamped.id, token_uri, chain_uri)


def stamp_bytes(data: bytes, *, timeout: float = 10.0) -> tuple[list[dict[str, str]], list[str]]:
    """Timestamps over ``data`` (a package's signature) by every authority set, each a
    verified token with its chain; and what each authority that gave none answered."""
    from archiver.proof.tsa import StampError, request_token

    stamps: list[dict[str, str]] = []
    problems: list[str] = []
    for url in authorities():
        try:
            token = request_token(url, data, timeout=timeout)
        except (StampError, ArchiverError) as exc:
            problems.append(str(exc))
            continue
        stamps.append({
            "authority": url,
            "genTime": iso_ms(token.gen_time),
            "token": base64.b64encode(token.response).decode("ascii"),
            "chain": token.chain_pem,
        })  # fmt: skip
    return stamps, problems
