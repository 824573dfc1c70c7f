"""What the web view (archiver/web/) reads of captures: pages of them by keyset, a URL's
captures with what each was classified as, and a capture's neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archiver.catalog.captures import _SELECT, Capture, _from_row
from archiver.catalog.db import Catalog


@dataclass(frozen=True)
class Filters:
    seed_id: int | None = None
    tag: str | None = None
    job: str | None = None
    http_statuses: Sequence[tuple[int, int]] = ()
    failed: bool = False  # failed fetches only
    since: str | None = None  # catalog times, both included
    until: str | None = None
    surt_prefix: str | None = None


def page_of_captures(
    catalog: Catalog, filters: Filters, *, after: tuple[str, str] | None, size: int
) -> list[Capture]:
    """Up to ``size`` captures newest first, from after the keyset ``(captured_at, id)``
    of the last one shown: each page costs an index range, however deep."""
    sql = _SELECT + " WHERE 1=1"
    params: list[object] = []
    if filters.seed_id is not None:
        sql += " AND c.seed_id = ?"
        params.append(filters.seed_id)
    if filters.tag:
        sql += " AND c.seed_id IN (SELECT seed_id FROM seed_tags WHERE tag = ?)"
        params.append(filters.tag)
    if filters.job:
        sql += " AND j.name = ?"
        params.append(filters.job)
    if filters.failed:
        sql += " AND c.state = 'failed'"
    if filters.http_statuses:
        ranges = ["c.http_status BETWEEN ? AND ?"] * len(filters.http_statuses)
        sql += " AND (" + " OR ".join(ranges) + ")"
        params += [bound for pair in filters.http_statuses for bound in pair]
    if filters.since:
        sql += " AND c.captured_at >= ?"
        params.append(filters.since)
    if filters.until:
        sql += " AND c.captured_at <= ?"
        params.append(filters.until)
    if filters.surt_prefix:
        sql += " AND substr(c.surt, 1, ?) = ?"
        params += [len(filters.surt_prefix), filters.surt_prefix]
    if after is not None:
        # A row value, which both engines seek to in the (captured_at, id) index; the
        # same test written with OR made SQLite scan every newer row.
        sql += " AND (c.captured_at, c.id) < (?, ?)"
        params += [after[0], after[1]]
    sql += f" ORDER BY c.captured_at DESC, c.id DESC LIMIT {int(size)}"
    return [_from_row(row) for row in catalog.conn.execute(sql, params)]


@dataclass(frozen=True)
class Observed:
    """One capture of a URL on its timeline: what the watch classified it as, if it did."""

    capture_id: str
    captured_at: str
    state: str
    http_status: int | None
    payload_digest: str | None
    quality: str | None
    observation: str | None
    event_kind: str | None  # the event this capture is the first absent one of


def url_history(
    catalog: Catalog, surt: str, *, since: str | None = None, until: str | None = None
) -> list[Observed]:
    """The captures of the URL (by SURT) oldest first, from ``since`` to before ``until``
    (catalog times) when given, with their classification and the event each begins."""
    sql = (
        "SELECT c.id, c.captured_at, c.state, c.http_status, c.payload_digest, c.quality,"
        " (SELECT s.status FROM seed_status s WHERE s.capture_id = c.id"
        "  ORDER BY s.id DESC LIMIT 1),"
        " (SELECT e.kind FROM events e WHERE e.first_absent = c.id ORDER BY e.id LIMIT 1)"
        " FROM captures c WHERE c.surt = ?"
    )
    params: list[object] = [surt]
    if since is not None:
        sql += " AND c.captured_at >= ?"
        params.append(since)
    if until is not None:
        sql += " AND c.captured_at < ?"
        params.append(until)
    rows = catalog.conn.execute(sql + " ORDER BY c.captured_at, c.id", params)
    return [Observed(*row) for row in rows]


def capture_months(catalog: Catalog, surt: str) -> list[tuple[str, int]]:
    """The months (``YYYY-MM``) with captures of the URL, oldest first, and how many each
    has: read from the (surt, captured_at) index alone."""
    rows = catalog.conn.execute(
        "SELECT substr(captured_at, 1, 7) AS month, COUNT(*) FROM captures WHERE surt = ?"
        " GROUP BY substr(captured_at, 1, 7) ORDER BY month",
        (surt,),
    )
    return [(row[0], int(row[1])) for row in rows]


def day_with_captures(
    catalog: Catalog, surt: str, *, before: str | None = None, after: str | None = None
) -> str | None:
    """The time of the URL's latest capture before ``before``, or of its earliest after
    ``after`` (catalog times, compared as text)."""
    if before is not None:
        sql, bound = "captured_at < ? ORDER BY captured_at DESC", before
    else:
        sql, bound = "captured_at > ? ORDER BY captured_at", after
    row = catalog.conn.execute(
        f"SELECT captured_at FROM captures WHERE surt = ? AND {sql} LIMIT 1", (surt, bound)
    ).fetchone()
    return row[0] if row else None


def payload_before(catalog: Catalog, surt: str, at: str) -> str | None:
    """The payload digest of the URL's latest successful capture before ``at``: what the
    first capture shown from ``at`` on is compared with."""
    row = catalog.conn.execute(
        "SELECT payload_digest FROM captures WHERE surt = ? AND captured_at < ?"
        " AND state = 'ok' AND payload_digest IS NOT NULL AND COALESCE(http_status, 0) < 300"
        " ORDER BY captured_at DESC, id DESC LIMIT 1",
        (surt, at),
    ).fetchone()
    return row[0] if row else None


def previous_different(catalog: Catalog, capture: Capture) -> str | None:
    """The latest earlier capture of the same URL with another payload, which is what a
    reader comparing two captures wants first."""
    row = catalog.conn.execute(
        "SELECT id FROM captures WHERE surt = ? AND captured_at < ? AND state = 'ok'"
        " AND payload_digest IS NOT NULL AND payload_digest != ?"
        " ORDER BY captured_at DESC, id DESC LIMIT 1",
        (capture.surt, capture.captured_at, capture.payload_digest or ""),
    ).fetchone()
    return row[0] if row else None


def neighbours(catalog: Catalog, capture: Capture) -> tuple[str | None, str | None]:
    """The captures of the same URL just before and just after this one."""
    key = (capture.surt, capture.captured_at, capture.id)
    before = catalog.conn.execute(
        "SELECT id FROM captures WHERE surt = ? AND (captured_at, id) < (?, ?)"
        " ORDER BY captured_at DESC, id DESC LIMIT 1",
        key,
    ).fetchone()
    after = catalog.conn.execute(
        "SELECT id FROM captures WHERE surt = ? AND (captured_at, id) > (?, ?)"
        " ORDER BY captured_at, id LIMIT 1",
        key,
    ).fetchone()
    return (before[0] if before else None, after[0] if after else None)


def captures_since(catalog: Catalog, after_rowid: int, size: int) -> list[tuple[int, Capture]]:
    """Captures in the order they were written, after ``after_rowid``: what a search
    index catches up with."""
    # dialect: sqlite (rowid: the insertion order of captures, whose key is text)
    rows = catalog.conn.execute(
        _SELECT.replace("SELECT c.*,", "SELECT c.rowid AS rowid_, c.*,", 1)
        + f" WHERE c.rowid > ? ORDER BY c.rowid LIMIT {int(size)}",
        (after_rowid,),
    ).fetchall()
    return [(int(row["rowid_"]), _from_row(row)) for row in rows]


def captures_at_rowids(catalog: Catalog, rowids: list[int]) -> list[tuple[int, Capture]]:
    """The captures at these rowids, for those there are (see ``captures_since``)."""
    if not rowids:
        return []
    # dialect: sqlite (rowid: the insertion order of captures, whose key is text)
    rows = catalog.conn.execute(
        _SELECT.replace("SELECT c.*,", "SELECT c.rowid AS rowid_, c.*,", 1)
        + f" WHERE c.rowid IN ({', '.join('?' * len(rowids))})",
        rowids,
    ).fetchall()
    return [(int(row["rowid_"]), _from_row(row)) for row in rows]


def make_read_only(catalog: Catalog) -> None:
    """No statement on this connection may write (the web view's pages only read)."""
    if catalog.dialect == "postgresql":
        catalog.conn.execute("SET default_transaction_read_only = on")
        catalog.conn.commit()
    else:
        catalog.conn.execute("PRAGMA query_only = ON")
