"""Trap guards and job-wide exclusions: links a seed's scope would follow, not followed.

Crawler traps are sites that make new URLs without end: a calendar whose every day
links the next, relative links that stack path segments (``/a/b/a/b/a/b/``), session
ids, sort orders and filters in query strings. Like Heritrix's TooManyPathSegments and
PathologicalPath decide rules, with two per-job counters besides:

- ``path-segments``: a path of more than N segments (Heritrix's default, 20);
- ``segment-repeats``: one segment, or run of segments, more than K times in a row
  (K=2: ``/a/a/`` is followed, ``/a/a/a/`` is not; Heritrix's default too);
- ``host-pages``: more than N pages of one host in the job;
- ``query-variants``: more than N query strings on one scheme, host and path in the
  job (``/calendar?date=…``); the path without a query is not counted.

The counters count the job's page entries (links followed and the redirects they led
to), which the frontier keeps: a resumed job counts on from the same figures.
Exclusions and guards judge links, and where a followed page redirects (a 3xx, a
``<meta http-equiv=refresh>``, a browser page's script navigation): the redirect is
captured, its target stopped. A seed and its own redirect chain are always fetched
(the archivist chose the seed), and so are requisites and their redirects, even where
they match an exclusion, so every page captured replays.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit

from archiver.crawl.config import TrapLimits

EXCLUDED = "excluded"
MAX_PERIOD = 50  # longest run of segments looked for (bounds the work on a huge path)
_SETTINGS = {
    "path-segments": "ARCHIVER_MAX_PATH_SEGMENTS",
    "segment-repeats": "ARCHIVER_MAX_SEGMENT_REPEATS",
    "host-pages": "ARCHIVER_MAX_PAGES_PER_HOST",
    "query-variants": "ARCHIVER_MAX_QUERY_VARIANTS",
}


def path_segments(path: str) -> list[str]:
    """``/a/b/`` → ``['a', 'b']``: a trailing slash makes no segment of its own."""
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    return segments


def longest_repeat(segments: list[str]) -> int:
    """How many times in a row the most repeated segment, or run of segments, occurs."""
    best = 1 if segments else 0
    n = len(segments)
    for period in range(1, min(n // 2, MAX_PERIOD) + 1):
        run = 0  # positions i where segments[i] == segments[i - period], consecutively
        for i in range(period, n):
            run = run + 1 if segments[i] == segments[i - period] else 0
            best = max(best, 1 + run // period)
    return best


class LinkGate:
    """Decides, per link a scope took, whether a guard or the job's exclusions stop it."""

    def __init__(self, limits: TrapLimits, exclude: Iterable[str] = ()):
        self.limits = limits
        self.exclude = tuple(re.compile(pattern) for pattern in exclude)
        self.host_pages: Counter[str] = Counter()
        self.query_variants: Counter[tuple[str, str, str]] = Counter()

    def check(self, url: str) -> tuple[str, str] | None:
        """``(reason, rule)`` when the link is not to be followed, else None."""
        for pattern in self.exclude:
            if pattern.search(url):
                return EXCLUDED, f"ARCHIVER_EXCLUDE {pattern.pattern}"
        limits = self.limits
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        segments = path_segments(parts.path)
        if limits.path_segments and len(segments) > limits.path_segments:
            return self._rule("path-segments", limits.path_segments)
        if limits.segment_repeats and longest_repeat(segments) > limits.segment_repeats:
            return self._rule("segment-repeats", limits.segment_repeats)
        if limits.host_pages and self.host_pages[host] >= limits.host_pages:
            return self._rule("host-pages", limits.host_pages)
        if (
            limits.query_variants
            and parts.query
            and self.query_variants[(parts.scheme, host, parts.path)] >= limits.query_variants
        ):
            return self._rule("query-variants", limits.query_variants)
        return None

    @staticmethod
    def _rule(reason: str, limit: int) -> tuple[str, str]:
        return reason, f"{_SETTINGS[reason]}={limit}"

    def admit(self, url: str) -> None:
        """Count a page entry of the job (a link followed, or a redirect it led to)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        self.host_pages[host] += 1
        if parts.query:
            self.query_variants[(parts.scheme, host, parts.path)] += 1
