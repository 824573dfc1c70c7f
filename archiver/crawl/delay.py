"""Holding requests back for a while without blocking the crawl: the second fetch that
confirms a seed's change of state waits ``request.meta["archiver_delay"]`` seconds, and
every request to a host that answered 429 or 503 with ``Retry-After`` waits until then
(the crawl session keeps those times; on a shared frontier the catalog holds the host for
the other workers too)."""

from __future__ import annotations

from typing import Any

DELAY = "archiver_delay"


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
            seconds = max(float(seconds), session.host_wait(request.url))
        if seconds:
            from scrapy.utils.defer import maybe_deferred_to_future
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            await maybe_deferred_to_future(deferLater(reactor, float(seconds), lambda: None))
        return None
