"""The recorder commits a row only after the WARC bytes it points at are fsynced, also
when the fsync runs on another thread (archiver/capture/syncer.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from archiver.capture.context import FetchContext
from archiver.capture.recorder import CaptureRecorder
from archiver.catalog import open_catalog
from archiver.catalog.jobs import create_job
from archiver.storage.local import LocalStore
from archiver.warc.writer import WarcWriter


class HeldSyncer:
    """Holds each fsync (and what runs after it on the fsync thread) until the test lets
    it finish."""

    def __init__(self) -> None:
        self.waiting: list[tuple[int, object, object, object]] = []

    def fsync(self, fd, done, then=None, over=None) -> None:  # type: ignore[no-untyped-def]
        self.waiting.append((fd, done, then, over))

    def finish(self) -> None:
        import os

        waiting, self.waiting = self.waiting, []  # a callback may put the next one in
        for fd, done, then, over in waiting:
            os.fsync(fd)
            os.close(fd)
            error = None
            if then is not None:
                try:
                    then()  # type: ignore[operator]
                except Exception as exc:
                    error = exc
            if over is not None:
                over.set()  # type: ignore[attr-defined]
            done(error)  # type: ignore[operator]

    def close(self) -> None:
        pass


def recorder(tmp_path, location=None):  # type: ignore[no-untyped-def]
    catalog = open_catalog(location or tmp_path / "catalog.sqlite")
    job = create_job(catalog, "j", {}, [])
    writer = WarcWriter(tmp_path / "spool", warcinfo_fields=lambda name: [("software", "t")])
    made = CaptureRecorder(catalog, writer, LocalStore(tmp_path / "warcs"), job_id=job.id,
                           job_name="j", commit_every=1)  # fmt: skip
    made.rows.syncer = HeldSyncer()
    writer.builder()  # opens the file: rows from now on wait for its fsync
    return made, catalog


def rows(catalog) -> list[str]:  # type: ignore[no-untyped-def]
    order = "rowid" if catalog.dialect == "sqlite" else "captured_at, url"
    return [r[0] for r in catalog.conn.execute(f"SELECT url FROM captures ORDER BY {order}")]


def fail(made, url: str) -> None:  # type: ignore[no-untyped-def]
    ctx = FetchContext(seed_id=None, kind="page")
    made.record_failure(url, ctx, "refused", datetime(2026, 1, 1, tzinfo=UTC))


def test_rows_wait_for_the_fsync_and_stay_in_order(tmp_path):
    made, catalog = recorder(tmp_path)
    fail(made, "http://a.example/1")
    fail(made, "http://a.example/2")  # queued behind the batch in flight
    assert rows(catalog) == []
    assert len(made.rows.syncer.waiting) == 1
    made.rows.syncer.finish()  # the first batch is committed, the second goes in flight
    assert rows(catalog) == ["http://a.example/1"]
    made.rows.syncer.finish()
    assert rows(catalog) == ["http://a.example/1", "http://a.example/2"]


def test_sync_commits_everything_and_a_late_callback_does_nothing(tmp_path):
    made, catalog = recorder(tmp_path)
    fail(made, "http://a.example/1")
    fail(made, "http://a.example/2")
    made.sync()  # fsyncs on this thread, then commits the batch in flight and the rest
    assert rows(catalog) == ["http://a.example/1", "http://a.example/2"]
    made.rows.syncer.finish()  # the held callback finds its batch committed already
    assert rows(catalog) == ["http://a.example/1", "http://a.example/2"]
    made.close()
    assert made.captures_committed == 2


def test_each_commit_is_told_once_its_rows_are_in_the_catalog(tmp_path):
    # A worker on a shared frontier feeds Scrapy when told: the URLs found are leasable
    # only once committed, so it is told after the transaction, never before.
    made, catalog = recorder(tmp_path)
    seen: list[list[str]] = []
    made.rows.on_committed = lambda: seen.append(rows(catalog))
    fail(made, "http://a.example/1")
    assert seen == []  # the fsync is not done: nothing committed, nothing told
    made.rows.syncer.finish()
    assert seen == [["http://a.example/1"]]
    fail(made, "http://a.example/2")
    made.sync()
    assert seen == [["http://a.example/1"], ["http://a.example/1", "http://a.example/2"]]


def test_a_url_captured_while_its_entry_is_held_back_ends_done(tmp_path):
    # Records are written in the background in the order given, and a page's found links
    # wait for its row. An image found on page P is fetched and recorded while later pages
    # are still being written: its done mark must never be committed before its frontier
    # entry, or the entry (inserted after) stays queued though the image was captured.
    from archiver.capture.rowcommits import RowCommits
    from archiver.catalog.captures import CaptureRow
    from archiver.catalog.frontier import FrontierEntry, open_count

    catalog = open_catalog(tmp_path / "catalog.sqlite")
    job = create_job(catalog, "j", {}, [])
    writer = WarcWriter(tmp_path / "spool", warcinfo_fields=lambda name: [("software", "t")])
    commits = RowCommits(catalog, writer, job.id, commit_every=1)

    def row(url: str) -> CaptureRow:
        return CaptureRow(url=url, final_url=url, surt=url, seed_id=None, job_id=job.id,
                          kind="requisite", hops=1, via=None,
                          captured_at="2026-01-01T00:00:00.000Z", state="ok",
                          software="archiver/test", http_status=200)  # fmt: skip

    image = "http://a.example/img.png"
    commits.discover(FrontierEntry(image, None, "requisite", 1, "http://a.example/p"))
    held_by_p = commits.take_found()  # page P is recorded: its links wait for its row
    # The image is fetched and recorded; its group is written after P's.
    commits.put_back_found(held_by_p)  # P's records are written (its row not yet due)
    held_by_q = commits.take_found()  # page Q, recorded after the image, is being written
    commits.queue(row(image), image)  # the image's records are written: a commit is due
    commits.put_back_found(held_by_q)  # Q's records are written
    commits.queue(row("http://a.example/q"), None)
    state = catalog.conn.execute(
        "SELECT done FROM frontier WHERE job_id = ? AND url = ?", (job.id, image)
    ).fetchall()
    assert [tuple(r) for r in state] == [(1,)]
    assert open_count(catalog, job.id) == 0


# On PostgreSQL the fsync thread commits each batch on a connection of its own: the crawl's
# thread does not wait for the database's round trips (archiver/capture/rowcommits.py).


def on_postgres(tmp_path, postgres_url):  # type: ignore[no-untyped-def]
    import queue

    from archiver.capture.syncer import Syncer

    made, catalog = recorder(tmp_path, postgres_url)
    calls: queue.Queue = queue.Queue()  # what the fsync thread asks the crawl's thread to run
    made.rows.syncer = Syncer(lambda function, *args: calls.put((function, args)))
    made.rows.thread_catalog = open_catalog(postgres_url)
    return made, catalog, calls


def test_on_postgresql_the_fsync_thread_commits_the_rows(tmp_path, postgres_url):
    made, catalog, calls = on_postgres(tmp_path, postgres_url)
    told: list[list[str]] = []
    made.rows.on_committed = lambda: told.append(rows(catalog))
    fail(made, "http://a.example/1")
    function, args = calls.get(timeout=30)  # the batch's fsync and commit are over
    # Committed on the fsync thread's connection, before the crawl's thread is told.
    assert rows(catalog) == ["http://a.example/1"] and told == []
    assert made.captures_committed == 0
    function(*args)
    assert told == [["http://a.example/1"]] and made.captures_committed == 1
    made.close()


def test_on_postgresql_a_commit_that_failed_on_the_thread_is_never_made_twice(
    tmp_path, postgres_url
):
    # The connection is lost during COMMIT: the database committed the batch, the thread
    # was told it failed. A barrier (a WARC file rolled over, a host released) must not
    # insert the batch again on the crawl's connection: it raises the error instead, and
    # the crawl stops as it does when the catalog cannot be written.
    import psycopg
    import pytest

    made, catalog, calls = on_postgres(tmp_path, postgres_url)
    conn = made.rows.thread_catalog.conn
    commit = conn.commit

    def committed_then_lost() -> None:
        commit()
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    conn.commit = committed_then_lost
    fail(made, "http://a.example/1")
    with pytest.raises(psycopg.OperationalError, match="closed the connection"):
        made.sync()
    assert rows(catalog) == ["http://a.example/1"]  # once
    errors: list[Exception] = []
    made.rows.on_error = errors.append
    function, args = calls.get(timeout=30)
    function(*args)  # the thread's callback, after the barrier: nothing more to do
    assert errors == [] and rows(catalog) == ["http://a.example/1"]
    made.rows.syncer.close()


def test_on_postgresql_a_commit_that_failed_on_the_thread_stops_the_crawl(tmp_path, postgres_url):
    made, catalog, calls = on_postgres(tmp_path, postgres_url)
    made.rows.thread_catalog.close()  # its connection is gone: the commit there fails
    errors: list[Exception] = []
    made.rows.on_error = errors.append
    fail(made, "http://a.example/1")
    function, args = calls.get(timeout=30)
    function(*args)
    assert len(errors) == 1 and rows(catalog) == [] and made.captures_committed == 0
    made.rows.syncer.close()


def test_on_postgresql_settle_waits_for_the_batch_in_flight(tmp_path, postgres_url):
    # A lease renewal on the crawl's thread touches the frontier rows the batch in flight
    # marks done: it must wait for that commit, which does not wait for the crawl's thread.
    import threading

    made, catalog, calls = on_postgres(tmp_path, postgres_url)
    gate = threading.Event()
    commit_there = made.rows._commit_on_thread
    made.rows._commit_on_thread = lambda inflight: (gate.wait(), commit_there(inflight))
    fail(made, "http://a.example/1")
    settling = threading.Thread(target=made.rows.settle)
    settling.start()
    settling.join(timeout=0.5)
    assert settling.is_alive()  # held: the commit has not happened
    assert rows(catalog) == []
    gate.set()
    settling.join(timeout=30)
    assert not settling.is_alive() and rows(catalog) == ["http://a.example/1"]
    function, args = calls.get(timeout=30)
    function(*args)
    made.close()
