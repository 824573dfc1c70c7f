"""One browser page: every request it makes is fetched by Scrapy and recorded.

A route on the page catches each request the browser makes (the document, scripts,
styles, images, fonts, XHR/fetch calls, media). The request is fetched through the
crawl's own downloader, so the protocol tap records its exact bytes, the host's
politeness slot and the address policy apply, and the browser is answered with the
response's decoded body. Nothing the browser fetches bypasses the WARC: it is
launched behind a dead proxy, so a request that is not routed fails.

Playwright's routes do not see the requests of a redirect the browser follows, so
redirects are never handed to the browser: the page's own redirect goes back to the
spider (each hop a fetch of its own, like any page), and a subresource's redirect is
followed here, each hop recorded, the browser given the final response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from archiver.capture.exchange import Exchange
from archiver.catalog.frontier import extend_path
from archiver.crawl.hostheaders import REDIRECTED_FROM
from archiver.crawl.meta import META, VANTAGE
from archiver.crawl.tap import RECORDED
from archiver.spiders.decode import ACCEPT_ENCODING, decoded_body
from archiver.spiders.failures import describe_failure

logger = logging.getLogger(__name__)

# Header fields the browser must not be given with a decoded body, or are hop-by-hop.
_NOT_FOR_BROWSER = {"content-encoding", "content-length", "transfer-encoding", "connection"}
_REDIRECTS = (301, 302, 303, 307, 308)
BROWSER_SUB = "archiver_browser_sub"  # request.meta: fetched for a browser page
PAGE = "archiver_browser_page"  # request.meta: the PageCapture a request was made for


class PageClosed(IgnoreRequest):
    """A browser page asked for this, but was done before it could be fetched."""


@dataclass
class Fetched:
    url: str
    status: int | None
    resource_type: str


@dataclass
class PageCapture:
    """The exchanges of one page request; lives in its Scrapy request's meta."""

    session: Any  # the ArchiveSession
    engine: Any
    page_url: str
    page_meta: dict[str, Any]  # the page request's META (seed, kind, hops, robots, url)
    max_redirects: int = 10
    page_seconds: float = 60.0
    document: Exchange | None = None
    document_request: Request | None = None
    document_error: str | None = None
    fetched: list[Fetched] = field(default_factory=list)
    requested: set[str] = field(default_factory=set)  # every URL asked for, in flight too
    navigations: list[str] = field(default_factory=list)  # later main-frame GETs, not made
    started: float = 0.0  # time.monotonic() when the page opened: its time limit counts from here
    closed: bool = False  # the page is done: what it still asks for is not fetched
    # The vantage point the page goes through: every request the browser makes with it
    # (the tap's tunnel; the browser itself reaches no network, see archiver/browser).
    vantage: str | None = None

    async def route(self, route: Any, browser_request: Any) -> None:
        """Playwright route handler: fetch through Scrapy, record, answer the browser."""
        try:
            await self._route(route, browser_request)
        except PlaywrightError as exc:  # the page closed while we fetched: nothing to answer
            logger.debug("browser request %s ended: %s", browser_request.url, exc)

    async def _route(self, route: Any, browser_request: Any) -> None:
        url = browser_request.url
        if self.closed or not url.startswith(("http://", "https://")):
            await route.abort("blockedbyclient")
            return
        frame = browser_request.frame if browser_request.is_navigation_request() else None
        main = frame is not None and frame.parent_frame is None
        if main and self.document_request is not None:
            # The page navigating away (a script, a form): the capture is of the page
            # first shown. A GET is followed by the crawler as a redirect of its own.
            if browser_request.method == "GET" and url not in self.navigations:
                self.navigations.append(url)
            await route.abort("aborted")
            return
        headers = {
            name: value
            for name, value in (await browser_request.all_headers()).items()
            if not name.startswith(":")
        }
        headers["accept-encoding"] = ACCEPT_ENCODING  # what we can decode for the browser
        method = browser_request.method
        body = browser_request.post_data_buffer
        previous = None
        for _hop in range(self.max_redirects + 1):
            request = self._request(url, method, headers, body, main, browser_request)
            if previous is not None:  # host-scoped headers judge the hop (crawl/hostheaders.py)
                request.meta[REDIRECTED_FROM] = previous
            if main:
                self.document_request = request
            else:
                self.requested.add(url)
            exchange, error = await self._fetch(request, main)
            if exchange is None:
                if main:
                    self.document_error = error
                else:
                    self.fetched.append(Fetched(url, None, browser_request.resource_type))
                await route.abort("failed")
                return
            _, status, _ = exchange.status_line()
            if main:
                # The page's own response: held until the page is done (its metadata
                # record lists everything the page loaded). A redirect is not followed
                # by the browser; the spider follows it as a page of its own.
                self.document = exchange
                await self._fulfil(route, exchange, drop_location=True)
                return
            self.fetched.append(Fetched(url, status, browser_request.resource_type))
            target = _redirect_target(url, exchange, status)
            if target is not None:
                self.session.record_now(exchange, request)
                previous, url = url, target
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                continue
            try:
                await self._fulfil(route, exchange)
            finally:
                self.session.record_now(exchange, request)
            return
        await route.abort("failed")  # too many redirects

    def _request(
        self,
        url: str,
        method: str,
        headers: dict[str, str],
        body: bytes | None,
        main: bool,
        browser_request: Any,
    ) -> Request:
        page = self.page_meta
        info = {
            "seed": page.get("seed"),
            "kind": page.get("kind") if main else "requisite",
            "hops": page.get("hops"),
            "via": page.get("via") if main else self.page_url,
            "robots": page.get("robots"),
            "path": page.get("path") if main else extend_path(page.get("path"), "E"),
            "profile": page.get("profile"),
        }
        if main:
            info["url"] = page.get("url")  # completes the page's frontier entry
        return Request(
            url,
            method=method,
            headers=headers,
            body=body,
            dont_filter=True,
            meta={
                META: info,
                BROWSER_SUB: browser_request.resource_type,
                "handle_httpstatus_all": True,
                "dont_redirect": True,
                "dont_merge_cookies": True,  # the browser keeps its own cookies
                # The page request passed robots.txt; what it loads is fetched as the
                # browser showing it fetches it, like the requisites of any page.
                "dont_obey_robotstxt": True,
                PAGE: self,
                **({VANTAGE: self.vantage} if self.vantage else {}),
                # Not longer than the page has left (and never past the tap's own limit).
                "download_timeout": max(1.0, self.page_seconds - (time.monotonic() - self.started)),
            },
        )

    async def _fetch(self, request: Request, main: bool) -> tuple[Exchange | None, str]:
        """Fetch through the engine's downloader; the exchange, or why there is none.
        A failed subresource is recorded here; the page's own failure by the spider."""
        try:
            response = await self.engine.download_async(request)
        except PageClosed:
            return None, "the page was closed"
        except Exception as exc:  # refused, DNS, timeout, cut at a limit
            from twisted.python.failure import Failure

            error = request.meta.get("archiver_error") or describe_failure(Failure(exc))
            if not main and not request.meta.get(RECORDED):
                self.session.record_failure(request, error)
            return None, error
        exchange = self.session.take_exchange(response)
        if exchange is None:  # nothing was recorded for it (the session is stopping)
            return None, "not recorded"
        return exchange, ""

    async def _fulfil(self, route: Any, exchange: Exchange, drop_location: bool = False) -> None:
        _, status, _ = exchange.status_line()
        headers = _browser_headers(exchange.headers(), drop_location)
        raw = _read_body(exchange)
        encoding = exchange.header("Content-Encoding")
        body = raw
        if encoding and encoding.strip().lower() != "identity":
            limit = max(len(raw) * 20, 64 * 1024 * 1024)
            body = decoded_body(raw, encoding.encode("latin-1"), limit)
            if body is None:  # an encoding we cannot undo: the browser gets it as sent
                body, headers["content-encoding"] = raw, encoding
        await route.fulfill(status=status or 502, headers=headers, body=body)

    def outlinks(self) -> list[str]:
        """Everything the page loaded, for its metadata record ('E': embedded; Heritrix's
        context for an embed found outside a tag attribute)."""
        seen: set[str] = set()
        links = []
        for item in self.fetched:
            if item.url not in seen:
                seen.add(item.url)
                links.append(f"{item.url} E =EMBED_MISC")  # loaded by the page
        return links


def _redirect_target(url: str, exchange: Exchange, status: int | None) -> str | None:
    """Where a subresource's redirect leads, when it is an http(s) URL to follow."""
    location = exchange.header("Location") if status in _REDIRECTS else None
    if not location:
        return None
    try:
        target = urljoin(url, location.strip()).split("#", 1)[0]
    except ValueError:
        return None
    # Only http(s): never a scheme whose handler would bypass the tap (ftp:, s3:, file:).
    return target if target.startswith(("http://", "https://")) else None


def _browser_headers(headers: Iterable[tuple[str, str]], drop_location: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in _NOT_FOR_BROWSER or (drop_location and key == "location"):
            continue
        if any(c in value for c in "\x00\r\n") or not key.isascii():
            continue  # a value Chromium would reject, failing the whole response
        if key in out:
            out[key] += ("\n" if key == "set-cookie" else ", ") + value
        else:
            out[key] = value
    return out


def _read_body(exchange: Exchange) -> bytes:
    body = exchange.body()
    if body is None:
        return b""
    return b"".join(body.chunks())
