"""A seed's status timeline and its confirmed events, in the catalog.

Every classified fetch of a seed page is a row of ``seed_status``, on the timeline of the
vantage point it was fetched from (``''``: direct); each vantage's is judged on its own,
and comparing them is archiver/watch/geo.py's. A fetch that puts
the seed in another state than its last confirmed one is *pending* until a second
fetch, a few seconds later in the same run, agrees: then the change is confirmed and,
when the seed went from present to absent, an event is stored with the proof: the
last capture where the content was present, the first where it was absent, and the
capture that confirmed it. A change the second fetch does not repeat was a flap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from archiver.catalog import statuses
from archiver.catalog.captures import latest_in_job
from archiver.catalog.db import Catalog
from archiver.catalog.geo import last_comparison
from archiver.catalog.statuses import TEXT_DIGEST, Connection, Event, StatusRow, timeline
from archiver.watch.classify import ABSENT, PRESENT, TRANSIENT, Fetch, classify, state_of
from archiver.watch.patterns import RemovalPatterns

# Re-exported for the modules that read the timeline through the watch.
__all__ = ["TEXT_DIGEST", "Event", "StatusRow", "last_comparison", "timeline"]


@dataclass(frozen=True)
class Outcome:
    """What recording an observation decided."""

    row_id: int
    needs_confirmation: bool = False
    event: Event | None = None


def last_confirmed(conn: Connection, seed_id: int, vantage: str) -> StatusRow | None:
    return statuses.last_confirmed(conn, seed_id, vantage)


def present_digest(conn: Connection, seed_id: int, vantage: str) -> str | None:
    """The payload digest of the seed's last present capture from ``vantage`` (through a
    revisit to the capture holding the payload); for a browser capture, the digest of its
    visible text."""
    return statuses.present_digest(conn, seed_id, vantage, PRESENT)


def present_title(conn: Connection, seed_id: int, vantage: str) -> str | None:
    """The title of the seed's last present capture from ``vantage``: what tells a post
    quoting a removal notice from the notice itself (see notices.py)."""
    return statuses.present_title(conn, seed_id, vantage, PRESENT)


@dataclass(frozen=True)
class Judged:
    """A seed fetch classified: its state, why, the capture judged and its timeline."""

    capture_id: str
    status: str
    reason: str
    vantage: str  # the timeline: the vantage point it was fetched through, '' direct


def judge_fetch(
    catalog: Catalog, job_id: int, seed_id: int, fetch: Fetch, patterns: RemovalPatterns
) -> Judged | None:
    """Classify the job's latest capture of a seed page (its row committed) against what
    the seed's timeline from the same vantage point last saw present; None when the job
    has no capture of it."""
    latest = latest_in_job(catalog, job_id, fetch.url)
    if latest is None:
        return None
    # A browser capture is compared by its visible text: its response is the page's
    # shell, the same when the post has changed or gone.
    fetch = replace(fetch, payload_digest=latest.digest)
    if fetch.status is None and latest.truncated == "disconnect":
        # Cut off mid-body by the server or the network: what censors' resets do.
        fetch = replace(fetch, error="reset: the connection closed mid-body")
    elif fetch.status is None and latest.http_status is not None:
        # Cut by our own size or time limit.
        fetch = replace(fetch, status=latest.http_status)
    vantage = latest.vantage or ""
    conn = catalog.conn
    status, reason = classify(
        fetch,
        present_digest(conn, seed_id, vantage),
        patterns,
        present_title(conn, seed_id, vantage),
    )
    if latest.quality == "suspect" and status in PRESENT:
        status, reason = judge_suspect(latest.quality_reason or "")
    return Judged(latest.capture_id, status, reason, vantage)


def judge_suspect(reason: str) -> tuple[str, str]:
    """How a browser capture found suspect counts for a watched seed: the platform's
    "content unavailable" placeholder is its removal notice; a wall, a captcha or an
    empty render says nothing about the post, so it is a transient error."""
    if reason.startswith("unavailable placeholder"):
        return "removed", f"removal notice: {reason}"
    return TRANSIENT, f"suspect capture: {reason}"


def observe(
    conn: Connection,
    seed_id: int,
    capture_id: str,
    status: str,
    reason: str,
    *,
    confirms: int | None = None,
    url: str = "",
    vantage: str = "",
) -> Outcome:
    """Record one observation from ``vantage`` (``''``: direct) inside the caller's
    transaction and decide what follows."""
    before = last_confirmed(conn, seed_id, vantage)

    def insert(*args: object) -> int:
        return statuses.insert_status(conn, seed_id, *args, vantage=vantage)  # type: ignore[arg-type]

    if status == TRANSIENT:
        return Outcome(insert(capture_id, status, reason, False, confirms))
    if confirms is not None:
        return _confirm(conn, seed_id, vantage, capture_id, status, reason, confirms, before, url)
    if before is None or state_of(before.status) == state_of(status):
        return Outcome(insert(capture_id, status, reason, True))
    return Outcome(insert(capture_id, status, reason, False), True)


def _confirm(
    conn: Connection,
    seed_id: int,
    vantage: str,
    capture_id: str,
    status: str,
    reason: str,
    pending_id: int,
    before: StatusRow | None,
    url: str,
) -> Outcome:
    def insert(*args: object) -> int:
        return statuses.insert_status(conn, seed_id, *args, vantage=vantage)  # type: ignore[arg-type]

    pending = statuses.get_status(conn, pending_id)
    agrees = state_of(status) == state_of(pending.status) or (
        status in ABSENT and pending.status in ABSENT  # 404 then 403: absent either way
    )
    if not agrees:
        if before is not None and state_of(status) == state_of(before.status):
            note = f"{reason} (the change to {pending.status} did not hold)"  # a flap
            return Outcome(insert(capture_id, status, note, True, pending_id))
        # A third state: this observation is pending in turn and fetched once more (once:
        # after that the seed stays due, and the next run looks again).
        row_id = insert(capture_id, status, reason, False, pending_id)
        return Outcome(row_id, needs_confirmation=pending.confirms is None)
    statuses.confirm_status(conn, pending_id)
    row_id = insert(capture_id, status, reason, True, pending_id)
    if pending.status not in ABSENT:
        return Outcome(row_id)  # back to present: the timeline shows it, no event
    event = statuses.insert_event(
        conn,
        seed_id=seed_id,
        url=url,
        kind=pending.status,
        reason=pending.reason,
        previous=before.status if before else "unknown",
        last_present=statuses.last_present_before(conn, seed_id, vantage, PRESENT, pending.id),
        first_absent=pending.capture_id,
        first_absent_at=statuses.captured_at(conn, pending.capture_id),
        confirmed_by=capture_id,
        vantage=vantage or None,
    )
    return Outcome(row_id, event=event)


def awaiting_confirmation(catalog: Catalog, seed_id: int, vantages: Sequence[str]) -> bool:
    """Whether the seed's latest observation from one of the vantage points it goes
    through (names, ``direct``) is a change not yet confirmed (a crash, or a confirming
    fetch that failed): such a seed is due again at once."""
    timelines = ["" if v == "direct" else v for v in vantages]
    return statuses.last_change_unconfirmed(catalog, seed_id, timelines, ignoring=TRANSIENT)
