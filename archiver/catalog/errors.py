"""What the catalog's database raises when it cannot be read or written.

Callers that must tell a broken archive (disk full, read-only, locked) from a bug catch
``DATABASE_ERRORS`` and never import the driver themselves.
"""

from __future__ import annotations

import sqlite3

DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)
try:  # a PostgreSQL catalog's driver, where it is installed
    import psycopg

    DATABASE_ERRORS += (psycopg.Error,)
except ImportError:  # pragma: no cover - psycopg is a dependency
    pass


def is_transient(exc: BaseException) -> bool:
    """A transaction the database rolled back to break a deadlock or a serialization
    conflict between workers: running it again is safe and expected to succeed."""
    return getattr(exc, "sqlstate", None) in ("40P01", "40001")
