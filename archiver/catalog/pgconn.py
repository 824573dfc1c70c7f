"""A PostgreSQL connection that behaves as the catalog's SQLite connection does.

The catalog's modules run the same statements on both engines (see dialect.py for what
differs). This adapter gives a psycopg 3 connection the sqlite3 module's shape, so that
code need not know which engine it talks to:

- ``?`` placeholders, translated to psycopg's ``%s`` (and a literal ``%`` doubled);
- rows readable by position and by column name, as ``sqlite3.Row``;
- sqlite3's transaction rule: a transaction opens before the first statement that
  writes (``INSERT``, ``UPDATE``, ``DELETE``, DDL), a read alone never holds one open;
  ``with conn:`` commits, or rolls back on an exception; ``commit()``, ``rollback()``
  and ``in_transaction`` as in sqlite3;
- ``executescript`` for migrations (several statements, no parameters).

Times stay ISO 8601 text, as in SQLite, so both engines sort and compare them alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from archiver.catalog import dialect
from archiver.catalog.schema import MIGRATIONS

_WRITES = re.compile(
    r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH\b.*\b(INSERT|UPDATE|DELETE))\b"
    # locking reads and transaction-scoped locks hold their locks only inside one
    r"|.*\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE)\b|.*_xact_lock\(",
    re.IGNORECASE | re.DOTALL,
)
_BEGINS = re.compile(r"\s*BEGIN\b", re.IGNORECASE)
# An INSERT of given values (not of a query's rows), whose new id sqlite3 gives as lastrowid.
_INSERT_INTO = re.compile(
    r"\s*INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+(\w+)\s*(?:\([^)]*\))?\s*VALUES\b", re.IGNORECASE
)


def translate(sql: str, params: Sequence[Any]) -> str:
    """A catalog statement for psycopg: PostgreSQL's spelling, and sqlite3's qmark style
    turned into psycopg's format style (psycopg reads ``%`` only when given parameters)."""
    return _translated(sql, bool(params))


@functools.lru_cache(maxsize=1024)
def _translated(sql: str, with_params: bool) -> str:
    """Once per statement text: a crawl runs the same few statements for every batch."""
    sql = dialect.statement(sql)
    return sql.replace("%", "%%").replace("?", "%s") if with_params else sql


def _identity_tables() -> frozenset[str]:
    """Tables whose ``id`` the database assigns (``INTEGER PRIMARY KEY`` in SQLite)."""
    found = set()
    for _, _, sql in MIGRATIONS:
        for match in re.finditer(
            r"CREATE TABLE (?:IF NOT EXISTS )?(\w+) \(\s*id\s+INTEGER PRIMARY KEY", sql
        ):
            found.add(match.group(1))
    return frozenset(found)


IDENTITY_TABLES = _identity_tables()


class Row(tuple):
    """A result row read by position or by column name (as ``sqlite3.Row``)."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    description = cursor.description
    if description is None:
        return tuple
    index = {column.name: i for i, column in enumerate(description)}
    return lambda values: Row(values, index)


class PgCursor:
    """The sqlite3 cursor's shape over a psycopg cursor."""

    def __init__(self, owner: PgConnection):
        self._owner = owner
        self._cursor = owner.raw.cursor(row_factory=_row_factory)
        self.lastrowid: int | None = None

    @property
    def connection(self) -> PgConnection:
        return self._owner

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self) -> Any:
        return self._cursor.description

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        self._owner._before(sql)
        inserted = _INSERT_INTO.match(sql)
        if inserted and inserted.group(1) in IDENTITY_TABLES and "RETURNING" not in sql.upper():
            # sqlite3's cursor.lastrowid: the id the database gave the row inserted.
            self._cursor.execute(translate(sql, params) + " RETURNING id", tuple(params) or None)
            row = self._cursor.fetchone()
            self.lastrowid = row[0] if row else None
            return self
        self._cursor.execute(translate(sql, params), tuple(params) if params else None)
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgCursor:
        self._owner._before(sql)
        rows = [tuple(r) for r in rows]
        if rows:
            self._cursor.executemany(translate(sql, rows[0]), rows)
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchmany(self, size: int = 1) -> list[Any]:
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        if self._cursor.description is None:
            return iter(())
        return iter(self._cursor)

    def close(self) -> None:
        self._cursor.close()


class PgConnection:
    """A psycopg connection in autocommit mode that opens transactions as sqlite3 does."""

    dialect = "postgresql"

    def __init__(self, raw: Any):
        self.raw = raw  # a psycopg.Connection with autocommit=True
        self._open = False

    @property
    def in_transaction(self) -> bool:
        return self._open

    def _before(self, sql: str) -> None:
        if _BEGINS.match(sql):
            self._open = True
        elif not self._open and _WRITES.match(sql):
            self.raw.execute("BEGIN")
            self._open = True

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgCursor:
        return self.cursor().executemany(sql, rows)

    def executescript(self, script: str) -> None:
        """Statements without parameters, run as written (their own BEGIN/COMMIT)."""
        self.raw.execute(script)
        self._open = False

    def commit(self) -> None:
        if self._open:
            self._open = False  # a COMMIT that fails ends the transaction too (rolled back)
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self._open:
            self._open = False
            self.raw.execute("ROLLBACK")

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()

    def close(self) -> None:
        self.raw.close()
