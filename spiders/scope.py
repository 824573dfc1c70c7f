"""Seed scopes: which links a crawl follows from a seed.

- ``page``: the seed page and its requisites; with ``depth N``, also pages up to N
  links away on any host.
- ``prefix``: URLs under the seed's path (``http://h/a/b`` → ``http://h/a/...``).
- ``host`` / ``site``: the seed's host (either scheme, any path).
- ``domain``: the seed's host and its subdomains (a leading ``www.`` is dropped
  first, so ``www.example.org`` covers ``news.example.org``).

Depth counts link hops from the seed; ``None`` is unlimited within the scope
(``page`` scope: 0). Requisites and redirects do not count as link hops.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


def _strip_scheme(url: str) -> str:
    return url.split("://", 1)[1] if "://" in url else url


@dataclass(frozen=True)
class Scope:
    kind: str
    seed_url: str
    depth: int | None

    def _host(self) -> str:
        return (urlsplit(self.seed_url).hostname or "").lower()

    def allows(self, url: str, hops: int) -> bool:
        """May a link reached in ``hops`` link hops from the seed be crawled as a page?"""
        limit = self.depth if self.depth is not None else (0 if self.kind == "page" else None)
        if limit is not None and hops > limit:
            return False
        if self.kind == "page":
            return True
        if self.kind == "prefix":
            base = _strip_scheme(self.seed_url)
            prefix = base[: base.rfind("/") + 1] if "/" in base else base + "/"
            return _strip_scheme(url).startswith(prefix)
        host = (urlsplit(url).hostname or "").lower()
        if self.kind in ("host", "site"):
            return host == self._host()
        domain = self._host().removeprefix("www.")
        return host == domain or host.endswith("." + domain)
