"""Copying a catalog into another: a home's SQLite catalog into PostgreSQL, for a team
that started on one laptop.

Every table is copied in the order the migrations created it (parents before the rows
that refer to them), ids kept, in one transaction on the target: a copy that fails
leaves the target as it was. The target must be empty (its schema is created on
opening). Then the copy is checked: the row count of every table, and every capture's
identity and fixity (id, URL, time, digests, WARC file, offset and length) compared
row by row, in id order, streamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from archiver.catalog.db import Catalog
from archiver.catalog.pgconn import IDENTITY_TABLES
from archiver.catalog.schema import MIGRATIONS
from archiver.errors import ArchiverError, IntegrityError

BATCH = 1000
# What a capture's citation rests on: compared between the source and the copy.
CAPTURE_FIXITY = (
    "id, url, captured_at, state, payload_digest, record_digest, record_id,"
    " warc_file, warc_offset, warc_length"
)


def tables() -> list[str]:
    """The catalog's tables in the order the migrations created them."""
    found: list[str] = []
    for _, _, sql in MIGRATIONS:
        found += re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+) \(", sql)
    return found


@dataclass(frozen=True)
class CopyReport:
    rows: dict[str, int]  # table -> rows copied (and found in the copy)
    captures_checked: int


def _columns(catalog: Catalog, table: str) -> list[str]:
    cursor = catalog.conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column[0] for column in cursor.description if column[0] != "rowid"]


def _count(catalog: Catalog, table: str) -> int:
    return int(catalog.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _rows(catalog: Catalog, table: str, columns: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    # In insertion order, which the copy's own row order (its rowid) then keeps.
    order = " ORDER BY rowid" if catalog.dialect == "sqlite" else ""
    cursor = catalog.conn.execute(f"SELECT {', '.join(columns)} FROM {table}{order}")
    while batch := cursor.fetchmany(BATCH):
        yield [tuple(row) for row in batch]


def copy_catalog(source: Catalog, target: Catalog) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target``, then check the copy."""
    names = tables()
    filled = [name for name in names if _count(target, name)]
    if filled:
        raise ArchiverError(
            f"the target catalog is not empty ({', '.join(filled)} have rows): copy into a new,"
            " empty database"
        )
    copied: dict[str, int] = {}
    with target.conn as conn:  # one transaction: all of it, or nothing
        for name in names:
            columns = _columns(source, name)
            marks = ", ".join("?" * len(columns))
            insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"
            copied[name] = 0
            for batch in _rows(source, name, columns):
                conn.executemany(insert, batch)
                copied[name] += len(batch)
            if target.dialect == "postgresql" and name in IDENTITY_TABLES:
                # Ids were given: the next one the database assigns comes after them.
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                )
    return CopyReport(copied, check_copy(source, target, copied))


def check_copy(source: Catalog, target: Catalog, copied: dict[str, int]) -> int:
    """Row counts of every table, and every capture's fixity fields, alike in both;
    returns how many captures were compared."""
    for name, count in copied.items():
        found = _count(target, name)
        if found != count or _count(source, name) != count:
            raise IntegrityError(f"the copy of table {name} has {found} rows, not {count}")
    query = f"SELECT {CAPTURE_FIXITY} FROM captures ORDER BY id"
    checked = 0
    pairs = zip_longest(source.conn.execute(query), target.conn.execute(query))
    for mine, theirs in pairs:
        if mine is None or theirs is None or tuple(mine) != tuple(theirs):
            which = (mine or theirs)[0]
            raise IntegrityError(f"capture {which} differs in the copy")
        checked += 1
    return checked
