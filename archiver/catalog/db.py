"""Opening the catalog and applying migrations: SQLite in the archive home (the embedded
default), or PostgreSQL at a ``postgresql://`` URL shared by several workers."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.catalog.schema import MIGRATIONS
from archiver.errors import HomeError


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds, e.g. ``2020-02-12T06:00:00.123Z`` (also WARC-Date)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_s(moment: datetime | None = None) -> str:
    """UTC ISO 8601 to the second, e.g. ``2026-11-30T04:18:04Z``: times at the start of a
    line on the terminal (progress, watch). Now, by default."""
    return (moment or utc_now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | os.PathLike[str]) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


class Catalog:
    """A connection to the catalog. Modules in this package take it as their first argument.

    ``conn`` is a ``sqlite3.Connection``, or a :class:`~archiver.catalog.pgconn.PgConnection`
    of the same shape; ``dialect`` says which ("sqlite" or "postgresql")."""

    def __init__(self, conn: Any, path: Path | str):
        self.conn = conn
        self.path = path  # the SQLite file, or the PostgreSQL URL (password masked)
        self.dialect = getattr(conn, "dialect", "sqlite")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.conn:
            yield self.conn

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return row[0] or 0

    def close(self) -> None:
        self.conn.close()


def _migrate(conn: Any) -> None:
    postgres = getattr(conn, "dialect", "sqlite") == "postgresql"
    table = (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    if postgres:
        from archiver.catalog import dialect

        # Under the migration lock: two processes opening a new database at once.
        conn.executescript(
            f"BEGIN; {dialect.MIGRATION_LOCK}; {dialect.NOCASE_COLLATION}; {table}; COMMIT;"
        )
    else:
        conn.execute(table)
        conn.commit()
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
        if postgres:
            _migrate_postgres(conn, version, description, sql)
            continue
        # executescript commits; wrap the migration and its bookkeeping in one transaction.
        conn.executescript(
            "BEGIN;\n"
            + sql
            + f"\nINSERT INTO schema_migrations VALUES ({version}, "
            + f"'{_quoted(description)}', '{iso_ms(utc_now())}');\nCOMMIT;"
        )


def _quoted(text: str) -> str:
    """Text inside an SQL string literal (executescript takes no parameters)."""
    return text.replace("'", "''")


def _migrate_postgres(conn: Any, version: int, description: str, sql: str) -> None:
    """One migration in one transaction, under a lock that serializes the processes
    migrating the same database; skipped if another one applied it meanwhile."""
    from archiver.catalog import dialect

    conn.execute("BEGIN")
    try:
        conn.execute(dialect.MIGRATION_LOCK)
        done = conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,))
        if done.fetchone() is None:
            conn.raw.execute(dialect.ddl(sql))
            conn.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                (version, description, iso_ms(utc_now())),
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


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


def open_catalog(location: Path | str, *, create: bool = True) -> Catalog:
    """Open (migrating if needed) the catalog at ``location``: an SQLite file, or a
    ``postgresql://`` URL. Without ``create``, a catalog that does not exist yet (no
    file, or a database without our tables) is an error, and nothing is created."""
    if is_postgres(location):
        return _open_postgres(str(location), create)
    path = Path(location)
    if not create and not path.is_file():
        raise HomeError(
            f"no archive in {str(path.parent)!r}: it has no {path.name}. Give the archive's"
            " folder with --home (or ARCHIVER_HOME), or start an archive there with"
            " 'archiver seeds add URL'"
        )
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
        conn.row_factory = sqlite3.Row
        # Two processes opening a new catalog at once: switching a new file to WAL takes
        # an exclusive lock that SQLite may refuse at once ("database is locked") rather
        # than wait for, so the switch is made under the migration lock too.
        with _migration_lock(path):
            conn.execute("PRAGMA journal_mode=WAL")
            _migrate(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        raise HomeError(
            f"cannot open the catalog {str(path)!r}: {exc}; check the archive home (--home)"
        ) from exc
    return Catalog(conn, path)


def url_passwords(url: str) -> set[str]:
    """The password a catalog URL carries, in the user part or as ``?password=``, as
    written and decoded: strings no message or log line may hold."""
    from urllib.parse import unquote, unquote_plus, urlsplit

    found: set[str] = set()
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    written = [parts.netloc.rsplit("@", 1)[0].partition(":")[2] if "@" in parts.netloc else ""]
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if unquote_plus(key) == "password":
            written.append(value)
    for value in written:
        if value:
            found |= {value, unquote(value), unquote_plus(value)}
    return found


def masked(url: str) -> str:
    """A catalog URL as it may be shown: never its password."""
    shown = url
    for secret in sorted(url_passwords(url), key=len, reverse=True):
        shown = shown.replace(secret, "***")
    return shown


def _has_tables(conn: Any) -> bool:
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    return bool(row[0])


def _open_postgres(url: str, create: bool = True) -> Catalog:
    try:
        import psycopg
    except ImportError:
        raise HomeError(
            "a PostgreSQL catalog needs psycopg: pip install 'psycopg[binary]'"
        ) from None
    from archiver.catalog.pgconn import PgConnection

    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10)
        # JSON comes back as text, as SQLite's JSON functions give it.
        from psycopg.types.string import TextLoader

        raw.adapters.register_loader("json", TextLoader)
        conn = PgConnection(raw)
        if not create and not _has_tables(conn):
            conn.close()
            raise HomeError(
                f"no archive in the catalog {masked(url)}: the database has no archiver tables"
                " yet. Check --catalog (or ARCHIVER_CATALOG), or start an archive there with"
                " 'archiver seeds add URL'"
            )
        _migrate(conn)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # A message about a URL psycopg cannot parse may quote it, password and all.
        for secret in url_passwords(url):
            reason = reason.replace(secret, "***")
        raise HomeError(
            f"cannot open the catalog {masked(url)}: {reason}; check --catalog or ARCHIVER_CATALOG"
        ) from None
    return Catalog(conn, masked(url))
