"""Storage backends behind one small protocol (installed as ``archiver.storage``).

``open_store(uri)`` picks a backend from a store URI: a plain path or ``file:///path``
for a local folder (the default). Object storage (``s3://bucket/prefix``) plugs in here.
"""

from __future__ import annotations

from archiver.storage.base import ObjectInfo, Store, StoredObject
from archiver.storage.local import LocalStore
from archiver.storage.s3 import S3Options, S3Store
from archiver.storage.select import open_store

__all__ = [
    "LocalStore",
    "ObjectInfo",
    "S3Options",
    "S3Store",
    "Store",
    "StoredObject",
    "open_store",
]
