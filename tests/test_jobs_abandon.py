"""``archiver jobs abandon``: giving up a job that did not finish, as an operator does when
its seeds are crawled again by other jobs. Its captures stay; it is never resumed, and
run-due, watch, schedule list and ``jobs`` stop naming it."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelp import CLI_TIMEOUT, job_json, ok, run_cli, start_cli
from gatesite import GateSite
from pgserver import POSTGRES_RUN
from streamlines import Lines

SETTINGS = ("-s", "CONCURRENT_REQUESTS=4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
            "-s", "ARCHIVER_PROGRESS_INTERVAL=0")  # fmt: skip
COMMAND = ("crawl", "--profile", "test", "--tag", "china", "--job", "weekly", *SETTINGS)


@pytest.fixture
def site() -> Iterator[GateSite]:
    with GateSite(pages=12) as gated:
        yield gated


def forced_stop(home: Path, site: GateSite) -> None:
    """``weekly`` stopped by a second Ctrl-C: its open WARC file left for the repair."""
    ok(run_cli(home, "seeds", "add", site.url, "--scope", "host", "--robots", "ignore",
               "--tag", "china"))  # fmt: skip
    process = start_cli(home, *COMMAND, new_session=True)
    assert process.stderr is not None
    err = Lines(process.stderr)
    assert site.wait_held(4), err.text(timeout=1)
    os.killpg(process.pid, signal.SIGINT)
    assert err.wait_for("^stopping: ")
    os.killpg(process.pid, signal.SIGINT)
    process.communicate(timeout=CLI_TIMEOUT)
    assert process.returncode == 1


def test_an_abandoned_job_is_kept_not_resumed_and_no_longer_named(tmp_path: Path, site: GateSite):
    home = tmp_path / "home"
    forced_stop(home, site)
    before = job_json(home, "weekly")
    assert before["status"] == "stopped"
    [left] = list(home.glob("spool/**/*.warc.gz.open"))
    nagged = ok(run_cli(home, "run-due", "--profile", "test"))
    assert (
        f"archiver: 1 job(s) did not finish: weekly (stopped {before['ended_at'][:19]}Z); resume"
        " one with 'archiver crawl --job NAME', or give it up with 'archiver jobs abandon NAME'"
        " ('archiver jobs' lists them)"
    ) in nagged.stderr.splitlines()

    result = ok(run_cli(home, "jobs", "abandon", "weekly"))
    captured = before["counts"]["captured"]
    assert result.stdout == (
        f"job weekly abandoned: its {captured} capture(s) and 1 WARC file(s) stay; it is not"
        " resumed, and run-due, watch and schedule list no longer name it\n"
    )
    # The file it left open is repaired and stored now, not by some later crawl.
    [repaired] = [line for line in result.stderr.splitlines() if left.name in line]
    assert repaired.startswith(f"archiver: repaired {left.name} left by a crash: kept ")
    assert not list(home.glob("spool/**/*.open"))
    assert list(home.glob(f"warcs/weekly/{left.name.removesuffix('.open')}"))

    after = job_json(home, "weekly")
    assert (after["status"], after["resumable"]) == ("abandoned", False)
    assert after["finish_reason"] == f"abandoned (stopped: {before['finish_reason']})"
    assert after["ended_at"] == before["ended_at"]  # when it stopped crawling
    assert after["counts"]["captured"] == captured and after["counts"]["warc_bytes"] > 0
    for command in (("run-due", "--profile", "test"), ("schedule", "list"), ("jobs",)):
        quiet = ok(run_cli(home, *command))
        assert "did not finish" not in quiet.stdout + quiet.stderr, command
    assert json.loads(ok(run_cli(home, "schedule", "list", "--json")).stdout)["stopped_jobs"] == []

    # The same command no longer resumes it: it says so, and crawls nothing.
    site.open()
    again = run_cli(home, *COMMAND)
    assert again.returncode == 1
    assert again.stderr.splitlines()[-1] == (
        "Error: job 'weekly' was abandoned ('archiver jobs abandon'): it is not resumed, and"
        " its captures stay; choose another --job name"
    )
    assert job_json(home, "weekly")["counts"]["captured"] == captured
    twice = ok(run_cli(home, "jobs", "abandon", "weekly"))
    assert twice.stdout == "job weekly was abandoned already\n"


def test_only_a_job_that_did_not_finish_and_is_not_running_is_abandoned(
    tmp_path: Path, site: GateSite
):
    home = tmp_path / "home"
    ok(run_cli(home, "seeds", "add", site.url + "p0", "--robots", "ignore", "--tag", "one"))
    process = start_cli(home, "crawl", "--profile", "test", "--tag", "one", "--job", "live",
                        *SETTINGS)  # fmt: skip
    try:
        assert site.wait_held(1)
        running = run_cli(home, "jobs", "abandon", "live")
        assert running.returncode == 1
        if POSTGRES_RUN:  # a crawl is a worker on its job's shared frontier
            assert running.stderr == (
                "Error: job 'live' has 1 worker(s) on it now ('archiver workers' lists them):"
                " stop them first, then abandon it\n"
            )
        else:
            assert running.stderr == (
                f"Error: job 'live' is being crawled now (process {process.pid}): stop it first"
                " (Ctrl-C or SIGTERM), then abandon it\n"
            )
    finally:
        site.open()
        process.communicate(timeout=CLI_TIMEOUT)
    assert process.returncode == 0
    finished = run_cli(home, "jobs", "abandon", "live")
    assert (finished.returncode, finished.stderr) == (
        1,
        "Error: job 'live' finished: only a job that did not finish is abandoned\n",
    )
    assert job_json(home, "live")["status"] == "finished"
    unknown = run_cli(home, "jobs", "abandon", "nosuch")
    assert (unknown.returncode, unknown.stderr) == (1, "Error: no job named 'nosuch'\n")
