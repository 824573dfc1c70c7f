"""Timestamps while a crawl runs: with authorities set (``ARCHIVER_TSA_URLS``), every
``ARCHIVER_TSA_INTERVAL`` seconds and once when the crawl closes, the job's files stored
since the last manifest get a new manifest, stamped by each authority
(archiver/proof/stamping.py). Without authorities a crawl makes no manifest: the lines
wait in the catalog for ``archiver stamp``.

Stamping runs on a thread with its own catalog connection, so a slow or unreachable
authority never holds up a fetch; what it cannot finish stays pending for the next run
or for ``archiver stamp``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from archiver.proof.stamping import authorities, interval, stamp
from archiver.storage.base import Store

logger = logging.getLogger(__name__)

STAMP_TIMEOUT = 10.0  # seconds for one authority's answer
STAMP_BUDGET = 30.0  # seconds one stamping run (and so a crawl's close) may spend asking


class Stamper:
    def __init__(self, catalog_location: Path | str, store: Store, job_name: str):
        self.catalog_location = catalog_location
        self.store = store
        self.job_name = job_name
        self.urls = authorities()
        self.every = interval()
        self._loop: Any = None
        self._running: Any = None

    def start(self) -> None:
        if not self.urls:
            return
        from twisted.internet import task

        self._loop = task.LoopingCall(self.run)
        self._loop.start(self.every, now=False)

    def run(self) -> Any:
        """Stamp on a thread; a run still going is not doubled."""
        from twisted.internet import defer, threads

        if self._running is not None:
            return defer.succeed(None)
        self._running = threads.deferToThread(self._stamp)
        self._running.addErrback(lambda f: logger.error("stamping failed: %s", f.getErrorMessage()))
        self._running.addBoth(self._ran)
        return self._running

    def _ran(self, result: Any) -> Any:
        self._running = None
        return result

    def _stamp(self) -> None:
        from archiver.catalog import open_catalog

        catalog = open_catalog(self.catalog_location)
        try:
            report = stamp(
                catalog, lambda job: self.store, job=self.job_name, retry_rejected=False,
                latest_only=True, timeout=STAMP_TIMEOUT, budget=STAMP_BUDGET,
            )  # fmt: skip
        finally:
            catalog.close()
        for line in report.lines:
            logger.info("%s", line)

    async def close(self) -> None:
        """Stop the timer, then stamp once more: the last files of the crawl."""
        from scrapy.utils.defer import maybe_deferred_to_future

        if not self.urls:
            return
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._running is not None:
            await maybe_deferred_to_future(self._running)
        await maybe_deferred_to_future(self.run())
