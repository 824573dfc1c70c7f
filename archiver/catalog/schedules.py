"""Recapture schedules (``schedules``), and the seed captures that tell when a seed is due.

What a schedule means (an interval, an RRULE, a ladder) is archiver/watch/schedules.py's
business; here are its rows. A ladder is stored as a JSON array of seconds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from archiver.catalog.db import Catalog


@dataclass(frozen=True)
class ScheduleRow:
    id: int
    seed_id: int | None
    tag: str | None
    every_s: int | None
    rrule: str | None
    ladder: tuple[int, ...]
    created_at: str
    via: str | None = None  # the vantage point its recaptures go through (None: the seed's)


@dataclass(frozen=True)
class Attempts:
    """A seed page's captures: its first successful one and its latest attempt (a failed
    fetch is an attempt), as catalog times; None when there is none."""

    first_success: str | None
    last: str | None


_COLUMNS = "id, seed_id, tag, every_s, rrule, ladder, created_at, via"


def _from_row(row: sqlite3.Row) -> ScheduleRow:
    ladder = tuple(json.loads(row["ladder"])) if row["ladder"] else ()
    return ScheduleRow(
        row["id"], row["seed_id"], row["tag"], row["every_s"], row["rrule"], ladder,
        row["created_at"], row["via"],
    )  # fmt: skip


def replace_schedule(
    catalog: Catalog,
    *,
    seed_id: int | None,
    tag: str | None,
    every_s: int | None,
    rrule: str | None,
    ladder: Sequence[int],
    created_at: str,
    via: str | None = None,
) -> ScheduleRow:
    """Give a seed (or a tag) this schedule in one transaction, replacing the one it had."""
    with catalog.transaction() as conn:
        if seed_id is not None:
            conn.execute("DELETE FROM schedules WHERE seed_id = ?", (seed_id,))
        else:
            conn.execute("DELETE FROM schedules WHERE tag = ?", (tag,))
        cursor = conn.execute(
            "INSERT INTO schedules (seed_id, tag, every_s, rrule, ladder, created_at, via)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seed_id, tag, every_s, rrule, json.dumps(list(ladder)) if ladder else None,
             created_at, via),
        )  # fmt: skip
    return get_schedule(catalog, int(cursor.lastrowid or 0))


def get_schedule(catalog: Catalog, schedule_id: int) -> ScheduleRow:
    row = catalog.conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,))
    return _from_row(row.fetchone())


def delete_schedule(catalog: Catalog, *, seed_id: int | None, tag: str | None) -> int:
    """Remove the schedule of a seed (or else of a tag); returns how many were removed."""
    with catalog.transaction() as conn:
        if seed_id is not None:
            removed = conn.execute("DELETE FROM schedules WHERE seed_id = ?", (seed_id,)).rowcount
        else:
            removed = conn.execute("DELETE FROM schedules WHERE tag = ?", (tag,)).rowcount
    return int(removed)


def list_schedules(catalog: Catalog) -> list[ScheduleRow]:
    """Every schedule, oldest first."""
    rows = catalog.conn.execute(f"SELECT {_COLUMNS} FROM schedules ORDER BY id")
    return [_from_row(row) for row in rows]


def seed_attempts(catalog: Catalog, seed_id: int) -> Attempts:
    """The captures of the seed page itself (kind seed, no hops) that set when it is due."""
    first, last = catalog.conn.execute(
        "SELECT MIN(CASE WHEN state != 'failed' THEN captured_at END), MAX(captured_at)"
        " FROM captures WHERE seed_id = ? AND kind = 'seed' AND hops = 0",
        (seed_id,),
    ).fetchone()
    return Attempts(first, last)
