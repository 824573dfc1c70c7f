"""Each comparison of a seed's vantage points (``geo_comparisons``).

A row is one verdict (``same``, ``different``, ``blocked``, ``absent``, ``pending``) and
the state each vantage point was in (JSON: vantage name, ``''`` direct, to its state);
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


def _comparison(row: sqlite3.Row | tuple) -> Comparison:
    id_, seed_id, compared_at, verdict, states = tuple(row)
    return Comparison(id_, seed_id, compared_at, verdict, json.loads(states))


def last_comparison(
    conn: sqlite3.Connection, seed_id: int, *, ignoring: str = ""
) -> Comparison | None:
    """The seed's latest comparison whose verdict is not ``ignoring``."""
    row = conn.execute(
        "SELECT id, seed_id, compared_at, verdict, states FROM geo_comparisons"
        " WHERE seed_id = ? AND verdict != ? ORDER BY id DESC LIMIT 1",
        (seed_id, ignoring),
    ).fetchone()
    return _comparison(row) if row else None


def insert_comparison(
    conn: sqlite3.Connection, seed_id: int, verdict: str, states: dict[str, str]
) -> Comparison:
    """Record a comparison, made now, inside the caller's transaction."""
    compared_at = iso_ms(utc_now())
    cursor = conn.execute(
        "INSERT INTO geo_comparisons (seed_id, compared_at, verdict, states) VALUES (?, ?, ?, ?)",
        (seed_id, compared_at, verdict, json.dumps(states, sort_keys=True)),
    )
    return Comparison(int(cursor.lastrowid or 0), seed_id, compared_at, verdict, states)
