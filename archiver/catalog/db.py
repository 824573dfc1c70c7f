"""Opening the SQLite catalog and applying migrations."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from archiver.catalog.schema import MIGRATIONS
from archiver.errors import HomeError


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds, e.g. ``2020-02-12T06:00:00.123Z`` (also WARC-Date)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Catalog:
    """A connection to the catalog. Modules in this package take it as their first argument."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.conn:
            yield self.conn

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return row[0] or 0

    def close(self) -> None:
        self.conn.close()


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    newest = max(version for version, _, _ in MIGRATIONS)
    if applied and max(applied) > newest:
        raise HomeError(
            f"the catalog was written by a newer archiver (schema {max(applied)}, this one knows "
            f"{newest}): upgrade archiver"
        )
    for version, description, sql in MIGRATIONS:
        if version in applied:
            continue
        # executescript commits; wrap the migration and its bookkeeping in one transaction.
        conn.executescript(
            "BEGIN;\n"
            + sql
            + f"\nINSERT INTO schema_migrations VALUES ({version}, "
            + f"'{description}', '{iso_ms(utc_now())}');\nCOMMIT;"
        )


@contextmanager
def _migration_lock(path: Path) -> Iterator[None]:
    import fcntl

    try:
        fd = os.open(str(path) + ".migrate-lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only archive: nothing will be migrated there anyway
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def open_catalog(path: Path) -> Catalog:
    """Open (creating and migrating if needed) the catalog at ``path``."""
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        with _migration_lock(path):  # two processes opening a new catalog at once
            _migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise HomeError(
            f"cannot open the catalog {str(path)!r}: {exc}; check the archive home (--home)"
        ) from exc
    return Catalog(conn, path)
