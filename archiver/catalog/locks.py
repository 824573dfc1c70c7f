"""Named locks every process using a PostgreSQL catalog sees, on any machine.

Session advisory locks: held by the connection that took them, and released when it
ends however it ends (a kill -9 closes the connection), as a file lock is released
with its process. On SQLite the home's lock files do this job (archiver/joblock.py).
"""

from __future__ import annotations

from archiver.catalog.db import Catalog

_KEY = "hashtextextended(?, 0)"  # a 64-bit key from the lock's name


def try_lock(catalog: Catalog, name: str) -> bool:
    """Take the lock without waiting; False if another session holds it."""
    row = catalog.conn.execute(f"SELECT pg_try_advisory_lock({_KEY})", ("archiver:" + name,))
    return bool(row.fetchone()[0])


def unlock(catalog: Catalog, name: str) -> None:
    catalog.conn.execute(f"SELECT pg_advisory_unlock({_KEY})", ("archiver:" + name,)).fetchone()
