"""Putting closed WARC files in the store, verified, and recording that in the catalog.

A file is recorded as stored only after the store verified it; only then, unless the
operator keeps local copies, is the spool copy removed. A file the store cannot take
stays in the spool, closed and listed as pending, and is sent by ``archiver upload``
or by the next crawl. Sending the same file twice is safe: the store finds the object
with the same key and SHA-256 and the file is simply marked stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archiver.catalog import Catalog, warcfiles
from archiver.errors import ArchiverError
from archiver.research.indexes import INDEX_SUFFIX, write_cdxj
from archiver.storage.base import Store, StoredObject, file_sha256

logger = logging.getLogger(__name__)


class UploadsPending(ArchiverError):
    """WARC files that could not be stored yet wait in the spool."""

    exit_code = 4


@dataclass(frozen=True)
class PendingFile:
    job: str
    name: str
    path: Path
    sha256: str


def storage_key(job: str, filename: str) -> str:
    """``JOB/FILENAME``: from the job name and our own file name, never from crawled URLs.
    Indexes of a file will sit beside it as ``JOB/FILENAME.cdxj``."""
    return f"{job}/{filename}"


@dataclass(frozen=True)
class Stored:
    warc: StoredObject
    index: StoredObject | None


def store_file(store: Store, pending: PendingFile) -> Stored:
    """Index a closed file, then put it and its CDXJ index in the store (blocking; safe
    to run in a worker thread). An index that cannot be made never holds the WARC back."""
    index = None
    index_path = pending.path.with_name(pending.name + INDEX_SUFFIX)
    if pending.path.exists() and not index_path.exists():
        try:
            write_cdxj(pending.path, pending.name, index_path)
        except Exception:
            logger.exception("could not index %s (rebuild with 'archiver index')", pending.name)
    key = storage_key(pending.job, pending.name)
    warc = store.put(pending.path, key, sha256=pending.sha256)
    if index_path.exists():
        try:
            index = store.put(index_path, key + INDEX_SUFFIX, sha256=file_sha256(index_path))
        except (ArchiverError, OSError) as exc:
            logger.error("could not store the index of %s: %s", pending.name, exc)
    return Stored(warc, index)


def record_stored(
    catalog: Catalog, store: Store, pending: PendingFile, stored: Stored, keep_local: bool
) -> None:
    warcfiles.file_stored(catalog, pending.name, stored.warc, store.uri)
    if stored.index is not None:
        warcfiles.index_stored(catalog, pending.name, stored.index.uri)
    if not keep_local:  # verified in the store: the spool copies may go
        for path in (pending.path, pending.path.with_name(pending.name + INDEX_SUFFIX)):
            if path.exists():
                path.unlink()
    logger.info("stored %s at %s", pending.name, stored.warc.uri)


def pending_files(catalog: Catalog, job: str | None = None) -> list[PendingFile]:
    return [
        PendingFile(row.job, row.name, Path(row.spool_path), row.sha256)
        for row in warcfiles.closed_files(catalog, job)
    ]


@dataclass(frozen=True)
class Outcome:
    """What became of one pending file: stored at ``uri``, or still pending (``problem``)."""

    file: PendingFile
    uri: str | None = None
    problem: str | None = None

    @property
    def line(self) -> str:
        if self.problem is not None:
            return f"{self.file.name}: {self.problem}"
        return f"{self.file.name} -> {self.uri}"


def upload_pending(
    catalog: Catalog,
    store_for: Callable[[str], Store],
    *,
    job: str | None = None,
    keep_local: bool = False,
    folder: Path | None = None,
) -> tuple[list[Outcome], list[Outcome]]:
    """Send every pending file (of one job, or all; of one spool folder, or any).
    Returns (stored, still pending)."""
    done, failed = [], []
    for pending in pending_files(catalog, job):
        if folder is not None and pending.path.parent != folder:
            continue
        store = store_for(pending.job)
        try:
            stored = store_file(store, pending)
        except (ArchiverError, OSError) as exc:
            failed.append(Outcome(pending, problem=str(exc)))
            continue
        record_stored(catalog, store, pending, stored, keep_local)
        done.append(Outcome(pending, uri=stored.warc.uri))
    return done, failed
