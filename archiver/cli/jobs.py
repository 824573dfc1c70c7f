"""``archiver jobs``: the crawl jobs, their status and counts, and what one job's frontier
holds, per host; and the line run-due, watch and schedule list print about the jobs that
did not finish."""

from __future__ import annotations

import json
import shlex
from typing import Any

import click

from archiver.catalog import Catalog, leases, summaries
from archiver.catalog.frontier import open_count
from archiver.catalog.jobs import abandon_job, count_jobs, get_job, is_shared
from archiver.catalog.seeds import get_seeds
from archiver.cli.crawlreport import size_text
from archiver.errors import ArchiverError
from archiver.home import ArchiveHome
from archiver.joblock import JobLock
from archiver.jobs.files import job_files
from archiver.jobs.selection import Selection, store_uri
from archiver.jobs.state import JobState, job_state, job_states

LIMIT = 50  # jobs listed by default, newest first


def _counts(catalog: Catalog, state: JobState) -> dict[str, int]:
    job_id = state.job.id
    total = summaries.capture_counts(catalog, job_id)
    files = job_files(catalog, state.job)
    return {
        "captured": total.captured,
        "truncated": total.truncated,
        "failed": total.failed,
        "queued": open_count(catalog, job_id),
        "warc_files": files.files,
        "warc_bytes": files.bytes,
    }


def _store(home: ArchiveHome, state: JobState) -> str:
    recorded = state.job.settings.get("settings", {})
    given = recorded.get("ARCHIVER_STORE") if isinstance(recorded, dict) else None
    return store_uri(given or None, home.warcs_dir)


def _row(catalog: Catalog, home: ArchiveHome, state: JobState) -> dict[str, Any]:
    job = state.job
    return {
        "job": job.name,
        "status": state.status,
        "resumable": state.resumable,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "finish_reason": job.finish_reason,
        "shared": is_shared(job),
        "counts": _counts(catalog, state),
        "seed_ids": job.seed_ids,
        "store": _store(home, state),
    }


def _open_note(catalog: Catalog, state: JobState) -> str:
    """Files not closed yet: being written, or left open until the job resumes."""
    still_open = len(job_files(catalog, state.job).open)
    if not still_open:
        return ""
    if state.status == "running":
        return f" ({still_open} open, being written)"
    if not state.resumable:  # abandoned: any crawl in its home repairs what jobs left
        return f" ({still_open} left open: repaired by the next crawl in its home)"
    return f" ({still_open} left open: repaired when the job resumes)"


def to_second(moment: str | None) -> str:
    """A catalog time (ISO, milliseconds) to the second, as the terminal shows times."""
    return moment[:19] + "Z" if moment else "-"


SHOWN_STOPPED = 3  # stopped jobs named in a line; 'archiver jobs' lists them all


def stopped_jobs_line(states: list[JobState]) -> str | None:
    """Jobs that did not finish, newest first: what run-due, watch and schedule list say
    about them (a stopped run-due job's seeds are due again on their own)."""
    if not states:
        return None
    shown = ", ".join(
        f"{s.job.name} ({s.status}{' ' + to_second(s.ended) if s.ended else ''})"
        for s in states[:SHOWN_STOPPED]
    )
    more = f" and {len(states) - SHOWN_STOPPED} more" if len(states) > SHOWN_STOPPED else ""
    return (
        f"{len(states)} job(s) did not finish: {shown}{more}; resume one with 'archiver"
        " crawl --job NAME', or give it up with 'archiver jobs abandon NAME' ('archiver"
        " jobs' lists them)"
    )


def stopped_jobs_json(states: list[JobState]) -> list[dict[str, object]]:
    return [
        {"job": s.job.name, "status": s.status, "ended_at": s.ended, "reason": s.job.finish_reason}
        for s in states
    ]


def _list_options(command):  # type: ignore[no-untyped-def]
    """``--json`` and ``--limit``, on ``jobs list`` and on ``jobs`` alone."""
    command = click.option(
        "--limit", default=LIMIT, show_default=True, type=click.IntRange(min=0),
        help="List this many of the newest jobs (0: all).",
    )(command)  # fmt: skip
    return click.option("--json", "as_json", is_flag=True, help="One JSON object per job, a list.")(
        command
    )


@click.group(invoke_without_command=True)
@_list_options
@click.pass_context
def jobs(ctx: click.Context, as_json: bool, limit: int) -> None:
    """Crawl jobs: 'jobs' or 'jobs list' lists them, 'jobs show J' shows one, 'jobs
    abandon J' gives up one that did not finish.

    Example: archiver jobs --json
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(jobs_list, as_json=as_json, limit=limit)


@jobs.command(name="list")
@_list_options
@click.pass_obj
def jobs_list(obj, as_json: bool = False, limit: int = LIMIT) -> None:  # type: ignore[no-untyped-def]
    """The jobs, newest first: status (running, finished, stopped, failed, or resumable:
    its process died), start and end, captures, failures, URLs queued, seeds.

    Example: archiver jobs list --json
    """
    catalog = obj.catalog()
    rows = [_row(catalog, obj.home, state) for state in job_states(catalog, obj.home, limit)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no jobs yet (start one with 'archiver crawl')")
        return
    width = max(len("job"), *(len(r["job"]) for r in rows))
    click.echo(
        f"{'job':<{width}}  {'status':<9}  {'started':<20}  {'ended':<20}  captured  failed"
        "  queued  seeds"
    )
    for r in rows:
        counts = r["counts"]
        click.echo(
            f"{r['job']:<{width}}  {r['status']:<9}  {to_second(r['started_at']):<20}"
            f"  {to_second(r['ended_at']):<20}  {counts['captured']:>8}  {counts['failed']:>6}"
            f"  {counts['queued']:>6}  {len(r['seed_ids'])}"
        )
    older = count_jobs(catalog) - len(rows)
    if older:
        click.echo(f"... and {older} older job(s): --limit 0 lists them all")
    if any(r["resumable"] for r in rows):
        click.echo(
            "resume a job that did not finish with 'archiver crawl --job NAME', or give it up"
            " with 'archiver jobs abandon NAME'"
        )


def _command(selection: Selection, job_name: str, settings: dict, default_store: str) -> str:
    """The crawl command that made the job, with the vantage point it went through
    (``--via``) and the login profile it was signed in as (``--as``)."""
    command = selection.command(job_name, default_store)
    overrides = settings.get("overrides") or {}
    for option, key in (("--via", "ARCHIVER_VIA"), ("--as", "ARCHIVER_SIGNED_IN_AS")):
        if overrides.get(key):
            command += " " + shlex.join([option, str(overrides[key])])
    return command


@jobs.command(name="show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The job and its counts as JSON.")
@click.pass_obj
def jobs_show(obj, name, as_json) -> None:  # type: ignore[no-untyped-def]
    """A job's status, counts, seeds, store, start and end, and its URLs by host:
    queued, leased, done and failed.

    Example: archiver jobs show weibo-morning
    """
    catalog = obj.catalog()
    job = get_job(catalog, name)
    state = job_state(catalog, obj.home, job)
    hosts = leases.job_counts(catalog, job.id)
    failed = leases.failed_entries(catalog, job.id)
    totals = {
        key: sum(getattr(h, key) for h in hosts) for key in ("queued", "leased", "done", "failed")
    }
    seeds = get_seeds(catalog, job.seed_ids)
    row = _row(catalog, obj.home, state)
    selection = Selection.from_json(job.settings.get("selection"))
    default_store = store_uri(None, obj.home.warcs_dir)
    command = _command(selection, job.name, job.settings, default_store) if selection else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    **row,
                    "seeds": [{"seed_id": s.id, "url": s.url} for s in seeds],
                    "command": command,
                    "urls": totals,
                    "hosts": [
                        {
                            "host": h.host,
                            "queued": h.queued,
                            "leased": h.leased,
                            "done": h.done,
                            "failed": h.failed,
                        }
                        for h in hosts
                    ],
                    "failed": [
                        {"url": f.url, "attempts": f.attempts, "reason": f.reason} for f in failed
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    counts = row["counts"]
    click.echo(
        f"job {job.name} {state.status}{' (shared by workers)' if is_shared(job) else ''}:"
        f" {totals['queued']} queued, {totals['leased']} leased, {totals['done']} done,"
        f" {totals['failed']} failed"
    )
    click.echo(
        f"  captures: {counts['captured']} captured ({counts['truncated']} truncated),"
        f" {counts['failed']} failed; {counts['warc_files']} WARC file(s),"
        f" {size_text(counts['warc_bytes'])}{_open_note(catalog, state)}"
    )
    ended = f", ended {job.ended_at}" if job.ended_at else ""
    reason = f" ({job.finish_reason})" if job.finish_reason else ""
    click.echo(f"  started {job.started_at}{ended}{reason}")
    if state.pid:
        click.echo(f"  crawled now by process {state.pid}")
    if is_shared(job) and state.status == "running":
        click.echo(f"  workers on it now: {state.workers} ('archiver workers' lists them)")
    for seed in seeds:
        click.echo(f"  seed {seed.id} {seed.url}")
    click.echo(f"  store: {row['store']}")
    if command:
        click.echo(f"  command: {command}")
    if state.resumable:
        click.echo(
            f"  resume: archiver crawl --job {job.name} (or give it up: archiver jobs abandon"
            f" {job.name})"
        )
    width = max((len(h.host) for h in hosts), default=4)
    if hosts:
        click.echo(f"  {'host':<{width}}  queued  leased    done  failed")
    for h in hosts:
        click.echo(
            f"  {h.host or '?':<{width}}  {h.queued:>6}  {h.leased:>6}  {h.done:>6}  {h.failed:>6}"
        )
    for f in failed:
        click.echo(f"  FAILED {f.url}: {f.reason}")


@jobs.command(name="abandon")
@click.argument("name")
@click.pass_obj
def jobs_abandon(obj, name: str) -> None:  # type: ignore[no-untyped-def]
    """Give up a job that did not finish (stopped, failed or resumable): its captures and
    WARC files stay, a WARC file it left open is repaired and stored now, and it is no
    longer resumed; run-due, watch, schedule list and 'jobs' stop naming it.

    Example: archiver jobs abandon weekly
    """
    from archiver.jobs.stores import job_store
    from archiver.repair import repair_job

    catalog = obj.catalog()
    job = get_job(catalog, name)
    if job.status == "abandoned":
        click.echo(f"job {name} was abandoned already")
        return
    if job.status == "finished":
        raise ArchiverError(f"job {name!r} finished: only a job that did not finish is abandoned")
    state = job_state(catalog, obj.home, job)
    if state.workers:
        raise ArchiverError(
            f"job {name!r} has {state.workers} worker(s) on it now ('archiver workers' lists"
            " them): stop them first, then abandon it"
        )
    lock = JobLock(obj.home.job_dir(name))
    if not lock.acquire():
        raise ArchiverError(
            f"job {name!r} is being crawled now (process {state.pid or '?'}): stop it first"
            " (Ctrl-C or SIGTERM), then abandon it"
        )
    try:
        store_for = lambda job_name: job_store(catalog, obj.home.warcs_dir, job_name)  # noqa: E731
        notes = repair_job(catalog, obj.home, store_for, name)
        was = state.status + (f": {job.finish_reason}" if job.finish_reason else "")
        abandoned = abandon_job(catalog, job.id, f"abandoned ({was})")
    finally:
        lock.release()
    for note in notes:
        click.echo(f"archiver: {note}", err=True)
    if not abandoned:  # it finished meanwhile
        raise ArchiverError(f"job {name!r} finished: only a job that did not finish is abandoned")
    counts = _counts(catalog, job_state(catalog, obj.home, get_job(catalog, name)))
    click.echo(
        f"job {name} abandoned: its {counts['captured']} capture(s) and {counts['warc_files']}"
        " WARC file(s) stay; it is not resumed, and run-due, watch and schedule list no"
        " longer name it"
    )
