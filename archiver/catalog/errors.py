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
