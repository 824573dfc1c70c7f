"""The archive session: a Scrapy extension that owns one job's WARC writer and recorder.

It opens the catalog, the store and the WARC writer when the crawler starts, takes
finished exchanges from the download handler, reports progress, and at the end
commits, closes and stores the last WARC file and marks the job finished.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future

from archiver.capture.crawllog import CrawlLog
from archiver.capture.exchange import Exchange
from archiver.capture.recorder import CaptureRecorder
from archiver.capture.syncer import Syncer
from archiver.catalog import frontier, open_catalog, workers
from archiver.catalog.captures import last_original
from archiver.catalog.db import utc_now
from archiver.catalog.errors import DATABASE_ERRORS
from archiver.catalog.frontier import FrontierEntry, Rejection
from archiver.catalog.jobs import finish_job, get_job
from archiver.crawl import hostheaders, profilecookies
from archiver.crawl.config import CrawlConfig
from archiver.crawl.delay import HostHolds
from archiver.crawl.indexer import SearchIndexer
from archiver.crawl.meta import (
    EVIDENCE,
    HELD,
    META,
    PageEvidence,
    fetch_context,
)
from archiver.crawl.progress import Counts, Progress
from archiver.crawl.shared import HEARTBEAT, SharedFrontier
from archiver.crawl.stamper import Stamper
from archiver.crawl.uploader import Uploader
from archiver.crawl.warcinfo import host_ip, warcinfo_fields
from archiver.home import ArchiveHome
from archiver.pagefacts import PageFacts
from archiver.storage import open_store
from archiver.warc.background import BackgroundWrites
from archiver.warc.writer import WarcWriter
from archiver.watch.classify import Fetch
from archiver.watch.hooks import notify
from archiver.watch.patterns import RemovalPatterns
from archiver.watch.status import Event, judge_fetch, observe

logger = logging.getLogger(__name__)


class ArchiveSession:
    def __init__(self, crawler: Any, config: CrawlConfig):
        self.crawler = crawler
        self.config = config
        home = ArchiveHome(config.home).ensure()
        # A worker on a shared frontier spools into its own folder (its lock is there).
        spool = home.spool_dir / config.job_name
        if config.worker_id:
            spool = spool / config.worker_id
        self.body_spool_dir = spool / "bodies"
        self.body_spool_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = open_catalog(home.catalog_location)
        self.job = get_job(self.catalog, config.job_name)
        self.store = open_store(config.store_uri or home.warcs_dir, s3=config.s3)
        self.robots_summary = str(self.job.settings.get("robots_summary", "obey"))
        self.host_ip = host_ip(config.hostname)
        self.writer = WarcWriter(
            spool,
            warcinfo_fields=self._warcinfo_fields,
            prefix=config.warc_prefix,
            host=config.worker_id or config.hostname,
            max_size=config.warc_max_size,
            compress_level=config.compress_level,
        )
        self.recorder = CaptureRecorder(
            self.catalog,
            self.writer,
            self.store,
            job_id=self.job.id,
            job_name=config.job_name,
            commit_every=config.commit_every,
            revisits=config.revisits,
        )
        self.uploader = Uploader(
            self.catalog,
            self.store,
            keep_local=config.keep_local,
            concurrency=config.upload_concurrency,
            attempts=config.upload_attempts,
        )
        self.recorder.store_closed = self.uploader.submit
        self.stamper = Stamper(home.catalog_location, self.store, config.job_name)
        self.indexer = SearchIndexer(home.catalog_location, home.root, crawler.stats)
        host_headers = crawler.settings.get(hostheaders.SETTING)
        if host_headers:
            self.recorder.given_headers = host_headers.pairs()
        signed_in = crawler.settings.get(profilecookies.SETTING)
        if signed_in:
            self.recorder.profile_cookies = signed_in.cookie_values()
        self.recorder.crawl_log = CrawlLog(home.job_dir(config.job_name) / "crawl.log")
        # The vantage point of each host a seed's requests went to, so that what Scrapy
        # asks for itself (robots.txt) goes out the same way, never directly.
        self.vantage_of_host: dict[str, str] = {}
        from twisted.internet import reactor

        # fsync on its own thread; the rows are committed on this one when it is done,
        # or on PostgreSQL by that thread on a connection of its own (its round trips
        # would hold up the crawl here).
        self.recorder.rows.syncer = Syncer(reactor.callFromThread)
        if self.catalog.dialect == "postgresql":
            self.recorder.rows.thread_catalog = open_catalog(home.catalog_location)
        self.recorder.rows.on_error = self.stop_unwritable
        # Records compressed and written on a thread of their own (the largest part of
        # recording a page), each capture's row queued back here once they are.
        self.recorder.background = BackgroundWrites(self.writer, reactor.callFromThread)
        self.recorder.background.on_error = self._unwritten
        self.shared: SharedFrontier | None = None
        if config.worker_id:
            self.shared = SharedFrontier(
                self.catalog, self.job.id, config.worker_id, job_name=config.job_name,
                lease_seconds=config.lease_seconds, max_attempts=config.lease_attempts,
                slots=config.host_workers, delay_for=self._host_delay,
            )  # fmt: skip
            self.recorder.rows.on_recorded = self.shared.recorded
            self.recorder.rows.on_committed = self._feed_soon_if_starved
            self.recorder.never_captured = self.shared.never_captured  # the same set
            workers.register(
                self.catalog, config.worker_id, config.hostname, os.getpid(), config.job_name
            )
        self._shared_tasks: list[Any] = []
        self._feed_call: Any = None  # a feed of the shared frontier, due at once
        self._closing = False
        self.host_holds = HostHolds()  # Retry-After, read by DelayMiddleware
        self._held: dict[int, tuple[Exchange, Any]] = {}
        self.counts = {"ok": 0, "truncated": 0, "failed": 0}
        self.browser_enabled = bool(crawler.settings.getbool("BROWSER_CAPTURE"))
        self.suspects: list[tuple[str, str]] = []  # (url, reason) of suspect browser pages
        self.progress = Progress()
        self._progress_task: Any = None
        self._commit_task: Any = None
        self.fatal: str | None = None
        self.removal_patterns = RemovalPatterns.load(config.removal_patterns)
        self.observed: dict[str, int] = {}
        self.events: list[Event] = []
        self._notifiers: list[Any] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveSession:
        if not crawler.settings.get("ARCHIVER_JOB"):
            raise NotConfigured("no ARCHIVER_JOB: not an archiver crawl")
        session = cls(crawler, CrawlConfig.from_settings(crawler.settings))
        crawler.archiver_session = session
        crawler.signals.connect(session.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(session.spider_closed, signal=signals.spider_closed)
        return session

    def _warcinfo_fields(self, filename: str) -> list[tuple[str, str]]:
        fields = warcinfo_fields(self.config, self.robots_summary, self.host_ip)
        signed_in = self.job.settings.get("profiles_summary")
        if signed_in:  # the login profile(s) its pages were seen as (never the cookies)
            fields.append(("profile", str(signed_in)))
        return fields

    # -- exchanges from the download handler -----------------------------------------

    def record_now(self, exchange: Exchange, request: Any) -> None:
        if self.fatal:  # stopping: nothing more is written
            exchange.discard()
            return
        ctx = fetch_context(request)
        with self._writing(exchange):
            self._count(self.recorder.record_exchange(exchange, ctx), ctx.kind)

    @contextmanager
    def _writing(self, exchange: Exchange | None = None) -> Iterator[None]:
        """Stop the crawl cleanly when the archive cannot be written (disk full, read-only).
        The writer has already cut its file back to the last whole record."""
        try:
            yield
        except (OSError, *DATABASE_ERRORS) as exc:
            if exchange is not None:
                exchange.discard()
            self.stop_unwritable(exc)
        except Exception:
            # A bug on odd input must not take the job down: the record builder works out
            # everything before writing, so nothing was written for this exchange.
            logger.exception("could not record %s", exchange.url if exchange else "a fetch")
            if exchange is not None:
                exchange.discard()
            self._count("failed")

    def _unwritten(self, exc: Exception) -> None:
        """A capture whose records could not be written in the background, or whose row
        could not be queued: as if it had failed here."""
        with self._writing():
            raise exc

    def stop_unwritable(self, exc: BaseException) -> None:
        if self.fatal:
            return
        self.fatal = (
            f"cannot write to the archive: {getattr(exc, 'strerror', None) or exc}"
            f"{f' ({exc.filename})' if getattr(exc, 'filename', None) else ''};"
            " the crawl stopped and what was written before stays valid."
            " Free space or fix permissions, then crawl again"
        )
        logger.error(self.fatal)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_write_error"))

    def discover(self, entry: FrontierEntry) -> None:
        if not self.fatal:
            self.recorder.discover(entry)

    def reject(self, rejection: Rejection) -> None:
        if not self.fatal:
            self.recorder.rows.reject(rejection)

    def resume_guards(self) -> tuple[list[str], set[str]]:
        """For a resumed job: its page entries (what the trap guards counted) and the
        links it recorded as not followed."""
        return (
            frontier.page_urls(self.catalog, self.job.id),
            frontier.rejected_urls(self.catalog, self.job.id),
        )

    def resume_point(self) -> tuple[list[FrontierEntry], set[str]]:
        """For a resumed job: the entries still to fetch, and every URL already known."""
        return (
            list(frontier.pending(self.catalog, self.job.id)),
            frontier.known_urls(self.catalog, self.job.id),
        )

    def hand_to_spider(self, exchange: Exchange, request: Any) -> None:
        """Responses for the spider are written once it has parsed them (outlinks and
        title go in the same metadata record); everything else is written now."""
        if META in request.meta:
            self.hold(exchange, request)
        else:
            self.record_now(exchange, request)

    def hold(self, exchange: Exchange, request: Any) -> None:
        """Hold an exchange for the spider until it has parsed the response."""
        request.meta[HELD] = exchange
        self._held[id(exchange)] = (exchange, request)

    def take_exchange(self, response: Any) -> Exchange | None:
        """The held exchange of a response, no longer held (the caller records it)."""
        exchange = response.meta.pop(HELD, None)
        if exchange is None or self._held.pop(id(exchange), None) is None:
            return None
        return exchange

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the last full capture of ``url``, for a conditional
        request."""
        if not self.config.revisits:  # a 304 would then be stored without its payload
            return None, None
        original = last_original(self.catalog.conn, url)
        return (original.etag, original.last_modified) if original else (None, None)

    def commit_response(self, response: Any, outlinks: list[str], facts: PageFacts) -> None:
        exchange = self.take_exchange(response)
        if exchange is None:
            return
        if self.fatal:
            exchange.discard()
            return
        evidence: PageEvidence | None = response.meta.pop(EVIDENCE, None)
        extra: dict[str, Any] = {}
        if evidence is not None:
            # "URL HOP CONTEXT": a URL the page loaded and the parser found is listed once.
            listed = {line.rsplit(" ", 1)[0] for line in outlinks}
            outlinks = outlinks + [
                link for link in evidence.loaded if link.rsplit(" ", 1)[0] not in listed
            ]
            extra = {"resources": evidence.resources, "quality": evidence.quality}
        with self._writing(exchange):
            state = self.recorder.record_exchange(
                exchange, fetch_context(response.request), outlinks=outlinks, facts=facts,
                **extra,
            )  # fmt: skip
            self._count(state)
            if evidence is not None and evidence.quality.quality == "suspect":
                self.suspects.append((exchange.url, evidence.quality.reason))

    def record_failure(self, request: Any, error: str) -> None:
        if self.fatal:
            return
        with self._writing():
            self.recorder.record_failure(request.url, fetch_context(request), error, utc_now())
            self._count("failed")

    def observe_seed(
        self, seed_id: int, seed_url: str, fetch: Fetch, confirms: int | None
    ) -> int | None:
        """Classify a fetch of a seed page (its capture row is committed first, so the
        status points at it) and record it; returns the pending status id when the
        change must be confirmed by another fetch."""
        if self.fatal:
            return None
        outcome = None
        with self._writing():
            self.recorder.sync()
            judged = judge_fetch(self.catalog, self.job.id, seed_id, fetch, self.removal_patterns)
            if judged is None:
                return None
            with self.catalog.transaction() as tx:
                outcome = observe(
                    tx, seed_id, judged.capture_id, judged.status, judged.reason,
                    confirms=confirms, url=seed_url, vantage=judged.vantage,
                )  # fmt: skip
            self.observed[judged.status] = self.observed.get(judged.status, 0) + 1
        if outcome is None:
            return None
        if outcome.event is not None:
            event = outcome.event
            self.events.append(event)
            logger.warning(
                "event: %s is %s (%s); last present %s, first absent %s, confirmed by %s",
                event.url, event.kind, event.reason, event.last_present, event.first_absent,
                event.confirmed_by,
            )  # fmt: skip
            thread = notify(event, self.config.event_command, self.config.event_webhook)
            if thread is not None:
                self._notifiers.append(thread)
        return outcome.row_id if outcome.needs_confirmation else None

    def _count(self, state: str, kind: str = "") -> None:
        if kind != "robots" or state == "failed":  # as the summary: robots.txt is no capture
            self.counts[state] = self.counts.get(state, 0) + 1

    # -- lifecycle ------------------------------------------------------------------------

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        if self.config.progress_interval:
            self._progress_task = task.LoopingCall(self.report_progress)
            self._progress_task.start(self.config.progress_interval, now=False)
        self._commit_task = task.LoopingCall(self._commit_if_due)
        self._commit_task.start(self.recorder.commit_seconds, now=False)
        self.stamper.start()
        self.indexer.start()
        if self.shared is not None:
            feed = task.LoopingCall(self._feed_shared, spider)
            feed.start(0.25, now=False)
            beat = task.LoopingCall(self._heartbeat)
            beat.start(HEARTBEAT, now=False)
            self._shared_tasks = [feed, beat]

    # -- a shared frontier ----------------------------------------------------------------

    def _host_delay(self, host: str) -> float:
        """The wait before the next fetch from ``host`` by any worker: this crawl's delay
        for it (AutoThrottle's, when it raised it)."""
        delay = self.crawler.settings.getfloat("DOWNLOAD_DELAY")
        downloader = getattr(self.crawler.engine, "downloader", None)
        slot = downloader.slots.get(host) if downloader is not None else None
        return max(delay, getattr(slot, "delay", 0.0) or 0.0)

    def _feed_shared(self, spider: Any) -> None:
        """Release the hosts whose URLs are recorded, and keep Scrapy fed from the leases."""
        if self.fatal or self.shared is None:
            return
        with self._writing():
            self.shared.release_done(self.recorder.sync)
            requests = spider.feed_shared()
            for request in requests:
                self.crawler.engine.crawl(request)
            engine = self.crawler.engine
            if (
                not requests
                and not self._closing
                and engine.spider_is_idle()
                and not self.shared.has_work_here()
                and self.shared.job_done()
            ):
                # Done: no need to wait for Scrapy's next idle check (5 s).
                self._closing = True
                deferred_from_coro(engine.close_spider_async(reason="finished"))

    def _feed_soon_if_starved(self) -> None:
        """Rows were committed: when Scrapy has nothing waiting, feed it now (the URLs
        just found, a host to release, or the job's end) rather than at the next tick."""
        engine = self.crawler.engine
        spider = getattr(engine, "spider", None) if engine is not None else None
        if spider is None or self._closing or (self._feed_call and self._feed_call.active()):
            return
        if engine.scheduler is not None and len(engine.scheduler) == 0:  # type: ignore[arg-type]
            from twisted.internet import reactor

            # After the commit's own callback has returned: feeding may commit again.
            self._feed_call = reactor.callLater(0, self._feed_shared, spider)

    def _heartbeat(self) -> None:
        if self.fatal or self.shared is None:
            return
        try:
            self.recorder.rows.settle()  # its renewal touches the rows of the batch in flight
            self.shared.heartbeat()
        except DATABASE_ERRORS as exc:  # the catalog unreachable: leases run out on their own
            logger.warning("could not renew leases: %s", exc)

    def retry_after(self, host: str, seconds: float) -> None:
        """A 429 or 503 with Retry-After: no request to ``host`` until then (at most an
        hour), from this crawl or, on a shared frontier, any worker."""
        seconds = self.host_holds.hold(host, seconds)
        logger.info("%s asked to wait %.0f s (Retry-After): its requests wait", host, seconds)
        if self.shared is not None and not self.fatal:
            with self._writing():
                self.shared.retry_after(host, seconds)

    def _commit_if_due(self) -> None:
        with self._writing():
            self.recorder.commit_if_due()

    def report_progress(self) -> None:
        in_flight = len(self.crawler.engine.downloader.active)
        try:
            queued: int | None = max(0, frontier.open_count(self.catalog, self.job.id) - in_flight)
        except DATABASE_ERRORS:  # the catalog unreachable a moment: the line goes out anyway
            queued = None
        done, failed = self.counts["ok"] + self.counts["truncated"], self.counts["failed"]
        self.progress.report(Counts(done, failed, queued, in_flight, self.recorder.bytes_written))

    async def spider_closed(self, spider: Any, reason: str) -> None:
        """Write what is held, close the last WARC file, wait for the uploads (Scrapy
        waits for this coroutine), then close the job."""
        for looping in (self._progress_task, self._commit_task, *self._shared_tasks):
            if looping is not None and looping.running:
                looping.stop()
        try:
            for exchange, request in list(self._held.values()):
                self.record_now(exchange, request)  # guarded: one bad record stops nothing
            self._held.clear()
            # Even after a write error: the writer has cut its file back to the last whole
            # record, so what was written is committed, closed and stored.
            with self._writing():
                self.recorder.close()
            if self.shared is not None:
                with self._writing():
                    self.shared.close(lambda: None)  # recorder.close committed every row
        except BaseException:
            self._finish(reason)
            raise
        try:
            try:
                await maybe_deferred_to_future(self.uploader.close())
            except Exception:  # what is not stored is left pending, and said so by the uploader
                logger.exception("the uploads did not close cleanly")
            try:
                await self.stamper.close()
            except Exception:  # what is not stamped is left pending, for 'archiver stamp'
                logger.exception("the last timestamps were not asked for")
            try:
                await self.indexer.close()
            except Exception:  # the index is rebuildable: it never fails the crawl
                logger.exception("the search index was not caught up")
        finally:
            self._finish(reason)

    def _finish(self, reason: str) -> None:
        for thread in self._notifiers:  # events are told before the job is closed
            thread.join(timeout=60)
        status = "finished" if reason == "finished" else "stopped"
        if self.fatal:
            status, reason = "failed", self.fatal
        try:
            if self.shared is not None:
                workers.stopped(
                    self.catalog, self.shared.worker_id, self.shared.fetched, self.fatal, reason
                )
                # Other workers may carry on: the job is finished once its frontier is
                # empty, whoever sees that; a worker that stops leaves the job running.
                if self.shared.job_done():
                    finish_job(self.catalog, self.job.id, "finished", "finished")
                elif self.fatal:
                    logger.error("worker %s stopped: %s", self.shared.worker_id, self.fatal)
            else:
                finish_job(self.catalog, self.job.id, status, reason)
        except Exception:
            logger.exception("could not mark job %s %s", self.job.name, status)
        self.catalog.close()
