"""Holding one request back for a while: the second fetch that confirms a seed's change
of state waits ``request.meta["archiver_delay"]`` seconds without blocking the crawl."""

from __future__ import annotations

from typing import Any

DELAY = "archiver_delay"


class DelayMiddleware:
    async def process_request(self, request: Any, spider: Any = None) -> None:
        seconds = request.meta.get(DELAY)
        if seconds:
            from scrapy.utils.defer import maybe_deferred_to_future
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            await maybe_deferred_to_future(deferLater(reactor, float(seconds), lambda: None))
        return None
