"""The download handler of a job with browser pages.

Requests marked for the browser go to scrapy-playwright, which renders them in
Chromium; every other request, including each one the browser makes (see
pagecapture.py), goes to the archiving HTTP handler and its protocol tap.

One handler serves both http and https, so the crawl has one browser. A page gets
at most ARCHIVER_BROWSER_PAGE_SECONDS to load: past that it is closed, whatever its
scripts are doing, and the request fails with the time limit as its error.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from archiver.browser.pagecapture import PAGE, PageClosed
from archiver.crawl.tap import ArchivingDownloadHandler

_INSTANCE = "archiver_browser_handler"


class BrowserTimeLimit(TimeoutError):
    """The page did not load within its time limit."""


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler: Any):
        super().__init__(crawler)
        self._http = ArchivingDownloadHandler(crawler)
        self._page_seconds = crawler.archiver_session.config.browser.page_seconds
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> BrowserDownloadHandler:
        """The same handler for http and https: one browser, one page limit."""
        handler = getattr(crawler, _INSTANCE, None)
        if handler is None:
            handler = cls(crawler)
            setattr(crawler, _INSTANCE, handler)
        return handler

    async def download_request(self, request: Any) -> Any:
        if request.meta.get("playwright"):
            return await self._render(request)
        capture = request.meta.get(PAGE)
        if capture is not None and capture.closed:  # waited in the host's queue too long
            raise PageClosed(f"the page {capture.page_url} was done before this was fetched")
        return await self._http.download_request(request)

    async def _render(self, request: Any) -> Any:
        try:
            return await asyncio.wait_for(
                super().download_request(request), timeout=self._page_seconds
            )
        except TimeoutError:
            page = request.meta.pop("playwright_page", None)
            if page is not None:
                await page.close()  # works even while a script spins
            raise BrowserTimeLimit(
                f"browser: the page did not load within {self._page_seconds:g} s"
                " (ARCHIVER_BROWSER_PAGE_SECONDS)"
            ) from None

    async def close(self) -> None:
        if self._closed:  # registered for http and https
            return
        self._closed = True
        await self._http.close()
        await super().close()
