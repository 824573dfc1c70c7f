"""Choosing a store from a URI: a folder (path or file:///path), or s3://bucket/prefix."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from archiver.errors import StorageError
from archiver.storage.base import Store
from archiver.storage.local import LocalStore
from archiver.storage.s3 import S3Options, S3Store

SUPPORTED = "a folder path, file:///path or s3://bucket/prefix"


def open_store(uri: str | Path, *, s3: S3Options | None = None) -> Store:
    text = str(uri)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StorageError(f"store {text!r}: file URIs must be local (file:///path)")
        return LocalStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise StorageError(f"store {text!r} names no bucket: write s3://bucket/prefix")
        return S3Store(parsed.netloc, parsed.path, s3)
    if parsed.scheme and len(parsed.scheme) > 1:
        raise StorageError(f"unknown store scheme {parsed.scheme!r} in {text!r}: use {SUPPORTED}")
    return LocalStore(Path(text).expanduser())
