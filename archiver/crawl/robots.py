"""robots.txt responses, made ready for Scrapy's RobotsTxtMiddleware (RFC 9309).

- Content-encoding is undone here (bounded), because Scrapy's HttpCompressionMiddleware
  is off (the spider decodes the pages it parses, see ``archiver/spiders/decode.py``).
- A server error (5xx) means the rules are unknown: RFC 9309 §2.3.1.4 says to assume
  a complete disallow. A 4xx means there are no rules: allow all.
- Redirects (up to 5, §2.3.1.2) are followed by Scrapy's RedirectMiddleware, which acts
  only on robots.txt requests: every request of the spider carries ``dont_redirect``.

The archived records keep the bytes as sent; only what the robots parser reads changes.

Under ``--robots ignore`` the rules are not applied, but ``ArchiveIgnoredRobotsTxt``
still fetches each host's robots.txt once and archives it: the site's stated policy is
part of the evidence of what was crawled against it.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

from archiver.catalog.errors import DATABASE_ERRORS
from archiver.crawl.meta import META
from archiver.spiders.decode import decoded_body

logger = logging.getLogger(__name__)

ROBOTS_LIMIT = 512 * 1024  # RFC 9309 §2.5: parse at least the first 500 KiB
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class PrepareRobotsTxt:
    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        if not request.url.endswith("/robots.txt") or 300 <= response.status < 400:
            return response
        headers = response.headers.copy()
        headers.pop(b"Content-Encoding", None)
        if response.status >= 500:
            return response.replace(body=DISALLOW_ALL, headers=headers)
        if response.status >= 400:
            return response.replace(body=b"", headers=headers)
        encoding = response.headers.get(b"Content-Encoding")
        if not encoding:
            return response
        # Undecodable: read as no rules, the same as a missing robots.txt.
        body = decoded_body(response.body, encoding, ROBOTS_LIMIT)
        return response.replace(body=body or b"", headers=headers)


class SharedRobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt rules, fetched once per host per job when workers share the
    job's frontier: the first worker to fetch a host's robots.txt (and archive it) keeps
    it in the catalog, and the others read their rules from there."""

    async def robot_parser(self, request: Any) -> Any:
        session = getattr(self.crawler, "archiver_session", None)
        shared = session is not None and session.shared is not None
        netloc = urlparse_cached(request).netloc
        if shared and netloc not in self._parsers:
            from archiver.catalog.leases import stored_robots

            body = stored_robots(session.catalog, session.job.id, netloc)
            if body is not None:
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Any, netloc: str, request: Any) -> None:
        await super()._parse_robots(response, netloc, request)
        session = getattr(self.crawler, "archiver_session", None)
        if session is not None and session.shared is not None and not session.fatal:
            from archiver.catalog.leases import store_robots

            try:
                store_robots(session.catalog, session.job.id, netloc, response.body)
            except DATABASE_ERRORS as exc:  # the rules apply here anyway; others fetch again
                logger.warning("robots.txt of %s not shared: %s", netloc, exc)


class ArchiveIgnoredRobotsTxt:
    """Fetch (and so archive) robots.txt once per host of pages crawled under ``--robots
    ignore``. Only the record is wanted: no rules are read from it."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self._hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveIgnoredRobotsTxt:
        return cls(crawler)

    def process_request(self, request: Any, spider: Any = None) -> None:
        info = request.meta.get(META) or {}
        # Requisites are fetched whatever robots.txt says, like a browser showing the page.
        if info.get("robots") != "ignore" or info.get("kind") == "requisite":
            return
        url = urlparse_cached(request)
        if url.netloc in self._hosts:
            return
        self._hosts.add(url.netloc)
        robots = Request(
            f"{url.scheme}://{url.netloc}/robots.txt",
            priority=RobotsTxtMiddleware.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        deferred_from_coro(self._fetch(robots))

    async def _fetch(self, request: Any) -> None:
        try:
            await self.crawler.engine.download_async(request)
        except Exception as exc:  # recorded or not, it is evidence only: nothing waits on it
            logger.info("robots.txt not archived: %s: %s", request.url, exc)
