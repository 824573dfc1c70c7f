"""``crawl --via a,b``: the same seeds captured from several vantage points, then compared.

A job's frontier holds a URL once, so each vantage point gets a job of its own, named
after the run and the vantage (``weibo-morning-hk-1``), each a normal job: crawled in a
process of its own (a crawl's reactor runs once per process), one after the other,
resumed like any other job. When they are done, every seed seen from two vantage points
or more is compared (archiver/watch/geo.py), and a confirmed difference is an event.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import click

from archiver.catalog import Catalog
from archiver.catalog.seeds import Seed
from archiver.catalog.statuses import last_status_id
from archiver.seedspec import DIRECT, SeedFields, vantages_of
from archiver.watch.geo import Verdict, compare, shown
from archiver.watch.hooks import notify


@dataclass(frozen=True)
class VantageJob:
    """The job that crawls some seeds through one vantage point."""

    vantage: str  # a name, or direct
    name: str
    seeds: list[Seed]


def vantage_names(value: str) -> list[str]:
    """``hk-1,direct,cn-1`` as vantage names (``direct`` for a direct connection)."""
    return vantages_of(SeedFields.build({"via": value}).settings["via"])  # type: ignore[arg-type]


def plan(base: str, chosen: Mapping[int, list[str]], seeds: Sequence[Seed]) -> list[VantageJob]:
    """A job per vantage point the seeds are captured from (``chosen``: each seed's, by
    id), named after the run and the vantage (``base-hk-1``), with the seeds it crawls."""
    from archiver.catalog.jobs import check_job_name

    vantages = list(dict.fromkeys(v for seed in seeds for v in chosen[seed.id]))
    return [
        VantageJob(v, check_job_name(f"{base}-{v}"), [s for s in seeds if v in chosen[s.id]])
        for v in vantages
    ]


def crawl_each(
    obj,  # type: ignore[no-untyped-def]
    catalog: Catalog,
    jobs: Sequence[VantageJob],
    passed: Sequence[str],
    as_json: bool,
    hooks: tuple[str | None, str | None],
) -> int:
    """Run each job through its vantage point with the options ``passed`` on; then
    compare every seed captured from two vantage points or more. Returns the exit code:
    the first failed job's, else 0."""
    stopped: list[int] = []
    running: list[subprocess.Popen[str]] = []

    def on_signal(signum, frame):  # type: ignore[no-untyped-def]
        # Each job's crawl runs in its own process group: the signal reaches it once, from
        # here, and the vantage points not yet crawled are not started.
        stopped.append(signum)
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    summaries, code = [], 0
    start = last_status_id(catalog)
    try:
        for job in jobs:
            if stopped:
                break
            click.echo(f"archiver: crawling via {job.vantage} as job {job.name}", err=True)
            command = [
                sys.executable, "-m", "archiver", "--home", str(obj.home.root), "crawl",
                "--job", job.name, "--via", job.vantage, *passed,
                *(arg for seed in job.seeds for arg in ("--seed", str(seed.id))),
            ]  # fmt: skip
            if as_json:
                command.append("--json")
            process = subprocess.Popen(
                command, process_group=0, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if as_json else None, text=True,
            )  # fmt: skip
            running[:] = [process]
            out, _ = process.communicate()
            running.clear()
            if as_json and out.strip():
                summaries.append(json.loads(out))  # a crawl's --json summary, even failed
            if process.returncode and not code:
                code = process.returncode
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    verdicts = compare_seeds(catalog, jobs, start)
    for verdict in verdicts:
        if verdict.event is not None:
            thread = notify(verdict.event, *hooks)
            if thread is not None:
                thread.join()
    if as_json:
        click.echo(json.dumps(
            {"jobs": summaries, "geo": [_verdict_json(v) for v in verdicts]},
            indent=2, ensure_ascii=False,
        ))  # fmt: skip
    else:
        for verdict in verdicts:
            click.echo(_verdict_line(verdict), err=True)
    return code or (130 if stopped else 0)


def compare_seeds(catalog: Catalog, jobs: Sequence[VantageJob], start: int) -> list[Verdict]:
    """Compare each seed's observations in this run (after observation ``start``) from
    the vantage points it was crawled through, when there are two or more."""
    through: dict[int, list[str]] = {}
    seeds: dict[int, Seed] = {}
    for job in jobs:
        for seed in job.seeds:
            seeds[seed.id] = seed
            through.setdefault(seed.id, []).append("" if job.vantage == DIRECT else job.vantage)
    verdicts = []
    for seed_id, vantages in through.items():
        if len(vantages) < 2:
            continue
        with catalog.transaction() as tx:
            verdict = compare(tx, seed_id, seeds[seed_id].url, vantages, after=start)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts


def _verdict_line(verdict: Verdict) -> str:
    states = ", ".join(f"{shown(v)} {state}" for v, state in verdict.states.items())
    line = f"archiver: seed {verdict.seed_id} from {len(verdict.states)} vantage points:"
    line += f" {verdict.verdict} ({states})"
    if verdict.event is not None:
        line += f"; event {verdict.event.id} {verdict.event.kind}"
    elif verdict.awaiting:
        line += "; seen in this run only: an event if the next run agrees"
    return line


def _verdict_json(verdict: Verdict) -> dict[str, object]:
    return {
        "seed_id": verdict.seed_id,
        "verdict": verdict.verdict,
        "states": verdict.states,
        "event": verdict.event.to_json() if verdict.event else None,
        "awaiting_next_run": verdict.awaiting,
    }
