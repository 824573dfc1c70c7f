"""Seed scopes: which links a crawl follows from a seed.

- ``page``: the seed page and its requisites; with ``depth N``, also pages up to N
  links away on any host.
- ``prefix``: URLs under the seed's path (``http://h/a/b`` → ``http://h/a/...``).
- ``host`` / ``site``: the seed's host (either scheme, any path).
- ``domain``: the seed's host and its subdomains (a leading ``www.`` is dropped
  first, so ``www.example.org`` covers ``news.example.org``).

Depth counts link hops from the seed; ``None`` is unlimited within the scope
(``page`` scope: 0). Requisites and redirects do not count as link hops.

A seed's ``include`` regexes add to its scope: a link matching one is followed
wherever it points, within the seed's ``depth`` when one is set (the ``page`` scope's
default of 0 hops bounds only what the scope itself takes). ``exclude`` regexes, the
seed's and the job's ``ARCHIVER_EXCLUDE``, always win. Regexes are searched anywhere
in the URL (``re.search``): anchor them with ``^`` and ``$`` to match it whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def _strip_scheme(url: str) -> str:
    return url.split("://", 1)[1] if "://" in url else url


@dataclass(frozen=True)
class Scope:
    kind: str
    seed_url: str
    depth: int | None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    _include: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _exclude: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_include", tuple(re.compile(p) for p in self.include))
        object.__setattr__(self, "_exclude", tuple(re.compile(p) for p in self.exclude))

    def _host(self) -> str:
        return (urlsplit(self.seed_url).hostname or "").lower()

    def allows(self, url: str, hops: int) -> bool:
        """May a link reached in ``hops`` link hops from the seed be crawled as a page
        (before exclusions, see ``excluded``)?"""
        if self.depth is not None and hops > self.depth:
            return False
        if any(pattern.search(url) for pattern in self._include):
            return True
        return self._in_scope(url, hops)

    def excluded(self, url: str) -> str | None:
        """The seed's exclude regex that matches ``url``, if one does."""
        for pattern in self._exclude:
            if pattern.search(url):
                return pattern.pattern
        return None

    def _in_scope(self, url: str, hops: int) -> bool:
        if self.kind == "page":
            return hops <= (self.depth or 0)
        if self.kind == "prefix":
            base = _strip_scheme(self.seed_url)
            prefix = base[: base.rfind("/") + 1] if "/" in base else base + "/"
            return _strip_scheme(url).startswith(prefix)
        host = (urlsplit(url).hostname or "").lower()
        if self.kind in ("host", "site"):
            return host == self._host()
        domain = self._host().removeprefix("www.")
        return host == domain or host.endswith("." + domain)
