"""The download handler of a job with browser pages.

Requests marked for the browser go to scrapy-playwright, which renders them in
Chromium; every other request, including each one the browser makes (see
pagecapture.py), goes to the archiving HTTP handler and its protocol tap.
"""

from __future__ import annotations

from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from archiver.crawl.tap import ArchivingDownloadHandler


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler: Any):
        super().__init__(crawler)
        self._http = ArchivingDownloadHandler(crawler)

    async def download_request(self, request: Any) -> Any:
        if request.meta.get("playwright"):
            return await super().download_request(request)
        return await self._http.download_request(request)

    async def close(self) -> None:
        await self._http.close()
        await super().close()
