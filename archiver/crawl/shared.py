"""One worker's side of a shared frontier: what it has leased, fed to its crawl.

The job's frontier lives in the catalog (archiver/catalog/leases.py). This worker claims
hosts that are due, with their next URLs, and hands them to Scrapy a few at a time; a
timer renews its leases and its heartbeat. When every URL of a host's lease has been
recorded, the rows are committed and the host is released with its next allowed fetch
time, so another worker (or this one) can take it on. A 429 or 503 with Retry-After
holds the host for every worker.

A lease is used only while this worker knows it is valid: it stops handing out a
lease's URLs ``MARGIN`` seconds before the lease would expire if no renewal got through,
so a worker that cannot reach the catalog stops fetching before another can claim the
host.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from archiver.catalog import leases, workers
from archiver.catalog.captures import captured_before
from archiver.catalog.db import Catalog
from archiver.catalog.frontier import FrontierEntry
from archiver.warc.writer import safe_host

logger = logging.getLogger(__name__)

MARGIN = 15.0  # seconds before a lease's expiry this worker stops using it
HEARTBEAT = 10.0  # seconds between lease renewals and heartbeats


def new_worker_id(hostname: str | None = None) -> str:
    """``host-pid-xxxx``: the machine, the process, and a random part (pids are reused)."""
    host = safe_host(hostname or socket.gethostname()).replace(".", "-")
    return f"{host}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass
class _Held:
    lease: leases.HostLease
    valid_until: float  # this worker's monotonic clock
    waiting: deque[FrontierEntry] = field(default_factory=deque)
    out: int = 0  # handed to the crawl, not recorded yet
    topped_up: float = 0.0  # when more of its URLs were last asked for (monotonic)

    @property
    def host(self) -> str:
        return self.lease.host


class SharedFrontier:
    def __init__(
        self,
        catalog: Catalog,
        job_id: int,
        worker_id: str,
        *,
        job_name: str = "",
        host_slots: int = 8,
        per_host: int = 100,
        lease_seconds: float = leases.LEASE_SECONDS,
        max_attempts: int = leases.MAX_ATTEMPTS,
        slots: int = 1,
        delay_for: Callable[[str], float] = lambda host: 0.0,
    ):
        self.catalog = catalog
        self.job_id = job_id
        self.worker_id = worker_id
        self.host_slots = host_slots
        self.per_host = per_host
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.slots = slots
        self.delay_for = delay_for
        self.held: dict[str, _Held] = {}  # by token
        self.releasing: list[str] = []  # tokens whose URLs are all recorded
        self.fetched = 0
        # Leased URLs with no earlier capture: the recorder skips their revisit lookup.
        self.never_captured: set[str] = set()
        self._last_claim = 0.0
        self.job_name = job_name
        self.share = host_slots  # hosts this worker may hold: its fair share (see _reshare)
        self._last_share = 0.0
        leases.fill_hosts(catalog, job_id)
        leases.add_slots(catalog, job_id, slots)

    # -- feeding the crawl ----------------------------------------------------------------

    def take(self, room: int) -> list[tuple[FrontierEntry, str]]:
        """Up to ``room`` URLs to fetch now, each with its lease token; claims more hosts
        when this worker has slots free."""
        self._drop_stale()
        if room <= 0:
            return []
        if time.monotonic() - self._last_claim >= 0.2:
            if self._needs_more():
                self._claim()
            self._top_up()
        out: list[tuple[FrontierEntry, str]] = []
        # Round robin over the held hosts: Scrapy spaces each host's fetches itself.
        while len(out) < room:
            progressed = False
            for token, held in self.held.items():
                if held.waiting and len(out) < room:
                    out.append((held.waiting.popleft(), token))
                    held.out += 1
                    progressed = True
            if not progressed:
                break
        by_token: dict[str, list[str]] = {}
        for entry, token in out:
            by_token.setdefault(token, []).append(entry.url)
        for token, urls in by_token.items():
            leases.fetching(self.catalog, self.job_id, token, urls)
        return out

    def _reshare(self) -> None:
        """Hold no more than a fair share of the job's hosts, so that workers joining a
        job get hosts too (a host goes back at the end of a batch, see release_done)."""
        if time.monotonic() - self._last_share < 1.0:
            return
        self._last_share = time.monotonic()
        fair = leases.fair_share(self.catalog, self.job_id, self.job_name, workers.DEAD_AFTER)
        self.share = min(self.host_slots, fair)

    def _needs_more(self) -> bool:
        self._reshare()
        waiting = sum(len(h.waiting) for h in self.held.values())
        return len(self.held) < self.share and waiting < self.per_host

    def _claim(self) -> None:
        self._last_claim = time.monotonic()
        started = time.monotonic()
        got, expired = leases.claim(
            self.catalog, self.worker_id, self.job_id,
            hosts=self.share - len(self.held), per_host=self.per_host,
            seconds=self.lease_seconds, max_attempts=self.max_attempts,
            avoid=[h.host for h in self.held.values()], slots=self.slots,
        )  # fmt: skip
        self._note_expired(expired)
        for lease in got:
            self._leased(lease.entries)
            self.held[lease.token] = _Held(
                lease, started + lease.seconds - MARGIN, deque(lease.entries)
            )

    def _top_up(self) -> None:
        """Keep a held host's queue from running dry while its fetches go on: the URLs
        found on it since the claim, committed meanwhile, join the same lease."""
        self._last_claim = time.monotonic()
        if len(self.held) > self.share:  # hosts to give back at the end of their batch
            return
        for held in list(self.held.values()):
            started = time.monotonic()
            running_dry = held.out and len(held.waiting) < self.per_host // 2
            if running_dry and started - held.topped_up >= 0.25:  # at most 4 a second
                held.topped_up = started
                self._more(held)

    def _more(self, held: _Held) -> bool:
        """More of a held host's URLs under its lease (renewed with it); False if none."""
        started = time.monotonic()
        entries, expired = leases.more(
            self.catalog, self.worker_id, held.lease, per_host=self.per_host,
            seconds=self.lease_seconds, max_attempts=self.max_attempts,
        )  # fmt: skip
        self._note_expired(expired)
        if not entries:
            return False
        self._leased(entries)
        held.waiting.extend(entries)
        held.valid_until = started + self.lease_seconds - MARGIN
        return True

    def _leased(self, entries: tuple[FrontierEntry, ...]) -> None:
        """Note which newly leased URLs were never captured (one statement a batch)."""
        if not entries:
            return
        urls = [entry.url for entry in entries]
        self.never_captured |= set(urls) - captured_before(self.catalog.conn, urls)

    def _note_expired(self, expired: list[leases.Expired]) -> None:
        for item in expired:
            logger.warning("failed %s: %s", item.url, item.reason)

    def _drop_stale(self) -> None:
        """Stop using leases whose validity this worker can no longer vouch for."""
        now = time.monotonic()
        for token, held in list(self.held.items()):
            if held.valid_until <= now and held.waiting:
                logger.warning(
                    "lease on %s not renewed in time: its %d waiting URL(s) go back to the"
                    " queue", held.host, len(held.waiting),
                )  # fmt: skip
                held.waiting.clear()
                self._maybe_release(token, held)

    def has_work_here(self) -> bool:
        return any(h.waiting or h.out for h in self.held.values()) or bool(self.releasing)

    # -- results ------------------------------------------------------------------------------

    def recorded(self, token: str | None) -> None:
        """A URL fetched under ``token`` has its row queued (a capture or a failure)."""
        held = self.held.get(token or "")
        if held is None:
            return
        self.fetched += 1
        held.out = max(held.out - 1, 0)
        self._maybe_release(token, held)  # type: ignore[arg-type]

    def _maybe_release(self, token: str, held: _Held) -> None:
        if not held.waiting and held.out == 0 and token not in self.releasing:
            self.releasing.append(token)

    def retry_after(self, host: str, seconds: float) -> None:
        """The host asked every client to wait: no worker fetches from it meanwhile, and
        this worker's waiting URLs for it go back to the queue."""
        leases.back_off(self.catalog, host, seconds)
        for token, held in self.held.items():
            if held.host == host and held.waiting:
                held.waiting.clear()
                self._maybe_release(token, held)

    def release_done(self, commit: Callable[[], None]) -> None:
        """Release the hosts whose URLs are all recorded, once their rows are committed
        (``commit``): a row still in memory would otherwise go back to the queue."""
        if not self.releasing:
            return
        commit()
        tokens, self.releasing = self.releasing, []
        for token in tokens:
            held = self.held.get(token)
            if held is None:
                continue
            # The host's URLs found since the claim (now committed) go on under the same
            # lease; the host is given back when it has none left, or when this worker
            # holds more than its share of the job's hosts.
            self._reshare()
            if len(self.held) > self.share:
                self.held.pop(token)
                leases.release(self.catalog, token, self.delay_for(held.host))
                continue
            if self._more(held):
                continue
            self.held.pop(token)
            leases.release(self.catalog, token, self.delay_for(held.host))

    def heartbeat(self) -> None:
        """Renew this worker's leases (those lost are dropped) and its heartbeat."""
        started = time.monotonic()
        kept = leases.renew(self.catalog, list(self.held), self.lease_seconds)
        for token, held in list(self.held.items()):
            if token in kept:
                held.valid_until = started + self.lease_seconds - MARGIN
            else:
                logger.warning("lease on %s was lost (expired and taken over)", held.host)
                self.held.pop(token)
        workers.beat(self.catalog, self.worker_id, self.fetched)

    def job_done(self) -> bool:
        """No URL of the job is queued or leased, by any worker."""
        return not self.held and not leases.has_open_entries(self.catalog, self.job_id)

    def close(self, commit: Callable[[], None]) -> None:
        """Give every lease back: recorded rows committed first, the rest re-queued."""
        commit()
        for token, held in list(self.held.items()):
            leases.release(self.catalog, token, self.delay_for(held.host))
        self.held.clear()
        self.releasing.clear()
