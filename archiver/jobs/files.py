"""How many WARC files a job wrote, and their bytes, as they are now.

The catalog learns a file's size when the file is closed. A file still open (being
written, or left ``.open`` by a forced stop or a crash until the job resumes and repairs
it) is measured on disk, so that a stopped job's bytes are not reported as ``0 B``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archiver.catalog import Catalog, summaries, warcfiles
from archiver.catalog.jobs import Job
from archiver.warc.writer import OPEN_SUFFIX


@dataclass(frozen=True)
class OpenWarc:
    name: str  # as on disk, with its .open suffix
    size: int | None  # None: not on this machine (another worker's spool)


@dataclass(frozen=True)
class JobFiles:
    files: int
    bytes: int  # closed files as catalogued, open ones as found on disk
    open: tuple[OpenWarc, ...]


def job_files(catalog: Catalog, job: Job) -> JobFiles:
    totals = summaries.warc_totals(catalog, job.id)
    still_open = tuple(
        _measured(Path(f.spool_path)) for f in warcfiles.open_files(catalog, job.name)
    )
    written = sum(f.size or 0 for f in still_open)
    return JobFiles(totals.files, totals.bytes + written, still_open)


def _measured(path: Path) -> OpenWarc:
    # A crash between the file's rename and the catalog's update leaves it closed on disk.
    for candidate in (path, path.with_name(path.name.removesuffix(OPEN_SUFFIX))):
        try:
            return OpenWarc(path.name, candidate.stat().st_size)
        except FileNotFoundError:
            continue
    return OpenWarc(path.name, None)
