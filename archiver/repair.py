"""Repairing what a crash left behind, before a crawl starts.

- A ``.open`` WARC file is cut back to the end of its last whole record (a gzip member
  that decompresses completely into a record whose length matches its header), then
  closed, renamed, catalogued and stored. Its committed catalog rows only ever point at
  bytes that were fsynced before they were committed, so none of them is cut away.
- A closed file that never reached the store (a crash, or a store that refused it) is
  stored again; if the store already holds the same bytes it is simply marked stored.

Files of a job that another process is crawling are left alone (see ``joblock``).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archiver.catalog import Catalog, warcfiles
from archiver.catalog.db import iso_ms, utc_now
from archiver.durable import fsync_dir
from archiver.home import ArchiveHome
from archiver.joblock import JobLock
from archiver.storage.base import Store, file_sha256
from archiver.uploads import upload_pending
from archiver.warc.dates import warc_date_range
from archiver.warc.writer import OPEN_SUFFIX, ClosedWarc

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Repair:
    path: Path
    kept: int
    cut: int


def _record_complete(head: bytes, total: int) -> bool:
    """Does a decompressed member hold exactly one whole WARC record?"""
    end = head.find(b"\r\n\r\n")
    if not head.startswith(b"WARC/") or end < 0:
        return False
    for line in head[:end].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return total == end + 4 + int(value) + 4
            except ValueError:
                return False
    return False


def whole_records_end(path: Path) -> int:
    """Byte offset just past the last whole gzip member holding a whole WARC record."""
    good = 0
    offset = 0  # start of the current member
    member = zlib.decompressobj(31)
    head, total = b"", 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            data = chunk
            while data:
                try:
                    out = member.decompress(data)
                except zlib.error:
                    return good
                if len(head) < 65536:
                    head += out[: 65536 - len(head)]
                total += len(out)
                if not member.eof:
                    offset += len(data)
                    break
                used = len(data) - len(member.unused_data)
                offset += used
                if not _record_complete(head, total):
                    return good
                good = offset
                data = member.unused_data
                member = zlib.decompressobj(31)
                head, total = b"", 0
    return good


def repair_open_file(path: Path) -> Repair:
    """Cut a ``.open`` file back to its last whole record and rename it closed."""
    size = path.stat().st_size
    keep = whole_records_end(path)
    with open(path, "r+b") as handle:
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    os.replace(path, final)
    fsync_dir(final.parent)
    return Repair(final, keep, size - keep)


def repair_home(
    catalog: Catalog, home: ArchiveHome, store_for: Callable[[str], Store], *, own_job: str
) -> list[str]:
    """Repair every job's leftovers that no other process is working on (``own_job`` is
    locked by the caller). ``store_for(job)`` is the store that job writes to. Returns
    one line per repair, for the terminal and the job's scrapy.log."""
    notes: list[str] = []
    for job_dir in sorted(p for p in home.spool_dir.iterdir() if p.is_dir()):
        lock = JobLock(home.job_dir(job_dir.name))
        if job_dir.name != own_job and not lock.acquire():
            continue
        try:
            notes += repair_job(catalog, home, store_for, job_dir.name)
        finally:
            lock.release()
    return notes


def repair_job(
    catalog: Catalog, home: ArchiveHome, store_for: Callable[[str], Store], job_name: str
) -> list[str]:
    """Repair one job's leftovers (its lock held by the caller): each note goes in the
    job's scrapy.log here, and is returned for the caller to print, once (not logged as
    well: with no logging set up, Python would print it a second time on stderr)."""
    job_dir = home.spool_dir / job_name
    if not job_dir.is_dir():
        return []
    notes = _repair_folder(catalog, job_dir, job_name, store_for)
    for folder, worker_lock in _dead_workers(job_dir):
        try:
            notes += expire_leases(catalog, job_name, folder.name)
            notes += _repair_folder(catalog, folder, job_name, store_for)
        finally:
            worker_lock.release()
        _remove_if_spent(folder)
    _note_in_job_log(home, job_name, notes)
    return notes


def _dead_workers(job_dir: Path) -> list[tuple[Path, JobLock]]:
    """The spool folders of a shared job's workers that are no longer running, each with
    its lock, now held by this process: each worker spools into its own folder, locked
    while it runs (archiver/crawl/shared.py)."""
    found = []
    for folder in sorted(p for p in job_dir.iterdir() if (p / "lock").is_file()):
        lock = JobLock(folder)
        if lock.acquire():
            found.append((folder, lock))
    return found


def _remove_if_spent(folder: Path) -> None:
    """A dead worker's folder goes once no WARC file is left in it (all stored)."""
    import shutil

    if not any(folder.glob("*.warc.gz*")):
        shutil.rmtree(folder, ignore_errors=True)


def expire_leases(catalog: Catalog, job_name: str, worker: str) -> list[str]:
    """A dead worker's leases end now, not when they would expire (archiver/catalog/
    leases.py); its hosts wait the job's delay (at least 5 s) first. Also for a worker
    stopped by force, which never released them."""
    from archiver.catalog import leases
    from archiver.catalog.jobs import get_job
    from archiver.errors import NotFound

    try:
        recorded = get_job(catalog, job_name).settings.get("settings", {})
    except NotFound:
        return []
    delay = float(recorded.get("DOWNLOAD_DELAY") or 0)  # type: ignore[union-attr]
    held = leases.expire_worker(catalog, worker, max(delay, 5.0))
    if not held:
        return []
    return [f"worker {worker} of job {job_name} is gone: its {held} leased URL(s) are queued"]


def _repair_folder(
    catalog: Catalog, folder: Path, job_name: str, store_for: Callable[[str], Store]
) -> list[str]:
    """A job's files in one spool folder: repair, catalogue and store what a crash left."""
    notes = [_close_leftover(catalog, f) for f in sorted(folder.glob("*" + OPEN_SUFFIX))]
    notes += _close_renamed(catalog, job_name, folder)
    if warcfiles.has_closed(catalog, job_name):
        notes += _store_closed(catalog, store_for(job_name), job_name, folder)
    return notes


def _note_in_job_log(home: ArchiveHome, job_name: str, notes: list[str]) -> None:
    """Repairs go in the job's own log, beside Scrapy's lines."""
    if not notes:
        return
    log = home.job_dir(job_name) / "scrapy.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().strftime("%Y-%m-%d %H:%M:%S")
    with open(log, "a", encoding="utf-8") as handle:
        for note in notes:
            handle.write(f"{stamp} [archiver.repair] WARNING: {note}\n")


def _close_leftover(catalog: Catalog, open_file: Path) -> str:
    repaired = repair_open_file(open_file)
    name = repaired.path.name
    if repaired.kept == 0:
        repaired.path.unlink()
        warcfiles.file_removed(catalog, name)
        return f"removed {open_file.name}: a crash left it without one whole record"
    closed = ClosedWarc(
        name, repaired.path, repaired.kept, file_sha256(repaired.path),
        *warc_date_range(repaired.path),
    )  # fmt: skip
    if warcfiles.owner(catalog, name) is not None:
        warcfiles.file_closed(catalog, closed)
    return (
        f"repaired {open_file.name} left by a crash: kept {repaired.kept} bytes of whole"
        f" records, cut {repaired.cut} bytes of a partial one ({iso_ms(utc_now())})"
    )


def _close_renamed(catalog: Catalog, job_name: str, folder: Path) -> list[str]:
    """Files a crash caught between their rename and the catalog's update: the row still
    says ``open`` (with the ``.open`` path), the file is already closed on disk. Only
    the files in ``folder``: other workers' folders are theirs."""
    notes = []
    for row in warcfiles.open_files(catalog, job_name):
        closed_path = Path(row.spool_path.removesuffix(OPEN_SUFFIX))
        if closed_path.parent != folder:
            continue
        if Path(row.spool_path).exists() or not closed_path.exists():
            continue
        size = closed_path.stat().st_size
        sha256, dates = file_sha256(closed_path), warc_date_range(closed_path)
        warcfiles.file_closed(catalog, ClosedWarc(row.name, closed_path, size, sha256, *dates))
        notes.append(
            f"catalogued {row.name} as closed: a crash came between its rename and the catalog"
        )
    return notes


def _store_closed(catalog: Catalog, store: Store, job_name: str, folder: Path) -> list[str]:
    done, failed = upload_pending(catalog, lambda job: store, job=job_name, folder=folder)
    notes = [f"stored {o.line}, which an earlier run had left in the spool" for o in done]
    return notes + [f"still waiting in the spool: {o.line}" for o in failed]
