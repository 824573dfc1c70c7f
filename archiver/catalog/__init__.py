"""The capture catalog: seeds, jobs, WARC files and a row per capture event (SQLite default)."""

from archiver.catalog.db import Catalog, open_catalog

__all__ = ["Catalog", "open_catalog"]
