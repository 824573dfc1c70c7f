"""The seed-list spider's browser pages: opt-in per seed, or by host.

A browser page is rendered by Chromium; its document and everything it loads are
fetched and recorded through Scrapy (archiver/browser/pagecapture.py). When the page
is done, the spider hands its document to the ordinary ``parse`` with the rendered
DOM as the body, so links, redirects, seed observation and the metadata record work
as for any page, and the screenshot, DOM and quality verdict ride along.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, Request, Response
from twisted.python.failure import Failure

from archiver.browser.launch import CONTEXT, SLOT
from archiver.crawl.delay import DELAY
from archiver.crawl.session import EVIDENCE, META, PageEvidence
from archiver.crawl.tap import RECORDED
from archiver.spiders.failures import describe_failure

if TYPE_CHECKING:
    from archiver.browser.pagecapture import PageCapture

logger = logging.getLogger(__name__)

CAPTURE = "archiver_page_capture"  # request.meta: the PageCapture of a browser page
RETRY = "archiver_suspect_retry"  # request.meta: how many times a suspect page was retried
_NOT_IN_DOM = {"content-encoding", "content-length", "transfer-encoding", "content-type"}


class BrowserPages:
    """Mixed into SeedListSpider: which pages take the browser, and how they are done."""

    seeds: dict[int, Any]
    seen: set[str]
    session: Any
    crawler: Any

    def wants_browser(self, url: str, seed_id: int | None, kind: str) -> bool:
        if kind not in ("seed", "page"):
            return False  # requisites are what a page loads: its browser fetches them
        options = self.session.config.browser
        if not self.session.browser_enabled:
            return False
        seed = self.seeds.get(seed_id) if seed_id is not None else None
        return bool(seed is not None and seed.browser) or options.host_wants_browser(
            urlsplit(url).hostname
        )

    def browser_request(self, request: Request) -> Request:
        """Turn a page request into a browser one."""
        request.meta.update(
            {
                "playwright": True,
                "playwright_include_page": True,
                "playwright_context": CONTEXT,
                "playwright_page_init_callback": self._init_browser_page,
                "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"},
                "download_slot": SLOT,
                "autothrottle_dont_adjust_delay": True,
            }
        )
        return request.replace(callback=self.parse_browser, errback=self.failed_browser)

    async def _init_browser_page(self, page: Any, request: Request) -> None:
        from archiver.browser.pagecapture import PageCapture  # Playwright: browser jobs only

        capture = PageCapture(
            session=self.session,
            engine=self.crawler.engine,
            page_url=request.url,
            page_meta=request.meta[META],
            max_redirects=self.session.config.max_redirects,
        )
        capture.started = time.monotonic()
        request.meta[CAPTURE] = capture
        # Registered after scrapy-playwright's own route, so it runs first (Playwright
        # runs the last matching route first) and answers every request itself.
        await page.route("**/*", capture.route)

    async def parse_browser(self, response: Response) -> AsyncIterator[Request]:
        from archiver.browser.evidence import gather

        capture: PageCapture | None = response.meta.get(CAPTURE)
        page = response.meta.pop("playwright_page", None)
        options = self.session.config.browser
        try:
            document = capture.document if capture is not None else None
            if document is None:
                error = (capture.document_error if capture else None) or (
                    "the browser loaded no document"
                )
                self.session.record_failure(response.request, f"browser: {error}")
                return
            _, status, _ = document.status_line()
            evidence = None
            if status is not None and not 300 <= status < 400:
                resources, quality, notes = await gather(
                    page, document.url, options, capture.started
                )
                if notes:
                    logger.info("browser page %s: %s", document.url, notes)
                evidence = PageEvidence(tuple(resources), quality, tuple(capture.outlinks()))
        finally:
            if page is not None:
                await page.close()
        self.seen.update(item.url for item in capture.fetched)
        self.session.hold(document, response.request)
        headers = [(k, v) for k, v in document.headers() if k.lower() not in _NOT_IN_DOM]
        dom = b""
        if evidence is not None:
            response.meta[EVIDENCE] = evidence
            dom = next((r.data for r in evidence.resources if r.kind == "dom"), b"")
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        rendered = HtmlResponse(
            url=document.url,
            status=status or 200,
            headers=headers,
            body=dom,
            encoding="utf-8",
            request=response.request,
        )
        for request in self.parse(rendered):  # type: ignore[attr-defined]
            yield request
        if evidence is not None and evidence.quality.quality == "suspect":
            retry = self._suspect_retry(response.request)
            if retry is not None:
                yield retry

    def _suspect_retry(self, request: Request) -> Request | None:
        options = self.session.config.browser
        done = request.meta.get(RETRY, 0)
        if done >= options.suspect_retries:
            return None
        meta = {key: value for key, value in request.meta.items() if key in (META,)}
        info = dict(meta[META])
        info.pop("url", None)  # the frontier entry is done; this is one more capture of it
        retry = self.browser_request(
            Request(request.url, dont_filter=True, meta={
                META: info, RETRY: done + 1, DELAY: options.suspect_retry_delay,
                "handle_httpstatus_all": True, "dont_redirect": True,
                "dont_obey_robotstxt": request.meta.get("dont_obey_robotstxt", False),
            })
        )  # fmt: skip
        return retry

    async def failed_browser(self, failure: Failure) -> list[Request] | None:
        request = failure.request  # type: ignore[attr-defined]
        page = request.meta.pop("playwright_page", None)
        if page is not None:
            await page.close()
        capture: PageCapture | None = request.meta.get(CAPTURE)
        if capture is not None:
            self.seen.update(item.url for item in capture.fetched)
            if capture.document is not None:
                # The document came, the page did not finish: what came is kept.
                capture.document.error = capture.document.error or describe_failure(failure)
                self.session.record_now(capture.document, capture.document_request)
                request.meta[RECORDED] = True
            elif capture.document_error:
                request.meta["archiver_error"] = capture.document_error
        return self.failed(failure)  # type: ignore[attr-defined,no-any-return]
