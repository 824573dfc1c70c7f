"""Copying one WARC file's selected records into a package, checked as they go.

The records (gzip members) are read by byte range in chunks of adjacent members and
copied unchanged; on the way each member is inflated (CRC and length checked at its
own boundary), warcio parses every record with digest checks, each record is matched
with what the catalog says it is, and cdxj-indexer indexes it.
"""

from __future__ import annotations

import collections
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from archiver.errors import IntegrityError
from archiver.research.export.zipentry import open_entry
from archiver.research.retrieval import open_ranges
from archiver.storage.s3 import S3Options

CHUNK = 4 * 1024 * 1024  # bytes per ranged read
_INFLATE_STEP = 1024 * 1024


@dataclass(frozen=True)
class Member:
    """One gzip member to copy: a record, and what the catalog says it is."""

    offset: int
    length: int
    kind: str  # warcinfo, request, response, metadata
    capture_id: str | None = None
    record_id: str | None = None  # the capture's response (or revisit) record
    block_digest: str | None = None
    payload_digest: str | None = None


@dataclass(frozen=True)
class SourceFile:
    name: str
    job: str
    state: str
    store_uri: str | None
    storage_key: str | None
    spool_path: str | None
    warcinfo_length: int


class OutputError(Exception):
    """Writing the package failed (full disk, permissions): not the archive's fault."""

    def __init__(self, exc: OSError):
        super().__init__(str(exc))
        self.exc = exc


class HashingWriter:
    """Counts and hashes what is written to a ZIP entry."""

    def __init__(self, sink: IO[bytes]):
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        try:
            self.sink.write(data)
        except OSError as exc:
            raise OutputError(exc) from exc
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

    def __init__(self, source: SourceFile):
        self.source = source
        self.inflating: collections.deque[Member] = collections.deque()
        self.parsing: collections.deque[Member] = collections.deque()
        self.inflater = zlib.decompressobj(wbits=31)
        self.position = 0  # offset in the source file of the next byte to inflate

    def expect(self, member: Member) -> None:
        self.inflating.append(member)
        self.parsing.append(member)

    def fail(self, member: Member | None, why: str) -> IntegrityError:
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
        members: Iterator[Member],
        sink: HashingWriter,
        checks: _Checks,
    ):
        self._read = read
        self._members = members
        self._next: Member | None = next(members, None)
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


def copy_file(
    zf: zipfile.ZipFile,
    source: SourceFile,
    members: Iterator[Member],
    size: int,
    s3: S3Options | None,
    sorter: Any,
    when: tuple[int, ...],
) -> dict[str, Any]:
    """Copy ``members`` into the entry ``archive/{source.name}``, ``size`` bytes in all."""
    from warcio.exceptions import ArchiveLoadFailed

    name = f"archive/{source.name}"
    checks = _Checks(source)
    with (
        open_ranges(
            source.state, source.store_uri, source.storage_key, source.spool_path, s3
        ) as read,
        open_entry(zf, name, when, size) as entry,
    ):
        out = HashingWriter(entry)
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
        if out.size != size:  # its ZIP headers were written for that size
            raise IntegrityError(f"{name} came to {out.size} bytes, not the {size} planned")
    return {"path": name, "hash": f"sha256:{out.sha256.hexdigest()}", "bytes": out.size}
