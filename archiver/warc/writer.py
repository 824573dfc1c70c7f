"""Writing WARC files: one gzip member per record, ``.open`` while written, size rollover.

Files are named ``{prefix}-{YYYYMMDDhhmmssSSS}-{serial:05d}-{host}-{random}.warc.gz``
(the Heritrix/warcprox convention) and carry the suffix ``.open`` until closed, so a
reader never mistakes a file in progress for a finished one.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import string
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from archiver.catalog.db import iso_ms, utc_now
from archiver.durable import fsync_dir
from archiver.warc.records import Record, RecordBuilder, new_record_id, warc_fields

OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 1_000_000_000
_WRITE_BATCH = 1024 * 1024


@dataclass(frozen=True)
class WrittenRecord:
    filename: str
    offset: int
    length: int
    record_id: str


@dataclass(frozen=True)
class OpenedWarc:
    filename: str
    path: Path  # the .open path
    warcinfo_id: str
    warcinfo_length: int


@dataclass(frozen=True)
class ClosedWarc:
    filename: str
    path: Path
    size: int
    sha256: str
    first_date: str | None = None  # the earliest and latest WARC-Date in the file
    last_date: str | None = None


def safe_host(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", name)[:63] or "host"


def _random_suffix() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))


class WarcWriter:
    """Appends record groups to the current WARC file, rolling over by size.

    A group (request, response, metadata of one fetch) always lands in one file,
    so one capture's records sit side by side. ``clock`` and ``id_factory`` are
    seams for byte-exact tests.
    """

    def __init__(
        self,
        directory: Path,
        *,
        warcinfo_fields: Callable[[str], Sequence[tuple[str, str]]],
        prefix: str = "archiver",
        host: str = "host",
        max_size: int = DEFAULT_MAX_SIZE,
        compress_level: int = 6,
        clock: Callable[[], datetime] = utc_now,
        id_factory: Callable[[], str] = new_record_id,
        on_open: Callable[[OpenedWarc], None] | None = None,
        on_close: Callable[[ClosedWarc], None] | None = None,
    ):
        self.directory = directory
        self.prefix = prefix
        self.host = safe_host(host)
        self.max_size = max_size
        self.compress_level = compress_level
        self.clock = clock
        self.id_factory = id_factory
        self._warcinfo_fields = warcinfo_fields
        self.on_open = on_open
        self.on_close = on_close
        self._serial = 0
        self._file: BinaryIO | None = None
        self._filename = ""
        self._size = 0
        self._digest = hashlib.sha256()
        self._dates: tuple[str, str] | None = None  # (earliest, latest) WARC-Date written
        self.warcinfo_id: str | None = None

    @property
    def current_filename(self) -> str | None:
        return self._filename if self._file else None

    def builder(self) -> RecordBuilder:
        """A record builder whose records point at the current file's warcinfo."""
        if self._file is None:
            self._open()
        return RecordBuilder(warcinfo_id=self.warcinfo_id, id_factory=self.id_factory)

    @property
    def size(self) -> int:
        """Bytes written to the open file (0 when none is open)."""
        return self._size if self._file is not None else 0

    @property
    def full(self) -> bool:
        """The open file has reached its size: the next group goes into a new one."""
        return self._file is not None and self._size >= self.max_size

    def needs_rollover(self) -> bool:
        return self._file is None or self._size >= self.max_size

    def write_group(self, records: Sequence[Record]) -> list[WrittenRecord]:
        """Write records back to back in the current file. Call ``builder()`` first so the
        records reference this file's warcinfo; roll over beforehand with ``rollover_if_full``."""
        if self._file is None:
            self._open()
        return [self._write_member(record) for record in records]

    def rollover_if_full(self) -> bool:
        if self.full:
            self.close()
            return True
        return False

    def dup_fd(self) -> int | None:
        """A duplicate of the open file's descriptor, for fsyncing it from another thread
        (it stays valid after the writer closes or rolls over the file)."""
        return os.dup(self._file.fileno()) if self._file is not None else None

    def flush(self, *, fsync: bool = False) -> None:
        if self._file is not None:
            self._file.flush()
            if fsync:
                os.fsync(self._file.fileno())

    def close(self) -> ClosedWarc | None:
        if self._file is None:
            return None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        open_path = self.directory / (self._filename + OPEN_SUFFIX)
        final = self.directory / self._filename
        os.replace(open_path, final)
        fsync_dir(self.directory)
        first, last = self._dates or (None, None)
        closed = ClosedWarc(
            self._filename, final, self._size, self._digest.hexdigest(), first, last
        )
        if self.on_close:
            self.on_close(closed)
        return closed

    def _open(self) -> None:
        now = self.clock()
        stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
        self._filename = (
            f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}-{_random_suffix()}.warc.gz"
        )
        self._serial += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / (self._filename + OPEN_SUFFIX)
        # "xb": never overwrite an existing file (a restart must not clobber evidence).
        # Unbuffered: each member is written in a few large writes, and a failed write
        # can be cut back exactly (see _write_member).
        self._file = open(path, "xb", buffering=0)  # noqa: SIM115 - closed in close()
        self._size = 0
        self._digest = hashlib.sha256()
        self._dates = None
        self.warcinfo_id = self.id_factory()
        warcinfo = RecordBuilder(id_factory=self.id_factory).build(
            "warcinfo",
            date=iso_ms(now),
            record_id=self.warcinfo_id,
            content_type="application/warc-fields",
            head=warc_fields(self._warcinfo_fields(self._filename)),
            extra=[("WARC-Filename", self._filename)],
        )
        written = self._write_member(warcinfo)
        self._file.flush()
        if self.on_open:
            self.on_open(OpenedWarc(self._filename, path, self.warcinfo_id, written.length))

    def _write_member(self, record: Record) -> WrittenRecord:
        """Write one record as one gzip member. If any write fails (disk full), the file
        is cut back to where the member began, so it always ends on a whole record."""
        assert self._file is not None
        offset, digest = self._size, self._digest.copy()
        try:
            if record.body is None or record.body.length <= _WRITE_BATCH:
                # Most records: compressed in one call. A compressor object per member
                # cost more than the compression of a small one (benchmarks/crawl_speed.py).
                block = [record.header_bytes(), *record.block_chunks(), b"\r\n\r\n"]
                self._emit(zlib.compress(b"".join(block), self.compress_level, 31))
            else:
                self._write_streamed(record)
        except BaseException:
            os.ftruncate(self._file.fileno(), offset)
            self._file.seek(offset)
            self._size, self._digest = offset, digest
            raise
        date = record.field("WARC-Date")
        if date:  # ISO 8601 in UTC, one format: text order is time order
            first, last = self._dates or (date, date)
            self._dates = (min(first, date), max(last, date))
        return WrittenRecord(self._filename, offset, self._size - offset, record.record_id)

    def _write_streamed(self, record: Record) -> None:
        """A large record, compressed and written a batch at a time."""
        gz = zlib.compressobj(self.compress_level, zlib.DEFLATED, 31)  # 31: gzip framing
        pending = [gz.compress(record.header_bytes())]
        pending_size = 0
        for chunk in record.block_chunks():
            piece = gz.compress(chunk)
            pending.append(piece)
            pending_size += len(piece)
            if pending_size >= _WRITE_BATCH:
                self._emit(b"".join(pending))
                pending, pending_size = [], 0
        pending.append(gz.compress(b"\r\n\r\n"))  # WARC 1.1 §4: records end with two CRLF
        pending.append(gz.flush())
        self._emit(b"".join(pending))

    def _emit(self, data: bytes) -> None:
        assert self._file is not None
        view = memoryview(data)
        while view:  # a raw file may write less than asked
            written = self._file.write(view)
            view = view[written or 0 :]
        self._digest.update(data)
        self._size += len(data)
