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
from archiver.capture.context import Quality
from archiver.catalog.frontier import extend_path
from archiver.crawl.delay import DELAY
from archiver.crawl.meta import CONFIRMS, EVIDENCE, META, OBSERVED, VANTAGE, PageEvidence
from archiver.spiders.decode import decoded_body
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
        profile = (request.meta.get(META) or {}).get("profile")
        if profile:
            request.meta.update(self._profile_context(profile))
        return request.replace(callback=self.parse_browser, errback=self.failed_browser)

    def _profile_context(self, profile: str) -> dict[str, Any]:
        """A browser context of the profile's own, holding its cookies (so its scripts
        see them as the signed-in browser's would), launched like the crawl's."""
        from archiver.crawl.profilecookies import SETTING

        settings = self.crawler.settings
        options = dict(settings.getdict("PLAYWRIGHT_CONTEXTS").get(CONTEXT) or {})
        cookies = settings.get(SETTING).browser_cookies(profile)
        return {
            "playwright_context": f"{CONTEXT}:profile:{profile}",
            "playwright_context_kwargs": {
                **options,
                "storage_state": {"cookies": cookies, "origins": []},
            },
        }

    async def _init_browser_page(self, page: Any, request: Request) -> None:
        from archiver.browser.pagecapture import PageCapture  # Playwright: browser jobs only

        earlier: PageCapture | None = request.meta.get(CAPTURE)
        if earlier is not None:  # scrapy-playwright retries a page whose target closed
            earlier.closed = True
            if earlier.document is not None:
                earlier.document.discard()
        capture = PageCapture(
            session=self.session,
            engine=self.crawler.engine,
            page_url=request.url,
            page_meta=request.meta[META],
            max_redirects=self.session.config.max_redirects,
            page_seconds=self.session.config.browser.page_seconds,
            vantage=request.meta.get(VANTAGE),
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
        evidence = None
        try:
            document = capture.document if capture is not None else None
            if document is None:
                error = (capture.document_error if capture else None) or (
                    "the browser loaded no document"
                )
                self.session.record_failure(response.request, f"browser: {error}")
                return
            _, status, _ = document.status_line()
            if status is not None and not 300 <= status < 400:
                resources, quality, notes = await gather(
                    page, document.url, status, options, capture.started
                )
                if notes:
                    logger.info("browser page %s: %s", document.url, notes)
                evidence = PageEvidence(tuple(resources), quality, tuple(capture.outlinks()))
        finally:
            if capture is not None:
                capture.closed = True  # what the page still asks for is not fetched
            if page is not None:
                await page.close()
        for request in self._parse_document(response.request, capture, evidence):
            yield request

    def _parse_document(
        self, request: Request, capture: PageCapture, evidence: PageEvidence | None
    ) -> list[Request]:
        """Hand the page's document to the ordinary ``parse``: with the rendered DOM as
        its body when there is one, else the body as the server sent it."""
        document = capture.document
        assert document is not None
        _, status, _ = document.status_line()
        self.seen.update(capture.requested)  # the browser fetched these: not again
        self.session.hold(document, request)
        headers = [(k, v) for k, v in document.headers() if k.lower() not in _NOT_IN_DOM]
        dom = (
            next((r.data for r in evidence.resources if r.kind == "dom"), None)
            if evidence
            else None
        )
        if dom is not None:
            body = dom
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        else:
            spooled = document.body()
            raw = b"".join(spooled.chunks()) if spooled is not None else b""
            encoding = document.header("Content-Encoding")
            limit = self.session.config.max_parse_bytes
            body = decoded_body(raw, encoding.encode("latin-1") if encoding else None, limit) or b""
            headers.append(("Content-Type", document.header("Content-Type") or "text/html"))
        if evidence is not None:
            request.meta[EVIDENCE] = evidence
        shown = HtmlResponse(
            url=document.url, status=status or 200, headers=headers, body=body, request=request
        )
        out = list(self.parse(shown))  # type: ignore[attr-defined]
        out += self._navigations(request, capture)
        # A seed's change is fetched again to confirm it: that is its retry already.
        confirming = CONFIRMS in request.meta or any(CONFIRMS in made.meta for made in out)
        if evidence is not None and evidence.quality.quality == "suspect" and not confirming:
            retry = self._suspect_retry(request)
            if retry is not None:
                out.append(retry)
        return out

    def _navigations(self, request: Request, capture: PageCapture) -> list[Request]:
        """Where the page's scripts tried to take it: followed like a redirect."""
        info = request.meta[META]
        if info.get("redirects", 0) >= self.session.config.max_redirects:
            return []
        out = []
        for url in capture.navigations[:3]:
            stopped = self.redirect_stopped  # type: ignore[attr-defined]
            if stopped(url, info["seed"], info["kind"], request.url):
                continue
            made = self._request(  # type: ignore[attr-defined]
                url, info["seed"], kind=info["kind"], hops=info["hops"], via=request.url,
                embeds=info.get("embeds", 0), redirects=info.get("redirects", 0) + 1,
                path=extend_path(info.get("path"), "R"),
            )  # fmt: skip
            if made is not None:
                out.append(made)
        return out

    def _suspect_retry(self, request: Request) -> Request | None:
        options = self.session.config.browser
        done = request.meta.get(RETRY, 0)
        if done >= options.suspect_retries:
            return None
        info = dict(request.meta[META])
        info.pop("url", None)  # the frontier entry is done; this is one more capture of it
        meta = {
            META: info, RETRY: done + 1, DELAY: options.suspect_retry_delay,
            "handle_httpstatus_all": True, "dont_redirect": True,
            "dont_obey_robotstxt": request.meta.get("dont_obey_robotstxt", False),
        }  # fmt: skip
        if OBSERVED in request.meta:  # judged already, at a redirect to this page
            meta[OBSERVED] = request.meta[OBSERVED]
        # Fetched again as it was: through the same vantage point, as the same profile.
        for key in (VANTAGE, "cookiejar"):
            if key in request.meta:
                meta[key] = request.meta[key]
        return self.browser_request(Request(request.url, dont_filter=True, meta=meta))

    async def failed_browser(self, failure: Failure) -> list[Request] | None:
        request = failure.request  # type: ignore[attr-defined]
        page = request.meta.pop("playwright_page", None)
        capture: PageCapture | None = request.meta.get(CAPTURE)
        if capture is not None:
            capture.closed = True
        if page is not None:
            await page.close()
        if capture is not None and capture.document is not None:
            # The document came, the page did not render in time: the document is kept
            # and parsed as served, the capture marked suspect (and retried).
            reason = f"no render: {describe_failure(failure)}"
            evidence = PageEvidence((), Quality("suspect", reason), tuple(capture.outlinks()))
            return self._parse_document(request, capture, evidence)
        if capture is not None and capture.document_error:
            request.meta["archiver_error"] = f"browser: {capture.document_error}"
        return self.failed(failure)  # type: ignore[attr-defined,no-any-return]
