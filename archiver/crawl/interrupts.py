"""Stopping a crawl by signal, saying what happens.

Scrapy's process stops gracefully at the first SIGINT or SIGTERM (the requests in flight
are finished, the WARC files closed, the job marked stopped) and at the second stops the
reactor at once, with nothing closed. This process says which at the moment the signal
lands, and remembers a forced stop so that the caller can mark the job stopped (a forced
stop never reaches the session's own close) and exit non-zero.

``_signal_shutdown`` and ``_signal_kill`` are Scrapy internals (pyproject pins the Scrapy
range; tests/test_tap_internals.py fails loudly if they go).
"""

from __future__ import annotations

import sys
from typing import Any

from scrapy.crawler import CrawlerProcess


def _requests(n: int) -> str:
    return f"{n} request{'' if n == 1 else 's'}"


class InterruptibleProcess(CrawlerProcess):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.forced = False  # a second signal stopped the reactor: nothing was closed
        self.dropped = 0  # requests in flight when that happened

    def in_flight(self) -> int:
        """Requests in Scrapy's downloader: sent, or waiting for their host's slot."""
        return sum(
            len(crawler.engine.downloader.active)
            for crawler in self.crawlers
            if getattr(crawler, "engine", None) is not None
        )

    # Signal handlers only queue work for the reactor thread: writing to a stream the
    # interrupted code may be writing to raises (see scrapy.crawler._log_shutdown).

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self._say_stopping)  # before the stop touches the downloader
        super()._signal_shutdown(signum, frame)

    def _signal_kill(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        self.forced = True
        reactor.callFromThread(self._say_forced)
        super()._signal_kill(signum, frame)

    def _say_stopping(self) -> None:
        _tell(f"stopping: {_requests(self.in_flight())} in flight; Ctrl-C again forces")

    def _say_forced(self) -> None:
        self.dropped = self.in_flight()
        _tell(
            f"forced stop: {_requests(self.dropped)} in flight dropped (fetched again when"
            " the job resumes)"
        )


def _tell(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
