"""Keeping the search index (archiver/catalog/searchindex.py) level with the catalog:
captures are read in the order they were written, from where the index stopped, their
text taken from their WARC records and segmented. ``archiver index --search`` rebuilds
it; ``archiver serve`` catches it up at start and then now and then, and once it exists
every crawl catches it up as it runs and when it ends (archiver/crawl/indexer.py).

Several processes may catch it up at once (a crawl, another crawl, ``serve``): each
batch is added only if the index still stands where it was read, so none is added
twice."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from archiver.catalog.browse import captures_at_rowids, captures_since
from archiver.catalog.captures import Capture
from archiver.catalog.db import Catalog
from archiver.catalog.searchindex import GAPS_NOTED, SearchIndex
from archiver.errors import ArchiverError
from archiver.urls import display_iri
from archiver.web.content import show
from archiver.web.segment import segment

logger = logging.getLogger(__name__)

BATCH = 200
FOLLOW_SECONDS = 300.0  # how often a running 'serve' catches the index up
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
    """Index the captures written since the index was last caught up; how many were
    added. With ``rebuild``, every capture into a new file that then takes the index's
    place (searches read the old one until then; a damaged one is replaced)."""
    if rebuild:
        fresh = path.with_name(path.name + ".new")
        fresh.unlink(missing_ok=True)
        try:
            added = _add_new(catalog, fresh, progress)
            os.replace(fresh, path)
        finally:
            fresh.unlink(missing_ok=True)
        return added
    return _add_new(catalog, path, progress)


def _add_new(catalog: Catalog, path: Path, progress: Callable[[int], None] | None) -> int:
    added = 0
    with _LOCK:
        index = SearchIndex(path, writable=True)
        try:
            gaps = index.gaps()
            for start in range(0, len(gaps), BATCH):
                found = captures_at_rowids(catalog, gaps[start : start + BATCH])
                added += index.fill({rowid: _doc(catalog, c) for rowid, c in found})
            while True:
                since = index.last_rowid()
                batch = captures_since(catalog, since, BATCH)
                if not batch:
                    return added
                docs = [d for _, c in batch if (d := _doc(catalog, c)) is not None]
                last = batch[-1][0]
                # Rowids passed with no capture: one may yet be committed (PostgreSQL
                # numbers rows when they are written, not when they are committed).
                # A hole larger than GAPS_NOTED is deleted captures, not ones in flight.
                seen = {rowid for rowid, _ in batch}
                holes = last - since - len(batch)
                missing = [r for r in range(since + 1, last) if r not in seen] if (
                    0 < holes <= GAPS_NOTED
                ) else []  # fmt: skip
                if not index.add(docs, since, last, missing):
                    continue  # another process added these: carry on from where it stopped
                added += len(docs)
                if progress:
                    progress(added)
        finally:
            index.close()


def _doc(catalog: Catalog, capture: Capture) -> tuple[str, str, str, str, str] | None:
    """A capture as the index holds it: id, time, and its URL, title and text segmented;
    None for a failed fetch."""
    if capture.state == "failed":
        return None
    text, title = "", capture.title or ""
    if capture.mime and ("html" in capture.mime or "text/" in capture.mime):
        try:
            shown = show(catalog, capture)
            text, title = shown.text[:BODY_LIMIT], shown.title
        except ArchiverError:
            pass  # unreadable now: its URL and title are still found
    url = display_iri(capture.url)
    return capture.id, capture.captured_at, segment(url), segment(title), segment(text)


def follow(catalog_location: Path | str, path: Path, stop: threading.Event) -> None:
    """Catch the index up every ``FOLLOW_SECONDS`` until ``stop`` is set: for captures
    no crawl of this home added (workers elsewhere write to their own home's index). A
    failure is logged and tried again next time."""
    from archiver.catalog import open_catalog

    while not stop.wait(FOLLOW_SECONDS):
        try:
            catalog = open_catalog(catalog_location, create=False)
            try:
                catch_up(catalog, path)
            finally:
                catalog.close()
        except Exception as exc:  # the index is rebuildable: the pages carry on without it
            logger.warning("the search index was not caught up: %s", exc)


def exists(path: Path) -> bool:
    """Whether the index has been made (by ``serve`` or ``archiver index --search``):
    crawls keep up to date only an index someone uses."""
    return path.is_file()
