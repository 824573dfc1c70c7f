"""Comparing what a seed looks like from its vantage points (geo-difference).

After a run that captured a seed from two vantage points or more, the latest
observation on each vantage's own timeline (archiver/watch/status.py) is compared:

- ``same``: present everywhere with the same content;
- ``different``: present everywhere, the content differs;
- ``blocked``: present from one vantage, absent (blocked, removed, gone, soft404) from
  another;
- ``absent``: absent everywhere (the ordinary events say how);
- ``pending``: a vantage's latest change is not yet confirmed: nothing is decided.

Every comparison is recorded. A ``blocked`` or ``different`` verdict becomes an event,
``geo-blocked`` or ``geo-different``, whose evidence is the capture each vantage point
saw, only once a second run agrees: the same verdict, each vantage point in the same state
and, for ``different``, each with the same content as in the comparison before. One fetch from a
vantage point is not evidence of a difference: a 403 or a timeout once, a page deleted
between the vantage points' jobs, or a page whose bytes change on every request (a token,
a clock) would otherwise be claimed as one. A streak that goes on makes no new event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archiver.catalog import geo, statuses
from archiver.catalog.statuses import Connection, Event, PresentCapture, StatusRow
from archiver.watch.classify import TRANSIENT, state_of

GEO_BLOCKED = "geo-blocked"
GEO_DIFFERENT = "geo-different"
GEO_KINDS = (GEO_BLOCKED, GEO_DIFFERENT)
_EVENT_OF = {"blocked": GEO_BLOCKED, "different": GEO_DIFFERENT}
PENDING = "pending"


@dataclass(frozen=True)
class Verdict:
    """What comparing a seed's vantage points decided."""

    seed_id: int
    verdict: str
    states: dict[str, str]  # vantage name (direct) -> its state
    event: Event | None = None
    awaiting: bool = False  # blocked or different this run only: an event if the next agrees


def shown(vantage: str) -> str:
    """A timeline's vantage as a person reads it: ``''`` is ``direct``."""
    return vantage or "direct"


def compare(
    conn: Connection, seed_id: int, url: str, vantages: Sequence[str], *, after: int = 0
) -> Verdict | None:
    """Compare the seed's latest observations from ``vantages`` (names, ``''`` direct)
    since observation ``after`` (the run's start: a vantage that saw nothing in this run,
    its proxy down, is left out rather than compared by what it saw before) inside the
    caller's transaction; None when fewer than two of them have seen it."""
    latest = statuses.latest_per_vantage(conn, seed_id, vantages, ignoring=TRANSIENT, after=after)
    if len(latest) < 2:
        return None
    states = {shown(v): state_of(row.status) for v, row in latest.items()}
    evidence = [_evidence(conn, v, row) for v, row in latest.items()]
    verdict = _verdict(latest, evidence)
    digests = {str(e["vantage"]): _str(e["digest"]) for e in evidence if e["state"] == "present"}
    earlier = geo.last_comparisons(conn, seed_id, ignoring=PENDING, limit=2)
    geo.insert_comparison(conn, seed_id, verdict, states, digests)
    kind = _EVENT_OF.get(verdict)
    now = _key(geo.Comparison(0, seed_id, "", verdict, states, digests))
    agreed = bool(earlier) and _key(earlier[0]) == now
    already = len(earlier) > 1 and _key(earlier[1]) == now  # the streak's event is made
    if kind is None or not agreed or already:
        return Verdict(seed_id, verdict, states, awaiting=kind is not None and not agreed)
    previous = earlier[1] if len(earlier) > 1 else None
    present = [e for e in evidence if e["state"] == "present"]
    absent = [e for e in evidence if e["state"] != "present"]
    other = absent if verdict == "blocked" else present[1:]
    first, second = present[0], other[0]
    if verdict == "blocked":
        reason = "; ".join(
            [f"present via {_label(e)}" for e in present]
            + [f"{e['state']} via {_label(e)}: {e['reason']}" for e in other]
        )
    else:
        reason = "content differs: " + ", ".join(
            f"{_label(e)} {str(e['digest'] or '')[:19]}" for e in present
        )
    newest = max(latest.values(), key=lambda row: row.id)
    event = statuses.insert_event(
        conn, seed_id=seed_id, url=url, kind=kind, reason=reason,
        previous=previous.verdict if previous else "unknown",
        last_present=PresentCapture(str(first["capture_id"]), str(first["captured_at"])),
        first_absent=str(second["capture_id"]),
        first_absent_at=str(second["captured_at"]),
        confirmed_by=newest.capture_id,
        vantage=str(second["vantage"]) if verdict == "blocked" else None,
        evidence=evidence,
    )  # fmt: skip
    return Verdict(seed_id, verdict, states, event)


def vantage_states(conn: Connection, seed_id: int, vantages: Sequence[str]) -> dict[str, str]:
    """The state each of the seed's vantage points (names, ``''`` direct) last saw it in,
    marked ``(pending confirmation)`` while its change is not confirmed."""
    unique = list(dict.fromkeys(vantages))
    latest = statuses.latest_per_vantage(conn, seed_id, unique, ignoring=TRANSIENT)
    return {
        shown(v): state_of(row.status) + ("" if row.confirmed else " (pending confirmation)")
        for v, row in latest.items()
    }


def _verdict(latest: dict[str, StatusRow], evidence: list[dict[str, object]]) -> str:
    if not all(row.confirmed for row in latest.values()):
        return PENDING
    present = [e for e in evidence if e["state"] == "present"]
    if not present:
        return "absent"
    if len(present) < len(evidence):
        return "blocked"
    return "same" if len({e["digest"] for e in present}) == 1 else "different"


def _evidence(conn: Connection, vantage: str, row: StatusRow) -> dict[str, object]:
    """What a vantage point saw: its latest observation and the capture it judged."""
    capture_id = row.capture_id
    facts = statuses.compared_capture(conn, capture_id)  # a revisit's: of the payload it holds
    return {
        "vantage": shown(vantage),
        "country": facts.country,
        "state": state_of(row.status),
        "status": row.status,
        "reason": row.reason,
        "capture_id": capture_id,
        "captured_at": facts.captured_at,
        "digest": facts.digest,
    }


def _key(comparison: geo.Comparison) -> tuple[str, dict[str, str], dict[str, str | None]]:
    """What two runs must share to agree: the verdict, each vantage point's state and, for
    ``different``, each one's content (for ``blocked``, the page present on one side may
    change from run to run: a news page does)."""
    digests = comparison.digests if comparison.verdict == "different" else {}
    return comparison.verdict, comparison.states, digests


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _label(evidence: dict[str, object]) -> str:
    country = evidence.get("country")
    return f"{evidence['vantage']} ({country})" if country else str(evidence["vantage"])
