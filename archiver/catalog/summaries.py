"""Per-job counts the crawl summary prints: files written, seed statuses, browser pages,
suspect pages and the events a job confirmed."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.catalog.db import Catalog


@dataclass(frozen=True)
class WarcTotals:
    files: int
    bytes: int


def warc_totals(catalog: Catalog, job_id: int) -> WarcTotals:
    """How many WARC files the job wrote, and their bytes."""
    row = catalog.conn.execute(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM warc_files WHERE job_id = ?",
        (job_id,),
    ).fetchone()
    return WarcTotals(row[0], row[1])


@dataclass(frozen=True)
class JobSeedStatus:
    seed_id: int
    status: str
    confirmed: bool


def seed_statuses(catalog: Catalog, job_id: int) -> list[JobSeedStatus]:
    """The statuses the job's captures gave watched seeds, in the order recorded."""
    rows = catalog.conn.execute(
        "SELECT s.seed_id, s.status, s.confirmed FROM seed_status s JOIN captures c"
        " ON c.id = s.capture_id WHERE c.job_id = ? ORDER BY s.id",
        (job_id,),
    ).fetchall()
    return [JobSeedStatus(row[0], row[1], bool(row[2])) for row in rows]


@dataclass(frozen=True)
class BrowserPages:
    pages: int
    suspect: int


def browser_pages(catalog: Catalog, job_id: int) -> BrowserPages:
    """How many pages the job rendered in a browser, and how many of them look suspect."""
    row = catalog.conn.execute(
        "SELECT COUNT(*), CAST(SUM(CASE WHEN quality = 'suspect' THEN 1 ELSE 0 END) AS BIGINT)"
        " FROM captures"
        " WHERE job_id = ? AND quality IS NOT NULL",
        (job_id,),
    ).fetchone()
    return BrowserPages(row[0], row[1] or 0)


@dataclass(frozen=True)
class SuspectPage:
    capture_id: str
    url: str
    reason: str | None


def suspect_pages(catalog: Catalog, job_id: int, limit: int) -> list[SuspectPage]:
    """The job's first ``limit`` browser pages found suspect (a login wall, a captcha...)."""
    # dialect: sqlite (rowid: the insertion order of captures, whose key is text)
    rows = catalog.conn.execute(
        "SELECT id, url, quality_reason FROM captures WHERE job_id = ? AND quality = 'suspect'"
        " ORDER BY rowid LIMIT ?",
        (job_id, limit),
    ).fetchall()
    return [SuspectPage(*row) for row in rows]


@dataclass(frozen=True)
class JobEvent:
    kind: str
    seed_id: int
    url: str


def confirmed_events(catalog: Catalog, job_id: int) -> list[JobEvent]:
    """Events (a seed gone, back, changed...) that a capture of the job confirmed."""
    rows = catalog.conn.execute(
        "SELECT e.kind, e.seed_id, e.url FROM events e JOIN captures c ON c.id = e.confirmed_by"
        " WHERE c.job_id = ? ORDER BY e.id",
        (job_id,),
    ).fetchall()
    return [JobEvent(*row) for row in rows]


@dataclass(frozen=True)
class CaptureCounts:
    captured: int  # captures of seeds' URLs holding a response (robots.txt fetches aside)
    truncated: int
    failed: int  # fetches that got no response (robots.txt fetches included)


def capture_counts(catalog: Catalog, job_id: int, since: str | None = None) -> CaptureCounts:
    """The job's captures by outcome; with ``since`` (an ISO time as ``captured_at`` is
    written), only those made from then on: one run of a resumed job."""
    row = catalog.conn.execute(
        "SELECT"
        " CAST(COALESCE(SUM(CASE WHEN state IN ('ok', 'truncated') AND seed_id IS NOT NULL"
        "     THEN 1 ELSE 0 END), 0) AS BIGINT),"
        " CAST(COALESCE(SUM(CASE WHEN state = 'truncated' THEN 1 ELSE 0 END), 0) AS BIGINT),"
        " CAST(COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT)"
        " FROM captures WHERE job_id = ? AND captured_at >= ?",
        (job_id, since or ""),
    ).fetchone()
    return CaptureCounts(int(row[0]), int(row[1]), int(row[2]))
