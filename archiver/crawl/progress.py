"""The progress line a crawl writes to stderr every ``ARCHIVER_PROGRESS_INTERVAL`` seconds:

    2026-11-30T04:18:14Z archiver: 0:00:10 elapsed; 120 captured, 340 queued, 8 in flight,
    2 failed; 11.8 URLs/s, 3.1 MB written; ETA 0:00:29

(on one line). The rate is the current one, since the previous line; the ETA is the
queue (the job's frontier in the catalog, whoever fetches it) and the requests in flight
at that rate. Links still to be found make it grow, as in every crawler.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from archiver.catalog.db import iso_s


@dataclass(frozen=True)
class Counts:
    captured: int  # this run's fetches that got a response
    failed: int
    queued: int | None  # not done in the job's frontier, less those in flight; None: unknown
    in_flight: int
    written: int  # bytes written to WARC files by this run


def duration_text(seconds: float) -> str:
    """``0:01:40``, ``26:03:00``: hours, minutes, seconds."""
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Progress:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started = clock()
        self._last = (self.started, 0)  # time and captures at the previous line

    def line(self, counts: Counts) -> str:
        now = self.clock()
        since, before = self._last
        self._last = (now, counts.captured)
        rate = (counts.captured - before) / (now - since) if now > since else 0.0
        queued = "?" if counts.queued is None else str(counts.queued)
        line = (
            f"{iso_s()} archiver: {duration_text(now - self.started)} elapsed;"
            f" {counts.captured} captured, {queued} queued, {counts.in_flight} in flight,"
            f" {counts.failed} failed; {rate:.1f} URLs/s, {counts.written / 1e6:.1f} MB written"
        )
        if counts.queued is not None and rate > 0:
            line += f"; ETA {duration_text((counts.queued + counts.in_flight) / rate)}"
        return line

    def report(self, counts: Counts) -> None:
        sys.stderr.write(self.line(counts) + "\n")
        sys.stderr.flush()
