"""WACZ 1.1.1 export of selected captures, written as a stream.

A WACZ is a ZIP holding ``archive/`` (WARC files), ``indexes/`` (a CDXJ index, here
compressed ZipNum: ``index.cdx.gz`` with its ``index.idx``), ``pages/pages.jsonl``,
``datapackage.json`` (every file with its SHA-256 and size) and
``datapackage-digest.json`` (the SHA-256 of ``datapackage.json``, and with an operator
key its signature: see ``signature``).

What is packaged: the selected captures, plus what their replay needs from the same
job: requisites (transitively: a stylesheet's fonts), the targets of redirects, and
the originals that revisit records refer to. For each WARC file holding any of them,
``archive/`` gets a file of the same name with that file's warcinfo record and those
captures' request, response (or revisit) and metadata records: the gzip members
copied byte for byte, so every record keeps its WARC-Record-ID and digests.

Rows stream from the catalog in file and offset order, records are read by byte range
and copied into the ZIP while every gzip member is inflated (CRC and length checked),
warcio checks every record's digests, each record is matched with its catalog row, and
cdxj-indexer indexes them. Memory holds a few megabytes of buffer and the index lines
still to be sorted (spilled to temporary files past a bound), whatever the size. The
package is written beside the target and renamed into place only when complete.

Each ZIP entry is opened with its size known (zipentry): a WARC file's is summed from
the rows it will copy, a generated entry is spooled first. So its local header and its
central directory record agree, with ZIP64 only where the size needs it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from archiver import __version__
from archiver.catalog import exports
from archiver.catalog.db import Catalog
from archiver.catalog.exports import ExportRow
from archiver.errors import ArchiverError, IntegrityError
from archiver.research.export.selection import (
    FileRows,
    Selection,
    choose,
    entry_sizes,
    row_members,
)
from archiver.research.export.warccopy import HashingWriter, Member, OutputError, copy_file
from archiver.research.export.zipentry import open_entry
from archiver.storage.s3 import S3Options

if TYPE_CHECKING:
    from archiver.research.export.operatorkey import OperatorKey

WACZ_VERSION = "1.1.1"
SORT_BUFFER = 8 * 1024 * 1024  # index text held before spilling to a sorted temp file
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # a generated entry held in memory before spilling to disk
PAGE_KINDS = ("seed", "page")


@dataclass
class ExportSummary:
    path: Path
    captures: int = 0
    pages: int = 0
    warc_files: int = 0
    bytes: int = 0
    skipped_failed: int = 0
    main_page_date: str | None = None
    resources: list[dict[str, Any]] = field(default_factory=list)
    signed_data: dict[str, str] | None = None  # the package's signature, if it was signed
    signature_stamps: list[dict[str, str]] = field(default_factory=list)  # tokens over it
    proof_files: int = 0  # manifests, tokens and chains under proof/


def _write_entry(
    zf: zipfile.ZipFile,
    name: str,
    when: tuple[int, ...],
    fill: Callable[[Any], None],
    compress: int = zipfile.ZIP_STORED,
) -> dict[str, Any]:
    """Write a generated entry: spooled first (to disk past SPOOL_IN_MEMORY), so its
    size is known when its header is written (see zipentry)."""
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY) as spool:
        out = HashingWriter(spool)
        fill(out)
        spool.seek(0)
        with open_entry(zf, name, when, out.size, compress) as entry:
            shutil.copyfileobj(spool, entry, 1024 * 1024)
    return {"path": name, "hash": f"sha256:{out.sha256.hexdigest()}", "bytes": out.size}


def export_wacz(
    catalog: Catalog,
    selection: Selection,
    target: Path,
    *,
    s3_for_job: Callable[[str], S3Options | None],
    title: str | None = None,
    key: OperatorKey | None = None,
    stamp_signature: Callable[[bytes], list[dict[str, str]]] | None = None,
) -> ExportSummary:
    """Write the selected captures as a WACZ at ``target``, with the evidence manifests
    and timestamps of their jobs under ``proof/``, signed with ``key`` if given (and the
    signature stamped by ``stamp_signature``, if given); nothing is left there on failure."""
    from cdxj_indexer.main import SortingWriter

    summary = ExportSummary(path=target)
    created = datetime.now(UTC).replace(microsecond=0)
    when = created.timetuple()[:6]
    if selection.job is not None:
        chosen = exports.captures_in_job(catalog, selection.job)
    else:
        chosen = choose(catalog, selection, s3_for_job)
    if not chosen:
        raise ArchiverError(
            f"nothing to export: {selection.description} has no captures "
            "(list them with 'archiver captures')"
        )
    partial: str | None = None
    sorter = SortingWriter(None, SORT_BUFFER)
    zf: zipfile.ZipFile | None = None
    try:
        fd, partial = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
        with tempfile.TemporaryFile("w+", encoding="utf-8") as pages, os.fdopen(fd, "wb") as raw:
            zf = zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True)
            copy = _Copier(zf, sorter, pages, summary, selection, s3_for_job, when)
            if selection.job is not None:
                job = selection.job
                copy.rows(catalog, lambda: exports.job_rows(catalog, job))
                # Revisits in the job whose originals are in earlier jobs: those come too.
                with catalog.transaction() as conn:
                    outside = exports.start_originals_outside(conn, job)
                if outside:
                    copy.rows(catalog, lambda: exports.chosen_rows(catalog))
            else:
                copy.rows(catalog, lambda: exports.chosen_rows(catalog))
            if not summary.warc_files:
                raise ArchiverError(
                    f"nothing to export: {selection.description} has only failed fetches, "
                    "which have no WARC records (list them with 'archiver captures')"
                )
            from archiver.proof.bundle import proof_files

            warcs = [r["path"].removeprefix("archive/") for r in summary.resources]
            _finish_package(
                zf, sorter, pages, summary, selection, created, title, when, key,
                proof_files(catalog, warcs), stamp_signature,
            )  # fmt: skip
            zf.close()
            raw.flush()
            os.fsync(raw.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private; a package is to share
        os.replace(partial, target)
    except OutputError as exc:
        _discard(zf, partial, sorter)
        raise _cannot_write(target, exc.exc) from exc
    except OSError as exc:
        _discard(zf, partial, sorter)
        raise _cannot_write(target, exc) from exc
    except BaseException:
        _discard(zf, partial, sorter)
        raise
    finally:
        exports.drop_selection(catalog)
    return summary


class _Copier:
    """Copies the rows of a catalog cursor into the package, one WARC file at a time."""

    def __init__(self, zf, sorter, pages, summary, selection, s3_for_job, when):  # type: ignore[no-untyped-def]
        self.zf, self.sorter, self.pages, self.summary = zf, sorter, pages, summary
        self.selection, self.s3_for_job, self.when = selection, s3_for_job, when
        self.options: dict[str, S3Options | None] = {}

    def rows(self, catalog: Catalog, read: Callable[[], Iterator[ExportRow]]) -> None:
        # Both passes read one snapshot, so rows a running crawl commits in between are
        # neither sized nor copied.
        with exports.read_snapshot(catalog):
            self._copy(read)

    def _copy(self, read: Callable[[], Iterator[ExportRow]]) -> None:
        # Each file's entry size first (a pass over the same rows), for its ZIP header.
        sizes = entry_sizes(read())
        files = FileRows(read())
        self.summary.skipped_failed += files.skip_failed()
        while (group := files.next_file()) is not None:
            source, rows = group
            if f"archive/{source.name}" in {r["path"] for r in self.summary.resources}:
                raise IntegrityError(f"{source.name} would be packaged twice")

            def members(
                rows: Iterator[ExportRow] = rows, warcinfo: int = source.warcinfo_length
            ) -> Iterator[Member]:
                yield Member(0, warcinfo, "warcinfo")
                for row in rows:
                    _note_page(row, self.selection, self.pages, self.summary)
                    yield from row_members(row)

            if source.job not in self.options:
                self.options[source.job] = self.s3_for_job(source.job)
            resource = copy_file(
                self.zf, source, members(), sizes[source.name], self.options[source.job],
                self.sorter, self.when,
            )  # fmt: skip
            self.summary.resources.append(resource)
            self.summary.bytes += resource["bytes"]
            self.summary.warc_files += 1


def _cannot_write(target: Path, exc: OSError) -> ArchiverError:
    return ArchiverError(
        f"cannot write {target}: {exc.strerror or exc}; nothing was exported "
        "(choose another -o, or free space)"
    )


def _discard(zf: zipfile.ZipFile | None, partial: str | None, sorter: Any) -> None:
    """Drop a package that failed: never finished (no central directory written into a
    file about to be deleted), deleted, and the index's temporary files with it."""
    if zf is not None:
        zf.fp = None  # so ZipFile does not try to close it again on collection
    if partial:
        Path(partial).unlink(missing_ok=True)
    for name in getattr(sorter, "tmp_files", []):
        Path(name).unlink(missing_ok=True)


def _note_page(
    row: ExportRow, selection: Selection, pages: IO[str], summary: ExportSummary
) -> None:
    summary.captures += 1
    if row.chosen and (row.kind in PAGE_KINDS or selection.expand):
        page: dict[str, Any] = {"id": row.id, "url": row.url, "ts": row.captured_at}
        if row.title:
            page["title"] = row.title
        if row.http_status is not None:
            page["status"] = row.http_status
        pages.write(json.dumps(page, ensure_ascii=False) + "\n")
        summary.pages += 1
    if row.url == selection.main_url and row.captured_at > (summary.main_page_date or ""):
        summary.main_page_date = row.captured_at


def _finish_package(
    zf: zipfile.ZipFile,
    sorter: Any,
    pages: IO[str],
    summary: ExportSummary,
    selection: Selection,
    created: datetime,
    title: str | None,
    when: tuple[int, ...],
    key: OperatorKey | None,
    proof: list[tuple[str, bytes]],
    stamp_signature: Callable[[bytes], list[dict[str, str]]] | None,
) -> None:
    from cdxj_indexer.main import CompressedWriter

    secondary = io.StringIO()

    def fill_index(out: Any) -> None:
        sorter.out = CompressedWriter(
            secondary, out, data_out_name="index.cdx.gz", digest_records=True
        )
        sorter.flush()

    summary.resources.append(_write_entry(zf, "indexes/index.cdx.gz", when, fill_index))
    idx = secondary.getvalue().encode("utf-8")
    summary.resources.append(
        _write_entry(
            zf, "indexes/index.idx", when, lambda out: out.write(idx), zipfile.ZIP_DEFLATED
        )
    )

    def fill_pages(out: Any) -> None:
        header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
        out.write((json.dumps(header) + "\n").encode("utf-8"))
        pages.seek(0)
        for line in pages:
            out.write(line.encode("utf-8"))

    summary.resources.append(
        _write_entry(zf, "pages/pages.jsonl", when, fill_pages, zipfile.ZIP_DEFLATED)
    )
    for name, data in proof:
        summary.resources.append(
            _write_entry(zf, name, when, lambda out, data=data: out.write(data))  # type: ignore[misc]
        )
        summary.proof_files += 1
    package = _datapackage(summary, selection, created, title)
    package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
    _write_entry(zf, "datapackage.json", when, lambda out: out.write(package_bytes))
    digest: dict[str, Any] = {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
    }
    if key is not None:
        from archiver.research.export.signature import signed_data  # imports cryptography

        summary.signed_data = signed_data(
            key, digest["hash"], package["created"], package["software"]
        )
        digest["signedData"] = summary.signed_data
        if stamp_signature is not None:
            # Beside signedData (the anonymous shape has no property for it): RFC 3161
            # tokens over the signature, each with its authority and chain.
            from archiver.research.export.signature import signature_to_stamp

            summary.signature_stamps = stamp_signature(signature_to_stamp(summary.signed_data))
            if summary.signature_stamps:
                digest["signatureTimestamps"] = summary.signature_stamps
    digest_bytes = json.dumps(digest, indent=2).encode("utf-8")
    _write_entry(zf, "datapackage-digest.json", when, lambda out: out.write(digest_bytes))


def _datapackage(
    summary: ExportSummary, selection: Selection, created: datetime, title: str | None
) -> dict[str, Any]:
    resources = [{"name": os.path.basename(r["path"]).lower(), **r} for r in summary.resources]
    package: dict[str, Any] = {
        "profile": "data-package",
        "resources": resources,
        "wacz_version": WACZ_VERSION,
        "software": f"archiver {__version__}",
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "title": title or f"archiver export: {selection.description}",
        "description": (
            f"{summary.captures} capture(s) of {selection.description}, "
            "records copied byte for byte from the archive"
        ),
    }
    if selection.main_url and summary.main_page_date:
        package["mainPageUrl"] = selection.main_url
        package["mainPageDate"] = summary.main_page_date
    return package
