"""Stopping a crawl with Ctrl-C or SIGTERM, and resuming it by running the same command,
as an operator, cron or systemd does. Signals land while the server holds requests (the
crawl has them in flight), never after a sleep."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelp import CLI_TIMEOUT, job_json, ok, run_cli, start_cli
from gatesite import GateSite
from pgserver import POSTGRES_RUN
from streamlines import Lines

from archiver.cli.crawlreport import size_text

# Four requests at a time: all four are at the server's gate when the signal comes.
SETTINGS = ("-s", "CONCURRENT_REQUESTS=4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
            "-s", "ARCHIVER_PROGRESS_INTERVAL=0")  # fmt: skip


@pytest.fixture
def site() -> Iterator[GateSite]:
    with GateSite(pages=12) as gated:
        yield gated


def start_crawl(home: Path, *args: str) -> tuple[subprocess.Popen[str], Lines]:
    """``archiver crawl`` as typed in a terminal: its own process group, stderr read live."""
    process = start_cli(home, "crawl", *args, *SETTINGS, new_session=True)
    assert process.stderr is not None
    return process, Lines(process.stderr)


def ctrl_c(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends


def captured(home: Path, job: str) -> Counter[str]:
    """The job's captures by URL (robots.txt, archived too, aside)."""
    rows = json.loads(ok(run_cli(home, "captures", "--job", job, "--json")).stdout)
    return Counter(row["url"] for row in rows if not row["url"].endswith("/robots.txt"))


def open_warcs(home: Path) -> list[Path]:
    return list(home.glob("spool/**/*.open"))


def add_site(home: Path, site: GateSite, *tags: str) -> None:
    tagged = [word for tag in tags for word in ("--tag", tag)]
    ok(run_cli(home, "seeds", "add", site.url, "--scope", "host", "--robots", "ignore", *tagged))


def test_ctrl_c_says_what_is_in_flight_and_stops_once_it_is_done(tmp_path: Path, site: GateSite):
    home = tmp_path / "home"
    add_site(home, site)
    process, err = start_crawl(home, "--profile", "test", "--job", "j")
    assert site.wait_held(4), err.text(timeout=1)
    held = {site.url + path[1:] for path in site.held}
    ctrl_c(process)
    assert err.wait_for("^stopping: ") == "stopping: 4 requests in flight; Ctrl-C again forces"
    site.open()  # the requests in flight are answered, and captured
    process.wait(timeout=CLI_TIMEOUT)
    assert process.returncode == 1
    assert err.text().splitlines()[-1] == (
        "Error: job j stopped before it finished (shutdown): resume it with"
        " 'archiver crawl --job j' (or with the same command again, if it named the job with"
        " --job)"
    )
    assert not open_warcs(home)  # its WARC file closed
    job = job_json(home, "j")
    assert (job["status"], job["resumable"]) == ("stopped", True)
    first = captured(home, "j")
    assert held <= set(first) and len(first) == 5  # the root and the four in flight

    again = ok(run_cli(home, "crawl", "--profile", "test", "--job", "j", *SETTINGS))
    assert "job j: resuming 1 seed(s)" in again.stderr
    assert re.match(
        r"job j finished: this run 8 captured, 0 failed in [\d.]+ s \([\d.]+ URLs/s\);"
        r" total 13 captured \(0 truncated\), 0 failed; \d+ WARC file\(s\)",
        again.stdout,
    ), again.stdout
    assert captured(home, "j") == Counter(site.page_urls())  # each page once


def test_a_second_ctrl_c_forces_the_stop_and_the_job_resumes(tmp_path: Path, site: GateSite):
    home = tmp_path / "home"
    add_site(home, site)
    process, err = start_crawl(home, "--profile", "test", "--job", "j")
    assert site.wait_held(4), err.text(timeout=1)
    ctrl_c(process)
    assert err.wait_for("^stopping: ")
    ctrl_c(process)  # the four requests are still held: only a forced stop ends it now
    process.wait(timeout=CLI_TIMEOUT)
    assert process.returncode == 1
    text = err.text()
    assert "forced stop: 4 requests in flight dropped (fetched again when the job resumes)" in text
    assert text.splitlines()[-1] == (
        "Error: job j was stopped by force before it finished: the requests in flight were"
        " dropped and are fetched again, and its open WARC file is repaired, when it resumes;"
        " resume it with 'archiver crawl --job j' (or with the same command again, if it"
        " named the job with --job)"
    )
    job = job_json(home, "j")
    assert (job["status"], job["resumable"]) == ("stopped", True), job
    assert job["finish_reason"] == "forced stop (a second Ctrl-C or SIGTERM)"
    [left] = open_warcs(home)  # left as a crash leaves it, for the repair
    # Its bytes are counted from the file itself: the catalog learns a size at the close.
    written = left.stat().st_size
    assert written > 0 and job["counts"]["warc_bytes"] == written
    summary = process.stdout.read().splitlines()  # type: ignore[union-attr]
    assert re.fullmatch(
        rf"job j stopped: \d+ captured \(0 truncated\), 0 failed; 1 WARC file\(s\),"
        rf" {re.escape(size_text(written))}; [\d.]+ s, [\d.]+ URLs/s",
        summary[0],
    ), summary
    assert (
        f"  left open: {left.name}, {size_text(written)} written; cut to its last whole record"
        " and closed when the job resumes"
    ) in summary
    shown = ok(run_cli(home, "jobs", "show", "j")).stdout.splitlines()
    assert shown[1].endswith(
        f"1 WARC file(s), {size_text(written)} (1 left open: repaired when the job resumes)"
    ), shown

    site.open()
    again = ok(run_cli(home, "crawl", "--profile", "test", "--job", "j", *SETTINGS))
    repaired = [line for line in again.stderr.splitlines() if left.name in line]
    assert len(repaired) == 1 and repaired[0].startswith(f"archiver: repaired {left.name} "), (
        again.stderr
    )  # once on the terminal, once in the job's log
    log = (home / "jobs" / "j" / "scrapy.log").read_text()
    assert log.count(f"[archiver.repair] WARNING: repaired {left.name} ") == 1
    assert again.stdout.startswith("job j finished: this run ")
    assert not open_warcs(home)
    assert captured(home, "j") == Counter(site.page_urls())


def test_sigterm_stops_like_ctrl_c(tmp_path: Path, site: GateSite):
    home = tmp_path / "home"
    add_site(home, site)
    process, err = start_crawl(home, "--profile", "test", "--job", "j")
    assert site.wait_held(4), err.text(timeout=1)
    process.send_signal(signal.SIGTERM)  # systemctl stop, kill
    assert err.wait_for("^stopping: ") == "stopping: 4 requests in flight; Ctrl-C again forces"
    site.open()
    process.wait(timeout=CLI_TIMEOUT)
    assert process.returncode == 1
    assert job_json(home, "j")["status"] == "stopped"


def test_the_same_command_resumes_and_another_selection_is_refused(tmp_path: Path, site: GateSite):
    home = tmp_path / "home"
    add_site(home, site, "china")
    ok(run_cli(home, "seeds", "add", site.url + "elsewhere", "--tag", "weibo"))
    command = ("--profile", "test", "--tag", "china", "--job", "weekly")
    process, err = start_crawl(home, *command)
    assert site.wait_held(4), err.text(timeout=1)
    process.kill()  # a crash: nothing closes the job
    process.wait(timeout=CLI_TIMEOUT)
    job = job_json(home, "weekly")
    # A shared frontier stays open to workers; a job of its own is resumable.
    assert job["status"] == ("running" if POSTGRES_RUN else "resumable"), job
    assert job["command"] == "archiver crawl --tag china --job weekly --profile test"
    before = captured(home, "weekly")

    other = run_cli(home, "crawl", "--profile", "test", "--tag", "china", "--tag", "weibo",
                    "--job", "weekly", *SETTINGS)  # fmt: skip
    assert other.returncode == 1
    assert other.stderr.splitlines()[-3:] == [
        "Error: job 'weekly' did not finish, and this command selects differently:",
        "  tags: the job has china; this command has china, weibo",
        "resume it with its own command (archiver crawl --tag china --job weekly --profile"
        " test) or 'archiver crawl --job weekly' alone, or choose another --job name",
    ]
    store = run_cli(home, "crawl", *command, "--store", str(tmp_path / "elsewhere"), *SETTINGS)
    assert store.returncode == 1
    assert (
        f"  store: the job has {(home / 'warcs').absolute().as_uri()}; this command has"
        f" {(tmp_path / 'elsewhere').as_uri()}"
    ) in store.stderr.splitlines()
    assert captured(home, "weekly") == before  # nothing crawled, nothing changed

    site.open()
    again = ok(run_cli(home, "crawl", *command, *SETTINGS))
    assert "job weekly: resuming 1 seed(s)" in again.stderr
    assert again.stdout.startswith("job weekly finished: this run ")
    assert captured(home, "weekly") == Counter(site.page_urls())
    assert job_json(home, "weekly")["status"] == "finished"


def test_the_job_name_alone_resumes(tmp_path: Path, site: GateSite):
    home = tmp_path / "home"
    add_site(home, site, "china")
    process, err = start_crawl(home, "--profile", "test", "--tag", "china", "--job", "weekly")
    assert site.wait_held(4), err.text(timeout=1)
    process.kill()
    process.wait(timeout=CLI_TIMEOUT)
    other = run_cli(home, "crawl", "--job", "weekly", "--profile", "local", *SETTINGS)
    assert other.returncode == 1
    assert "  profile: the job has test; this command has local" in other.stderr.splitlines()
    site.open()
    again = ok(run_cli(home, "crawl", "--job", "weekly", *SETTINGS))
    assert "job weekly: resuming 1 seed(s)" in again.stderr
    assert again.stdout.startswith("job weekly finished: this run ")
    assert captured(home, "weekly") == Counter(site.page_urls())
