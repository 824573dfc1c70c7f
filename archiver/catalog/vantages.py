"""Vantage points (``vantages``): a name for a proxy, its kind and country.

The proxy URL holds a password only as an ``env:VARIABLE`` reference
(archiver/vantage/proxyurl.py checks that before a row is written).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archiver.catalog.db import Catalog


@dataclass(frozen=True)
class VantageRow:
    name: str
    kind: str
    proxy: str
    country: str | None
    note: str
    created_at: str


_COLUMNS = "name, kind, proxy, country, note, created_at"


def _from_row(row: sqlite3.Row) -> VantageRow:
    return VantageRow(
        row["name"], row["kind"], row["proxy"], row["country"], row["note"], row["created_at"]
    )


def add_vantage(catalog: Catalog, row: VantageRow) -> bool:
    """Add a vantage point; False (and nothing changed) when its name is taken."""
    with catalog.transaction() as conn:
        cursor = conn.execute(
            f"INSERT OR IGNORE INTO vantages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (row.name, row.kind, row.proxy, row.country, row.note, row.created_at),
        )
    return cursor.rowcount == 1


def get_vantage(catalog: Catalog, name: str) -> VantageRow | None:
    row = catalog.conn.execute(f"SELECT {_COLUMNS} FROM vantages WHERE name = ?", (name,))
    found = row.fetchone()
    return _from_row(found) if found else None


def list_vantages(catalog: Catalog) -> list[VantageRow]:
    """Every vantage point, by name."""
    rows = catalog.conn.execute(f"SELECT {_COLUMNS} FROM vantages ORDER BY name")
    return [_from_row(row) for row in rows]


def delete_vantage(catalog: Catalog, name: str) -> bool:
    """Remove a vantage point; False when there was none of that name."""
    with catalog.transaction() as conn:
        removed = conn.execute("DELETE FROM vantages WHERE name = ?", (name,)).rowcount
    return removed == 1


@dataclass(frozen=True)
class VantageUsers:
    """What still names a vantage point: active seeds (ids) and schedules (``seed 3``,
    ``tag weibo``), each through their ``via`` (a name, or several separated by commas)."""

    seeds: list[int]
    schedules: list[str]


def users_of(catalog: Catalog, name: str) -> VantageUsers:
    """The active seeds and the schedules whose ``via`` names vantage point ``name``."""
    seeds = catalog.conn.execute(
        "SELECT id, via FROM seeds WHERE via IS NOT NULL AND removed_at IS NULL ORDER BY id"
    )
    schedules = catalog.conn.execute(
        "SELECT seed_id, tag, via FROM schedules WHERE via IS NOT NULL ORDER BY id"
    )
    return VantageUsers(
        [seed_id for seed_id, via in seeds if name in via.split(",")],
        [
            f"seed {seed_id}" if seed_id is not None else f"tag {tag}"
            for seed_id, tag, via in schedules
            if name in via.split(",")
        ],
    )
