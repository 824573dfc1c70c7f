"""Catalog: migrations, capture ids."""

from __future__ import annotations

import re
import sqlite3

import pytest

from archiver.capture_ids import ALPHABET, new_capture_id, parse_capture_id
from archiver.catalog import open_catalog
from archiver.catalog.schema import MIGRATIONS
from archiver.errors import HomeError, NotFound


def test_migrations_apply_once_and_record_their_version(tmp_path):
    path = tmp_path / "c.sqlite"
    catalog = open_catalog(path)
    assert catalog.schema_version() == max(v for v, _, _ in MIGRATIONS)
    catalog.close()
    again = open_catalog(path)  # idempotent
    rows = again.conn.execute("SELECT version FROM schema_migrations").fetchall()
    assert [r[0] for r in rows] == [v for v, _, _ in MIGRATIONS]


def test_a_newer_catalog_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    open_catalog(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(HomeError, match="newer archiver"):
        open_catalog(path)


def test_capture_ids_are_readable_and_unambiguous():
    for _ in range(500):
        cid = new_capture_id()
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", cid)
    assert not set("0O1IL2Z5S8BUV") & set(ALPHABET)


def test_capture_ids_use_every_character_evenly_at_every_position():
    from collections import Counter

    ids = [new_capture_id().replace("-", "") for _ in range(23_000)]
    for position in range(8):
        counts = Counter(cid[position] for cid in ids)
        assert set(counts) == set(ALPHABET)
        # 1,000 expected each, a standard deviation of ~31: 200 off is over 6 of them.
        assert all(800 < n < 1200 for n in counts.values()), (position, counts)


@pytest.mark.parametrize("typed", ["k7qd-3xma", "K7QD3XMA", " k7qd3xma ", "K7QD-3XMA"])
def test_capture_ids_accept_any_case_and_dash(typed):
    assert parse_capture_id(typed) == "K7QD-3XMA"


@pytest.mark.parametrize("typed", ["", "K7QD-3XM", "K0QD-3XMA", "K7QD-3XMA-1"])
def test_malformed_capture_ids_are_refused(typed):
    with pytest.raises(NotFound, match="not a capture id"):
        parse_capture_id(typed)


def test_captures_inserted_many_a_statement_each_get_a_free_id(tmp_path, monkeypatch):
    from archiver.catalog import captures
    from archiver.catalog.captures import CaptureRow, get_capture, insert_captures
    from archiver.catalog.jobs import create_job
    from archiver.home import ArchiveHome

    catalog = open_catalog(ArchiveHome(tmp_path).catalog_location)  # SQLite, or PostgreSQL
    job = create_job(catalog, "j", {}, [])

    def row(n: int) -> CaptureRow:
        url = f"https://example.org/{n}"
        return CaptureRow(url=url, final_url=url, surt=f"org,example)/{n}", seed_id=None,
                          job_id=job.id, kind="seed", hops=0, via=None,
                          captured_at="2026-01-01T00:00:00.000Z", state="ok",
                          software="archiver/test", http_status=200 if n % 2 else None,
                          size=n * 3_000_000_000)  # fmt: skip

    with catalog.transaction() as conn:
        (taken,) = insert_captures(conn, [row(0)])
    # Drawn first: the id taken already (inserts nothing; that row draws again). Then,
    # in a second batch, the same fresh id twice (the batch draws again).
    draws = iter([taken])
    monkeypatch.setattr(captures, "new_capture_id", lambda: next(draws, None) or new_capture_id())
    rows = [row(n) for n in range(1, 1 + captures.INSERT_CHUNK + 20)]  # several on SQLite
    with catalog.transaction() as conn:
        ids = insert_captures(conn, rows)
    draws = iter(["AAAA-AAAA", "AAAA-AAAA"])
    more = [row(n) for n in range(len(rows) + 1, len(rows) + 4)]
    with catalog.transaction() as conn:
        ids += insert_captures(conn, more)
    assert len(set(ids)) == len(rows) + len(more) and taken not in ids
    assert next(draws, None) is None  # both drawn
    for n, capture_id in enumerate(ids, start=1):
        stored = get_capture(catalog, capture_id)
        assert (stored.url, stored.size) == (f"https://example.org/{n}", n * 3_000_000_000)
        assert stored.http_status == (200 if n % 2 else None)
    assert get_capture(catalog, taken).url == "https://example.org/0"


@pytest.mark.sqlite_only  # the SQLite migration path builds its bookkeeping INSERT as text
def test_a_migration_description_with_an_apostrophe_applies(tmp_path, monkeypatch):
    from archiver.catalog import db
    from archiver.catalog.schema import MIGRATIONS

    extra = (99, "a job's table: it's quoted", "CREATE TABLE t99 (x INTEGER);")
    monkeypatch.setattr(db, "MIGRATIONS", (*MIGRATIONS, extra))
    catalog = db.open_catalog(tmp_path / "catalog.sqlite")
    row = catalog.conn.execute("SELECT description FROM schema_migrations WHERE version = 99")
    assert row.fetchone()[0] == "a job's table: it's quoted"


def test_frontier_entries_go_in_at_once_in_url_order_and_a_known_url_is_skipped(tmp_path):
    # One statement for all of a batch's entries on PostgreSQL (archiver/catalog/bulk.py),
    # a row at a time on SQLite: the same rows either way.
    from archiver.catalog import frontier
    from archiver.catalog.frontier import FrontierEntry
    from archiver.catalog.jobs import create_job
    from archiver.home import ArchiveHome

    catalog = open_catalog(ArchiveHome(tmp_path).catalog_location)  # SQLite, or PostgreSQL
    job = create_job(catalog, "j", {}, [])
    first = FrontierEntry("https://b.example/1", None, "page", 0, None, path="")
    with catalog.transaction() as conn:
        frontier.add_entries(conn, job.id, [first])
    found = [
        FrontierEntry("https://c.example/x", None, "requisite", 2, "https://b.example/1",
                      embeds=1, redirects=0, path="LE"),
        FrontierEntry("https://b.example/1", None, "page", 5, "elsewhere", path="L"),  # known
        FrontierEntry("https://a.example/y", None, "page", 1, None, path=None),
    ]  # fmt: skip
    with catalog.transaction() as conn:
        frontier.add_entries(conn, job.id, found)
    assert list(frontier.pending(catalog, job.id)) == [first, found[2], found[0]]
    hosts = {row[0] for row in catalog.conn.execute("SELECT host FROM crawl_hosts")}
    assert hosts == {"a.example", "b.example", "c.example"}
