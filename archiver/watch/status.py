"""A seed's status timeline and its confirmed events, in the catalog.

Every classified fetch of a seed page is a row of ``seed_status``. A fetch that puts
the seed in another state than its last confirmed one is *pending* until a second
fetch, a few seconds later in the same run, agrees: then the change is confirmed and,
when the seed went from present to absent, an event is stored with the proof: the
last capture where the content was present, the first where it was absent, and the
capture that confirmed it. A change the second fetch does not repeat was a flap.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass

from archiver.catalog.db import iso_ms, utc_now
from archiver.watch.classify import ABSENT, PRESENT, TRANSIENT, state_of


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

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What recording an observation decided."""

    row_id: int
    needs_confirmation: bool = False
    event: Event | None = None


def _row(r: sqlite3.Row | tuple) -> StatusRow:
    return StatusRow(*tuple(r))


_COLUMNS = "id, seed_id, capture_id, observed_at, status, reason, confirmed, confirms"


def last_confirmed(conn: sqlite3.Connection, seed_id: int) -> StatusRow | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM seed_status WHERE seed_id = ? AND confirmed = 1"
        " ORDER BY id DESC LIMIT 1",
        (seed_id,),
    ).fetchone()
    return _row(row) if row else None


# A browser capture's visible text (its urn:text: record): what a watched browser seed is
# compared by, as its response is the page's shell. SQL for a capture aliased ``c``.
TEXT_DIGEST = (
    "(SELECT r.payload_digest FROM capture_resources r WHERE r.capture_id = c.id"
    " AND r.kind = 'text')"
)


def present_digest(conn: sqlite3.Connection, seed_id: int) -> str | None:
    """The payload digest of the seed's last present capture (through a revisit to the
    capture holding the payload); for a browser capture, the digest of its visible text."""
    marks = ",".join("?" * len(PRESENT))
    row = conn.execute(
        f"SELECT {TEXT_DIGEST}, c.payload_digest, o.payload_digest FROM seed_status s"
        " JOIN captures c ON c.id = s.capture_id LEFT JOIN captures o ON o.id = c.revisit_of"
        f" WHERE s.seed_id = ? AND s.status IN ({marks}) ORDER BY s.id DESC LIMIT 1",
        (seed_id, *PRESENT),
    ).fetchone()
    return (row[0] or row[1] or row[2]) if row else None


def present_title(conn: sqlite3.Connection, seed_id: int) -> str | None:
    """The title of the seed's last present capture: what tells a post quoting a removal
    notice from the notice itself (see notices.py)."""
    marks = ",".join("?" * len(PRESENT))
    row = conn.execute(
        "SELECT c.title FROM seed_status s JOIN captures c ON c.id = s.capture_id"
        f" WHERE s.seed_id = ? AND s.status IN ({marks}) ORDER BY s.id DESC LIMIT 1",
        (seed_id, *PRESENT),
    ).fetchone()
    return row[0] if row else None


def judge_suspect(reason: str) -> tuple[str, str]:
    """How a browser capture found suspect counts for a watched seed: the platform's
    "content unavailable" placeholder is its removal notice; a wall, a captcha or an
    empty render says nothing about the post, so it is a transient error."""
    if reason.startswith("unavailable placeholder"):
        return "removed", f"removal notice: {reason}"
    return TRANSIENT, f"suspect capture: {reason}"


def _insert(
    conn: sqlite3.Connection,
    seed_id: int,
    capture_id: str,
    status: str,
    reason: str,
    confirmed: bool,
    confirms: int | None = None,
) -> int:
    cursor = conn.execute(
        "INSERT INTO seed_status (seed_id, capture_id, observed_at, status, reason, confirmed,"
        " confirms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seed_id, capture_id, iso_ms(utc_now()), status, reason, int(confirmed), confirms),
    )
    return int(cursor.lastrowid or 0)


def observe(
    conn: sqlite3.Connection,
    seed_id: int,
    capture_id: str,
    status: str,
    reason: str,
    *,
    confirms: int | None = None,
    url: str = "",
) -> Outcome:
    """Record one observation inside the caller's transaction and decide what follows."""
    before = last_confirmed(conn, seed_id)
    if status == TRANSIENT:
        return Outcome(_insert(conn, seed_id, capture_id, status, reason, False, confirms))
    if confirms is not None:
        return _confirm(conn, seed_id, capture_id, status, reason, confirms, before, url)
    if before is None or state_of(before.status) == state_of(status):
        return Outcome(_insert(conn, seed_id, capture_id, status, reason, True))
    return Outcome(_insert(conn, seed_id, capture_id, status, reason, False), True)


def _confirm(
    conn: sqlite3.Connection,
    seed_id: int,
    capture_id: str,
    status: str,
    reason: str,
    pending_id: int,
    before: StatusRow | None,
    url: str,
) -> Outcome:
    pending = _row(
        conn.execute(f"SELECT {_COLUMNS} FROM seed_status WHERE id = ?", (pending_id,)).fetchone()
    )
    agrees = state_of(status) == state_of(pending.status) or (
        status in ABSENT and pending.status in ABSENT  # 404 then 403: absent either way
    )
    if not agrees:
        if before is not None and state_of(status) == state_of(before.status):
            note = f"{reason} (the change to {pending.status} did not hold)"  # a flap
            return Outcome(_insert(conn, seed_id, capture_id, status, note, True, pending_id))
        # A third state: this observation is pending in turn and fetched once more (once:
        # after that the seed stays due, and the next run looks again).
        row_id = _insert(conn, seed_id, capture_id, status, reason, False, pending_id)
        return Outcome(row_id, needs_confirmation=pending.confirms is None)
    conn.execute("UPDATE seed_status SET confirmed = 1 WHERE id = ?", (pending_id,))
    row_id = _insert(conn, seed_id, capture_id, status, reason, True, pending_id)
    if pending.status not in ABSENT:
        return Outcome(row_id)  # back to present: the timeline shows it, no event
    marks = ",".join("?" * len(PRESENT))
    last_present = conn.execute(
        f"SELECT s.capture_id, c.captured_at FROM seed_status s JOIN captures c"
        f" ON c.id = s.capture_id WHERE s.seed_id = ? AND s.status IN ({marks}) AND s.id < ?"
        " ORDER BY s.id DESC LIMIT 1",
        (seed_id, *PRESENT, pending.id),
    ).fetchone()
    first_absent_at = conn.execute(
        "SELECT captured_at FROM captures WHERE id = ?", (pending.capture_id,)
    ).fetchone()[0]
    confirmed_at = iso_ms(utc_now())
    previous = before.status if before else "unknown"
    cursor = conn.execute(
        "INSERT INTO events (seed_id, url, kind, reason, previous, last_present, first_absent,"
        " confirmed_by, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seed_id, url, pending.status, pending.reason, previous,
         last_present[0] if last_present else None, pending.capture_id, capture_id,
         confirmed_at),
    )  # fmt: skip
    event = Event(
        id=int(cursor.lastrowid or 0), seed_id=seed_id, url=url, kind=pending.status,
        reason=pending.reason, previous=previous,
        last_present=last_present[0] if last_present else None,
        last_present_at=last_present[1] if last_present else None,
        first_absent=pending.capture_id, first_absent_at=first_absent_at,
        confirmed_by=capture_id, confirmed_at=confirmed_at,
    )  # fmt: skip
    return Outcome(row_id, event=event)


_EVENT_SELECT = """
SELECT e.id, e.seed_id, e.url, e.kind, e.reason, e.previous, e.last_present, lp.captured_at,
       e.first_absent, fa.captured_at, e.confirmed_by, e.confirmed_at
FROM events e
LEFT JOIN captures lp ON lp.id = e.last_present
JOIN captures fa ON fa.id = e.first_absent
"""


def list_events(
    conn: sqlite3.Connection,
    *,
    since: str | None = None,
    seed_id: int | None = None,
    kind: str | None = None,
) -> list[Event]:
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
    return [Event(*row) for row in conn.execute(sql + " ORDER BY e.id", params)]


def awaiting_confirmation(conn: sqlite3.Connection, seed_id: int) -> bool:
    """Whether the seed's latest observation is a change not yet confirmed (a crash, or a
    confirming fetch that failed): such a seed is due again at once."""
    row = conn.execute(
        "SELECT status, confirmed FROM seed_status WHERE seed_id = ? AND status != ?"
        " ORDER BY id DESC LIMIT 1",
        (seed_id, TRANSIENT),
    ).fetchone()
    return bool(row) and not row[1]


def timeline(conn: sqlite3.Connection, seed_id: int) -> list[tuple[StatusRow, str]]:
    """Every observation of the seed with its capture time, oldest first."""
    rows = conn.execute(
        "SELECT s.id, s.seed_id, s.capture_id, s.observed_at, s.status, s.reason, s.confirmed,"
        " s.confirms, c.captured_at FROM seed_status s JOIN captures c ON c.id = s.capture_id"
        " WHERE s.seed_id = ? ORDER BY s.id",
        (seed_id,),
    )
    return [(_row(r[:8]), r[8]) for r in rows]
