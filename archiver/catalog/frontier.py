"""A job's crawl frontier, kept in the catalog so a job can resume after any stop.

Every URL a job decides to fetch is a frontier row; it is marked done in the same
transaction that commits its capture row. New rows discovered on a page are
committed in that same transaction too, so after a crash (``kill -9`` included) the
catalog holds either a page with all its outlinks queued, or neither. On resume, the
rows not done are fetched again: at most the requests in flight are fetched twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from archiver.catalog.bulk import insert_many
from archiver.catalog.db import Catalog


@dataclass(frozen=True)
class FrontierEntry:
    url: str
    seed_id: int | None
    kind: str
    hops: int
    via: str | None
    embeds: int = 0
    redirects: int = 0
    # How it was reached from its seed, one letter a hop as Heritrix writes it: L a link,
    # E an embed (requisite), R a redirect; "" the seed. None: not known (an entry
    # found before hop paths were kept).
    path: str | None = ""


def extend_path(path: str | None, hop: str) -> str | None:
    """The hop path one hop further (``L``, ``E`` or ``R``); unknown stays unknown."""
    return None if path is None else path + hop


def host_of(url: str) -> str:
    """The host a URL's fetches are spaced on (as Scrapy's download slots are keyed)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def add_hosts(conn: Any, hosts: Iterable[str]) -> None:
    insert_many(conn, "crawl_hosts", [("host", "text")], [(h,) for h in sorted(set(hosts))],
                ignore=True)  # fmt: skip


_ENTRY_COLUMNS = [
    ("job_id", "bigint"), ("url", "text"), ("seed_id", "bigint"), ("kind", "text"),
    ("hops", "bigint"), ("via", "text"), ("embeds", "bigint"), ("redirects", "bigint"),
    ("hop_path", "text"), ("host", "text"),
]  # fmt: skip


def add_entries(conn: sqlite3.Connection, job_id: int, entries: Iterable[FrontierEntry]) -> None:
    # In URL order: workers inserting the same URLs at once take their row locks in one
    # order, so they wait for each other instead of deadlocking (PostgreSQL).
    rows = sorted(
        ((job_id, e.url, e.seed_id, e.kind, e.hops, e.via, e.embeds, e.redirects, e.path,
          host_of(e.url)) for e in entries),
        key=lambda row: row[1],
    )  # fmt: skip
    if not rows:
        return
    insert_many(conn, "frontier", _ENTRY_COLUMNS, rows, ignore=True)
    add_hosts(conn, {row[-1] for row in rows})


def mark_done(
    conn: sqlite3.Connection, job_id: int, done: Iterable[tuple[str, str | None]]
) -> None:
    """Mark URLs done, each with the lease token it was fetched under (None: not leased).
    Fenced: a row another worker has leased since stays that worker's (archiver/catalog/
    leases.py); the capture committed with this call is kept either way. One statement
    per lease token (a batch holds a few), not one per URL."""
    by_token: dict[str | None, list[str]] = {}
    for url, token in done:
        by_token.setdefault(token, []).append(url)
    for token, urls in sorted(by_token.items(), key=lambda item: item[0] or ""):
        fence = (
            "lease_token IS NULL" if token is None else "(lease_token IS NULL OR lease_token = ?)"
        )
        conn.execute(
            "UPDATE frontier SET done = 1, lease_token = NULL, lease_until = NULL"
            f" WHERE job_id = ? AND url IN (SELECT value FROM json_each(?)) AND {fence}",
            (job_id, json.dumps(sorted(urls)), *([] if token is None else [token])),
        )


def pending(catalog: Catalog, job_id: int) -> Iterator[FrontierEntry]:
    """Entries not yet done, in the order they were found."""
    rows = catalog.conn.execute(
        "SELECT url, seed_id, kind, hops, via, embeds, redirects, hop_path FROM frontier"
        " WHERE job_id = ? AND done = 0 ORDER BY id",
        (job_id,),
    )
    for row in rows:
        yield FrontierEntry(*row)


def open_count(catalog: Catalog, job_id: int) -> int:
    """How many of the job's URLs are not done yet: queued, or being fetched."""
    row = catalog.conn.execute(
        "SELECT COUNT(*) FROM frontier WHERE job_id = ? AND done = 0", (job_id,)
    ).fetchone()
    return int(row[0])


def known_urls(catalog: Catalog, job_id: int) -> set[str]:
    return {
        row[0]
        for row in catalog.conn.execute("SELECT url FROM frontier WHERE job_id = ?", (job_id,))
    }


@dataclass(frozen=True)
class Rejection:
    """A link, or a followed page's redirect target, the job did not follow although its
    seed's scope took it: excluded by a rule, or stopped by a trap guard. Recorded once
    per URL, never fetched."""

    url: str
    seed_id: int | None
    via: str | None
    reason: str  # excluded, path-segments, segment-repeats, host-pages, query-variants
    rule: str  # the regex that matched, or the setting and its value


_REJECTION_COLUMNS = [
    ("job_id", "bigint"), ("url", "text"), ("seed_id", "bigint"), ("via", "text"),
    ("reason", "text"), ("rule", "text"),
]  # fmt: skip


def add_rejections(conn: sqlite3.Connection, job_id: int, rejected: Iterable[Rejection]) -> None:
    rows = sorted(
        ((job_id, r.url, r.seed_id, r.via, r.reason, r.rule) for r in rejected),
        key=lambda row: row[1],
    )
    insert_many(conn, "rejected", _REJECTION_COLUMNS, rows, ignore=True)


def rejected_urls(catalog: Catalog, job_id: int) -> set[str]:
    rows = catalog.conn.execute("SELECT url FROM rejected WHERE job_id = ?", (job_id,))
    return {row[0] for row in rows}


def page_urls(catalog: Catalog, job_id: int) -> list[str]:
    """The job's page entries (links followed and their redirects), in the order found:
    what the trap guards counted before a stop."""
    rows = catalog.conn.execute(
        "SELECT url FROM frontier WHERE job_id = ? AND kind = 'page' ORDER BY id", (job_id,)
    )
    return [row[0] for row in rows]


@dataclass(frozen=True)
class RejectedCount:
    reason: str
    rule: str
    count: int
    sample: str  # the first URL rejected so


def rejected_counts(catalog: Catalog, job_id: int) -> list[RejectedCount]:
    """Links not followed in a job, by reason and rule, with a sample URL each."""
    rows = catalog.conn.execute(
        "SELECT reason, rule, COUNT(*), MIN(rowid) FROM rejected WHERE job_id = ?"
        " GROUP BY reason, rule ORDER BY reason, COUNT(*) DESC",
        (job_id,),
    ).fetchall()
    out = []
    for reason, rule, count, first in rows:
        sample = catalog.conn.execute("SELECT url FROM rejected WHERE rowid = ?", (first,))
        out.append(RejectedCount(reason, rule, count, sample.fetchone()[0]))
    return out
