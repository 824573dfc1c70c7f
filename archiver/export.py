"""WACZ 1.1.1 export of selected captures, written as a stream.

A WACZ is a ZIP holding ``archive/`` (WARC files), ``indexes/`` (a CDXJ index, here
compressed ZipNum: ``index.cdx.gz`` with its ``index.idx``), ``pages/pages.jsonl``,
``datapackage.json`` (every file with its SHA-256 and size) and
``datapackage-digest.json`` (the SHA-256 of ``datapackage.json``).

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
"""

from __future__ import annotations

import collections
import hashlib
import io
import itertools
import json
import os
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from archiver import __version__
from archiver.catalog.db import Catalog
from archiver.errors import ArchiverError, IntegrityError
from archiver.retrieval import open_ranges
from archiver.storage.s3 import S3Options

WACZ_VERSION = "1.1.1"
CHUNK = 4 * 1024 * 1024  # bytes per ranged read
SORT_BUFFER = 8 * 1024 * 1024  # index text held before spilling to a sorted temp file
PAGE_KINDS = ("seed", "page")
_INFLATE_STEP = 1024 * 1024


@dataclass(frozen=True)
class Selection:
    """Which captures to export: a WHERE clause on captures ``c`` joined with jobs ``j``.
    ``expand`` adds what the chosen captures need to replay (whole jobs need nothing)."""

    where: str
    params: tuple[Any, ...]
    description: str
    main_url: str | None = None  # the page a replay tool opens first, when there is one
    expand: bool = True
    job: str | None = None  # a whole job: read in file order, nothing to expand


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


@dataclass(frozen=True)
class _Member:
    """One gzip member to copy: a record, and what the catalog says it is."""

    offset: int
    length: int
    kind: str  # warcinfo, request, response, metadata
    capture_id: str | None = None
    record_id: str | None = None  # the capture's response (or revisit) record
    block_digest: str | None = None
    payload_digest: str | None = None


@dataclass(frozen=True)
class _SourceFile:
    name: str
    job: str
    state: str
    store_uri: str | None
    storage_key: str | None
    spool_path: str | None
    warcinfo_length: int


# -- which captures ---------------------------------------------------------------------


def _outlinks(member: bytes) -> Iterator[tuple[str, str]]:
    """(url, how) pairs of a metadata record: ``E`` embeds (requisites), ``R`` redirects."""
    import gzip

    text = gzip.decompress(member).decode("utf-8", "replace")
    for line in text.split("\r\n"):
        if line.startswith("outlink: "):
            url, _, how = line[len("outlink: ") :].rpartition(" ")
            if how in ("E", "R") and url:
                yield url, how


def _choose(
    conn: sqlite3.Connection, selection: Selection, s3_for_job: Callable[[str], Any]
) -> int:
    """Fill ``temp.export_ids`` with the selected captures and, unless a whole job was
    chosen, what they need to replay: the requisites and redirect targets their metadata
    records list (transitively: a stylesheet's fonts), captured in the same job, and the
    originals their revisit records refer to. Returns how many were chosen directly."""
    conn.execute("DROP TABLE IF EXISTS temp.export_ids")
    conn.execute("CREATE TEMP TABLE export_ids (id TEXT PRIMARY KEY, chosen INTEGER)")
    conn.execute(
        "INSERT OR IGNORE INTO temp.export_ids SELECT c.id, 1 FROM captures c"
        f" JOIN jobs j ON j.id = c.job_id WHERE {selection.where}",
        selection.params,
    )
    chosen = int(conn.execute("SELECT COUNT(*) FROM temp.export_ids").fetchone()[0])
    if not selection.expand:
        return chosen
    todo = [row[0] for row in conn.execute("SELECT id FROM temp.export_ids")]
    while todo:
        found: list[tuple[int, str]] = []
        marks = ",".join("?" * len(todo[:500]))
        for batch in (todo[i : i + 500] for i in range(0, len(todo), 500)):
            marks = ",".join("?" * len(batch))
            rows = conn.execute(
                "SELECT c.job_id, j.name, c.warc_file, c.metadata_offset, c.metadata_length,"
                " w.state, w.store_uri, w.storage_key, w.spool_path FROM captures c"
                " JOIN jobs j ON j.id = c.job_id JOIN warc_files w ON w.name = c.warc_file"
                f" WHERE c.id IN ({marks}) AND c.metadata_length IS NOT NULL"
                " ORDER BY c.warc_file, c.metadata_offset",
                batch,
            ).fetchall()
            for _name, group in itertools.groupby(rows, key=lambda r: r[2]):
                group = list(group)
                job_id, job, _, _, _, state, store_uri, key, spool = group[0]
                with open_ranges(state, store_uri, key, spool, s3_for_job(job)) as read:
                    for row in group:
                        member = read(row[3], row[4])
                        found += [(job_id, url) for url, _how in _outlinks(member)]
        before = {row[0] for row in conn.execute("SELECT id FROM temp.export_ids")}
        for job_id, url in found:
            conn.execute(
                "INSERT OR IGNORE INTO temp.export_ids SELECT id, 0 FROM captures"
                " WHERE job_id = ? AND url = ? ORDER BY captured_at DESC LIMIT 1",
                (job_id, url),
            )
        conn.execute(
            "INSERT OR IGNORE INTO temp.export_ids SELECT p.revisit_of, 0 FROM captures p"
            " JOIN temp.export_ids e ON e.id = p.id WHERE p.revisit_of IS NOT NULL"
        )
        todo = [r[0] for r in conn.execute("SELECT id FROM temp.export_ids") if r[0] not in before]
    return chosen


_COLUMNS = """
SELECT c.id, c.url, c.kind, c.state, c.captured_at, c.title, c.http_status, {chosen},
       c.record_id, c.record_digest, c.payload_digest,
       c.warc_file, c.warc_offset, c.warc_length, c.request_offset, c.request_length,
       c.metadata_offset, c.metadata_length,
       j.name, w.state, w.store_uri, w.storage_key, w.spool_path, w.warcinfo_length
"""
# A whole job: straight from the captures_job_file index, in file and offset order.
_JOB_ROWS = (
    _COLUMNS.format(chosen="1")
    + """
FROM captures c
JOIN jobs j ON j.id = c.job_id
LEFT JOIN warc_files w ON w.name = c.warc_file
WHERE j.name = ?
ORDER BY c.job_id, c.warc_file, c.warc_offset
"""
)
_CHOSEN_ROWS = (
    _COLUMNS.format(chosen="e.chosen")
    + """
FROM temp.export_ids e
JOIN captures c ON c.id = e.id
JOIN jobs j ON j.id = c.job_id
LEFT JOIN warc_files w ON w.name = c.warc_file
ORDER BY c.warc_file, c.warc_offset
"""
)


# -- copying one WARC file ----------------------------------------------------------------


class _OutputError(Exception):
    """Writing the package failed (full disk, permissions): not the archive's fault."""

    def __init__(self, exc: OSError):
        super().__init__(str(exc))
        self.exc = exc


class _HashingWriter:
    """Counts and hashes what is written to a ZIP entry."""

    def __init__(self, sink: IO[bytes]):
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        try:
            self.sink.write(data)
        except OSError as exc:
            raise _OutputError(exc) from exc
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


class _Checks:
    """What the catalog says each copied member is, checked twice: each gzip member is
    inflated as its bytes go by (bad deflate data, CRC-32 or length are caught at its
    own boundary, before warcio parses it), and each record warcio parses is matched
    with its catalog row (type, record id, digests, the capture it belongs to)."""

    def __init__(self, source: _SourceFile):
        self.source = source
        self.inflating: collections.deque[_Member] = collections.deque()
        self.parsing: collections.deque[_Member] = collections.deque()
        self.inflater = zlib.decompressobj(wbits=31)
        self.position = 0  # offset in the source file of the next byte to inflate

    def expect(self, member: _Member) -> None:
        self.inflating.append(member)
        self.parsing.append(member)

    def fail(self, member: _Member | None, why: str) -> IntegrityError:
        where = f"the record at byte {member.offset} of " if member else "a record of "
        who = f" (capture {member.capture_id})" if member and member.capture_id else ""
        return IntegrityError(
            f"{where}{self.source.name}{who} {why}; nothing was exported "
            f"(run 'archiver verify --job {self.source.job}')"
        )

    def inflate(self, offset: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            member = self.inflating[0]
            if offset != max(self.position, member.offset):
                raise self.fail(member, "is not where the bytes read are")
            take = min(len(view), member.offset + member.length - offset)
            try:
                # Bounded output per call: a record of a million zeros stays small here.
                out = self.inflater.decompress(view[:take], _INFLATE_STEP)
                while self.inflater.unconsumed_tail or len(out) == _INFLATE_STEP:
                    out = self.inflater.decompress(self.inflater.unconsumed_tail, _INFLATE_STEP)
            except zlib.error as exc:
                raise self.fail(member, f"is damaged (bad gzip data: {exc})") from exc
            view, offset = view[take:], offset + take
            self.position = offset
            if offset == member.offset + member.length:
                if not self.inflater.eof or self.inflater.unused_data:
                    raise self.fail(member, "is damaged (its gzip member does not end there)")
                self.inflating.popleft()
                self.inflater = zlib.decompressobj(wbits=31)

    def record(self, record: Any) -> None:
        member = self.parsing.popleft() if self.parsing else None
        if member is None:
            raise self.fail(None, "is not in the catalog")
        headers = record.rec_headers
        kind = record.rec_type
        if member.kind == "response":
            found = (
                headers.get_header("WARC-Record-ID"),
                headers.get_header("WARC-Block-Digest"),
                headers.get_header("WARC-Payload-Digest"),
            )
            if kind not in ("response", "revisit") or found != (
                member.record_id, member.block_digest, member.payload_digest,
            ):  # fmt: skip
                raise self.fail(member, f"is not what the catalog says (found {kind} {found})")
        elif kind != member.kind or (
            kind != "warcinfo" and headers.get_header("WARC-Concurrent-To") != member.record_id
        ):
            raise self.fail(member, f"is a {kind} record of another capture")


class _TeeRanges(io.RawIOBase):
    """A readable stream over the members of one WARC file, read in chunks of adjacent
    members; every byte handed to the reader is first checked and written to ``sink``,
    so the copy and what the reader parsed are the same bytes."""

    def __init__(
        self,
        read: Callable[[int, int], bytes],
        members: Iterator[_Member],
        sink: _HashingWriter,
        checks: _Checks,
    ):
        self._read = read
        self._members = members
        self._next: _Member | None = next(members, None)
        self._span = (0, 0)  # the part of the file being read: [start, end)
        self._end = 0  # end of the last member queued
        self._buffer = memoryview(b"")
        self._sink = sink
        self._checks = checks

    def readable(self) -> bool:
        return True

    def _next_span(self) -> bool:
        """Queue the next stretch of adjacent members (up to CHUNK, or one larger)."""
        if self._next is None:
            return False
        start = end = self._next.offset
        if start < self._end:
            raise self._checks.fail(self._next, "overlaps the record before it in the catalog")
        while self._next is not None and self._next.offset == end:
            if end > start and end - start + self._next.length > CHUNK:
                break
            self._checks.expect(self._next)
            end += self._next.length
            self._next = next(self._members, None)
        self._span = (start, end)
        self._end = end
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            start, end = self._span
            if start == end and not self._next_span():
                return 0
            start, end = self._span
            take = min(CHUNK, end - start)
            data = self._read(start, take)
            self._checks.inflate(start, data)
            self._sink.write(data)
            self._span = (start + take, end)
            self._buffer = memoryview(data)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def drain(self) -> None:
        """Copy what the parser did not need to read (nothing, when all went well)."""
        scratch = bytearray(CHUNK)
        while self.readinto(scratch):
            pass


def _indexer(sorter: Any, filename: str, checks: _Checks) -> Any:
    """cdxj-indexer's indexer, reading with digest checks and matching every record."""
    from cdxj_indexer.main import CDXJIndexer
    from warcio.archiveiterator import ArchiveIterator

    class CheckedIterator(ArchiveIterator):  # type: ignore[misc]
        def _iterate_records(self):  # type: ignore[no-untyped-def]
            for record in super()._iterate_records():
                checks.record(record)
                yield record

    class CheckingIndexer(CDXJIndexer):  # type: ignore[misc]
        def _create_record_iter(self, input_):  # type: ignore[no-untyped-def]
            self.iterator = CheckedIterator(
                input_,
                no_record_parse=not self.record_parse,
                arc2warc=True,
                verify_http=self.verify_http,
                check_digests="raise",
            )
            return self.iterator

    return CheckingIndexer(sorter, [], filename=filename)


def _copy_file(
    zf: zipfile.ZipFile,
    source: _SourceFile,
    members: Iterator[_Member],
    s3: S3Options | None,
    sorter: Any,
    when: tuple[int, ...],
) -> dict[str, Any]:
    from warcio.exceptions import ArchiveLoadFailed

    info = zipfile.ZipInfo(f"archive/{source.name}", when)
    info.compress_type = zipfile.ZIP_STORED
    checks = _Checks(source)
    with (
        open_ranges(
            source.state, source.store_uri, source.storage_key, source.spool_path, s3
        ) as read,
        zf.open(info, "w", force_zip64=True) as entry,  # its size is known only at the end
    ):
        out = _HashingWriter(entry)
        stream = _TeeRanges(read, members, out, checks)
        indexer = _indexer(sorter, source.name, checks)
        try:
            indexer.process_one(io.BufferedReader(stream, CHUNK), sorter, source.name)
            stream.drain()
        except (ArchiveLoadFailed, EOFError, ValueError) as exc:
            reason = str(exc)
            if reason.startswith("Unknown archive format"):  # warcio's word for bad gzip
                reason = "its gzip member is damaged"
            member = checks.parsing[0] if checks.parsing else None
            raise checks.fail(member, f"fails its check: {reason[:200]}") from exc
        if checks.parsing or checks.inflating:
            left = checks.parsing[0] if checks.parsing else checks.inflating[0]
            raise checks.fail(left, "was copied but never parsed")
    return {"path": info.filename, "hash": f"sha256:{out.sha256.hexdigest()}", "bytes": out.size}


# -- the package ----------------------------------------------------------------------------


def _write_entry(
    zf: zipfile.ZipFile,
    name: str,
    when: tuple[int, ...],
    fill: Callable[[Any], None],
    compress: int = zipfile.ZIP_STORED,
) -> dict[str, Any]:
    info = zipfile.ZipInfo(name, when)
    info.compress_type = compress
    with zf.open(info, "w", force_zip64=True) as entry:
        out = _HashingWriter(entry)
        fill(out)
    return {"path": name, "hash": f"sha256:{out.sha256.hexdigest()}", "bytes": out.size}


class _FileRows:
    """The selected rows of one WARC file at a time, streamed from the catalog cursor."""

    def __init__(self, cursor: sqlite3.Cursor):
        self._rows = (tuple(row) for row in cursor)
        self._peek = next(self._rows, None)

    def next_file(self) -> tuple[_SourceFile, Iterator[tuple]] | None:
        if self._peek is None:
            return None
        row = self._peek
        source = _SourceFile(row[11], row[18], row[19], row[20], row[21], row[22], row[23] or 0)

        def rows() -> Iterator[tuple]:
            while self._peek is not None and self._peek[11] == source.name:
                yield self._peek
                self._peek = next(self._rows, None)

        return source, rows()

    def skip_failed(self) -> int:
        """Rows without records (failed fetches) sort first (no file); count and skip them."""
        skipped = 0
        while self._peek is not None and (self._peek[11] is None or self._peek[12] is None):
            skipped += 1
            self._peek = next(self._rows, None)
        return skipped


def export_wacz(
    catalog: Catalog,
    selection: Selection,
    target: Path,
    *,
    s3_for_job: Callable[[str], S3Options | None],
    title: str | None = None,
) -> ExportSummary:
    """Write the selected captures as a WACZ at ``target``; nothing is left there on failure."""
    from cdxj_indexer.main import SortingWriter

    summary = ExportSummary(path=target)
    created = datetime.now(UTC).replace(microsecond=0)
    when = created.timetuple()[:6]
    conn = catalog.conn
    if selection.job is not None:
        chosen = conn.execute(
            "SELECT COUNT(*) FROM captures c JOIN jobs j ON j.id = c.job_id WHERE j.name = ?",
            (selection.job,),
        ).fetchone()[0]
    else:
        with conn:
            chosen = _choose(conn, selection, s3_for_job)
    if not chosen:
        raise ArchiverError(
            f"nothing to export: {selection.description} has no captures "
            "(list them with 'archiver captures')"
        )
    partial: str | None = None
    sorter = SortingWriter(None, SORT_BUFFER)
    cursor = conn.cursor()
    zf: zipfile.ZipFile | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
        with tempfile.TemporaryFile("w+", encoding="utf-8") as pages, os.fdopen(fd, "wb") as raw:
            zf = zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True)
            copy = _Copier(zf, sorter, pages, summary, selection, s3_for_job, when)
            if selection.job is not None:
                copy.rows(cursor.execute(_JOB_ROWS, (selection.job,)))
                # Revisits in the job whose originals are in earlier jobs: those come too.
                with conn:
                    outside = _choose(conn, _originals_outside(selection.job), s3_for_job)
                if outside:
                    copy.rows(cursor.execute(_CHOSEN_ROWS))
            else:
                copy.rows(cursor.execute(_CHOSEN_ROWS))
            if not summary.warc_files:
                raise ArchiverError(
                    f"nothing to export: {selection.description} has only failed fetches, "
                    "which have no WARC records (list them with 'archiver captures')"
                )
            _finish_package(zf, sorter, pages, summary, selection, created, title, when)
            zf.close()
            raw.flush()
            os.fsync(raw.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private; a package is to share
        os.replace(partial, target)
    except _OutputError as exc:
        _discard(zf, partial, sorter)
        raise _cannot_write(target, exc.exc) from exc
    except OSError as exc:
        _discard(zf, partial, sorter)
        raise _cannot_write(target, exc) from exc
    except BaseException:
        _discard(zf, partial, sorter)
        raise
    finally:
        cursor.close()
        with conn:
            conn.execute("DROP TABLE IF EXISTS temp.export_ids")
    return summary


class _Copier:
    """Copies the rows of a catalog cursor into the package, one WARC file at a time."""

    def __init__(self, zf, sorter, pages, summary, selection, s3_for_job, when):  # type: ignore[no-untyped-def]
        self.zf, self.sorter, self.pages, self.summary = zf, sorter, pages, summary
        self.selection, self.s3_for_job, self.when = selection, s3_for_job, when
        self.options: dict[str, S3Options | None] = {}

    def rows(self, cursor: sqlite3.Cursor) -> None:
        files = _FileRows(cursor)
        self.summary.skipped_failed += files.skip_failed()
        while (group := files.next_file()) is not None:
            source, rows = group
            if f"archive/{source.name}" in {r["path"] for r in self.summary.resources}:
                raise IntegrityError(f"{source.name} would be packaged twice")

            def members(
                rows: Iterator[tuple] = rows, warcinfo: int = source.warcinfo_length
            ) -> Iterator[_Member]:
                yield _Member(0, warcinfo, "warcinfo")
                for row in rows:
                    _note_page(row, self.selection, self.pages, self.summary)
                    yield from _row_members(row)

            if source.job not in self.options:
                self.options[source.job] = self.s3_for_job(source.job)
            resource = _copy_file(
                self.zf, source, members(), self.options[source.job], self.sorter, self.when
            )
            self.summary.resources.append(resource)
            self.summary.bytes += resource["bytes"]
            self.summary.warc_files += 1


def _originals_outside(job: str) -> Selection:
    return Selection(
        "c.id IN (SELECT r.revisit_of FROM captures r JOIN jobs rj ON rj.id = r.job_id"
        " WHERE rj.name = ? AND r.revisit_of IS NOT NULL) AND j.name != ?",
        (job, job),
        f"originals of job {job}",
        expand=False,
    )


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


def _row_members(row: tuple) -> Iterator[_Member]:
    cid, record_id, block, payload = row[0], row[8], row[9], row[10]
    offset, length, req_offset, req_length, meta_offset, meta_length = row[12:18]
    parts = sorted(
        (start, size, kind)
        for start, size, kind in (
            (req_offset, req_length, "request"),
            (offset, length, "response"),
            (meta_offset, meta_length, "metadata"),
        )
        if start is not None and size
    )
    for start, size, kind in parts:
        yield _Member(start, size, kind, cid, record_id, block, payload)


def _note_page(row: tuple, selection: Selection, pages: IO[str], summary: ExportSummary) -> None:
    cid, url, kind, _state, captured_at, title, status, chosen = row[:8]
    summary.captures += 1
    if chosen and (kind in PAGE_KINDS or selection.expand):
        page: dict[str, Any] = {"id": cid, "url": url, "ts": captured_at}
        if title:
            page["title"] = title
        if status is not None:
            page["status"] = status
        pages.write(json.dumps(page, ensure_ascii=False) + "\n")
        summary.pages += 1
    if url == selection.main_url and captured_at > (summary.main_page_date or ""):
        summary.main_page_date = captured_at


def _finish_package(
    zf: zipfile.ZipFile,
    sorter: Any,
    pages: IO[str],
    summary: ExportSummary,
    selection: Selection,
    created: datetime,
    title: str | None,
    when: tuple[int, ...],
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
    package = _datapackage(summary, selection, created, title)
    package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
    _write_entry(zf, "datapackage.json", when, lambda out: out.write(package_bytes))
    digest = {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
    }
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
