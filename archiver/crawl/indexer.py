"""The search index of ``archiver serve`` kept up to date by the crawl: once it exists
(``serve`` or ``archiver index --search`` made it), every ``INTERVAL`` seconds while the
crawl runs and once when it closes, the captures committed since are added to it
(archiver/web/searchfeed.py).

It runs on a thread with its own catalog connection, so no fetch waits for it; a run
still going is not doubled. The index is rebuildable, never a source of truth: a run
that fails is logged and counted (``archiver/search_index/failed``), never fails the
crawl, and what it did not add is added by the next run, ``serve`` or ``archiver index
--search``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

INTERVAL = 30.0  # seconds between runs while the crawl goes on


class SearchIndexer:
    def __init__(self, catalog_location: Path | str, home_root: Path, stats: Any):
        from archiver.web.searchfeed import index_path

        self.catalog_location = catalog_location
        self.path = index_path(home_root)
        self.stats = stats
        self._loop: Any = None
        self._running: Any = None

    def start(self) -> None:
        from twisted.internet import task

        self._loop = task.LoopingCall(self.run)
        self._loop.start(INTERVAL, now=False)

    def run(self) -> Any:
        """Catch the index up on a thread; nothing when it does not exist."""
        from twisted.internet import defer, threads

        if self._running is not None:
            return defer.succeed(None)
        self._running = threads.deferToThread(self._catch_up)
        self._running.addCallbacks(self._added, self._failed)
        self._running.addBoth(self._ran)
        return self._running

    def _ran(self, result: Any) -> Any:
        self._running = None
        return result

    def _added(self, added: int) -> None:
        self.stats.inc_value("archiver/search_index/added", added)

    def _failed(self, failure: Any) -> None:
        self.stats.inc_value("archiver/search_index/failed")
        message = failure.getErrorMessage()
        if "archiver index --search" not in message:
            message += ": 'archiver serve' catches it up when it starts"
        logger.warning("the search index was not updated: %s", message)

    def _catch_up(self) -> int:
        from archiver.catalog import open_catalog
        from archiver.web.searchfeed import catch_up, exists

        if not exists(self.path):
            return 0
        catalog = open_catalog(self.catalog_location, create=False)
        try:
            return catch_up(catalog, self.path)
        finally:
            catalog.close()

    async def close(self) -> None:
        """Stop the timer, then catch up once more: the crawl's last captures."""
        from scrapy.utils.defer import maybe_deferred_to_future

        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._running is not None:
            await maybe_deferred_to_future(self._running)
        await maybe_deferred_to_future(self.run())
