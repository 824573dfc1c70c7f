"""The storage protocol: put a closed file, read a byte range, check an object, list."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str | None = None  # hex, when the backend knows it without reading
    version_id: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class StoredObject:
    """Where a file ended up, verified: safe to cite and to record in the catalog."""

    key: str
    uri: str
    size: int
    sha256: str
    version_id: str | None = None
    etag: str | None = None


class Store(Protocol):
    """A place closed WARC files (and their indexes) live. Keys use ``/`` separators and
    are built by archiver from job names and file names, never from crawled URLs."""

    uri: str

    def put(self, local_path: Path, key: str, *, sha256: str) -> StoredObject:
        """Store a closed file under ``key`` and verify it (size and SHA-256) before returning.
        ``local_path`` may be consumed (moved) by the backend."""
        ...

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """Exactly ``length`` bytes at ``offset``, without fetching the whole object."""
        ...

    def stat(self, key: str) -> ObjectInfo | None:
        """The object's size and metadata, or None when it is absent."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def uri_for(self, key: str) -> str: ...

    def check(self) -> None:
        """Raise StorageError, with what to do, if the store cannot take files now."""
        ...


def whole_range(data: bytes, where: str, offset: int, length: int) -> bytes:
    """The bytes of a ranged read, refused when fewer came back than the catalog expects."""
    from archiver.errors import IntegrityError

    if len(data) != length:
        raise IntegrityError(
            f"{where} is shorter than the catalog says "
            f"(wanted {length} bytes at {offset}, got {len(data)})"
        )
    return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
