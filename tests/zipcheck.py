"""Reading a ZIP's records as they are on disk (APPNOTE 6.3.x §4.3), without zipfile:
each entry's local header beside its central directory record, ZIP64 fields resolved."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

ZIP64_EXTRA = 0x0001
FULL = 0xFFFFFFFF


@dataclass(frozen=True)
class Header:
    """One header's view of an entry: sizes as written (0xFFFFFFFF or a value), as
    resolved through the ZIP64 extra field, and which extra fields it carries."""

    name: str
    method: int
    flags: int
    crc: int
    raw_sizes: tuple[int, int]  # (compressed, uncompressed) as in the fixed fields
    sizes: tuple[int, int]  # the same, resolved
    extra_ids: tuple[int, ...]


@dataclass(frozen=True)
class Entry:
    offset: int  # of the local header
    central: Header
    local: Header
    data_start: int
    zip64_offset: bool  # the central record gives the offset in its ZIP64 field


@dataclass(frozen=True)
class Layout:
    entries: list[Entry]
    central_offset: int
    zip64_end: bool  # a ZIP64 end of central directory record is present


def _extras(data: bytes) -> dict[int, bytes]:
    fields, pos = {}, 0
    while pos + 4 <= len(data):
        kind, size = struct.unpack_from("<HH", data, pos)
        fields[kind] = data[pos + 4 : pos + 4 + size]
        pos += 4 + size
    assert pos == len(data), "extra field overruns its length"
    return fields


def _resolve(values: list[int], zip64: bytes) -> tuple[list[int], int]:
    """APPNOTE §4.5.3: the ZIP64 field holds, in order, each fixed field that is full."""
    found = list(struct.unpack(f"<{len(zip64) // 8}Q", zip64[: len(zip64) // 8 * 8]))
    used = 0
    out = []
    for value in values:
        if value == FULL:
            assert used < len(found), "a full field without its ZIP64 value"
            value, used = found[used], used + 1
        out.append(value)
    return out, used


def read_layout(path: Path) -> Layout:
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - 22 - 0xFFFF))
        tail = f.read()
        end = tail.rfind(b"PK\x05\x06")
        assert end >= 0, "no end of central directory record"
        count, cd_size, cd_offset = struct.unpack_from("<HII", tail, end + 10)
        zip64_end = tail[end - 20 : end - 16] == b"PK\x06\x07"
        if zip64_end:
            (record_at,) = struct.unpack_from("<Q", tail, end - 20 + 8)
            f.seek(record_at)
            record = f.read(56)
            assert record[:4] == b"PK\x06\x06", "ZIP64 locator points at no ZIP64 end record"
            count, _, cd_size, cd_offset = struct.unpack_from("<QQQQ", record, 24)
        f.seek(cd_offset)
        directory = f.read(cd_size)
        entries, pos = [], 0
        for _ in range(count):
            assert directory[pos : pos + 4] == b"PK\x01\x02", f"bad central record at {pos}"
            (flags, method, _t, _d, crc, csize, usize, nlen, elen, clen) = struct.unpack_from(
                "<HHHHIIIHHH", directory, pos + 8
            )
            (offset,) = struct.unpack_from("<I", directory, pos + 42)
            name = directory[pos + 46 : pos + 46 + nlen].decode("utf-8")
            extras = _extras(directory[pos + 46 + nlen : pos + 46 + nlen + elen])
            (usize_r, csize_r, offset_r), _ = _resolve(
                [usize, csize, offset], extras.get(ZIP64_EXTRA, b"")
            )
            central = Header(
                name, method, flags, crc, (csize, usize), (csize_r, usize_r), tuple(extras)
            )
            pos += 46 + nlen + elen + clen

            f.seek(offset_r)
            head = f.read(30)
            assert head[:4] == b"PK\x03\x04", f"no local header for {name} at {offset_r}"
            (lflags, lmethod, _t, _d, lcrc, lcsize, lusize, lnlen, lelen) = struct.unpack_from(
                "<HHHHIIIHH", head, 6
            )
            rest = f.read(lnlen + lelen)
            lextras = _extras(rest[lnlen:])
            # A local ZIP64 field holds both sizes (§4.5.3), uncompressed first.
            (lusize_r, lcsize_r), _ = _resolve([lusize, lcsize], lextras.get(ZIP64_EXTRA, b""))
            local = Header(
                rest[:lnlen].decode("utf-8"), lmethod, lflags, lcrc, (lcsize, lusize),
                (lcsize_r, lusize_r), tuple(lextras),
            )  # fmt: skip
            entries.append(
                Entry(offset_r, central, local, offset_r + 30 + lnlen + lelen, offset == FULL)
            )
    return Layout(entries, cd_offset, zip64_end)


def check_consistent(layout: Layout) -> None:
    """Each local header agrees with its central record, ZIP64 is used by both or by
    neither, and the entries lie back to back up to the central directory."""
    position = 0
    for entry in layout.entries:
        local, central = entry.local, entry.central
        assert entry.offset == position, f"{central.name}: gap or overlap before it"
        assert (local.name, local.method, local.flags, local.crc) == (
            central.name, central.method, central.flags, central.crc,
        ), central.name  # fmt: skip
        assert local.flags & 0x08 == 0, f"{central.name}: sizes left to a data descriptor"
        assert local.sizes == central.sizes, (central.name, local.sizes, central.sizes)
        local_zip64 = ZIP64_EXTRA in local.extra_ids or FULL in local.raw_sizes
        central_zip64 = FULL in central.raw_sizes
        assert local_zip64 == central_zip64, (
            f"{central.name}: ZIP64 sizes in the local header {local_zip64}, "
            f"in the central directory {central_zip64}"
        )
        position = entry.data_start + central.sizes[0]
    assert position == layout.central_offset, "the last entry does not end at the directory"
