"""CDXJ indexes of WARC files, in pywb's format, made with cdxj-indexer.

Each line is ``SURT timestamp {json}`` with url, mime, status, digest, length, offset and
filename, sorted, so pywb and other replay tools can load a file's index directly. An
index is stored beside its WARC as ``JOB/FILENAME.cdxj``.
"""

from __future__ import annotations

import io
from pathlib import Path

INDEX_SUFFIX = ".cdxj"


def write_cdxj(warc: Path, filename: str, target: Path) -> Path:
    """Index ``warc`` (recorded under ``filename``) into ``target``; return ``target``."""
    from cdxj_indexer.main import CDXJIndexer

    out = io.StringIO()
    CDXJIndexer(out, [str(warc)], sort=True, filename=filename).process_all()
    partial = target.with_name(target.name + ".partial")
    partial.write_text(out.getvalue(), encoding="utf-8")
    partial.replace(target)
    return target


def build_missing_indexes(catalog, home_warcs: Path, job: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """Index every WARC file that has no index yet (of one job, or all) and store each
    index beside its file. Returns one line per file."""
    import tempfile

    from archiver.catalog import warcfiles
    from archiver.jobs.stores import job_store
    from archiver.storage.base import file_sha256

    notes = []
    for row in warcfiles.unindexed_files(catalog, job):
        store = job_store(catalog, home_warcs, row.job)
        with tempfile.TemporaryDirectory() as scratch:
            local = Path(row.spool_path)
            if row.state == "stored" or not local.exists():
                # Indexing needs the whole file: read it from the store in ranges.
                local = Path(scratch) / row.name
                size = row.size or 0
                with open(local, "wb") as out:
                    for offset in range(0, size, 8 * 1024 * 1024):
                        out.write(
                            store.read_range(
                                row.storage_key, offset, min(8 * 1024 * 1024, size - offset)
                            )
                        )
            index = write_cdxj(local, row.name, Path(scratch) / (row.name + INDEX_SUFFIX))
            stored = store.put(
                index, f"{row.job}/{row.name}{INDEX_SUFFIX}", sha256=file_sha256(index)
            )
        warcfiles.index_stored(catalog, row.name, stored.uri)
        notes.append(f"indexed {row.name} -> {stored.uri}")
    return notes
