"""The local-folder store, the default: files under one directory, keys as relative paths."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from archiver.durable import fsync_dir
from archiver.errors import IntegrityError, StorageError
from archiver.storage.base import ObjectInfo, StoredObject, file_sha256, whole_range


class LocalStore:
    def __init__(self, root: Path):
        self.root = root.absolute()
        self.uri = self.root.as_uri()

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or any(p in ("..", ".", "") for p in parts):
            raise StorageError(f"unsafe storage key {key!r}")
        return self.root.joinpath(*parts)

    def check(self, *, create: bool = True) -> None:
        """Fail now, with a clear message, if files cannot be stored here. Without
        ``create`` (``archiver store check``), a folder that does not exist is a problem
        reported, not made."""
        if not create and self.root.exists() and not self.root.is_dir():
            raise StorageError(
                f"the store {self.root} is a file, not a folder: choose another path with --store"
            )
        if not create and not self.root.exists():
            raise StorageError(
                f"the store folder {self.root} does not exist: check the path; a crawl with"
                f" --store {self.root} creates it"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".archiver-write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StorageError(
                f"cannot store files in {self.root}: {exc.strerror or exc}; "
                "choose a writable folder with --store"
            ) from exc

    def uri_for(self, key: str) -> str:
        return self._path(key).as_uri()

    def put(self, local_path: Path, key: str, *, sha256: str) -> StoredObject:
        """Move a closed file into the store. The source is checked against ``sha256``
        first, and is removed only once a verified copy sits under ``key``."""
        target = self._path(key)
        try:
            if target.exists():
                # Same key again (a retry after a crash): fine only if it is the same file.
                if file_sha256(target) != sha256:
                    raise StorageError(f"{self.uri_for(key)} already exists with other content")
                if local_path.exists() and local_path.resolve() != target.resolve():
                    local_path.unlink()
            else:
                self._check(local_path, sha256, "the spool file")
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(local_path, target)  # same filesystem: atomic, same bytes
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    partial = target.with_name(target.name + ".partial")
                    shutil.copyfile(local_path, partial)
                    with open(partial, "rb+") as handle:
                        os.fsync(handle.fileno())
                    self._check(partial, sha256, "the copy in the store")
                    os.replace(partial, target)
                    fsync_dir(target.parent)
                    local_path.unlink()
                fsync_dir(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot store {local_path} in {self.uri}: {exc}") from exc
        return StoredObject(
            key=key, uri=self.uri_for(key), size=target.stat().st_size, sha256=sha256
        )

    @staticmethod
    def _check(path: Path, sha256: str, what: str) -> None:
        actual = file_sha256(path)
        if actual != sha256:
            raise IntegrityError(
                f"{what} {path} does not match its SHA-256 (expected {sha256}, found {actual});"
                " it was left where it is"
            )

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            with open(self._path(key), "rb") as handle:
                handle.seek(offset)
                data = handle.read(length)
        except OSError as exc:
            raise StorageError(f"cannot read {self.uri_for(key)}: {exc.strerror or exc}") from exc
        return whole_range(data, self.uri_for(key), offset, length)

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        return ObjectInfo(key=key, size=path.stat().st_size)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield ObjectInfo(key=key, size=path.stat().st_size)
