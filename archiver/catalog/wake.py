"""Waking ``archiver watch`` on any machine when its work changes (PostgreSQL catalogs):
the commands that add or edit seeds and set schedules send ``NOTIFY archiver_wake``, and
a watch ``LISTEN``s on a connection of its own. On SQLite the home's wake file does this
job (archiver/watch/wake.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archiver.catalog.db import Catalog, is_postgres

CHANNEL = "archiver_wake"


def notify(catalog: Catalog) -> None:
    if catalog.dialect != "postgresql":
        return
    with catalog.transaction() as conn:
        conn.execute("SELECT pg_notify(?, '')", (CHANNEL,))


class Listener:
    """Notifications on ``CHANNEL``, kept while the watch runs (those sent while it was
    busy are delivered at its next wait)."""

    def __init__(self, location: Path | str):
        self._conn: Any = None
        if is_postgres(location):
            import psycopg

            self._conn = psycopg.connect(str(location), autocommit=True, connect_timeout=10)
            self._conn.execute(f"LISTEN {CHANNEL}")

    @property
    def active(self) -> bool:
        return self._conn is not None

    def wait(self, seconds: float) -> bool:
        """True if a notification came within ``seconds``."""
        if self._conn is None:
            return False
        return any(True for _ in self._conn.notifies(timeout=seconds, stop_after=1))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
