"""A job's frontier shared by workers: host leases with tokens, on the database's clock.

A worker claims a host that is due (its lease free and its next allowed fetch time
passed) together with that host's next URLs in a job, under one lease token and an
expiry time read from the database's clock, never the worker's. While it holds the
lease no other worker fetches from the host, so the per-host delay holds across workers;
releasing the host sets its next allowed fetch time.

A URL is marked done only in the transaction that commits its capture, and only if the
lease on it is still the worker's (``frontier.mark_done``): a worker whose lease expired
keeps its capture (a second capture of the URL, if another worker fetched it meanwhile)
and its row is never lost. A lease that expires (its worker died or stalled) puts the
URL back in the queue; a URL fetched ``max_attempts`` times without being completed is
marked failed with the reason, never deleted. An attempt is counted when the worker
hands the URL to its crawl (``fetching``), not when it leases it.

On PostgreSQL, hosts are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite a
claim holds the database's write lock (``BEGIN IMMEDIATE``) for its few statements.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from archiver.catalog.db import Catalog
from archiver.catalog.frontier import FrontierEntry, add_hosts, host_of

LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 3

_NOW = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "extract(epoch from clock_timestamp())::double precision",
}


@dataclass(frozen=True)
class HostLease:
    """A host claimed for one job, with the URLs to fetch from it under ``token``."""

    job_id: int
    host: str
    token: str
    entries: tuple[FrontierEntry, ...]
    seconds: float  # how long the lease lasts from the claim, unless renewed


@dataclass(frozen=True)
class Expired:
    """A URL failed because its lease expired ``attempts`` times."""

    url: str
    attempts: int
    reason: str


def clock_sql(catalog: Catalog, text: str) -> str:
    return text.replace("{now}", _NOW[catalog.dialect])


@contextmanager
def _claiming(catalog: Catalog) -> Iterator[Any]:
    """One short write transaction: SQLite's write lock from its start (no other claim
    reads the same free hosts meanwhile); on PostgreSQL row locks do that job."""
    conn = catalog.conn
    conn.execute("BEGIN IMMEDIATE" if catalog.dialect == "sqlite" else "BEGIN")
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def fill_hosts(catalog: Catalog, job_id: int) -> None:
    """Give a host to a job's open entries written before hosts were kept (schema 9)."""
    rows = catalog.conn.execute(
        "SELECT id, url FROM frontier WHERE job_id = ? AND done = 0 AND host IS NULL", (job_id,)
    ).fetchall()
    if not rows:
        return
    with catalog.transaction() as conn:
        conn.executemany(
            "UPDATE frontier SET host = ? WHERE id = ?", [(host_of(url), id_) for id_, url in rows]
        )
        add_hosts(conn, {host_of(url) for _, url in rows})


def claim(
    catalog: Catalog,
    worker: str,
    job_id: int,
    *,
    hosts: int = 4,
    per_host: int = 20,
    seconds: float = LEASE_SECONDS,
    max_attempts: int = MAX_ATTEMPTS,
    avoid: Sequence[str] = (),
    slots: int = 1,
) -> tuple[list[HostLease], list[Expired]]:
    """Claim up to ``hosts`` due hosts with work in the job, and up to ``per_host`` of
    each one's URLs. Also returns the URLs this claim found past their attempts (failed).
    ``avoid``: hosts this worker holds already. ``slots``: how many workers may hold one
    host at once (1: one, and the host's delay holds across workers)."""
    leases: list[HostLease] = []
    expired: list[Expired] = []
    lock = " FOR UPDATE OF h SKIP LOCKED" if catalog.dialect == "postgresql" else ""
    with _claiming(catalog) as conn:
        free = conn.execute(
            clock_sql(
                catalog,
                "SELECT h.host, h.slot FROM crawl_hosts h WHERE h.slot < ?"
                " AND (h.lease_until IS NULL OR h.lease_until < {now}) AND h.next_fetch <= {now}"
                " AND EXISTS (SELECT 1 FROM frontier f WHERE f.job_id = ? AND f.host = h.host"
                " AND f.done = 0 AND (f.lease_until IS NULL OR f.lease_until < {now}))"
                f" ORDER BY h.next_fetch LIMIT ?{lock}",
            ),
            (slots, job_id, (hosts + len(avoid)) * slots),
        ).fetchall()
        taken = set(avoid)
        for host, slot in free:
            if host in taken or len(leases) >= hosts:
                continue
            token = secrets.token_hex(8)
            entries = _lease_urls(
                catalog, conn, worker, job_id, host, token, per_host, seconds, max_attempts,
                expired,
            )  # fmt: skip
            if not entries:
                continue
            taken.add(host)
            conn.execute(
                clock_sql(
                    catalog,
                    "UPDATE crawl_hosts SET lease_token = ?, lease_until = {now} + ?, worker = ?,"
                    " job_id = ? WHERE host = ? AND slot = ?",
                ),
                (token, seconds, worker, job_id, host, slot),
            )
            leases.append(HostLease(job_id, host, token, entries, seconds))
    return leases, expired


def more(
    catalog: Catalog,
    worker: str,
    lease: HostLease,
    *,
    per_host: int = 20,
    seconds: float = LEASE_SECONDS,
    max_attempts: int = MAX_ATTEMPTS,
) -> tuple[tuple[FrontierEntry, ...], list[Expired]]:
    """More of a held host's URLs under the same lease (found since it was claimed), so
    a worker goes on with a host without giving it back; empty if the lease was lost."""
    expired: list[Expired] = []
    with _claiming(catalog) as conn:
        held = conn.execute(
            clock_sql(
                catalog,
                "UPDATE crawl_hosts SET lease_until = {now} + ? WHERE lease_token = ?",
            ),
            (seconds, lease.token),
        )
        if not held.rowcount:
            return (), expired
        entries = _lease_urls(
            catalog, conn, worker, lease.job_id, lease.host, lease.token, per_host, seconds,
            max_attempts, expired,
        )  # fmt: skip
    return entries, expired


def _lease_urls(
    catalog: Catalog, conn: Any, worker: str, job_id: int, host: str, token: str,
    per_host: int, seconds: float, max_attempts: int, expired: list[Expired],
) -> tuple[FrontierEntry, ...]:  # fmt: skip
    """Lease a host's next URLs in the job that no worker holds; those past their
    attempts are failed instead (and added to ``expired``)."""
    lock = " FOR UPDATE SKIP LOCKED" if catalog.dialect == "postgresql" else ""
    rows = conn.execute(
        clock_sql(
            catalog,
            "SELECT id, url, seed_id, kind, hops, via, embeds, redirects, hop_path,"
            " attempts, worker FROM frontier WHERE job_id = ? AND host = ? AND done = 0"
            f" AND (lease_until IS NULL OR lease_until < {{now}}) ORDER BY id LIMIT ?{lock}",
        ),
        (job_id, host, per_host),
    ).fetchall()
    take = []
    for row in rows:
        if row["attempts"] >= max_attempts:
            reason = (
                f"lease expired {row['attempts']} times without the fetch being"
                f" completed (its worker stopped or stalled; last: {row['worker']})"
            )
            conn.execute(
                "UPDATE frontier SET done = 2, error = ?, lease_token = NULL,"
                " lease_until = NULL WHERE id = ?",
                (reason, row["id"]),
            )
            expired.append(Expired(row["url"], row["attempts"], reason))
        else:
            take.append(row)
    if take:
        conn.execute(
            clock_sql(
                catalog,
                "UPDATE frontier SET lease_token = ?, lease_until = {now} + ?, worker = ?"
                " WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
            ),
            (token, seconds, worker, json.dumps([row["id"] for row in take])),
        )
    return tuple(
        FrontierEntry(
            row["url"],
            row["seed_id"],
            row["kind"],
            row["hops"],
            row["via"],
            row["embeds"],
            row["redirects"],
            row["hop_path"],
        )
        for row in take
    )


def add_slots(catalog: Catalog, job_id: int, slots: int) -> None:
    """Let ``slots`` workers hold each of the job's hosts at once (ARCHIVER_HOST_WORKERS)."""
    if slots <= 1:
        return
    with catalog.transaction() as conn:
        hosts = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT host FROM frontier WHERE job_id = ? AND done = 0", (job_id,)
            )
        ]
        conn.executemany(
            "INSERT OR IGNORE INTO crawl_hosts (host, slot) VALUES (?, ?)",
            [(host, slot) for host in hosts for slot in range(1, slots)],
        )


def fetching(catalog: Catalog, job_id: int, token: str, urls: Sequence[str]) -> None:
    """Leased URLs handed to the crawl: each counts one attempt (a URL whose workers die
    while fetching it ``max_attempts`` times is failed; one only waiting in a dead
    worker's lease is not)."""
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE frontier SET attempts = attempts + 1 WHERE job_id = ? AND lease_token = ?"
            " AND url IN (SELECT value FROM json_each(?))",
            (job_id, token, json.dumps(sorted(urls))),
        )


def retry(catalog: Catalog, job_id: int) -> int:
    """A job resumed by hand: every URL not done gets its attempts back, and those failed
    for running out of them are queued again. Returns how many were failed."""
    with catalog.transaction() as conn:
        failed = conn.execute(
            "UPDATE frontier SET done = 0, error = NULL WHERE job_id = ? AND done = 2",
            (job_id,),
        ).rowcount
        conn.execute("UPDATE frontier SET attempts = 0 WHERE job_id = ? AND done = 0", (job_id,))
    return failed


def renew(catalog: Catalog, tokens: Iterable[str], seconds: float = LEASE_SECONDS) -> set[str]:
    """Extend the leases still held; returns the tokens that are (a lease that expired
    and was claimed by another worker is lost)."""
    held = set()
    with catalog.transaction() as conn:
        for token in tokens:
            cur = conn.execute(
                clock_sql(
                    catalog,
                    "UPDATE crawl_hosts SET lease_until = {now} + ? WHERE lease_token = ?",
                ),
                (seconds, token),
            )
            if cur.rowcount:
                held.add(token)
                conn.execute(
                    clock_sql(
                        catalog,
                        "UPDATE frontier SET lease_until = {now} + ?"
                        " WHERE lease_token = ? AND done = 0",
                    ),
                    (seconds, token),
                )
    return held


def release(catalog: Catalog, token: str, delay: float) -> None:
    """Give a host back: its URLs not fetched return to the queue, and the next fetch
    from the host waits ``delay`` seconds."""
    later = "{now} + ?"
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE frontier SET lease_token = NULL, lease_until = NULL"
            " WHERE lease_token = ? AND done = 0",
            (token,),
        )
        conn.execute(
            clock_sql(
                catalog,
                "UPDATE crawl_hosts SET lease_token = NULL, lease_until = NULL, worker = NULL,"
                f" next_fetch = CASE WHEN next_fetch > {later} THEN next_fetch ELSE {later} END"
                " WHERE lease_token = ?",
            ),
            (delay, delay, token),
        )


def expire_worker(catalog: Catalog, worker: str, hold: float) -> int:
    """A worker known dead (its lock in the home is free): its leases end now, so its URLs
    go back to the queue without waiting for them to expire (their attempt counts). Its
    hosts wait ``hold`` seconds first: it may have fetched from them just before it
    died. Returns how many URLs it held."""
    later = "{now} + ?"
    with catalog.transaction() as conn:
        held = conn.execute(
            clock_sql(
                catalog,
                "UPDATE frontier SET lease_until = {now} - 1"
                " WHERE worker = ? AND done = 0 AND lease_until >= {now}",
            ),
            (worker,),
        ).rowcount
        conn.execute(
            clock_sql(
                catalog,
                "UPDATE crawl_hosts SET lease_token = NULL, lease_until = NULL, worker = NULL,"
                f" next_fetch = CASE WHEN next_fetch > {later} THEN next_fetch ELSE {later} END"
                " WHERE worker = ?",
            ),
            (hold, hold, worker),
        )
        conn.execute(
            "UPDATE workers SET state = 'dead', reason = 'its process ended without stopping'"
            " WHERE id = ? AND state = 'running'",
            (worker,),
        )
    return held


def back_off(catalog: Catalog, host: str, seconds: float) -> None:
    """No worker fetches from ``host`` for ``seconds`` (a 429 or 503 with Retry-After)."""
    later = "{now} + ?"
    with catalog.transaction() as conn:
        conn.execute(
            clock_sql(
                catalog,
                "UPDATE crawl_hosts SET next_fetch ="
                f" CASE WHEN next_fetch > {later} THEN next_fetch ELSE {later} END"
                " WHERE host = ?",
            ),
            (seconds, seconds, host),
        )


def database_now(catalog: Catalog) -> float:
    """The database's clock, in seconds since the epoch."""
    return float(catalog.conn.execute(clock_sql(catalog, "SELECT {now}")).fetchone()[0])


# -- what the job's frontier holds -------------------------------------------------------


@dataclass(frozen=True)
class HostCounts:
    host: str
    queued: int
    leased: int
    done: int
    failed: int


def job_counts(catalog: Catalog, job_id: int) -> list[HostCounts]:
    """Per host: URLs queued (waiting, or their lease expired), leased, done and failed."""
    rows = catalog.conn.execute(
        clock_sql(
            catalog,
            "SELECT COALESCE(host, '') AS host,"
            " SUM(CASE WHEN done = 0 AND (lease_until IS NULL OR lease_until < {now})"
            "     THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN done = 0 AND lease_until >= {now} THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN done = 1 THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN done = 2 THEN 1 ELSE 0 END)"
            " FROM frontier WHERE job_id = ? GROUP BY COALESCE(host, '') ORDER BY 1",
        ),
        (job_id,),
    ).fetchall()
    return [HostCounts(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


def has_open_entries(catalog: Catalog, job_id: int) -> bool:
    """Does the job still have URLs queued or leased (by any worker)?"""
    row = catalog.conn.execute(
        "SELECT 1 FROM frontier WHERE job_id = ? AND done = 0 LIMIT 1", (job_id,)
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class FailedEntry:
    url: str
    attempts: int
    reason: str


def failed_entries(catalog: Catalog, job_id: int) -> list[FailedEntry]:
    rows = catalog.conn.execute(
        "SELECT url, attempts, error FROM frontier WHERE job_id = ? AND done = 2 ORDER BY id",
        (job_id,),
    ).fetchall()
    return [FailedEntry(r[0], int(r[1]), r[2] or "") for r in rows]


def jobs_with_work(catalog: Catalog) -> list[str]:
    """Running jobs whose frontier still holds URLs not done, oldest first."""
    rows = catalog.conn.execute(
        "SELECT j.name FROM jobs j WHERE j.status = 'running' AND EXISTS"
        " (SELECT 1 FROM frontier f WHERE f.job_id = j.id AND f.done = 0) ORDER BY j.id"
    ).fetchall()
    return [row[0] for row in rows]


def stored_robots(catalog: Catalog, job_id: int, netloc: str) -> bytes | None:
    """The robots.txt a worker of the job fetched for ``netloc``, as its rules were read."""
    row = catalog.conn.execute(
        "SELECT body FROM job_robots WHERE job_id = ? AND netloc = ?", (job_id, netloc)
    ).fetchone()
    return row[0].encode("utf-8") if row else None


def store_robots(catalog: Catalog, job_id: int, netloc: str, body: bytes) -> None:
    """Keep a host's robots.txt for the job's other workers (the first one kept stays)."""
    with catalog.transaction() as conn:
        conn.execute(
            clock_sql(
                catalog,
                "INSERT OR IGNORE INTO job_robots (job_id, netloc, body, fetched_at)"
                " VALUES (?, ?, ?, {now})",
            ),
            (job_id, netloc, body.decode("utf-8", "replace")),
        )


def fair_share(catalog: Catalog, job_id: int, job_name: str, dead_after: float) -> int:
    """How many of the job's hosts one worker should hold: its hosts with URLs not done,
    split among the job's live workers (rounded up; at least one)."""
    hosts = catalog.conn.execute(
        "SELECT COUNT(DISTINCT host) FROM frontier WHERE job_id = ? AND done = 0", (job_id,)
    ).fetchone()[0]
    alive = catalog.conn.execute(
        clock_sql(
            catalog,
            "SELECT COUNT(*) FROM workers WHERE job = ? AND state = 'running'"
            " AND heartbeat_at > {now} - ?",
        ),
        (job_name, dead_after),
    ).fetchone()[0]
    return max(1, -(-int(hosts) // max(int(alive), 1)))
