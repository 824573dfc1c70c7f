"""Crawl jobs: one per run, with its settings snapshot, seeds, times and outcome."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.catalog.db import Catalog, iso_ms, utc_now
from archiver.errors import ArchiverError, NotFound

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Jobs that are never resumed: finished, or given up by 'archiver jobs abandon'.
CLOSED = "'finished', 'abandoned'"


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    status: str
    started_at: str
    ended_at: str | None
    settings: dict[str, object]
    seed_ids: list[int]
    finish_reason: str | None


@dataclass(frozen=True)
class SeedOutcome:
    seed_id: int | None
    seed_url: str | None
    ok: int
    truncated: int
    failed: int
    bytes: int
    failures: dict[str, int]  # reason -> count


def new_job_name() -> str:
    return "job-" + utc_now().strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def check_job_name(name: str) -> str:
    if not _NAME.match(name):
        raise ArchiverError(
            f"invalid job name {name!r}: use letters, digits, '.', '_' and '-' "
            "(at most 100 characters, starting with a letter or digit)"
        )
    return name


def job_exists(catalog: Catalog, name: str) -> bool:
    return catalog.conn.execute("SELECT 1 FROM jobs WHERE name = ?", (name,)).fetchone() is not None


def create_job(
    catalog: Catalog,
    name: str,
    settings: Mapping[str, object],
    seed_ids: Sequence[int],
    entries: Sequence[object] = (),
) -> Job:
    """Record a job; ``entries`` (frontier entries, for workers) go in the same transaction."""
    from archiver.catalog.frontier import add_entries

    check_job_name(name)
    if job_exists(catalog, name):
        raise ArchiverError(f"a job named {name!r} already exists: choose another --job name")
    with catalog.transaction() as conn:
        conn.execute(
            "INSERT INTO jobs (name, status, started_at, settings, seed_ids) VALUES (?,?,?,?,?)",
            (
                name,
                "running",
                iso_ms(utc_now()),
                json.dumps(dict(settings), sort_keys=True, default=str),
                json.dumps(list(seed_ids)),
            ),
        )
        if entries:
            row = conn.execute("SELECT id FROM jobs WHERE name = ?", (name,)).fetchone()
            add_entries(conn, row[0], entries)  # type: ignore[arg-type]
    return get_job(catalog, name)


def is_shared(job: Job) -> bool:
    """Is the job's frontier shared by workers (submitted, or on PostgreSQL)?"""
    return job.settings.get("frontier") == "shared"


def resume_job(catalog: Catalog, job_id: int, settings: Mapping[str, object]) -> None:
    """Mark a stopped or crashed job running again, with the settings it resumes with;
    its start time and rows stay."""
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE jobs SET status = 'running', ended_at = NULL, finish_reason = NULL,"
            " settings = ? WHERE id = ?",
            (json.dumps(dict(settings), sort_keys=True, default=str), job_id),
        )


# A closed job's counts, taken from the catalog itself.
_COUNTS = """captured = (SELECT COUNT(*) FROM captures WHERE job_id = jobs.id
                             AND state IN ('ok', 'truncated')),
                 truncated = (SELECT COUNT(*) FROM captures WHERE job_id = jobs.id
                              AND state = 'truncated'),
                 failed = (SELECT COUNT(*) FROM captures WHERE job_id = jobs.id
                           AND state = 'failed'),
                 warc_files = (SELECT COUNT(*) FROM warc_files WHERE job_id = jobs.id),
                 warc_bytes = (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM warc_files
                               WHERE job_id = jobs.id)"""


def finish_job(catalog: Catalog, job_id: int, status: str, reason: str | None) -> None:
    """Close the job's row with its end time and its counts."""
    with catalog.transaction() as conn:
        conn.execute(
            f"UPDATE jobs SET status = ?, ended_at = ?, finish_reason = ?, {_COUNTS} WHERE id = ?",
            (status, iso_ms(utc_now()), reason, job_id),
        )


def abandon_job(catalog: Catalog, job_id: int, reason: str) -> bool:
    """Mark a job that did not finish ``abandoned``: never resumed, no longer listed as
    unfinished. It keeps the end time it stopped at (a crashed job, which has none, ends
    now). False if it was finished or abandoned meanwhile."""
    with catalog.transaction() as conn:
        changed = conn.execute(
            "UPDATE jobs SET status = 'abandoned', ended_at = COALESCE(ended_at, ?),"
            f" finish_reason = ?, {_COUNTS} WHERE id = ? AND status NOT IN ({CLOSED})",
            (iso_ms(utc_now()), reason, job_id),
        )
        return changed.rowcount == 1


def get_job(catalog: Catalog, name: str) -> Job:
    row = catalog.conn.execute("SELECT * FROM jobs WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"no job named {name!r}")
    return _job(row)


def list_jobs(catalog: Catalog, *, unfinished: bool = False, limit: int = 0) -> list[Job]:
    """The jobs, newest first: all of them, or the ``limit`` newest; or only those not
    finished or abandoned."""
    where = f" WHERE status NOT IN ({CLOSED})" if unfinished else ""
    rows = catalog.conn.execute(
        f"SELECT * FROM jobs{where} ORDER BY started_at DESC, id DESC"
        + (" LIMIT ?" if limit else ""),
        (limit,) if limit else (),
    )
    return [_job(row) for row in rows]


def count_jobs(catalog: Catalog) -> int:
    return int(catalog.conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        name=row["name"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        settings=json.loads(row["settings"]),
        seed_ids=json.loads(row["seed_ids"]),
        finish_reason=row["finish_reason"],
    )


def job_outcomes(catalog: Catalog, job_id: int) -> list[SeedOutcome]:
    """Per seed: captures by state, bytes, and failures grouped by reason."""
    outcomes: dict[int | None, dict[str, object]] = {}
    rows = catalog.conn.execute(
        "SELECT c.seed_id, s.url AS seed_url, c.state, c.error, c.truncated, c.http_status,"
        " COALESCE(c.size, 0) AS size FROM captures c LEFT JOIN seeds s ON s.id = c.seed_id"
        " WHERE c.job_id = ?",
        (job_id,),
    )
    for row in rows:
        entry = outcomes.setdefault(
            row["seed_id"],
            {"url": row["seed_url"], "ok": 0, "truncated": 0, "failed": 0, "bytes": 0, "fail": {}},
        )
        entry[row["state"]] = int(entry[row["state"]]) + 1  # type: ignore[call-overload]
        entry["bytes"] = int(entry["bytes"]) + row["size"]  # type: ignore[call-overload]
        reason = None
        if row["state"] == "failed":
            reason = (row["error"] or "error").split(":", 1)[0]
        elif row["state"] == "truncated":
            reason = f"truncated ({row['truncated']})"
        elif row["http_status"] and row["http_status"] >= 400:
            reason = f"HTTP {row['http_status']}"
        if reason:
            fail: dict[str, int] = entry["fail"]  # type: ignore[assignment]
            fail[reason] = fail.get(reason, 0) + 1
    return [
        SeedOutcome(
            seed_id=seed_id,
            seed_url=entry["url"],  # type: ignore[arg-type]
            ok=entry["ok"],  # type: ignore[arg-type]
            truncated=entry["truncated"],  # type: ignore[arg-type]
            failed=entry["failed"],  # type: ignore[arg-type]
            bytes=entry["bytes"],  # type: ignore[arg-type]
            failures=entry["fail"],  # type: ignore[arg-type]
        )
        for seed_id, entry in sorted(outcomes.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
