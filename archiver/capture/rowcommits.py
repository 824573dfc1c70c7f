"""Capture rows on their way into the catalog, committed only after their bytes are on disk.

The recorder queues each capture's row (with its resource rows, and the frontier
entries found and completed since the last one); a commit fsyncs the WARC file they
point into, then inserts them in one transaction. During a crawl the fsync runs on
its own thread (``syncer``, archiver/capture/syncer.py) while recording goes on, and the rows
are committed on the crawl's thread when it is done, one batch in flight at a time;
``sync`` is the barrier for whoever needs the rows in the catalog now.

On PostgreSQL (``thread_catalog`` set) the fsync thread commits the batch itself, on a
connection of its own, and the crawl's thread is told when it is done: a commit there is
mostly waiting for the database, which the crawl no longer does. Whoever writes rows
this worker's batch may hold locks on (lease renewals) calls ``settle`` first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from archiver.capture.syncer import Syncer
from archiver.catalog import frontier
from archiver.catalog.captures import CaptureRow, ResourceRow, insert_captures, insert_resources
from archiver.catalog.capturetls import TlsRow, insert_tls
from archiver.catalog.db import Catalog
from archiver.catalog.errors import DATABASE_ERRORS, is_transient
from archiver.catalog.frontier import FrontierEntry, Rejection
from archiver.warc.writer import WarcWriter

RETRIES = 5  # a transaction rolled back by a deadlock with another worker's is run again


@dataclass(frozen=True)
class _Batch:
    """Rows and frontier changes committed together, in one transaction."""

    rows: list[CaptureRow]
    resources: list[tuple[int, ResourceRow]]  # (index in rows, resource)
    tls: list[tuple[int, TlsRow]]  # (index in rows, who served it)
    discovered: list[FrontierEntry]
    done: list[tuple[str, str | None]]  # (frontier URL, lease token)
    rejected: list[Rejection]


@dataclass
class _InFlight:
    """The batch whose fsync (and, with a ``thread_catalog``, commit) is under way."""

    batch: _Batch
    over: threading.Event  # set when the fsync thread is done with it
    committed: bool = False  # by the fsync thread, on its own connection
    # Why its commit there failed. The database may have committed it all the same (a
    # connection lost during COMMIT), so it is never inserted again on this thread.
    error: BaseException | None = None


class RowCommits:
    def __init__(
        self,
        catalog: Catalog,
        writer: WarcWriter,
        job_id: int,
        commit_every: int = 200,
        commit_seconds: float = 1.0,
    ):
        self.catalog = catalog
        self.writer = writer
        self.job_id = job_id
        self.commit_every = commit_every
        self.commit_seconds = commit_seconds
        self._pending: list[CaptureRow] = []
        self._resources: list[tuple[int, ResourceRow]] = []  # (index in _pending, row)
        self._tls: list[tuple[int, TlsRow]] = []  # (index in _pending, row)
        self._discovered: list[FrontierEntry] = []
        self._done: list[tuple[str, str | None]] = []
        self._rejected: list[Rejection] = []
        # Found URLs whose page row is queued: committed with the next batch, never taken
        # by another page (``take_found``).
        self._released: list[FrontierEntry] = []
        self._released_rejected: list[Rejection] = []
        self._last_commit = time.monotonic()
        # Set by the crawl session: fsync on another thread, and where its errors go.
        self.syncer: Syncer | None = None
        self.on_error: Callable[[Exception], None] | None = None
        # Set for a shared frontier: told of each leased URL whose row is queued, and of
        # each commit (the URLs found are in the catalog now, for this worker's leases).
        self.on_recorded: Callable[[str], None] | None = None
        self.on_committed: Callable[[], None] | None = None
        # PostgreSQL: a connection of the fsync thread's own, on which it commits each
        # batch once its bytes are on disk (set by the crawl session).
        self.thread_catalog: Catalog | None = None
        self._inflight: _InFlight | None = None
        self._token = 0
        self._more = False
        self.committed = 0

    def discover(self, entry: FrontierEntry) -> None:
        self._discovered.append(entry)

    def reject(self, rejection: Rejection) -> None:
        """A link not followed: committed with the page it was found on."""
        self._rejected.append(rejection)

    def take_found(self) -> tuple[list[FrontierEntry], list[Rejection]]:
        """The URLs found (and not followed) since the last call, held back from commits
        until ``put_back_found``: a page's links wait for the page's row."""
        found = (self._discovered, self._rejected)
        self._discovered, self._rejected = [], []
        return found

    def put_back_found(self, found: tuple[list[FrontierEntry], list[Rejection]]) -> None:
        """Found URLs held back for a page whose records are now written: due with the
        next commit. Not handed to ``take_found`` again: a later page would hold them past
        the capture of a URL among them (its done mark committed before its entry, which
        would then stay queued), since groups are written in the order given."""
        discovered, rejected = found
        self._released += discovered
        self._released_rejected += rejected

    def queue(
        self,
        row: CaptureRow,
        frontier_url: str | None,
        resources: Sequence[ResourceRow] = (),
        lease: str | None = None,
        tls: TlsRow | None = None,
    ) -> None:
        """Queue a capture's row (with its resource rows and TLS row); commit when a batch
        is due."""
        self._resources += [(len(self._pending), resource) for resource in resources]
        if tls is not None:
            self._tls.append((len(self._pending), tls))
        self._pending.append(row)
        if frontier_url is not None:
            self._done.append((frontier_url, lease))
            if lease is not None and self.on_recorded is not None:
                self.on_recorded(lease)
        if (
            len(self._pending) >= self.commit_every
            or time.monotonic() - self._last_commit >= self.commit_seconds
        ):
            self.commit()

    def commit(self) -> None:
        """Make the rows queued since the last commit durable: fsync the WARC bytes they
        point at, then commit them with the frontier entries found and completed
        meanwhile (one transaction). With a ``syncer`` the fsync runs on its thread and
        the rows are committed when it is done; one batch is in flight at a time."""
        self._last_commit = time.monotonic()
        if not self._queued():
            return
        if self.syncer is None:
            self.writer.flush(fsync=True)
            self._insert(self._take())
            return
        if self._inflight is not None:
            self._more = True  # committed once the batch in flight is
            return
        fd = self.writer.dup_fd()
        batch = self._take()
        if fd is None:  # no file open: the rows point at closed (fsynced) files only
            self._insert(batch)
            return
        self._token += 1
        token = self._token
        inflight = _InFlight(batch, threading.Event())
        self._inflight = inflight
        then = None
        if self.thread_catalog is not None:
            then = lambda: self._commit_on_thread(inflight)  # noqa: E731
        self.syncer.fsync(fd, lambda error: self._synced(token, error), then, inflight.over)

    def _commit_on_thread(self, inflight: _InFlight) -> None:
        """On the fsync thread, its bytes on disk: commit the batch on its connection."""
        assert self.thread_catalog is not None
        try:
            self._insert_rows(self.thread_catalog, inflight.batch)
        except BaseException as exc:
            inflight.error = exc
            raise
        inflight.committed = True

    def _synced(self, token: int, error: BaseException | None) -> None:
        """In the crawl's thread, once the fsync of the batch in flight is done."""
        if token != self._token or self._inflight is None:
            return  # ``sync`` committed it meanwhile
        inflight, self._inflight = self._inflight, None
        try:
            if error is not None:
                raise error
            if inflight.committed:
                self._committed(inflight.batch)
            else:
                self._insert(inflight.batch)
            if self._more:
                self._more = False
                self.commit()
        except Exception as exc:  # a full disk, a catalog that cannot be written
            if self.on_error is None:
                raise
            self.on_error(exc)

    def sync(self) -> None:
        """Commit everything queued now, waiting for the disk (a barrier)."""
        self.writer.flush(fsync=True)
        self.commit_synced()

    def commit_synced(self) -> None:
        """Commit the batch in flight and the rows queued: their bytes are on disk."""
        self._token += 1  # the callback of the batch in flight finds nothing to do
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            if self.thread_catalog is not None:
                inflight.over.wait()  # its commit on the fsync thread
            if inflight.error is not None:
                # Failed there, maybe after the database committed it: not made twice.
                raise inflight.error
            if inflight.committed:
                self._committed(inflight.batch)
            else:  # not tried there (SQLite, or its fsync failed): its bytes are on disk now
                self._insert(inflight.batch)
        self._more = False
        if self._queued():
            self._insert(self._take())
        self._last_commit = time.monotonic()

    def settle(self) -> None:
        """Wait until the fsync thread is done with the batch in flight (committed on
        PostgreSQL, or ready to commit here), so that a statement on this thread's
        connection never waits for row locks that batch holds while that batch waits
        for this thread. Rows stay queued; nothing is committed here."""
        if self._inflight is not None and self.thread_catalog is not None:
            self._inflight.over.wait()

    def commit_if_due(self) -> None:
        """Called on a timer, so rows do not wait in memory while the crawl is idle."""
        due = time.monotonic() - self._last_commit >= self.commit_seconds
        if due and self._queued():
            self.commit()

    def close(self) -> None:
        if self.syncer is not None:
            self.syncer.close()
        if self.thread_catalog is not None:
            self.thread_catalog.close()

    def _queued(self) -> bool:
        return bool(
            self._pending or self._discovered or self._done or self._rejected
            or self._released or self._released_rejected
        )  # fmt: skip

    def _take(self) -> _Batch:
        batch = _Batch(
            self._pending,
            self._resources,
            self._tls,
            self._released + self._discovered,  # in the order found
            self._done,
            self._released_rejected + self._rejected,
        )
        self._pending, self._resources, self._tls, self._discovered = [], [], [], []
        self._done, self._rejected = [], []
        self._released, self._released_rejected = [], []
        return batch

    def _insert(self, batch: _Batch) -> None:
        """Commit a batch on this thread's connection."""
        self._insert_rows(self.catalog, batch)
        self._committed(batch)

    def _committed(self, batch: _Batch) -> None:
        """On the crawl's thread, once a batch is committed."""
        self.committed += len(batch.rows)
        if self.on_committed is not None:
            self.on_committed()

    def _insert_rows(self, catalog: Catalog, batch: _Batch) -> None:
        """One transaction; run again when the database broke a deadlock with another
        worker's transaction by rolling this one back (nothing of it was kept)."""
        for attempt in range(1, RETRIES + 1):
            try:
                self._insert_once(catalog, batch)
            except DATABASE_ERRORS as exc:
                if attempt == RETRIES or not is_transient(exc):
                    raise
            else:
                return

    def _insert_once(self, catalog: Catalog, batch: _Batch) -> None:
        with catalog.transaction() as conn:
            frontier.add_entries(conn, self.job_id, batch.discovered)
            frontier.add_rejections(conn, self.job_id, batch.rejected)
            ids = insert_captures(conn, batch.rows)
            insert_resources(conn, [(ids[index], row) for index, row in batch.resources])
            insert_tls(conn, [(ids[index], row) for index, row in batch.tls])
            frontier.mark_done(conn, self.job_id, batch.done)
