"""Holding requests back for a while without blocking the crawl: the second fetch that
confirms a seed's change of state waits ``request.meta["archiver_delay"]`` seconds, and
every request to a host that answered 429 or 503 with ``Retry-After`` waits until then
(the crawl session keeps those times; on a shared frontier the catalog holds the host for
the other workers too)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

DELAY = "archiver_delay"
RETRY_AFTER_CAP = 3600.0  # a Retry-After longer than an hour is held for an hour


class HostHolds:
    """Hosts that asked to be left alone for a while (Retry-After), by this crawl's clock."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}  # host -> monotonic time it may be fetched

    def hold(self, host: str, seconds: float) -> float:
        """Hold ``host`` for ``seconds`` (capped); returns the seconds held."""
        seconds = min(max(seconds, 0.0), RETRY_AFTER_CAP)
        until = time.monotonic() + seconds
        self._until[host] = max(self._until.get(host, 0.0), until)
        return seconds

    def wait(self, url: str) -> float:
        """Seconds a request to ``url`` must still wait for its host."""
        if not self._until:
            return 0.0
        until = self._until.get((urlsplit(url).hostname or "").lower(), 0.0)
        return max(until - time.monotonic(), 0.0)


class DelayMiddleware:
    def __init__(self, crawler: Any = None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> DelayMiddleware:
        return cls(crawler)

    async def process_request(self, request: Any, spider: Any = None) -> None:
        seconds = request.meta.get(DELAY) or 0
        session = getattr(self.crawler, "archiver_session", None)
        if session is not None:
            seconds = max(float(seconds), session.host_holds.wait(request.url))
        if seconds:
            from scrapy.utils.defer import maybe_deferred_to_future
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            await maybe_deferred_to_future(deferLater(reactor, float(seconds), lambda: None))
        return None
