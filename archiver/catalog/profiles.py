"""Login profiles (``profiles``): a name, the hosts its cookies go to, and what those
cookies are (names, domains, paths, expiry), never their values.

The values live in a file of the home only the operator can read
(archiver/profiles/store.py); the catalog, which may be shared and backed up, holds
nothing that signs anyone in.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from archiver.catalog.db import Catalog


@dataclass(frozen=True)
class CookieFacts:
    """A profile's cookie as the catalog knows it: everything but its value."""

    name: str
    domain: str  # as the file gives it: ".example.org" for the domain and its subdomains
    path: str
    secure: bool
    http_only: bool
    expires: str | None  # ISO 8601 UTC; None for a session cookie


@dataclass(frozen=True)
class ProfileRow:
    name: str
    hosts: tuple[str, ...]
    cookies: tuple[CookieFacts, ...]
    note: str
    created_at: str


_COLUMNS = "name, hosts, cookies, note, created_at"


def _from_row(row: sqlite3.Row) -> ProfileRow:
    cookies = tuple(CookieFacts(**item) for item in json.loads(row["cookies"]))
    hosts = tuple(host for host in row["hosts"].split(",") if host)
    return ProfileRow(row["name"], hosts, cookies, row["note"], row["created_at"])


def add_profile(catalog: Catalog, row: ProfileRow) -> bool:
    """Add a profile; False (and nothing changed) when its name is taken."""
    cookies = json.dumps([vars(cookie) for cookie in row.cookies])
    with catalog.transaction() as conn:
        cursor = conn.execute(
            f"INSERT OR IGNORE INTO profiles ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (row.name, ",".join(row.hosts), cookies, row.note, row.created_at),
        )
    return cursor.rowcount == 1


def get_profile(catalog: Catalog, name: str) -> ProfileRow | None:
    row = catalog.conn.execute(f"SELECT {_COLUMNS} FROM profiles WHERE name = ?", (name,))
    found = row.fetchone()
    return _from_row(found) if found else None


def list_profiles(catalog: Catalog) -> list[ProfileRow]:
    """Every profile, by name."""
    rows = catalog.conn.execute(f"SELECT {_COLUMNS} FROM profiles ORDER BY name")
    return [_from_row(row) for row in rows]


def delete_profile(catalog: Catalog, name: str) -> bool:
    """Remove a profile; False when there was none of that name. Seeds that named it
    keep the name (a crawl of them says the profile is gone); captures keep theirs."""
    with catalog.transaction() as conn:
        removed = conn.execute("DELETE FROM profiles WHERE name = ?", (name,)).rowcount
    return removed == 1


def seeds_using(catalog: Catalog, name: str) -> list[int]:
    """The active seeds crawled as this profile."""
    rows = catalog.conn.execute(
        "SELECT id FROM seeds WHERE profile = ? AND removed_at IS NULL ORDER BY id", (name,)
    )
    return [row["id"] for row in rows]
