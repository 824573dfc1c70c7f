"""Records written on a thread of their own (archiver/warc/background.py): in order, each
capture's row queued only once its records are written, a page's links with its row."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime

import pytest
from test_recorder_sync import HeldSyncer
from warcio.archiveiterator import ArchiveIterator

from archiver.capture.context import FetchContext
from archiver.capture.exchange import Exchange
from archiver.capture.recorder import CaptureRecorder
from archiver.catalog import open_catalog
from archiver.catalog.frontier import FrontierEntry
from archiver.catalog.jobs import create_job
from archiver.storage.local import LocalStore
from archiver.warc.background import BackgroundWrites
from archiver.warc.writer import WarcWriter

DATE = "2026-01-01T00:00:00.000Z"


class Loop:
    """Stands in for the reactor: the calls the writing thread asks for wait here."""

    def __init__(self) -> None:
        self.calls: list[object] = []

    def call(self, function) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(function)


def test_groups_are_written_in_order_and_completed_on_the_calling_thread(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo_fields=lambda name: [("software", "t")])
    builder = writer.builder()
    background = BackgroundWrites(writer, Loop().call)
    done: list[tuple[str, int]] = []
    for n in range(20):
        record = builder.build("resource", date=DATE, target_uri=f"urn:x:{n}", head=b"x" * n)
        background.submit(
            [record], lambda where, n=n: done.append((f"urn:x:{n}", where[0].offset)), done.append
        )
    background.drain()
    assert [uri for uri, _ in done] == [f"urn:x:{n}" for n in range(20)]
    background.close()
    closed = writer.close()
    assert closed is not None
    with open(closed.path, "rb") as handle:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(handle)]
    assert uris[1:] == [uri for uri, _ in done]
    offsets = [offset for _, offset in done]
    assert offsets == sorted(offsets) and len(set(offsets)) == 20


class FullDisk(io.BytesIO):
    def read(self, size=-1):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")


def test_a_group_that_fails_is_cut_back_and_reported_and_the_next_ones_are_written(tmp_path):
    from archiver.warc.records import Body, Record

    writer = WarcWriter(tmp_path, warcinfo_fields=lambda name: [("software", "t")])
    builder = writer.builder()
    background = BackgroundWrites(writer, Loop().call)
    errors: list[BaseException] = []
    written: list[str] = []
    good = builder.build("resource", date=DATE, target_uri="urn:x:ok", head=b"ok")
    bad = builder.build("resource", date=DATE, target_uri="urn:x:bad", head=b"bad")
    broken = Record(bad.fields, b"", Body(FullDisk(b"x" * 10), 10))
    after = builder.build("resource", date=DATE, target_uri="urn:x:after", head=b"after")
    for record in (good, broken, after):
        uri = record.field("WARC-Target-URI")
        background.submit([record], lambda where, uri=uri: written.append(uri), errors.append)
    background.drain()
    background.close()
    assert written == ["urn:x:ok", "urn:x:after"]
    assert [str(e) for e in errors] == ["[Errno 28] No space left on device"]
    closed = writer.close()
    assert closed is not None
    with gzip.open(closed.path) as data:
        assert b"urn:x:bad" not in data.read()


def exchange(url: str) -> Exchange:
    made = Exchange(url=url, started_at=datetime(2026, 1, 1, tzinfo=UTC))
    made.on_request_bytes(b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")
    made.on_response_bytes(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
    made.on_body(b"<a href='/next'>next</a>")
    made.finish()
    return made


@pytest.fixture
def recording(tmp_path):  # type: ignore[no-untyped-def]
    catalog = open_catalog(tmp_path / "catalog.sqlite")
    job = create_job(catalog, "j", {}, [])
    writer = WarcWriter(tmp_path / "spool", warcinfo_fields=lambda name: [("software", "t")])
    made = CaptureRecorder(catalog, writer, LocalStore(tmp_path / "warcs"), job_id=job.id,
                           job_name="j", commit_every=1)  # fmt: skip
    made.rows.syncer = HeldSyncer()
    loop = Loop()
    made.background = BackgroundWrites(writer, loop.call)
    yield made, catalog, loop
    made.close()


def test_a_page_row_and_its_links_are_committed_together(recording):
    made, catalog, loop = recording
    page, link = "http://a.example/", "http://a.example/next"
    made.discover(FrontierEntry(link, None, "page", 1, page))  # found while parsing the page
    made.record_exchange(exchange(page), FetchContext(seed_id=None, kind="page"))
    made.commit()  # a commit while the page's records are being written
    made.rows.syncer.finish()
    frontier = "SELECT url FROM frontier ORDER BY url"
    assert [r[0] for r in catalog.conn.execute(frontier)] == []  # the link waits for its page
    made.background._jobs.join()  # written: the row is queued when the loop runs the call
    assert loop.calls
    for call in loop.calls:
        call()  # type: ignore[operator]
    made.rows.syncer.finish()
    made.sync()
    assert [r[0] for r in catalog.conn.execute("SELECT url FROM captures")] == [page]
    assert [r[0] for r in catalog.conn.execute(frontier)] == [link]


def test_sync_waits_for_the_records_being_written(recording):
    made, catalog, _ = recording
    for n in range(10):
        made.record_exchange(
            exchange(f"http://a.example/{n}"), FetchContext(seed_id=None, kind="page")
        )
    made.sync()  # a barrier: every capture recorded so far is in the catalog
    urls = [r[0] for r in catalog.conn.execute("SELECT url FROM captures ORDER BY rowid")]
    assert urls == [f"http://a.example/{n}" for n in range(10)]


def test_files_roll_over_where_writing_each_group_at_once_would(tmp_path):
    # The crawl's thread rolls a file over, once the writes that may fill it are done: a
    # file is closed as soon as it holds 2,000 bytes or more, never before.
    catalog = open_catalog(tmp_path / "catalog.sqlite")
    job = create_job(catalog, "j", {}, [])
    writer = WarcWriter(tmp_path / "spool", warcinfo_fields=lambda name: [("software", "t")],
                        max_size=2000)  # fmt: skip
    made = CaptureRecorder(catalog, writer, LocalStore(tmp_path / "warcs"), job_id=job.id,
                           job_name="j")  # fmt: skip
    made.background = BackgroundWrites(writer, Loop().call)
    for n in range(12):
        made.record_exchange(
            exchange(f"http://a.example/{n}"), FetchContext(seed_id=None, kind="page")
        )
    made.close()
    rows = catalog.conn.execute(
        "SELECT url, warc_file, warc_offset, request_offset FROM captures ORDER BY rowid"
    ).fetchall()
    assert [r[0] for r in rows] == [f"http://a.example/{n}" for n in range(12)]
    files = sorted({r[1] for r in rows}, key=lambda name: name.split("-")[2])
    assert len(files) > 2
    for name in files[:-1]:  # each but the last: full, and not before its last capture
        last = max(r[3] for r in rows if r[1] == name)  # where its last group begins
        assert last < 2000 <= (tmp_path / "warcs" / "j" / name).stat().st_size
    for url, name, offset, _ in rows:
        with open(tmp_path / "warcs" / "j" / name, "rb") as handle:
            handle.seek(offset)
            record = next(iter(ArchiveIterator(handle)))
            assert record.rec_headers.get_header("WARC-Target-URI") == url
