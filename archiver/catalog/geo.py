"""Each comparison of a seed's vantage points (``geo_comparisons``).

A row is one verdict (``same``, ``different``, ``blocked``, ``absent``, ``pending``), the
state each vantage point was in (JSON: vantage name, ``''`` direct, to its state) and the
content digest of each vantage point that saw the page present (JSON, the same keys);
what they mean is archiver/watch/geo.py's.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from archiver.catalog.db import iso_ms, utc_now


@dataclass(frozen=True)
class Comparison:
    id: int
    seed_id: int
    compared_at: str
    verdict: str
    states: dict[str, str]
    digests: dict[str, str | None]


def _comparison(row: sqlite3.Row | tuple) -> Comparison:
    id_, seed_id, compared_at, verdict, states, digests = tuple(row)
    return Comparison(id_, seed_id, compared_at, verdict, json.loads(states), json.loads(digests))


def last_comparison(
    conn: sqlite3.Connection, seed_id: int, *, ignoring: str = ""
) -> Comparison | None:
    """The seed's latest comparison whose verdict is not ``ignoring``."""
    found = last_comparisons(conn, seed_id, ignoring=ignoring, limit=1)
    return found[0] if found else None


def last_comparisons(
    conn: sqlite3.Connection, seed_id: int, *, ignoring: str = "", limit: int
) -> list[Comparison]:
    """The seed's latest ``limit`` comparisons whose verdict is not ``ignoring``, newest
    first."""
    rows = conn.execute(
        "SELECT id, seed_id, compared_at, verdict, states, digests FROM geo_comparisons"
        " WHERE seed_id = ? AND verdict != ? ORDER BY id DESC LIMIT ?",
        (seed_id, ignoring, limit),
    ).fetchall()
    return [_comparison(row) for row in rows]


def insert_comparison(
    conn: sqlite3.Connection,
    seed_id: int,
    verdict: str,
    states: dict[str, str],
    digests: dict[str, str | None],
) -> Comparison:
    """Record a comparison, made now, inside the caller's transaction."""
    compared_at = iso_ms(utc_now())
    cursor = conn.execute(
        "INSERT INTO geo_comparisons (seed_id, compared_at, verdict, states, digests)"
        " VALUES (?, ?, ?, ?, ?)",
        (seed_id, compared_at, verdict, json.dumps(states, sort_keys=True),
         json.dumps(digests, sort_keys=True)),
    )  # fmt: skip
    return Comparison(int(cursor.lastrowid or 0), seed_id, compared_at, verdict, states, digests)
