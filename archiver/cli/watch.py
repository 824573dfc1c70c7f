"""Watching at-risk seeds: ``schedule``, ``run-due``, ``watch`` and ``events``."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import threading
from datetime import datetime

import click

from archiver.catalog.db import iso_ms, iso_s, utc_now
from archiver.catalog.seeds import get_seed
from archiver.catalog.statuses import list_events
from archiver.cli.jobs import stopped_jobs_json, stopped_jobs_line
from archiver.errors import ArchiverError
from archiver.joblock import CatalogLock, JobLock, seed_lock
from archiver.jobs.state import unfinished
from archiver.urls import display_iri
from archiver.watch.classify import ABSENT
from archiver.watch.geo import GEO_KINDS
from archiver.watch.schedules import (
    all_schedules,
    now_for_schedules,
    remove_schedule,
    seed_dues,
    set_schedule,
)
from archiver.watch.wake import Waker

MIN_GAP = 10.0  # seconds between two runs started by watch


def _when(moment: datetime) -> str:
    if moment.year <= 1:
        return "now (never captured)"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def crawl_options(command):  # type: ignore[no-untyped-def]
    """The options run-due and watch pass on to the crawl they run."""
    for option in reversed((
        click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
                     help="Override a setting."),
        click.option(
            "--profile", default="local", show_default=True, envvar="ARCHIVER_PROFILE",
            help="Settings profile (or ARCHIVER_PROFILE, or profile in archiver.toml).",
        ),
        click.option("--store", envvar="ARCHIVER_STORE", help="Where closed WARCs go."),
    )):  # fmt: skip
        command = option(command)
    return command


@click.group()
def schedule() -> None:
    """Recapture schedules for seeds and tags.

    Example: archiver schedule set --seed 3 --every 6h
    """


@schedule.command("set")
@click.option("--seed", "seed_id", help="Schedule this seed.")
@click.option("--tag", help="Schedule every seed with this tag.")
@click.option("--every", help="Interval: 10m, 6h, 1d, 1h30m, 2w.")
@click.option("--rrule", help="An RFC 5545 RRULE, e.g. 'FREQ=HOURLY;INTERVAL=6'.")
@click.option("--ladder", help="High-risk seeds: recapture this long after the first "
              "capture, rung by rung, e.g. 10m,1h,6h,1d,7d.")  # fmt: skip
@click.option("--via", metavar="NAME[,NAME]", help="Recapture through this vantage point"
              " (archiver vantage list); direct: no proxy; several (hk-1,cn-1): from each,"
              " and compared. Default: each seed's own.")  # fmt: skip
@click.pass_obj
def schedule_set(obj, seed_id, tag, every, rrule, ladder, via) -> None:  # type: ignore[no-untyped-def]
    """Create or replace the schedule of a seed or a tag.

    Example: archiver schedule set --tag weibo --every 6h --ladder 10m,1h,6h,1d,7d

    Example: archiver schedule set --seed 3 --every 1d --via hk-1
    """
    made = set_schedule(
        obj.catalog(), seed_id=seed_id, tag=tag, every=every, rrule=rrule, ladder=ladder,
        via=via,
    )  # fmt: skip
    obj.wake_watch()
    click.echo(f"schedule {made.id}: {made.target}, {made.rule_text}")


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def schedule_list(obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The schedules, and when each scheduled seed is next due.

    Example: archiver schedule list
    """
    catalog = obj.catalog()
    schedules = all_schedules(catalog)
    dues = seed_dues(catalog)
    now = now_for_schedules()
    stopped = unfinished(catalog, obj.home)
    if as_json:
        data = {
            "schedules": [
                {"schedule_id": s.id, "seed_id": s.seed_id, "tag": s.tag,
                 "every_seconds": s.every_s, "rrule": s.rrule,
                 "ladder_seconds": list(s.ladder), "rule": s.rule_text, "via": s.via,
                 "id": s.id}
                for s in schedules
            ],
            "seeds": [
                {"seed_id": d.seed.id, "url": d.seed.url, "schedule_id": d.schedule.id,
                 "next_due": None if d.at.year <= 1 else iso_ms(d.at),
                 "due_now": d.is_due(now), "last_attempt": d.last_attempt, "why": d.why,
                 "schedule": d.schedule.id}
                for d in dues
            ],
            "stopped_jobs": stopped_jobs_json(stopped),
        }  # fmt: skip
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not schedules:
        click.echo("no schedules (add one with 'archiver schedule set')")
    for s in schedules:
        click.echo(f"schedule {s.id}: {s.target}, {s.rule_text}")
    for d in dues:
        flag = "  DUE" if d.is_due(now) else ""
        click.echo(f"  seed {d.seed.id:>4}  next {_when(d.at)}{flag}  {d.seed.url}  ({d.why})")
    line = stopped_jobs_line(stopped)
    if line:
        click.echo(line)


@schedule.command("remove")
@click.option("--seed", "seed_id", help="The seed's own schedule.")
@click.option("--tag", help="The tag's schedule.")
@click.pass_obj
def schedule_remove(obj, seed_id, tag) -> None:  # type: ignore[no-untyped-def]
    """Remove the schedule of a seed or a tag. Example: archiver schedule remove --tag weibo"""
    remove_schedule(obj.catalog(), seed_id=seed_id, tag=tag)
    obj.wake_watch()
    click.echo(f"removed the schedule of {'seed ' + seed_id if seed_id else 'tag ' + tag}")


@click.command("run-due")
@crawl_options
@click.option(
    "--json", "as_json", is_flag=True,
    help="End with the run's summary as JSON on stdout (as 'crawl --json' does).",
)  # fmt: skip
@click.pass_context
def run_due(ctx: click.Context, settings, profile, store, as_json=False) -> None:  # type: ignore[no-untyped-def]
    """Capture the scheduled seeds that are due now, then exit (for cron).

    Each seed is locked while it is captured, so overlapping runs never capture the same
    seed twice; run again at once, it captures nothing. A change of state (gone,
    removed, blocked, soft404) is confirmed by a second fetch before it is an event.
    Jobs that did not finish (stopped, killed) are named on stderr.

    Example: archiver run-due   (in crontab: */5 * * * * archiver run-due)
    """
    from archiver.cli.crawl import crawl, parse_overrides
    from archiver.crawl.runner import build_settings

    obj = ctx.obj
    # A mistake in the options is reported at once, even when nothing is due (under cron
    # it would otherwise show only on the day a seed is).
    build_settings(profile, obj.home.root, "run-due-check", parse_overrides(settings), store)
    catalog = obj.catalog()
    now = now_for_schedules()
    line = stopped_jobs_line(unfinished(catalog, obj.home))
    if line:
        click.echo(f"archiver: {line}", err=True)
    due = [d for d in seed_dues(catalog) if d.is_due(now)]
    locks: list[JobLock | CatalogLock] = []
    try:
        mine = []
        for d in due:
            lock = seed_lock(catalog, obj.home.root, d.seed.id)
            if lock.acquire():
                locks.append(lock)
                mine.append(d.seed)
        # Another run may have captured them between our look and our lock: look again.
        still = {d.seed.id for d in seed_dues(catalog, mine) if d.is_due(now)}
        chosen = [seed for seed in mine if seed.id in still]
        skipped = len(due) - len(mine)
        if not chosen:
            upcoming = [d for d in seed_dues(catalog) if not d.is_due(now)]
            if as_json:
                click.echo(json.dumps(_nothing_due_json(upcoming, skipped), indent=2))
                return
            later = (
                f"; next: seed {upcoming[0].seed.id} at {_when(upcoming[0].at)}" if upcoming else ""
            )
            held = f" ({skipped} being captured by another run)" if skipped else ""
            click.echo(f"nothing due{held}{later}")
            return
        name = "due-" + utc_now().strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        click.echo(f"{len(chosen)} seed(s) due: {', '.join(str(s.id) for s in chosen)}", err=True)
        # Seeds whose schedule names a vantage point (schedule set --via) go through it.
        schedules = {d.seed.id: d.schedule for d in due}
        seed_via = {s.id: schedules[s.id].via for s in chosen if schedules[s.id].via}
        if seed_via:
            settings = (*settings, f"ARCHIVER_SEED_VIA={json.dumps(seed_via)}")
        ctx.invoke(
            crawl, urls=(), tags=(), seed_ids=tuple(str(s.id) for s in chosen), job_name=name,
            settings=settings, profile=profile, store=store, as_json=as_json,
        )  # fmt: skip
    finally:
        for lock in locks:
            lock.release()


def _nothing_due_json(upcoming, held: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """run-due --json when nothing is due: when the next seed is."""
    nxt = upcoming[0] if upcoming else None
    return {
        "job": None,
        "status": "nothing due",
        "exit_code": 0,
        "held_by_another_run": held,
        "next_due": {
            "seed_id": nxt.seed.id, "url": nxt.seed.url,
            "at": iso_ms(nxt.at),
        } if nxt else None,
    }  # fmt: skip


@click.command()
@crawl_options
@click.option("--max-sleep", default=60.0, show_default=True, type=click.FloatRange(min=1),
              help="Look at the schedules at least this often (seconds).")  # fmt: skip
@click.pass_obj
def watch(obj, settings, profile, store, max_sleep: float) -> None:  # type: ignore[no-untyped-def]
    """Run the schedules in the foreground: capture what is due, sleep until the next
    seed is due, repeat. SIGTERM or Ctrl-C finishes the capture in hand (its WARC files
    closed, its job resumable) and exits.

    Example: archiver watch --profile local
    """
    from archiver.cli.crawl import parse_overrides
    from archiver.crawl.runner import build_settings

    # A mistake in the options is reported now, not by every run in the loop.
    build_settings(profile, obj.home.root, "watch-check", parse_overrides(settings), store)
    stop = threading.Event()
    child: list[subprocess.Popen] = []

    def on_signal(signum, frame):  # type: ignore[no-untyped-def]
        stop.set()
        for process in child:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # Scrapy stops gracefully

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    command = [sys.executable, "-m", "archiver", "--home", str(obj.home.root), "run-due",
               "--profile", profile]  # fmt: skip
    for pair in settings:
        command += ["-s", pair]
    if store:
        command += ["--store", store]

    def say(message: str) -> None:  # every line of watch's own, timestamped
        click.echo(f"{iso_s()} {message}", err=True)

    say(f"watching the schedules of {obj.home.root} (Ctrl-C to stop)")
    told_next: datetime | None = None
    told_stopped: set[str] = set()
    waker = Waker(obj.home.root, obj.home.catalog_location)

    def sleep(seconds: float) -> None:
        if waker.wait(seconds, stop):
            say("woken: seeds or schedules changed")

    try:
        while not stop.is_set():
            catalog = obj.catalog()
            stopped = unfinished(catalog, obj.home)
            if {s.job.name for s in stopped} - told_stopped:
                say(stopped_jobs_line(stopped) or "")
                told_stopped = {s.job.name for s in stopped}
            dues = seed_dues(catalog)
            now = now_for_schedules()
            due = [d.seed.id for d in dues if d.is_due(now)]
            if due:
                say(f"capturing {len(due)} due seed(s): {', '.join(map(str, due))}")
                # Its own reactor and crawl, in its own session: Ctrl-C reaches watch only,
                # which passes on one SIGTERM (a second would force an unclean stop).
                process = subprocess.Popen(command, start_new_session=True)
                child[:] = [process]
                code = process.wait()
                child.clear()
                say(f"run-due ended (exit code {code})")
                told_next = None
                if code == 2:
                    raise ArchiverError("run-due refused its options (see above): watch stopped")
                # Seeds still due (locked by another run, or failing): not again at once,
                # unless a seed is added or edited meanwhile.
                sleep(min(max_sleep, MIN_GAP))
                continue
            wait = max_sleep
            if dues:
                if dues[0].at != told_next:
                    told_next, seed = dues[0].at, dues[0].seed
                    say(f"next due at {iso_s(told_next)}: seed {seed.id} {seed.url}")
                wait = min(max_sleep, max(1.0, (dues[0].at - now).total_seconds()))
            sleep(wait)
    finally:
        waker.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("watch stopped")


@click.command()
@click.option("--since", help="Events confirmed at or after this time (as you would type it).")
@click.option("--seed", "seed_id", help="Events of this seed.")
@click.option("--kind", type=click.Choice((*ABSENT, *GEO_KINDS)), help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def events(obj, since, seed_id, kind, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Confirmed disappearances: each with the last capture where the content was present
    and the first where it was absent. geo-blocked and geo-different: a seed present from
    one vantage point and absent from another, or different; each with what every vantage
    point saw ('crawl --via a,b').

    Example: archiver events --since 2026-11-01 --kind removed --json
    """
    from archiver.catalog.db import iso_ms
    from archiver.research.dates import parse_when

    catalog = obj.catalog()
    seed = get_seed(catalog, seed_id).id if seed_id is not None else None
    start = iso_ms(parse_when(since)) if since else None
    found = list_events(catalog, since=start, seed_id=seed, kind=kind)
    if as_json:
        click.echo(json.dumps([e.to_json() for e in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no events")
        return
    for e in found:
        shown = display_iri(e.url)
        click.echo(f"{e.confirmed_at}  seed {e.seed_id}  {e.kind}  {shown}  ({e.reason})")
        if e.evidence:
            for seen in e.evidence:
                where = seen["vantage"]
                if seen["country"]:
                    where = f"{where} ({seen['country']})"
                click.echo(f"    via {where}: {seen['state']}, {seen['capture_id']} at"
                           f" {seen['captured_at']} ({seen['reason']})")  # fmt: skip
            continue
        if e.vantage:
            click.echo(f"    seen via: {e.vantage}")
        present = f"{e.last_present} at {e.last_present_at}" if e.last_present else "never"
        click.echo(f"    last present: {present}")
        click.echo(f"    first absent: {e.first_absent} at {e.first_absent_at}"
                   f" (confirmed by {e.confirmed_by})")  # fmt: skip
