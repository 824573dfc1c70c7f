"""The crawl workers sharing the catalog: who runs where, on which job, and whether alive.

Times are the database's clock (seconds since the epoch), as leases are, so workers on
machines whose clocks disagree are judged alike. A worker whose heartbeat is older than
``DEAD_AFTER`` seconds is shown as dead; its leases expire on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from archiver.catalog.db import Catalog
from archiver.catalog.leases import clock_sql

DEAD_AFTER = 30.0


def register(catalog: Catalog, worker_id: str, hostname: str, pid: int, job: str) -> None:
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM workers WHERE id = ?", (worker_id,))
        conn.execute(
            clock_sql(
                catalog,
                "INSERT INTO workers (id, hostname, pid, job, state, started_at, heartbeat_at)"
                " VALUES (?, ?, ?, ?, 'running', {now}, {now})",
            ),
            (worker_id, hostname, pid, job),
        )


def beat(catalog: Catalog, worker_id: str, fetched: int, job: str | None = None) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            clock_sql(
                catalog,
                "UPDATE workers SET heartbeat_at = {now}, fetched = ?, job = COALESCE(?, job)"
                " WHERE id = ?",
            ),
            (fetched, job, worker_id),
        )


def stopped(
    catalog: Catalog,
    worker_id: str,
    fetched: int | None,
    failure: str | None = None,
    reason: str | None = None,
) -> None:
    """The worker ended: ``stopped`` (with Scrapy's reason: finished, shutdown), or
    ``failed`` with why (a full disk, say). ``fetched`` None: as its last heartbeat said."""
    with catalog.transaction() as conn:
        conn.execute(
            clock_sql(
                catalog,
                "UPDATE workers SET state = ?, reason = ?, heartbeat_at = {now},"
                " fetched = COALESCE(?, fetched) WHERE id = ?",
            ),
            ("failed" if failure else "stopped", failure or reason, fetched, worker_id),
        )


def others_on_job(catalog: Catalog, job: str, worker_id: str) -> list[str]:
    """The other workers on a job that are alive (their heartbeat recent)."""
    return [
        w.id
        for w in list_workers(catalog)
        if w.job == job and w.id != worker_id and w.state == "running"
    ]


def ending(catalog: Catalog, worker_id: str) -> tuple[str | None, str | None]:
    """How the worker ended: its state (stopped, failed) and the reason recorded."""
    row = catalog.conn.execute(
        "SELECT state, reason FROM workers WHERE id = ?", (worker_id,)
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


@dataclass(frozen=True)
class Worker:
    id: str
    hostname: str
    pid: int
    job: str | None
    state: str  # running, stopped, dead
    started_at: float
    heartbeat_at: float
    fetched: int
    seconds_since_heartbeat: float
    reason: str | None = None

    @property
    def urls_per_second(self) -> float:
        elapsed = self.heartbeat_at - self.started_at
        return self.fetched / elapsed if elapsed > 0 else 0.0


def list_workers(catalog: Catalog, include_stopped: bool = False) -> list[Worker]:
    rows = catalog.conn.execute(
        clock_sql(
            catalog,
            "SELECT id, hostname, pid, job, state, started_at, heartbeat_at, fetched,"
            " {now} - heartbeat_at, reason FROM workers ORDER BY started_at, id",
        )
    ).fetchall()
    found = []
    for row in rows:
        state = row[4]
        if state == "running" and row[8] > DEAD_AFTER:
            state = "dead"
        if state in ("stopped", "failed") and not include_stopped:
            continue
        found.append(
            Worker(
                row[0],
                row[1],
                int(row[2]),
                row[3],
                state,
                float(row[5]),
                float(row[6]),
                int(row[7]),
                float(row[8]),
                row[9],
            )
        )
    return found
