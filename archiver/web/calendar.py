"""A URL's captures as a calendar, the Wayback Machine's way: a year of months, then a
month of days, then a day's captures; each day marked by what was seen that day (the
most telling of it) and whether an event began."""

from __future__ import annotations

import calendar as cal
from dataclasses import dataclass, field

from archiver.catalog.browse import Observed

# What a day can show, most telling first; each has a mark besides its colour.
STATES = {
    "removed": ("⊘", "removed (a removal notice)"),
    "gone": ("✕", "gone (404 or 410)"),
    "blocked": ("■", "blocked (401, 403, 451, reset, timeout)"),
    "soft404": ("↪", "redirected away (soft 404)"),
    "suspect": ("?", "suspect render (login wall, captcha)"),
    "changed": ("●", "captured or changed"),
    "captured": ("●", "captured or changed"),
    "unchanged": ("○", "unchanged"),
    "error": ("!", "failed fetch or server error"),
}
_RANK = list(STATES)


def state_of(seen: Observed, previous_digest: str | None) -> str:
    """What one capture shows: the watch's classification when it made one, else what
    its status and payload say."""
    if seen.observation and seen.observation in STATES:
        return seen.observation
    if seen.state == "failed" or (seen.http_status or 0) >= 500 or seen.http_status == 429:
        return "error"
    if seen.quality == "suspect":
        return "suspect"
    if seen.http_status in (404, 410):
        return "gone"
    if seen.http_status in (401, 403, 451):
        return "blocked"
    if previous_digest is None:
        return "captured"
    return "unchanged" if seen.payload_digest == previous_digest else "changed"


@dataclass
class Day:
    day: int
    captures: list[Observed] = field(default_factory=list)
    states: set[str] = field(default_factory=set)
    events: list[str] = field(default_factory=list)

    @property
    def state(self) -> str | None:
        return min(self.states, key=_RANK.index) if self.states else None


def by_day(history: list[Observed], previous: str | None = None) -> dict[str, Day]:
    """Days (``YYYY-MM-DD``) with captures; ``previous`` is the payload digest of the
    capture before the first one in ``history``, if any."""
    days: dict[str, Day] = {}
    for seen in history:
        key = seen.captured_at[:10]
        day = days.setdefault(key, Day(int(key[8:10])))
        state = state_of(seen, previous)
        day.captures.append(seen)
        day.states.add(state)
        if seen.event_kind:
            day.events.append(seen.event_kind)
        if seen.state == "ok" and seen.payload_digest and (seen.http_status or 0) < 300:
            previous = seen.payload_digest
    return days


def month_grid(year: int, month: int) -> list[list[int]]:
    """Weeks of day numbers, Monday first, 0 outside the month."""
    return cal.Calendar(firstweekday=0).monthdayscalendar(year, month)


def neighbours(keys: list[str], key: str) -> tuple[str | None, str | None]:
    """The keys just before and just after ``key`` in the sorted ``keys`` (``key`` itself
    need not be one of them)."""
    earlier = [k for k in keys if k < key]
    later = [k for k in keys if k > key]
    return (earlier[-1] if earlier else None, later[0] if later else None)
