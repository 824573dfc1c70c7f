"""Opening a ZIP entry whose size is known, so its headers say the same thing.

CPython's zipfile decides ZIP64 twice: the local header gets ZIP64 sizes (0xFFFFFFFF and a
ZIP64 extra field) when the entry is opened with ``force_zip64`` (or its declared
``file_size`` times 1.05 passes ``ZIP64_LIMIT``), the central directory when the size
written turns out to pass ``ZIP64_LIMIT`` (2 GiB - 1). Forcing ZIP64 on every entry made
the two disagree for every entry under 2 GiB; readers that trust the local header
(ReplayWeb.page's) then read the ZIP64 extra field as the entry's data. So an entry is
opened only once its exact size is known, with ZIP64 where that size needs it. Offsets
past the limit need no local ZIP64 field: zipfile puts them in the central directory and
adds the ZIP64 end records.
"""

from __future__ import annotations

import zipfile
from typing import IO


def needs_zip64(size: int) -> bool:
    return size > zipfile.ZIP64_LIMIT


def open_entry(
    zf: zipfile.ZipFile,
    name: str,
    when: tuple[int, ...],
    size: int,
    compress: int = zipfile.ZIP_STORED,
) -> IO[bytes]:
    """Open ``name`` for writing exactly ``size`` bytes; the caller checks it wrote that."""
    info = zipfile.ZipInfo(name, when)
    # Deflate adds at most a few bytes per 16 KiB: an entry that could pass the limit once
    # compressed is stored, so its compressed size cannot need ZIP64 when its size does not.
    info.compress_type = compress if size * 1.05 <= zipfile.ZIP64_LIMIT else zipfile.ZIP_STORED
    # info.file_size stays 0, so zipfile's own guess (file_size * 1.05) does not force ZIP64.
    return zf.open(info, "w", force_zip64=needs_zip64(size))
