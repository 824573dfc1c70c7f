"""Many rows into one table: a statement a row on SQLite, one statement on PostgreSQL.

sqlite3 runs ``executemany`` in C, a row at a time, in process. psycopg's ``executemany``
adapts and sends each row from Python, and PostgreSQL plans and runs each one: on a
crawl's batches (hundreds of frontier entries a commit) that is most of the commit's
CPU. On PostgreSQL the rows go instead as one JSON array of arrays (``json.dumps``, in
C), unpacked by the server: one statement with one parameter, whose text is the same for
any number of rows, so psycopg parses it once and PostgreSQL prepares it once. (Arrays
a column, through ``unnest``, cost psycopg a regular expression per value.) The array
is read as ``jsonb``, parsed once: ``->>`` on ``json`` parses a row's text again for
every column (a capture row took 0.16 ms of the server's time, now 0.06).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# (column, PostgreSQL type of its values): "bigint" or "text"
Columns = Sequence[tuple[str, str]]


def json_insert(table: str, columns: Columns) -> str:
    """PostgreSQL: ``INSERT INTO table (…) SELECT … FROM jsonb_array_elements(?::jsonb)``,
    the one parameter a JSON array of the rows, each an array in the order of
    ``columns``."""
    names = ", ".join(name for name, _ in columns)
    values = ", ".join(
        f"(r->>{n})::{kind}" if kind != "text" else f"r->>{n}"
        for n, (_, kind) in enumerate(columns)
    )
    rows = "jsonb_array_elements(?::jsonb) AS r"
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {rows}"


def rows_json(rows: Sequence[Sequence[Any]]) -> str:
    """The parameter of a ``json_insert`` statement."""
    return json.dumps(rows, separators=(",", ":"))


def insert_many(
    conn: Any, table: str, columns: Columns, rows: Sequence[Sequence[Any]], *, ignore: bool = False
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``), inside the caller's
    transaction, in their order; ``ignore``: a row that conflicts with one there is left
    out (``INSERT OR IGNORE``, ``ON CONFLICT DO NOTHING``)."""
    if not rows:
        return
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        sql = json_insert(table, columns) + (" ON CONFLICT DO NOTHING" if ignore else "")
        conn.execute(sql, (rows_json(rows),))
        return
    names = ", ".join(name for name, _ in columns)
    marks = ", ".join("?" * len(columns))
    verb = "INSERT OR IGNORE" if ignore else "INSERT"
    conn.executemany(f"{verb} INTO {table} ({names}) VALUES ({marks})", rows)
