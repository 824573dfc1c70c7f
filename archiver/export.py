"""WACZ 1.1.1 export of selected captures, written as a stream.

A WACZ is a ZIP holding ``archive/`` (WARC files), ``indexes/`` (a CDXJ index, here
compressed ZipNum: ``index.cdx.gz`` with its ``index.idx``), ``pages/pages.jsonl``,
``datapackage.json`` (every file with its SHA-256 and size) and
``datapackage-digest.json`` (the SHA-256 of ``datapackage.json``).

For each WARC file that holds a selected capture, ``archive/`` gets a file of the same
name with that file's warcinfo record and the selected captures' request, response and
metadata records: the gzip members copied byte for byte, so every record keeps its
WARC-Record-ID and digests, and ``archiver get`` of a capture yields the same records.
Records are read from the store by byte range and streamed into the ZIP while warcio
checks every record's block and payload digest and cdxj-indexer indexes them; nothing is
held in memory but a few megabytes of buffer and the index lines still to be sorted
(spilled to temporary files past a bound). The package is written beside the target
and renamed into place only when complete.
"""

from __future__ import annotations

import hashlib
import io
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
from archiver.retrieval import range_reader
from archiver.storage.s3 import S3Options

WACZ_VERSION = "1.1.1"
CHUNK = 4 * 1024 * 1024  # bytes per ranged read
SORT_BUFFER = 16 * 1024 * 1024  # index lines held before spilling to a sorted temp file
PAGE_KINDS = ("seed", "page")
_INFLATE_STEP = 1024 * 1024


@dataclass(frozen=True)
class Selection:
    """Which captures to export: a WHERE clause on captures ``c`` joined with jobs ``j``."""

    where: str
    params: tuple[Any, ...]
    description: str
    main_url: str | None = None  # the page a replay tool opens first, when there is one


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


@dataclass
class _Member:
    offset: int
    length: int


@dataclass
class _SourceFile:
    """One catalogued WARC file and the byte ranges of it to copy."""

    name: str
    job: str
    state: str
    store_uri: str | None
    storage_key: str | None
    spool_path: str | None
    warcinfo_length: int
    ranges: list[_Member] = field(default_factory=list)
    owners: dict[int, str] = field(default_factory=dict)  # record offset -> capture id
    expected: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)

    def merged(self) -> list[_Member]:
        """The ranges sorted, duplicates dropped and neighbours joined into one read."""
        out: list[_Member] = []
        for member in sorted({(m.offset, m.length) for m in self.ranges}):
            offset, length = member
            if out and out[-1].offset + out[-1].length == offset:
                out[-1].length += length
            elif out and out[-1].offset + out[-1].length > offset:
                raise IntegrityError(
                    f"{self.name}: catalogued records overlap at offset {offset}; "
                    "run 'archiver verify' on its job"
                )
            else:
                out.append(_Member(offset, length))
        return out

    def owner_at(self, copied_offset: int) -> str:
        """Which capture the record at ``copied_offset`` of the copy belongs to."""
        position = copied_offset
        for member in self.merged():
            if position < member.length:
                source_offset = member.offset + position
                capture = self.owners.get(source_offset)
                where = f"the record at byte {source_offset} of {self.name}"
                return f"{where} (capture {capture})" if capture else where
            position -= member.length
        return f"a record of {self.name}"


_SELECT = """
SELECT c.id, c.url, c.kind, c.state, c.captured_at, c.title, c.http_status, c.mime,
       c.record_id, c.record_digest, c.payload_digest,
       c.warc_file, c.warc_offset, c.warc_length, c.request_offset, c.request_length,
       c.metadata_offset, c.metadata_length,
       j.name, w.state, w.store_uri, w.storage_key, w.spool_path, w.warcinfo_length
FROM captures c
JOIN jobs j ON j.id = c.job_id
LEFT JOIN warc_files w ON w.name = c.warc_file
"""


def _selected_rows(catalog: Catalog, selection: Selection) -> Iterator[sqlite3.Row]:
    sql = f"{_SELECT} WHERE {selection.where} ORDER BY c.warc_file, c.warc_offset"
    yield from catalog.conn.execute(sql, selection.params)


class _HashingWriter:
    """Counts and hashes what is written to a ZIP entry."""

    def __init__(self, sink: IO[bytes]):
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sink.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


class _MemberCheck:
    """Decompresses each gzip member as its bytes go by, so a damaged member (bad deflate
    data, CRC-32 or length) is caught at its own boundary and named by its capture, before
    warcio ever parses it."""

    def __init__(self, source: _SourceFile):
        self.source = source
        self.members = sorted({(m.offset, m.length) for m in source.ranges})
        self.index = 0
        self.inflater = zlib.decompressobj(wbits=31)

    def _fail(self, offset: int, why: str) -> IntegrityError:
        capture = self.source.owners.get(offset)
        who = f" (capture {capture})" if capture else ""
        return IntegrityError(
            f"the record at byte {offset} of {self.source.name}{who} is damaged ({why}); "
            f"nothing was exported (run 'archiver verify --job {self.source.job}')"
        )

    def feed(self, offset: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            start, length = self.members[self.index]
            if offset < start:  # merged ranges are contiguous: cannot happen
                raise self._fail(start, "a gap in the ranges read")
            take = min(len(view), start + length - offset)
            try:
                # Bounded output per call: a record of a million zeros stays small here.
                out = self.inflater.decompress(view[:take], _INFLATE_STEP)
                while self.inflater.unconsumed_tail or len(out) == _INFLATE_STEP:
                    out = self.inflater.decompress(self.inflater.unconsumed_tail, _INFLATE_STEP)
            except zlib.error as exc:
                raise self._fail(start, f"bad gzip data: {exc}") from exc
            view, offset = view[take:], offset + take
            if offset == start + length:
                if not self.inflater.eof or self.inflater.unused_data:
                    raise self._fail(start, "the gzip member does not end where the catalog says")
                self.index += 1
                self.inflater = zlib.decompressobj(wbits=31)


class _TeeRanges(io.RawIOBase):
    """A readable stream over byte ranges of one WARC file, read in chunks; every byte
    handed to the reader is first written to ``sink``, so the copy and what the reader
    parsed are the same bytes."""

    def __init__(
        self,
        read: Callable[[int, int], bytes],
        ranges: list[_Member],
        sink: Any,
        check: _MemberCheck,
    ):
        self._read = read
        self._check = check
        self._pending = [(r.offset, r.length) for r in ranges]
        self._buffer = memoryview(b"")
        self._sink = sink

    def readable(self) -> bool:
        return True

    def _refill(self) -> bool:
        while self._pending:
            offset, length = self._pending[0]
            if length <= 0:
                self._pending.pop(0)
                continue
            take = min(CHUNK, length)
            data = self._read(offset, take)
            self._check.feed(offset, data)
            self._pending[0] = (offset + take, length - take)
            self._sink.write(data)
            self._buffer = memoryview(data)
            return True
        return False

    def readinto(self, target: Any) -> int:
        if not self._buffer and not self._refill():
            return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def drain(self) -> int:
        """Read to the end (copying); return how many bytes the parser had left unread."""
        left = len(self._buffer)
        self._buffer = memoryview(b"")
        while self._refill():
            left += len(self._buffer)
            self._buffer = memoryview(b"")
        return left


def _indexer_class():  # type: ignore[no-untyped-def]
    """cdxj-indexer's indexer, reading with digest checks and noting response records."""
    from cdxj_indexer.main import CDXJIndexer
    from warcio.archiveiterator import ArchiveIterator

    class CheckingIndexer(CDXJIndexer):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.seen: dict[str, tuple[str, str | None, str | None]] = {}

        def _create_record_iter(self, input_):  # type: ignore[no-untyped-def]
            self.iterator = ArchiveIterator(
                input_,
                no_record_parse=not self.record_parse,
                arc2warc=True,
                verify_http=self.verify_http,
                check_digests="raise",
            )
            return self.iterator

        def process_index_entry(self, it, record, filename, output):  # type: ignore[no-untyped-def]
            headers = record.rec_headers
            if record.rec_type == "response":
                self.seen[headers.get_header("WARC-Record-ID")] = (
                    headers.get_header("WARC-Target-URI"),
                    headers.get_header("WARC-Block-Digest"),
                    headers.get_header("WARC-Payload-Digest"),
                )
            super().process_index_entry(it, record, filename, output)

    return CheckingIndexer


def _gather(
    catalog: Catalog, selection: Selection, pages_out: IO[str], summary: ExportSummary
) -> list[_SourceFile]:
    """The WARC files and byte ranges to copy; page lines go to ``pages_out``."""
    files: dict[str, _SourceFile] = {}
    for row in _selected_rows(catalog, selection):
        (cid, url, kind, state, captured_at, title, status, _mime, record_id, block, payload,
         warc_file, offset, length, req_offset, req_length, meta_offset, meta_length,
         job, file_state, store_uri, storage_key, spool_path, warcinfo_length) = row  # fmt: skip
        if state == "failed" or warc_file is None or offset is None:
            summary.skipped_failed += 1
            continue
        source = files.get(warc_file)
        if source is None:
            source = files[warc_file] = _SourceFile(
                warc_file, job, file_state, store_uri, storage_key, spool_path,
                warcinfo_length or 0,
            )  # fmt: skip
            source.ranges.append(_Member(0, source.warcinfo_length))
        for start, size in ((req_offset, req_length), (offset, length), (meta_offset, meta_length)):
            if start is not None and size:
                source.ranges.append(_Member(start, size))
                source.owners[start] = cid
        source.expected[record_id] = (url, block, payload)
        summary.captures += 1
        if kind in PAGE_KINDS:
            page = {"id": cid, "url": url, "ts": captured_at}
            if title:
                page["title"] = title
            if status is not None:
                page["status"] = status
            pages_out.write(json.dumps(page, ensure_ascii=False) + "\n")
            summary.pages += 1
            if url == selection.main_url:
                summary.main_page_date = captured_at  # the latest, rows come oldest first
    return list(files.values())


def _copy_file(
    zf: zipfile.ZipFile,
    source: _SourceFile,
    s3: S3Options | None,
    sorter: Any,
    when: tuple[int, ...],
) -> dict[str, Any]:
    ranges = source.merged()
    info = zipfile.ZipInfo(f"archive/{source.name}", when)
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = sum(r.length for r in ranges)  # lets zipfile choose ZIP64 up front
    read = range_reader(source.state, source.store_uri, source.storage_key, source.spool_path, s3)
    indexer = _indexer_class()(sorter, [], filename=source.name)
    from warcio.exceptions import ArchiveLoadFailed

    with zf.open(info, "w") as entry:
        out = _HashingWriter(entry)
        stream = _TeeRanges(read, ranges, out, _MemberCheck(source))
        try:
            indexer.process_one(io.BufferedReader(stream, CHUNK), sorter, source.name)
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            where = source.owner_at(getattr(getattr(indexer, "iterator", None), "offset", 0))
            reason = str(exc)
            if reason.startswith("Unknown archive format"):  # warcio's word for a bad gzip member
                reason = "its gzip member is damaged"
            raise IntegrityError(
                f"{where} fails its check: {reason[:200]}; nothing was exported "
                f"(run 'archiver verify --job {source.job}')"
            ) from exc
        stream.drain()
    for record_id, (url, block, payload) in source.expected.items():
        found = indexer.seen.get(record_id)
        if found is None or found[1:] != (block, payload):
            raise IntegrityError(
                f"{source.name}: the response record {record_id} of {url} is not what the "
                f"catalog says (found {found!r}); nothing was exported"
            )
    return {"path": info.filename, "hash": f"sha256:{out.sha256.hexdigest()}", "bytes": out.size}


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


def export_wacz(
    catalog: Catalog,
    selection: Selection,
    target: Path,
    *,
    s3_for_job: Callable[[str], S3Options | None],
    title: str | None = None,
) -> ExportSummary:
    """Write the selected captures as a WACZ at ``target``; nothing is left there on failure."""
    from cdxj_indexer.main import CompressedWriter, SortingWriter

    summary = ExportSummary(path=target)
    created = datetime.now(UTC).replace(microsecond=0)
    when = created.timetuple()[:6]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with (
            tempfile.TemporaryFile("w+", encoding="utf-8") as pages,
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as zf,
        ):
            sources = _gather(catalog, selection, pages, summary)
            if not sources:
                raise ArchiverError(
                    f"nothing to export: {selection.description} has no captures with "
                    "WARC records (list them with 'archiver captures')"
                )
            sorter = SortingWriter(None, SORT_BUFFER)
            options: dict[str, S3Options | None] = {}
            for source in sources:
                if source.job not in options:
                    options[source.job] = s3_for_job(source.job)
                resource = _copy_file(zf, source, options[source.job], sorter, when)
                summary.resources.append(resource)
                summary.bytes += resource["bytes"]
                summary.warc_files += 1

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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private; a package is to share
        with open(partial, "rb+") as done:
            os.fsync(done.fileno())
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return summary


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
