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
from collections.abc import Sequence

import click

from archiver.catalog import Catalog
from archiver.catalog.seeds import Seed
from archiver.errors import InvalidVantage
from archiver.seedspec import SeedFields
from archiver.watch.geo import Verdict, compare, shown
from archiver.watch.hooks import notify


def vantage_names(value: str) -> list[str]:
    """``hk-1,direct,cn-1`` as vantage names (``direct`` for a direct connection), each
    once; InvalidSeed for a name that is not one."""
    names: list[str] = []
    parts = value.split(",")
    if len(parts) > 1 and not all(part.strip() for part in parts):
        raise InvalidVantage(
            f"--via {value!r} has an empty name: list vantage points as hk-1,cn-1 (direct for"
            " a direct connection)"
        )
    for part in parts:
        name = SeedFields.build({"via": part}).settings["via"] or "direct"
        if name in names:
            raise InvalidVantage(f"--via {value!r} names {name!r} twice: give each vantage once")
        names.append(str(name))
    return names


def job_names(base: str, vantages: Sequence[str]) -> dict[str, str]:
    """The job of each vantage point: the run's name and the vantage's."""
    from archiver.catalog.jobs import check_job_name

    return {vantage: check_job_name(f"{base}-{vantage}") for vantage in vantages}


def crawl_each(
    obj,  # type: ignore[no-untyped-def]
    catalog: Catalog,
    jobs: dict[str, str],
    seeds: Sequence[Seed],
    passed: Sequence[str],
    as_json: bool,
    hooks: tuple[str | None, str | None],
) -> int:
    """Crawl ``seeds`` once through each vantage point (``jobs``: vantage to job name),
    with the options ``passed`` on; then compare them. Returns the exit code: the first
    failed job's, else 0."""
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
    try:
        for vantage, name in jobs.items():
            if stopped:
                break
            click.echo(f"archiver: crawling via {vantage} as job {name}", err=True)
            command = [
                sys.executable, "-m", "archiver", "--home", str(obj.home.root), "crawl",
                "--job", name, "--via", vantage, *passed,
                *(arg for seed in seeds for arg in ("--seed", str(seed.id))),
            ]  # fmt: skip
            if as_json:
                command.append("--json")
            process = subprocess.Popen(
                command, process_group=0, stdout=subprocess.PIPE if as_json else None, text=True
            )
            running[:] = [process]
            out, _ = process.communicate()
            running.clear()
            if as_json and out:
                summaries.append(json.loads(out))
            if process.returncode and not code:
                code = process.returncode
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    verdicts = compare_seeds(catalog, seeds, list(jobs))
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


def compare_seeds(
    catalog: Catalog, seeds: Sequence[Seed], vantages: Sequence[str]
) -> list[Verdict]:
    """Compare each seed's latest observations from ``vantages``."""
    keys = ["" if vantage == "direct" else vantage for vantage in vantages]
    verdicts = []
    for seed in seeds:
        with catalog.transaction() as tx:
            verdict = compare(tx, seed.id, seed.url, keys)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts


def _verdict_line(verdict: Verdict) -> str:
    states = ", ".join(f"{shown(v)} {state}" for v, state in verdict.states.items())
    line = f"archiver: seed {verdict.seed_id} from {len(verdict.states)} vantage points:"
    line += f" {verdict.verdict} ({states})"
    if verdict.event is not None:
        line += f"; event {verdict.event.id} {verdict.event.kind}"
    return line


def _verdict_json(verdict: Verdict) -> dict[str, object]:
    return {
        "seed_id": verdict.seed_id,
        "verdict": verdict.verdict,
        "states": verdict.states,
        "event": verdict.event.to_json() if verdict.event else None,
    }
