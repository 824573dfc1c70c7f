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
    """Holds each fsync until the test lets it finish."""

    def __init__(self) -> None:
        self.waiting: list[tuple[int, object]] = []

    def fsync(self, fd, done) -> None:  # type: ignore[no-untyped-def]
        self.waiting.append((fd, done))

    def finish(self) -> None:
        import os

        waiting, self.waiting = self.waiting, []  # a callback may put the next one in
        for fd, done in waiting:
            os.fsync(fd)
            os.close(fd)
            done(None)  # type: ignore[operator]

    def close(self) -> None:
        pass


def recorder(tmp_path):  # type: ignore[no-untyped-def]
    catalog = open_catalog(tmp_path / "catalog.sqlite")
    job = create_job(catalog, "j", {}, [])
    writer = WarcWriter(tmp_path / "spool", warcinfo_fields=lambda name: [("software", "t")])
    made = CaptureRecorder(catalog, writer, LocalStore(tmp_path / "warcs"), job_id=job.id,
                           job_name="j", commit_every=1)  # fmt: skip
    made.rows.syncer = HeldSyncer()
    writer.builder()  # opens the file: rows from now on wait for its fsync
    return made, catalog


def rows(catalog) -> list[str]:  # type: ignore[no-untyped-def]
    return [r[0] for r in catalog.conn.execute("SELECT url FROM captures ORDER BY rowid")]


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
