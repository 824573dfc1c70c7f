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


@pytest.mark.parametrize("typed", ["k7qd-3xma", "K7QD3XMA", " k7qd3xma ", "K7QD-3XMA"])
def test_capture_ids_accept_any_case_and_dash(typed):
    assert parse_capture_id(typed) == "K7QD-3XMA"


@pytest.mark.parametrize("typed", ["", "K7QD-3XM", "K0QD-3XMA", "K7QD-3XMA-1"])
def test_malformed_capture_ids_are_refused(typed):
    with pytest.raises(NotFound, match="not a capture id"):
        parse_capture_id(typed)
