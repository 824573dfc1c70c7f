"""Background uploads of closed WARC files, off the reactor thread, with retries.

Each closed file goes to a small thread pool (bounded concurrency); a failed upload is
retried with back-off (1, 2, 4, ... s). Catalog updates happen back on the reactor
thread, which owns the catalog connection. A file that still fails stays in the spool,
closed and pending, for ``archiver upload`` or the next crawl.
"""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet import defer, task
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from archiver.catalog import Catalog
from archiver.storage.base import Store
from archiver.uploads import PendingFile, record_stored, store_file

logger = logging.getLogger(__name__)


class Uploader:
    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        *,
        keep_local: bool,
        concurrency: int,
        attempts: int,
    ):
        self.catalog = catalog
        self.store = store
        self.keep_local = keep_local
        self.attempts = attempts
        self.pool = ThreadPool(minthreads=0, maxthreads=concurrency, name="archiver-upload")
        self.pool.start()
        from twisted.internet import reactor  # installed by Scrapy by now; never import early

        self.reactor = reactor
        self._shutdown = reactor.addSystemEventTrigger("during", "shutdown", self.pool.stop)
        self._running: set[defer.Deferred[Any]] = set()
        self.stored: list[str] = []
        self.pending: list[str] = []

    def submit(self, pending: PendingFile) -> None:
        d = self._attempt(pending, 1)
        self._running.add(d)
        d.addBoth(self._done, d)

    def _done(self, result: Any, d: defer.Deferred[Any]) -> Any:
        self._running.discard(d)
        return None

    def _attempt(self, pending: PendingFile, number: int) -> defer.Deferred[Any]:
        d = deferToThreadPool(self.reactor, self.pool, store_file, self.store, pending)
        d.addCallback(self._record, pending)
        d.addErrback(self._retry, pending, number)
        return d

    def _record(self, stored: Any, pending: PendingFile) -> None:
        record_stored(self.catalog, self.store, pending, stored, self.keep_local)
        self.stored.append(pending.name)

    def _retry(self, failure: Any, pending: PendingFile, number: int) -> Any:
        reason = f"{type(failure.value).__name__}: {failure.value}"
        if number >= self.attempts:
            logger.error("%s stays in the spool, upload pending: %s", pending.name, reason)
            self.pending.append(f"{pending.name}: {failure.value}")
            return None
        delay = 2 ** (number - 1)
        logger.warning("upload of %s failed (%s); retrying in %d s", pending.name, reason, delay)
        return task.deferLater(self.reactor, delay, self._attempt, pending, number + 1)

    def close(self) -> defer.Deferred[Any]:
        """Fires once every upload has been stored or given up on."""
        waiting = defer.DeferredList(list(self._running), consumeErrors=True)

        def stop(result: Any) -> Any:
            self.pool.stop()
            self.reactor.removeSystemEventTrigger(self._shutdown)
            return result

        return waiting.addBoth(stop)
