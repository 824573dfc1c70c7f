"""Choosing a store from a URI."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from archiver.errors import StorageError
from archiver.storage.base import Store
from archiver.storage.local import LocalStore

SUPPORTED = "a folder path or file:///path"


def open_store(uri: str | Path) -> Store:
    text = str(uri)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StorageError(f"store {text!r}: file URIs must be local (file:///path)")
        return LocalStore(Path(unquote(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise StorageError(f"unknown store scheme {parsed.scheme!r} in {text!r}: use {SUPPORTED}")
    return LocalStore(Path(text).expanduser())
