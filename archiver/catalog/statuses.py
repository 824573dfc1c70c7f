"""A seed's status timeline (``seed_status``) and its confirmed events (``events``).

Each row of the timeline is one classified fetch of a seed page, from one vantage point
(``vantage``: its name, ``''`` for a direct connection): a seed has a timeline per
vantage, so a page present via one and blocked via another never looks like flapping.
What the rows mean and
when a change is confirmed is decided in archiver/watch/status.py. The functions that
compose statements inside the caller's transaction take its connection; the ones that
read for a command take the ``Catalog``. Which observations count as present is the
watch's vocabulary, so it is passed in (``statuses``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from archiver.catalog.captures import TEXT_DIGEST
from archiver.catalog.db import Catalog, iso_ms, utc_now

# The connection of a transaction (``Catalog.transaction()``), for callers that pass one on.
Connection = sqlite3.Connection


@dataclass(frozen=True)
class StatusRow:
    id: int
    seed_id: int
    capture_id: str
    observed_at: str
    status: str
    reason: str
    confirmed: int
    confirms: int | None
    vantage: str = ""  # the vantage point it was fetched through; "" direct


@dataclass(frozen=True)
class Event:
    id: int
    seed_id: int
    url: str
    kind: str
    reason: str
    previous: str
    last_present: str | None
    last_present_at: str | None
    first_absent: str
    first_absent_at: str
    confirmed_by: str
    confirmed_at: str
    vantage: str | None = None  # the vantage point it was seen from (None: direct)
    # geo-blocked and geo-different: the capture each vantage point saw (archiver/watch/geo.py)
    evidence: list[dict[str, object]] | None = None

    def to_json(self) -> dict[str, object]:
        return {"event_id": self.id, **asdict(self)}  # "id": its deprecated name


@dataclass(frozen=True)
class PresentCapture:
    """A capture where the seed's content was present, and when it was made."""

    capture_id: str
    captured_at: str


_COLUMNS = "id, seed_id, capture_id, observed_at, status, reason, confirmed, confirms, vantage"


def _row(r: sqlite3.Row | tuple) -> StatusRow:
    return StatusRow(*tuple(r))


def _marks(values: Sequence[str]) -> str:
    return ",".join("?" * len(values))


def last_confirmed(conn: sqlite3.Connection, seed_id: int, vantage: str) -> StatusRow | None:
    """The seed's latest confirmed observation from ``vantage``."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM seed_status WHERE seed_id = ? AND vantage = ? AND confirmed = 1"
        " ORDER BY id DESC LIMIT 1",
        (seed_id, vantage),
    ).fetchone()
    return _row(row) if row else None


def get_status(conn: sqlite3.Connection, status_id: int) -> StatusRow:
    """One observation by its id."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM seed_status WHERE id = ?", (status_id,))
    return _row(row.fetchone())


def present_digest(
    conn: sqlite3.Connection, seed_id: int, vantage: str, statuses: Sequence[str]
) -> str | None:
    """The payload digest of the seed's last capture from ``vantage`` observed in one of
    ``statuses`` (through a revisit to the capture holding the payload); for a browser
    capture, the digest of its visible text."""
    row = conn.execute(
        f"SELECT {TEXT_DIGEST}, c.payload_digest, o.payload_digest FROM seed_status s"
        " JOIN captures c ON c.id = s.capture_id LEFT JOIN captures o ON o.id = c.revisit_of"
        f" WHERE s.seed_id = ? AND s.vantage = ? AND s.status IN ({_marks(statuses)})"
        " ORDER BY s.id DESC LIMIT 1",
        (seed_id, vantage, *statuses),
    ).fetchone()
    return (row[0] or row[1] or row[2]) if row else None


def present_title(
    conn: sqlite3.Connection, seed_id: int, vantage: str, statuses: Sequence[str]
) -> str | None:
    """The title of the seed's last capture from ``vantage`` observed in one of ``statuses``."""
    row = conn.execute(
        "SELECT c.title FROM seed_status s JOIN captures c ON c.id = s.capture_id"
        f" WHERE s.seed_id = ? AND s.vantage = ? AND s.status IN ({_marks(statuses)})"
        " ORDER BY s.id DESC LIMIT 1",
        (seed_id, vantage, *statuses),
    ).fetchone()
    return row[0] if row else None


def last_present_before(
    conn: sqlite3.Connection, seed_id: int, vantage: str, statuses: Sequence[str], before_id: int
) -> PresentCapture | None:
    """The seed's last capture from ``vantage`` observed in one of ``statuses`` before
    observation ``before_id``."""
    row = conn.execute(
        f"SELECT s.capture_id, c.captured_at FROM seed_status s JOIN captures c"
        f" ON c.id = s.capture_id WHERE s.seed_id = ? AND s.vantage = ?"
        f" AND s.status IN ({_marks(statuses)}) AND s.id < ? ORDER BY s.id DESC LIMIT 1",
        (seed_id, vantage, *statuses, before_id),
    ).fetchone()
    return PresentCapture(row[0], row[1]) if row else None


def observation_of(catalog: Catalog, capture_id: str) -> str | None:
    """What watching its seed made of a capture (``removed``, ``gone``, ``changed``, ...),
    the latest observation when it was looked at more than once; None for a capture no
    seed's status was judged by."""
    row = catalog.conn.execute(
        "SELECT status FROM seed_status WHERE capture_id = ? ORDER BY id DESC LIMIT 1",
        (capture_id,),
    ).fetchone()
    return str(row[0]) if row else None


def captured_at(conn: sqlite3.Connection, capture_id: str) -> str:
    """When a capture (one the timeline points at, so it exists) was made."""
    row = conn.execute("SELECT captured_at FROM captures WHERE id = ?", (capture_id,))
    return str(row.fetchone()[0])


def insert_status(
    conn: sqlite3.Connection,
    seed_id: int,
    capture_id: str,
    status: str,
    reason: str,
    confirmed: bool,
    confirms: int | None = None,
    vantage: str = "",
) -> int:
    """Add an observation from ``vantage``, observed now, inside the caller's transaction;
    returns its id."""
    cursor = conn.execute(
        "INSERT INTO seed_status (seed_id, capture_id, observed_at, status, reason, confirmed,"
        " confirms, vantage) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seed_id, capture_id, iso_ms(utc_now()), status, reason, int(confirmed), confirms,
         vantage),
    )  # fmt: skip
    return int(cursor.lastrowid or 0)


def confirm_status(conn: sqlite3.Connection, status_id: int) -> None:
    """Mark a pending observation confirmed, inside the caller's transaction."""
    conn.execute("UPDATE seed_status SET confirmed = 1 WHERE id = ?", (status_id,))


def insert_event(
    conn: sqlite3.Connection,
    *,
    seed_id: int,
    url: str,
    kind: str,
    reason: str,
    previous: str,
    last_present: PresentCapture | None,
    first_absent: str,
    first_absent_at: str,
    confirmed_by: str,
    vantage: str | None = None,
    evidence: list[dict[str, object]] | None = None,
) -> Event:
    """Store a confirmed event, confirmed now, inside the caller's transaction."""
    confirmed_at = iso_ms(utc_now())
    cursor = conn.execute(
        "INSERT INTO events (seed_id, url, kind, reason, previous, last_present, first_absent,"
        " confirmed_by, confirmed_at, vantage, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seed_id, url, kind, reason, previous,
         last_present.capture_id if last_present else None, first_absent, confirmed_by,
         confirmed_at, vantage or None, json.dumps(evidence) if evidence else None),
    )  # fmt: skip
    return Event(
        id=int(cursor.lastrowid or 0), seed_id=seed_id, url=url, kind=kind, reason=reason,
        previous=previous,
        last_present=last_present.capture_id if last_present else None,
        last_present_at=last_present.captured_at if last_present else None,
        first_absent=first_absent, first_absent_at=first_absent_at,
        confirmed_by=confirmed_by, confirmed_at=confirmed_at, vantage=vantage or None,
        evidence=evidence,
    )  # fmt: skip


_EVENT_SELECT = """
SELECT e.id, e.seed_id, e.url, e.kind, e.reason, e.previous, e.last_present, lp.captured_at,
       e.first_absent, fa.captured_at, e.confirmed_by, e.confirmed_at, e.vantage, e.evidence
FROM events e
LEFT JOIN captures lp ON lp.id = e.last_present
JOIN captures fa ON fa.id = e.first_absent
"""


def list_events(
    catalog: Catalog,
    *,
    since: str | None = None,
    seed_id: int | None = None,
    kind: str | None = None,
) -> list[Event]:
    """Confirmed events in the order they were confirmed, filtered by the time they were
    confirmed (``since``, a catalog time), their seed and their kind."""
    sql, params = _EVENT_SELECT + " WHERE 1=1", []
    if since is not None:
        sql += " AND e.confirmed_at >= ?"
        params.append(since)
    if seed_id is not None:
        sql += " AND e.seed_id = ?"
        params.append(seed_id)
    if kind is not None:
        sql += " AND e.kind = ?"
        params.append(kind)
    return [_event(row) for row in catalog.conn.execute(sql + " ORDER BY e.id", params)]


def _event(row: sqlite3.Row | tuple) -> Event:
    *fields, evidence = tuple(row)
    return Event(*fields, evidence=json.loads(evidence) if evidence else None)


def last_status_id(catalog: Catalog) -> int:
    """The id of the latest observation of any seed (0 for none): where a run starts."""
    row = catalog.conn.execute("SELECT MAX(id) FROM seed_status").fetchone()
    return int(row[0] or 0)


def last_change_unconfirmed(
    catalog: Catalog, seed_id: int, vantages: Sequence[str], *, ignoring: str
) -> bool:
    """Whether the seed's latest observation other than ``ignoring`` (the transient
    status) from any one of ``vantages`` (``''`` direct) is unconfirmed. A vantage point
    the seed no longer goes through is not asked: nothing would confirm its change."""
    rows = catalog.conn.execute(
        "SELECT vantage, confirmed FROM seed_status WHERE seed_id = ? AND status != ?"
        " ORDER BY id DESC",
        (seed_id, ignoring),
    )
    latest: dict[str, int] = {}
    for vantage, confirmed in rows:
        latest.setdefault(vantage, confirmed)
    return any(not latest.get(vantage, 1) for vantage in vantages)


def latest_per_vantage(
    conn: sqlite3.Connection,
    seed_id: int,
    vantages: Sequence[str],
    *,
    ignoring: str,
    after: int = 0,
) -> dict[str, StatusRow]:
    """The seed's latest observation other than ``ignoring`` (the transient status) from
    each of ``vantages`` that has one since observation ``after``."""
    found: dict[str, StatusRow] = {}
    for vantage in vantages:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM seed_status WHERE seed_id = ? AND vantage = ?"
            " AND status != ? AND id > ? ORDER BY id DESC LIMIT 1",
            (seed_id, vantage, ignoring, after),
        ).fetchone()
        if row:
            found[vantage] = _row(row)
    return found


@dataclass(frozen=True)
class ComparedCapture:
    """What comparing vantage points reads of a capture the timeline points at."""

    captured_at: str
    country: str | None  # its vantage point's, as recorded with it
    digest: str | None  # of a browser capture's visible text, else of its payload


def compared_capture(conn: sqlite3.Connection, capture_id: str) -> ComparedCapture:
    """A capture's time, vantage country and content digest (through a revisit to the
    capture holding the payload)."""
    row = conn.execute(
        f"SELECT c.captured_at, c.vantage_country, {TEXT_DIGEST}, c.payload_digest,"
        " o.payload_digest FROM captures c LEFT JOIN captures o ON o.id = c.revisit_of"
        " WHERE c.id = ?",
        (capture_id,),
    ).fetchone()
    return ComparedCapture(row[0], row[1], row[2] or row[3] or row[4])


def timeline(conn: sqlite3.Connection, seed_id: int) -> list[tuple[StatusRow, str]]:
    """Every observation of the seed with its capture time, oldest first."""
    rows = conn.execute(
        "SELECT s.id, s.seed_id, s.capture_id, s.observed_at, s.status, s.reason, s.confirmed,"
        " s.confirms, s.vantage, c.captured_at FROM seed_status s"
        " JOIN captures c ON c.id = s.capture_id WHERE s.seed_id = ? ORDER BY s.id",
        (seed_id,),
    )
    return [(_row(r[:9]), r[9]) for r in rows]
