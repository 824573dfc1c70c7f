"""Keeping the search index (archiver/catalog/searchindex.py) level with the catalog:
captures are read in the order they were written, from where the index stopped, their
text taken from their WARC records and segmented. ``archiver index --search`` rebuilds
it; ``archiver serve`` catches it up at start and before each search."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from archiver.catalog.browse import captures_since
from archiver.catalog.db import Catalog
from archiver.catalog.searchindex import SearchIndex
from archiver.errors import ArchiverError
from archiver.urls import display_iri
from archiver.web.content import show
from archiver.web.segment import segment

BATCH = 200
BODY_LIMIT = 200_000  # characters of a capture's text indexed
_LOCK = threading.Lock()  # one writer at a time in this process


def index_path(home_root: Path) -> Path:
    return home_root / "search.sqlite"


def catch_up(
    catalog: Catalog,
    path: Path,
    *,
    rebuild: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index the captures written since the index was last caught up (all of them with
    ``rebuild``); how many were added."""
    added = 0
    with _LOCK:
        index = SearchIndex(path, writable=True)
        try:
            if rebuild:
                index.clear()
            while True:
                batch = captures_since(catalog, index.last_rowid(), BATCH)
                if not batch:
                    return added
                docs = []
                for _, capture in batch:
                    if capture.state == "failed":
                        continue
                    text, title = "", capture.title or ""
                    if capture.mime and ("html" in capture.mime or "text/" in capture.mime):
                        try:
                            shown = show(catalog, capture)
                            text, title = shown.text[:BODY_LIMIT], shown.title
                        except ArchiverError:
                            pass  # unreadable now: its URL and title are still found
                    url = display_iri(capture.url)
                    docs.append((capture.id, capture.captured_at, segment(url), segment(title),
                                 segment(text)))  # fmt: skip
                index.add(docs, batch[-1][0])
                added += len(docs)
                if progress:
                    progress(added)
        finally:
            index.close()
