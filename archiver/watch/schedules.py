"""Recapture schedules: every N (``6h``) or an RFC 5545 RRULE, per seed or per tag,
with an optional escalation ladder for new high-risk seeds.

When is a seed due? Its last attempt is its latest seed capture (failed fetches count:
an attempt was made). Never attempted: due now. With a ladder and ``risk high``, the
seed is due at each rung after its first capture (``10m,1h,6h,1d,7d``: ten minutes
after it, then an hour after it, ...) until the ladder is climbed; then, and for every
other seed, the regular schedule applies from the last attempt. A seed under several
schedules (its own, and tags') follows whichever makes it due first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from archiver.catalog import schedules as rows
from archiver.catalog.db import Catalog, iso_ms, utc_now
from archiver.catalog.schedules import ScheduleRow
from archiver.catalog.seeds import Seed, get_seed, list_seeds
from archiver.errors import ArchiverError, NotFound
from archiver.seedspec import SeedFields, vantages_of
from archiver.vantage.points import DIRECT, chosen
from archiver.watch.status import awaiting_confirmation

_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|min|s)", re.IGNORECASE)
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}
MIN_INTERVAL = 60  # seconds: more often than once a minute is not a schedule
MAX_INTERVAL = 10 * 365 * 86400
LADDER_RISK = "high"


def parse_duration(text: str) -> int:
    """Seconds in ``6h``, ``10m``, ``1d``, ``1h30m``, ``2w``; a clear error otherwise."""
    compact = text.strip().replace(" ", "")[:40]
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise ArchiverError(f"{text!r} is not a duration: write it like 10m, 6h, 1d, 1h30m or 2w")
    seconds = sum(int(n) * _UNITS[u.lower()] for n, u in parts)
    if seconds > MAX_INTERVAL:
        raise ArchiverError(f"{text!r} is more than ten years: choose a shorter interval")
    return seconds


def format_duration(seconds: int) -> str:
    out = []
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"


def parse_rrule(text: str, start: datetime):  # type: ignore[no-untyped-def]
    from dateutil.rrule import rrulestr

    try:
        rule = rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as exc:
        raise ArchiverError(
            f"{text!r} is not an RRULE ({exc}): write it like 'FREQ=HOURLY;INTERVAL=6'"
        ) from exc
    first = rule.after(start, inc=True)
    second = rule.after(first, inc=False) if first else None
    if first is None:
        raise ArchiverError(f"the RRULE {text!r} never comes round: nothing would be captured")
    if second is not None and (second - first).total_seconds() < MIN_INTERVAL:
        raise ArchiverError(f"the RRULE {text!r} repeats more than once a minute")
    return rule


@dataclass(frozen=True)
class Schedule(ScheduleRow):
    """A schedule row, with what it means."""

    @property
    def target(self) -> str:
        return f"seed {self.seed_id}" if self.seed_id is not None else f"tag {self.tag}"

    @property
    def rule_text(self) -> str:
        rule = f"every {format_duration(self.every_s)}" if self.every_s else f"rrule {self.rrule}"
        if self.ladder:
            rule += f", ladder {','.join(format_duration(s) for s in self.ladder)}"
        if self.via:
            rule += f", via {self.via}"
        return rule

    def next_after(self, last: datetime) -> datetime:
        if self.every_s is not None:
            return last + timedelta(seconds=self.every_s)
        rule = parse_rrule(self.rrule or "", _parse_time(self.created_at))
        following = rule.after(last.replace(tzinfo=None), inc=False)
        if following is None:
            return datetime.max.replace(tzinfo=UTC)
        return following.replace(tzinfo=UTC)


def _parse_time(text: str) -> datetime:
    """A catalog time (``2026-01-02T03:04:05.678Z``), naive UTC for dateutil.rrule."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def _aware(text: str) -> datetime:
    return _parse_time(text).replace(tzinfo=UTC)


def _from_row(row: ScheduleRow) -> Schedule:
    return Schedule(
        row.id, row.seed_id, row.tag, row.every_s, row.rrule, row.ladder, row.created_at,
        row.via,
    )  # fmt: skip


def set_schedule(
    catalog: Catalog,
    *,
    seed_id: str | None,
    tag: str | None,
    every: str | None,
    rrule: str | None,
    ladder: str | None,
    via: str | None = None,
) -> Schedule:
    """Create or replace the schedule of a seed or a tag. ``via`` names the vantage point
    its recaptures go through (``direct``: none, whatever the seed's own)."""
    if (seed_id is None) == (tag is None):
        raise ArchiverError("choose what to schedule: one of --seed ID or --tag TAG")
    if (every is None) == (rrule is None):
        raise ArchiverError(
            "choose how often: one of --every 6h or --rrule 'FREQ=HOURLY;INTERVAL=6'"
        )
    now = iso_ms(utc_now())
    every_s = None
    if every is not None:
        every_s = parse_duration(every)
        if every_s < MIN_INTERVAL:
            raise ArchiverError(f"--every {every} is less than a minute: choose 1m or more")
    if rrule is not None:
        parse_rrule(rrule, _parse_time(now))
    rungs: list[int] = []
    if ladder:
        rungs = [parse_duration(part) for part in ladder.split(",")]
        if rungs != sorted(set(rungs)) or rungs[0] <= 0:
            raise ArchiverError(f"--ladder {ladder}: rungs must grow, like 10m,1h,6h,1d,7d")
    if via is not None:
        via = SeedFields.build({"via": via}).settings["via"] or DIRECT  # type: ignore[assignment]
        for name in via.split(","):  # type: ignore[union-attr]
            if name != DIRECT:
                chosen(catalog, name, "--via")
    target_seed = get_seed(catalog, seed_id).id if seed_id is not None else None
    if tag is not None and not list_seeds(catalog, tags=[tag]):
        raise NotFound(f"no active seed has the tag {tag!r}: tag seeds with 'archiver seeds add'")
    made = rows.replace_schedule(
        catalog, seed_id=target_seed, tag=tag, every_s=every_s, rrule=rrule, ladder=rungs,
        created_at=now, via=via,
    )  # fmt: skip
    return _from_row(made)


def remove_schedule(catalog: Catalog, *, seed_id: str | None, tag: str | None) -> int:
    if (seed_id is None) == (tag is None):
        raise ArchiverError("choose which schedule to remove: one of --seed ID or --tag TAG")
    target = get_seed(catalog, seed_id).id if seed_id is not None else None
    removed = rows.delete_schedule(catalog, seed_id=target, tag=tag)
    if not removed:
        what = f"seed {seed_id}" if seed_id is not None else f"tag {tag!r}"
        raise NotFound(f"{what} has no schedule (list them with 'archiver schedule list')")
    return int(removed)


def all_schedules(catalog: Catalog) -> list[Schedule]:
    return [_from_row(row) for row in rows.list_schedules(catalog)]


@dataclass(frozen=True)
class Due:
    seed: Seed
    schedule: Schedule
    at: datetime  # when it is (or was) due
    last_attempt: str | None
    why: str

    def is_due(self, now: datetime) -> bool:
        return self.at <= now


def due_for(seed: Seed, schedule: Schedule, first: str | None, last: str | None) -> Due:
    if last is None:
        return Due(seed, schedule, datetime.min.replace(tzinfo=UTC), None, "never captured")
    last_at = _aware(last)
    if schedule.ladder and seed.risk == LADDER_RISK and first is not None:
        first_at = _aware(first)
        for rung in schedule.ladder:
            at = first_at + timedelta(seconds=rung)
            if at > last_at:
                return Due(seed, schedule, at, last, f"ladder: {format_duration(rung)} after "
                           "the first capture")  # fmt: skip
    return Due(seed, schedule, schedule.next_after(last_at), last, schedule.rule_text)


def seed_dues(catalog: Catalog, seeds: Sequence[Seed] | None = None) -> list[Due]:
    """When each scheduled, active seed is next due (earliest first)."""
    schedules = all_schedules(catalog)
    by_seed = {s.seed_id: s for s in schedules if s.seed_id is not None}
    by_tag = {(s.tag or "").lower(): s for s in schedules if s.tag is not None}
    out = []
    for seed in seeds if seeds is not None else list_seeds(catalog):
        applicable = [by_seed[seed.id]] if seed.id in by_seed else []
        applicable += [by_tag[t.lower()] for t in seed.tags if t.lower() in by_tag]
        if not applicable or not seed.active:
            continue
        attempts = rows.seed_attempts(catalog, seed.id)
        first, last = attempts.first_success, attempts.last
        due = min((due_for(seed, s, first, last) for s in applicable), key=lambda d: d.at)
        # The vantage points its recaptures go through: the due schedule's, else its own.
        if awaiting_confirmation(catalog, seed.id, vantages_of(due.schedule.via or seed.via)):
            due = Due(seed, due.schedule, datetime.min.replace(tzinfo=UTC), last,
                      "a change of state waits to be confirmed")  # fmt: skip
        out.append(due)
    return sorted(out, key=lambda d: (d.at, d.seed.id))


def now_for_schedules() -> datetime:
    """Now, unless ``ARCHIVER_NOW`` says otherwise (to test schedules without waiting)."""
    import os

    from archiver.research.dates import parse_when

    override = os.environ.get("ARCHIVER_NOW")
    return parse_when(override) if override else datetime.now(UTC)
