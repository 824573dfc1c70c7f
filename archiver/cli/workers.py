"""``archiver worker`` and ``archiver workers``: crawl workers sharing a catalog (and so a
frontier), on one machine or several."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time

import click

from archiver.catalog import leases
from archiver.catalog import workers as worker_rows
from archiver.catalog.jobs import get_job, is_shared
from archiver.errors import ArchiverError

POLL_SECONDS = 2.0  # how often an idle worker looks for work
FAILED_JOB_PAUSE = 60.0  # a job whose worker failed is tried again after this


@click.command()
@click.option("--job", "jobs", multiple=True, help="Work this job only (repeatable).")
@click.option(
    "--exit-when-idle", is_flag=True, help="Exit once no job has URLs left to fetch or lease."
)
@click.pass_obj
def worker(obj, jobs, exit_when_idle) -> None:  # type: ignore[no-untyped-def]
    """Work the frontier of every running job (or the named ones) until stopped.

    Workers on any machine that share the catalog (--catalog / ARCHIVER_CATALOG, a
    PostgreSQL URL) and the store (S3, or a folder every worker mounts) share the
    jobs' URLs by leases, with each host's delay kept across them. SIGTERM or Ctrl-C
    finishes the fetches in hand, closes this worker's WARC files and exits 0.

    Example: archiver --catalog postgresql://archiver@db/archive worker --exit-when-idle
    """
    catalog = obj.catalog(create=True)
    for name in jobs:
        job = get_job(catalog, name)
        if not is_shared(job) and catalog.dialect != "postgresql":
            resume = (
                "" if job.status in ("finished", "abandoned")
                else f", or resume this one with 'archiver crawl --job {name}'"
            )  # fmt: skip
            raise ArchiverError(
                f"job {name!r} is not shared by workers: submit jobs for workers with"
                f" 'archiver crawl --submit'{resume}"
            )
    stop = threading.Event()
    child: list[subprocess.Popen[bytes]] = []

    def on_signal(signum, frame):  # type: ignore[no-untyped-def]
        # The crawl runs in its own process group, so Ctrl-C in a terminal (or a signal to
        # this process alone) reaches it once, from here: Scrapy finishes the fetches in
        # hand. A second signal is passed on too, and makes Scrapy stop at once.
        stop.set()
        for process in child:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _repair(obj, catalog)  # what a worker that died in this home left behind
    paused: dict[str, float] = {}
    while not stop.is_set():
        name = _next_job(catalog, jobs, paused)
        if name is None:
            if exit_when_idle and not _work_left(catalog, jobs):
                click.echo("archiver: worker idle: no job has URLs left", err=True)
                return
            stop.wait(POLL_SECONDS)
            continue
        command = [sys.executable, "-m", "archiver", "--home", str(obj.home.root), "crawl",
                   "--job", name, "--as-worker"]  # fmt: skip
        # In a process group of its own: a terminal's Ctrl-C (SIGINT to the foreground
        # group) reaches this worker alone, which passes it on once. Had the crawl its own
        # SIGINT as well, it would take the second signal as 'force an unclean shutdown'.
        process = subprocess.Popen(command, process_group=0, preexec_fn=_stop_with_parent)
        child[:] = [process]
        code = process.wait()
        child.clear()
        if code != 0 and not stop.is_set():
            click.echo(
                f"archiver: worker on job {name} exited {code}; trying it again in"
                f" {FAILED_JOB_PAUSE:.0f} s",
                err=True,
            )
            paused[name] = time.monotonic() + FAILED_JOB_PAUSE


def _stop_with_parent() -> None:
    """In the crawl's process, before it runs: should the worker die (kill -9), the kernel
    sends the crawl SIGTERM, and it stops as if the worker had been stopped."""
    import ctypes

    pr_set_pdeathsig = 1
    # Not on Linux: the crawl then runs on to its job's end.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _repair(obj, catalog) -> None:  # type: ignore[no-untyped-def]
    from archiver.jobs.stores import job_store
    from archiver.repair import repair_home

    home = obj.home
    store_for = lambda job: job_store(catalog, home.warcs_dir, job)  # noqa: E731
    for note in repair_home(catalog, home.ensure(), store_for, own_job=""):
        click.echo(f"archiver: {note}", err=True)


def _next_job(catalog, names, paused) -> str | None:  # type: ignore[no-untyped-def]
    now = time.monotonic()
    for name in leases.jobs_with_work(catalog):
        wanted = (not names or name in names) and paused.get(name, 0) <= now
        if wanted and (catalog.dialect == "postgresql" or is_shared(get_job(catalog, name))):
            return name
    return None


def _work_left(catalog, names) -> bool:  # type: ignore[no-untyped-def]
    return any(not names or name in names for name in leases.jobs_with_work(catalog))


@click.command(name="workers")
@click.option("--all", "show_all", is_flag=True, help="Also list workers that stopped.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per worker, a list.")
@click.pass_obj
def workers_command(obj, show_all, as_json) -> None:  # type: ignore[no-untyped-def]
    """List the crawl workers on this catalog: machine, pid, job, heartbeat, URLs/s.

    A worker whose heartbeat is older than 30 s is shown as dead: its leases expire
    and its URLs go back to the queue.

    Example: archiver workers --json
    """
    found = worker_rows.list_workers(obj.catalog(), include_stopped=show_all)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "worker_id": w.id,
                        "hostname": w.hostname,
                        "pid": w.pid,
                        "job": w.job,
                        "state": w.state,
                        "started_at": _iso(w.started_at),
                        "last_heartbeat": _iso(w.heartbeat_at),
                        "seconds_since_heartbeat": round(w.seconds_since_heartbeat, 1),
                        "fetched": w.fetched,
                        "urls_per_second": round(w.urls_per_second, 2),
                        "reason": w.reason,
                        "id": w.id,  # deprecated: worker_id
                        "started": _iso(w.started_at),  # deprecated: started_at
                    }
                    for w in found
                ],
                indent=2,
            )
        )
        return
    if not found:
        click.echo("no workers running" + ("" if show_all else " (--all lists stopped ones)"))
        return
    for w in found:
        click.echo(
            f"{w.id}  {w.state:<7}  {w.hostname}  pid {w.pid}  job {w.job}  started"
            f" {_iso(w.started_at)}  heartbeat {w.seconds_since_heartbeat:.0f} s ago"
            f"  {w.fetched} fetched, {w.urls_per_second:.1f} URLs/s"
            + (f"  ({w.reason})" if w.reason else "")
        )


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    from archiver.catalog.db import iso_ms

    return iso_ms(datetime.fromtimestamp(epoch, UTC))
