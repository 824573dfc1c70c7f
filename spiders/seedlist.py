"""The seed-list spider: crawls selected seeds within their scopes, with requisites.

Every response comes back here (redirects and error statuses included) so each
hop is recorded, scoped and followed by our rules. Links are de-duplicated in the
spider before a ``Request`` is built (PERF.md: per-link work dominates).
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from twisted.python.failure import Failure
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

from archiver.catalog.frontier import FrontierEntry, Rejection, extend_path
from archiver.crawl.delay import DELAY
from archiver.crawl.meta import CONFIRMS, META, OBSERVED, VANTAGE
from archiver.crawl.tap import RECORDED, CaptureTruncated
from archiver.pagefacts import PageFacts
from archiver.spiders.browser import BrowserPages
from archiver.spiders.decode import decoded_body
from archiver.spiders.failures import describe_failure
from archiver.spiders.links import Extracted, extract_css, extract_html
from archiver.spiders.scope import Scope
from archiver.spiders.traps import EXCLUDED, LinkGate
from archiver.watch.classify import Fetch, is_soft404_target

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
FEED = 64  # requests kept waiting in Scrapy's scheduler; more pages wait in the backlog
CSS_TYPES = (b"text/css",)


@dataclass(frozen=True)
class SeedTarget:
    id: int
    url: str
    scope: str
    depth: int | None
    robots: str
    browser: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    profile: str | None = None  # the login profile it is crawled as
    via: str | None = None  # its vantage point's name (None: a direct connection)


class SeedListSpider(BrowserPages, scrapy.Spider):
    name = "seedlist"

    def __init__(self, seeds: Iterable[SeedTarget] = (), **kwargs: Any):
        super().__init__(**kwargs)
        self.seeds = {seed.id: seed for seed in seeds}
        self.scopes = {
            seed.id: Scope(seed.scope, seed.url, seed.depth, seed.include, seed.exclude)
            for seed in self.seeds.values()
        }
        self.seen: set[str] = set()
        self.rejected: set[str] = set()  # links not followed, each recorded once
        self.gate: LinkGate | None = None  # trap guards and ARCHIVER_EXCLUDE (see _gate)
        self.backlog: deque[FrontierEntry] = deque()  # pages found, not yet requested

    @property
    def session(self) -> Any:
        return self.crawler.archiver_session

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SeedListSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    @property
    def shared(self) -> Any:
        """The job's frontier shared with other workers (crawl/shared.py), or None."""
        return self.session.shared

    async def start(self) -> AsyncIterator[Request]:
        """Fresh job: the seeds. Resumed job: what its frontier still holds. A worker on
        a shared frontier: what it leases (the seeds were entered when the job was)."""
        if self.shared is not None:
            pages, self.rejected = self.session.resume_guards()
            for url in pages:
                self._gate().admit(url)
            self.seen |= set(pages)
            for request in self.feed_shared():
                yield request
            return
        todo, known = self.session.resume_point()
        if known:
            self.seen |= known
            pages, self.rejected = self.session.resume_guards()
            for url in pages:  # the trap guards count on from where the job stopped
                self._gate().admit(url)
            self.backlog.extend(todo)
            for request in self._feed():
                yield request
            return
        for seed in self.seeds.values():
            request = self._request(seed.url, seed.id, kind="seed", hops=0, via=None, path="")
            if request is not None:
                yield request

    def _request(
        self,
        url: str,
        seed_id: int,
        *,
        kind: str,
        hops: int,
        via: str | None,
        embeds: int = 0,
        redirects: int = 0,
        path: str | None = None,
    ) -> Request | None:
        """A request for a URL not seen before in this job, entered in its frontier. On a
        shared frontier the entry waits there for a lease (this worker's or another's)."""
        entry = self._discover(url, seed_id, kind, hops, via, embeds, redirects, path)
        if entry is None or self.shared is not None:
            return None
        return self._make_request(entry)

    def _discover(
        self, url: str, seed_id: int, kind: str, hops: int, via: str | None,
        embeds: int = 0, redirects: int = 0, path: str | None = None,
    ) -> FrontierEntry | None:  # fmt: skip
        """Enter a URL not seen before in this job's frontier."""
        if url in self.seen:
            return None
        self.seen.add(url)
        if kind == "page":
            self._gate().admit(url)
        entry = FrontierEntry(url, seed_id, kind, hops, via, embeds, redirects, path)
        self.session.discover(entry)
        return entry

    def _gate(self) -> LinkGate:
        if self.gate is None:
            config = self.session.config
            self.gate = LinkGate(config.traps, config.exclude)
        return self.gate

    def _stopped(self, url: str, seed_id: int, via: str) -> bool:
        """Does an exclusion (the seed's, then the job's) or a trap guard stop ``url``?
        A stopped URL is recorded as rejected (see ``_reject``)."""
        scope = self.scopes.get(seed_id)
        excluded = scope.excluded(url) if scope is not None else None
        stop = (EXCLUDED, excluded) if excluded else self._gate().check(url)
        if stop is None:
            return False
        self._reject(Rejection(url, seed_id, via, *stop))
        return True

    def redirect_stopped(self, url: str, seed_id: int, kind: str, via: str) -> bool:
        """A followed page's redirect goes where a link would: its target meets the same
        exclusions and guards. A seed's own chain is followed wherever it leads (the
        archivist chose that URL; Heritrix's "seed redirects are seeds"), and so is a
        requisite's (the page must replay)."""
        return kind == "page" and url not in self.seen and self._stopped(url, seed_id, via)

    def _reject(self, rejection: Rejection) -> None:
        """A link (or a page's redirect) the scope took and a rule or guard stopped: never
        fetched, recorded once (with the page it was found on) so the job's summary counts it."""
        if rejection.url not in self.rejected:
            self.rejected.add(rejection.url)
            self.session.reject(rejection)

    def _feed(self) -> list[Request]:
        """Requests for the backlog's next pages, as many as keep Scrapy's scheduler at
        ``FEED`` waiting. Pages wait in the backlog as small frontier entries, not as
        Request objects in the scheduler: on a link-rich site most of a crawl's memory
        was pages found and not fetched yet (benchmarks/crawl_speed.py --memory)."""
        if self.shared is not None:
            return self.feed_shared()
        scheduler = self.crawler.engine.scheduler
        waiting = len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
        room = min(FEED - waiting, len(self.backlog))
        return [self._make_request(self.backlog.popleft()) for _ in range(max(room, 0))]

    def feed_shared(self) -> list[Request]:
        """Requests for leased URLs, as many as keep Scrapy's scheduler at ``FEED``, in
        batches of at least half of it: handing URLs out is a catalog statement (their
        attempts), so it is done once per batch, not once per response."""
        scheduler = self.crawler.engine.scheduler
        waiting = len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
        if waiting > FEED // 2:
            return []
        return [
            self._make_request(entry, lease=token)
            for entry, token in self.shared.take(FEED - waiting)
        ]

    def _idle(self) -> None:
        """Scrapy has nothing left to do: the backlog still may. A worker on a shared
        frontier waits while any worker holds or may lease the job's URLs."""
        if self.shared is not None:
            requests = self.feed_shared()
            for request in requests:
                self.crawler.engine.crawl(request)
            if requests or self.shared.has_work_here() or not self.shared.job_done():
                raise DontCloseSpider
            return
        if self.backlog:
            for request in self._feed() or [self._make_request(self.backlog.popleft())]:
                self.crawler.engine.crawl(request)
            raise DontCloseSpider

    def _make_request(self, entry: FrontierEntry, lease: str | None = None) -> Request:
        seed = self.seeds.get(entry.seed_id)
        robots = seed.robots if seed is not None else "obey"
        profile = seed.profile if seed is not None else None
        headers = {}
        if entry.kind == "requisite" and self.session.config.conditional:
            # Requisites are where the bytes are; a 304 is recorded as a revisit. Pages are
            # always fetched whole: their links, requisites and text are needed.
            etag, last_modified = self.session.validators(entry.url)
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        request = Request(
            entry.url,
            headers=headers or None,
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            meta={
                META: {
                    "url": entry.url,
                    "seed": entry.seed_id,
                    "kind": entry.kind,
                    "hops": entry.hops,
                    "via": entry.via,
                    "robots": robots,
                    "embeds": entry.embeds,
                    "redirects": entry.redirects,
                    "path": entry.path,
                    "lease": lease,
                    "profile": profile,
                },
                "handle_httpstatus_all": True,
                "dont_redirect": True,
                # Requisites are fetched as a browser showing the page would fetch them.
                "dont_obey_robotstxt": robots == "ignore" or entry.kind == "requisite",
                # A profile's session cookies (set by the site) stay with its own seeds.
                **({"cookiejar": f"profile:{profile}"} if profile else {}),
            },
        )
        vantage = self.vantage_of(entry.seed_id)
        if vantage is not None:
            request.meta[VANTAGE] = vantage
            self.session.vantage_of_host[urlsplit(entry.url).netloc] = vantage
        if self.wants_browser(entry.url, entry.seed_id, entry.kind):
            return self.browser_request(request)
        return request

    def vantage_of(self, seed_id: int | None) -> str | None:
        """The vantage point a seed's fetches go through: the crawl's (--via), else its
        schedule's (run-due), else the seed's own; None for a direct connection."""
        config = self.session.config
        seed = self.seeds.get(seed_id) if seed_id is not None else None
        via = config.via or config.seed_via.get(seed_id or 0) or (seed.via if seed else None)
        return None if via == "direct" else via

    def parse(self, response: Response) -> list[Request]:
        info = response.meta[META]
        seed_id, hops, kind = info["seed"], info["hops"], info["kind"]
        path = info.get("path")
        extracted = Extracted([], [])
        redirect: list[str] = []
        if 300 <= response.status < 400 and b"Location" in response.headers:
            location = response.headers[b"Location"].decode("latin-1").strip()
            with contextlib.suppress(ValueError):  # an unusable Location is recorded, not followed
                target = urljoin(response.url, location).split("#", 1)[0]
                if target.startswith(("http://", "https://")):  # not ftp:, javascript:, ...
                    redirect = [target]
        elif response.status < 300 or response.status >= 400:
            extracted = self._extract(response, kind)
            redirect = extracted.redirects[:1]  # <meta http-equiv=refresh>
        # The new requests enter the frontier before this page's capture row is queued,
        # so they are committed together: a crash keeps both or neither.
        config = self.session.config
        requests: list[Request | None] = []
        follow = bool(redirect) and info["redirects"] < config.max_redirects
        watched = kind == "seed" and seed_id in self.seeds and not response.meta.get(OBSERVED)
        if watched and follow and not is_soft404_target(self.seeds[seed_id].url, redirect[0]):
            # An ordinary redirect (http to https, a trailing slash): the seed is judged by
            # where the chain ends. A confirmation follows its chain again, seen or not.
            entry = FrontierEntry(
                redirect[0], seed_id, kind, hops, response.url, info["embeds"],
                info["redirects"] + 1, extend_path(path, "R"),
            )  # fmt: skip
            confirming = response.meta.get(CONFIRMS)
            follow_up = None
            queued = False  # entered in a shared frontier: fetched (and judged) from there
            if confirming is None:
                found = self._discover(
                    entry.url, seed_id, kind, hops, response.url, entry.embeds,
                    entry.redirects, entry.path,
                )  # fmt: skip
                queued = found is not None and self.shared is not None
                if found is not None and self.shared is None:
                    follow_up = self._make_request(found)
            if follow_up is None and not queued:
                # A confirmation, or a target this job fetched already: fetched again, so
                # that the seed is judged where it ends.
                follow_up = self._make_request(entry)
                if confirming is not None:
                    follow_up.meta[CONFIRMS] = confirming
            requests.append(follow_up)
            watched = False
        elif follow and not self.redirect_stopped(redirect[0], seed_id, kind, response.url):
            followed = self._request(
                redirect[0], seed_id, kind=kind, hops=hops, via=response.url,
                embeds=info["embeds"], redirects=info["redirects"] + 1,
                path=extend_path(path, "R"),
            )  # fmt: skip
            if followed is not None and watched:
                followed.meta[OBSERVED] = True  # judged here, at the redirect
            requests.append(followed)
        if info["embeds"] < config.max_embed_hops:
            for url in extracted.requisites:
                requests.append(self._request(
                    url, seed_id, kind="requisite", hops=hops, via=response.url,
                    embeds=info["embeds"] + 1, path=extend_path(path, "E"),
                ))  # fmt: skip
        scope = self.scopes.get(seed_id)
        for url in extracted.links:  # pages wait in the backlog (see _feed)
            if url in self.seen or scope is None or not scope.allows(url, hops + 1):
                continue
            if self._stopped(url, seed_id, response.url):
                continue
            entry = self._discover(
                url, seed_id, "page", hops + 1, response.url, path=extend_path(path, "L")
            )
            if entry is not None and self.shared is None:
                self.backlog.append(entry)
        outlinks = _outlink_lines(extracted, redirect, http_redirect=300 <= response.status < 400)
        facts = PageFacts(extracted.title, extracted.site_name, extracted.published)
        self.session.commit_response(response, outlinks, facts)
        if watched:
            fetch = Fetch(
                url=response.url,
                status=response.status,
                location=redirect[0] if redirect else None,
                text=self._page_text(response) if 200 <= response.status < 300 else None,
            )
            requests.append(self._observe(seed_id, fetch, response.meta.get(CONFIRMS)))
        if response.status in (429, 503) and b"Retry-After" in response.headers:
            seconds = _retry_after_seconds(response.headers[b"Retry-After"])
            if seconds is not None:
                self.session.retry_after(urlsplit(response.url).hostname or "", seconds)
        requests += self._feed()
        return [request for request in requests if request is not None]

    def _observe(self, seed_id: int, fetch: Fetch, confirms: int | None) -> Request | None:
        """Record how the seed looks now; a change of state is fetched again to confirm."""
        seed = self.seeds[seed_id]
        pending = self.session.observe_seed(seed_id, seed.url, fetch, confirms)
        if pending is None:
            return None
        entry = FrontierEntry(seed.url, seed_id, "seed", 0, None)
        return self._watch_request(entry, pending, delay=self.session.config.confirm_delay)

    def _watch_request(self, entry: FrontierEntry, confirms: int, delay: float) -> Request:
        request = self._make_request(entry)
        request.meta[CONFIRMS] = confirms
        if delay:
            request.meta[DELAY] = delay
        return request

    def _page_text(self, response: Response) -> str | None:
        """The page as served, decoded, for removal notices (bounded like link parsing)."""
        header = response.headers.get(b"Content-Type", b"")
        content_type = header.split(b";")[0].strip().lower()
        if content_type not in HTML_TYPES and not content_type.startswith(b"text/"):
            return None
        limit = self.session.config.max_parse_bytes
        body = decoded_body(response.body, response.headers.get(b"Content-Encoding"), limit)
        if body is None:
            return None
        encoding = (
            http_content_type_encoding(header.decode("latin-1"))
            or html_body_declared_encoding(body[:4096])
            or "utf-8"
        )
        try:
            return body.decode(encoding, "replace")
        except LookupError:
            return body.decode("utf-8", "replace")

    def _extract(self, response: Response, kind: str) -> Extracted:
        header = response.headers.get(b"Content-Type", b"")
        content_type = header.split(b";")[0].strip().lower()
        if content_type not in CSS_TYPES and content_type not in HTML_TYPES:
            return Extracted([], [])
        limit = self.session.config.max_parse_bytes
        body = decoded_body(response.body, response.headers.get(b"Content-Encoding"), limit)
        if body is None:
            return Extracted([], [])
        # The declared charset, else UTF-8: statistical detection costs milliseconds per page
        # (PERF.md) and only URL bytes are decoded here.
        encoding = (
            http_content_type_encoding(header.decode("latin-1"))
            or html_body_declared_encoding(body[:4096])
            or "utf-8"
        )
        if content_type in HTML_TYPES:
            found = extract_html(body, response.url, encoding)
            if kind == "requisite":  # an iframe: its own requisites, not its links
                return Extracted([], found.requisites, found.title, found.redirects,
                                 found.site_name, found.published, found.contexts)  # fmt: skip
            return found
        return extract_css(body, response.url, encoding)

    def failed(self, failure: Failure) -> list[Request] | None:
        request = failure.request  # type: ignore[attr-defined]
        # A truncated fetch was written (what arrived) by the download handler.
        written = bool(failure.check(CaptureTruncated) or request.meta.get(RECORDED))
        error = request.meta.get("archiver_error") or describe_failure(failure)
        if not written:
            self.session.record_failure(request, error)
        info = request.meta.get(META) or {}
        seed_id = info.get("seed")
        if info.get("kind") == "seed" and seed_id in self.seeds and not request.meta.get(OBSERVED):
            confirm = self._observe(
                seed_id,
                Fetch(url=request.url, status=None, error=error),
                request.meta.get(CONFIRMS),
            )
            if confirm is not None:
                return [confirm, *self._feed()]
        return self._feed()


def _retry_after_seconds(value: bytes) -> float | None:
    """RFC 9110 §10.2.3: a number of seconds, or an HTTP date."""
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _outlink_lines(extracted: Extracted, redirect: list[str], http_redirect: bool) -> list[str]:
    """The metadata record's ``outlink`` values, as Heritrix writes them: URL, hop letter
    (R redirect, L link, E embed) and where the URL was found (``a/@href``, ``Location:``)."""
    found = extracted.contexts
    lines = [
        f"{url} R {'Location:' if http_redirect else found.get('R', {}).get(url, 'meta/@content')}"
        for url in redirect
    ]
    for hop, urls in (("L", extracted.links), ("E", extracted.requisites)):
        where = found.get(hop, {})
        lines += [f"{url} {hop} {where.get(url, '=EMBED_MISC')}" for url in urls]
    return lines
