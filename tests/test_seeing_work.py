"""Seeing a crawl's work as it runs and after: progress lines, the job's crawl.log, the
summary and its JSON, exit codes, and ``archiver jobs``."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clihelp import CLI_TIMEOUT, ok, run_cli, start_cli
from gatesite import GateSite
from pgserver import POSTGRES_RUN
from servers import FixtureSite
from streamlines import Lines

QUIET = ("-s", "ARCHIVER_PROGRESS_INTERVAL=0")
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
MILLIS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"  # UTC with milliseconds, as captured_at
# time, status, size, URL, hop path, via, MIME type, duration, digest, annotations
CRAWL_LOG_LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<status>\S+) (?P<size>\S+)"
    r" (?P<url>\S+) (?P<hops>\S+) (?P<via>\S+) (?P<mime>\S+) (?P<duration>\S+)"
    r" (?P<digest>\S+) (?P<notes>\S+)"
)


@pytest.fixture
def gated() -> Iterator[GateSite]:
    with GateSite(pages=12) as site:
        yield site


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def crawl_log(home: Path, job: str) -> dict[str, dict[str, str]]:
    """The job's crawl.log, each line parsed, by URL (the last line of a URL)."""
    lines = (home / "jobs" / job / "crawl.log").read_text().splitlines()
    parsed = {}
    for line in lines:
        match = CRAWL_LOG_LINE.fullmatch(line)
        assert match, line
        parsed[match["url"]] = match.groupdict()
    return parsed


def test_progress_lines_say_the_time_the_counts_and_the_rate(tmp_path: Path, gated: GateSite):
    home = tmp_path / "home"
    ok(run_cli(home, "seeds", "add", gated.url, "--scope", "host", "--robots", "ignore"))
    process = start_cli(home, "crawl", "--profile", "test", "--job", "seen",
                        "-s", "CONCURRENT_REQUESTS=4",
                        "-s", "ARCHIVER_PROGRESS_INTERVAL=0.2")  # fmt: skip
    assert process.stderr is not None
    err = Lines(process.stderr)
    assert gated.wait_held(4), err.text(timeout=1)
    # The root page is captured, four pages are held by the server, eight wait their turn.
    line = err.wait_for(r"archiver: .* 1 captured, 8 queued, 4 in flight")
    gated.open()
    process.wait(timeout=CLI_TIMEOUT)
    assert process.returncode == 0, err.text()
    assert re.fullmatch(
        rf"{STAMP} archiver: \d:\d\d:\d\d elapsed; 1 captured, 8 queued, 4 in flight, 0 failed;"
        r" \d+\.\d URLs/s, \d+\.\d MB written(; ETA \d+:\d\d:\d\d)?",
        line or "",
    ), line


def test_the_crawl_log_has_a_line_per_url(tmp_path: Path, fixture_site: FixtureSite):
    home = tmp_path / "home"
    ok(run_cli(home, "seeds", "add", fixture_site.url, "--scope", "host"))
    ok(run_cli(home, "crawl", "--profile", "test", "--job", "seen", *QUIET))
    logged = crawl_log(home, "seen")
    rows = json.loads(ok(run_cli(home, "captures", "--job", "seen", "--json")).stdout)
    assert set(logged) == {row["url"] for row in rows}  # robots.txt included
    root, page = logged[fixture_site.url], logged[fixture_site.url + "page2.html"]
    assert (root["status"], root["hops"], root["via"]) == ("200", "-", "-")
    assert root["mime"] == "text/html"
    assert (page["status"], page["hops"], page["via"]) == ("200", "L", fixture_site.url)
    assert page["size"] == str((fixture_site.root / "page2.html").stat().st_size)
    assert re.fullmatch(r"\d+ms", page["duration"]) and page["digest"].startswith("sha256:")
    by_url = {row["url"]: row for row in rows}
    assert page["digest"] == by_url[fixture_site.url + "page2.html"]["payload_digest"]
    assert logged[fixture_site.url + "style.css"]["hops"] == "E"  # a requisite of the root
    assert logged[fixture_site.url + "missing"]["status"] == "404"
    assert logged[fixture_site.url + "robots.txt"]["hops"] == "P"
    # Scrapy's own lines, its boilerplate and warnings, are in scrapy.log, not here.
    scrapy_log = (home / "jobs" / "seen" / "scrapy.log").read_text()
    assert "[scrapy.core.engine] INFO: Spider opened" in scrapy_log


def test_private_network_refusals_are_logged_and_the_remedy_named(tmp_path: Path):
    home = tmp_path / "home"
    url = closed_port_url()  # loopback: refused before any connection
    env = {"ARCHIVER_ALLOW_PRIVATE_NETWORKS": None}
    result = run_cli(home, "crawl", url, "--profile", "test", "--job", "lan", "--json", *QUIET,
                     env=env)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "  private-network: 1 URL(s) refused: loopback, private and link-local addresses are"
        " not crawled unless allowed; set ARCHIVER_ALLOW_PRIVATE_NETWORKS=1, or"
        " -s ARCHIVER_ALLOW_NETWORKS=10.1.2.0/24 for chosen networks (README: Private networks)"
    ) in result.stderr.splitlines()  # the summary goes to stderr under --json
    assert result.stderr.splitlines()[-1] == (
        "Error: nothing could be captured in job lan: see the failures above"
        " ('archiver captures --job lan' lists them)"
    )
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["exit_code"], summary["failed_seeds"]) == (
        "finished",
        1,
        [1],
    )
    assert summary["seeds"][0]["failures"] == {"private-network": 1}
    assert crawl_log(home, "lan")[url]["status"] == "private-network"


def test_crawl_json_summary_and_the_exit_code_of_failed_seeds(
    tmp_path: Path, fixture_site: FixtureSite
):
    home = tmp_path / "home"
    refused = closed_port_url()
    page = fixture_site.url + "page2.html"
    result = run_cli(home, "crawl", page, refused, "--profile", "test", "--job", "half",
                     "--json", *QUIET)  # fmt: skip
    assert result.returncode == 5, result.stdout + result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)  # stdout holds the JSON alone
    assert result.stderr.splitlines()[-1] == (
        f"Error: 1 of 2 seed(s) could not be captured: seed 2 {refused} (refused: 1); the"
        " others were. Crawl them again with 'archiver crawl --seed 2' once the cause is fixed"
    )
    assert summary["job"] == "half" and summary["status"] == "finished"
    assert summary["exit_code"] == 5 and summary["error"] == result.stderr.splitlines()[-1][7:]
    assert summary["resumed"] is False and summary["failed_seeds"] == [2]
    assert summary["counts"]["captured"] == summary["run"]["captured"] > 0
    assert summary["counts"]["queued"] == 0 and summary["counts"]["warc_files"] == 1
    seeds = {s["seed_id"]: s for s in summary["seeds"]}
    assert seeds[1]["url"] == page and seeds[1]["failed"] == 0
    assert seeds[2]["failures"] == {"refused": 1} and seeds[2]["ok"] == 0
    assert summary["crawl_log"] == str(home / "jobs" / "half" / "crawl.log")
    assert "job half finished: " in result.stderr  # the text summary, on stderr


def test_jobs_lists_and_shows_status_counts_seeds_and_store(
    tmp_path: Path, fixture_site: FixtureSite
):
    home = tmp_path / "home"
    ok(run_cli(home, "seeds", "add", fixture_site.url + "page2.html", "--tag", "t"))
    assert run_cli(home, "jobs").stdout == "no jobs yet (start one with 'archiver crawl')\n"
    ok(run_cli(home, "crawl", "--profile", "test", "--tag", "t", "--job", "first", *QUIET))
    listed = json.loads(ok(run_cli(home, "jobs", "list", "--json")).stdout)
    [job] = listed
    assert job["job"] == "first" and job["status"] == "finished" and job["resumable"] is False
    assert job["seed_ids"] == [1] and job["store"] == (home / "warcs").absolute().as_uri()
    assert job["counts"]["captured"] >= 4 and job["counts"]["failed"] == 0
    assert re.fullmatch(MILLIS, job["started_at"]) and re.fullmatch(MILLIS, job["ended_at"])
    assert job["started_at"] <= job["ended_at"]
    text = ok(run_cli(home, "jobs")).stdout.splitlines()
    assert text[0].split() == ["job", "status", "started", "ended", "captured", "failed",
                               "queued", "seeds"]  # fmt: skip
    assert re.fullmatch(
        rf"first  finished   {STAMP}  {STAMP}  +{job['counts']['captured']}  +0  +0  1", text[1]
    ), text
    shown = ok(run_cli(home, "jobs", "show", "first")).stdout.splitlines()
    assert f"  seed 1 {fixture_site.url}page2.html" in shown
    assert f"  store: {job['store']}" in shown
    assert "  command: archiver crawl --tag t --job first --profile test" in shown
    detail = json.loads(ok(run_cli(home, "jobs", "show", "first", "--json")).stdout)
    assert detail["seeds"] == [{"seed_id": 1, "url": fixture_site.url + "page2.html"}]
    assert detail["counts"] == job["counts"] and detail["urls"]["queued"] == 0
    # One vocabulary: the times are started_at and ended_at (as captured_at), once each.
    assert (detail["started_at"], detail["ended_at"]) == (job["started_at"], job["ended_at"])
    assert not {"started", "ended"} & (set(detail) | set(job)), sorted(detail)

    ok(run_cli(home, "crawl", "--profile", "test", "--seed", "1", "--job", "second", *QUIET))
    listed = json.loads(ok(run_cli(home, "jobs", "--json")).stdout)
    assert [j["job"] for j in listed] == ["second", "first"]  # newest first
    newest = ok(run_cli(home, "jobs", "--limit", "1")).stdout.splitlines()
    assert [line.split()[0] for line in newest[1:-1]] == ["second"]
    assert newest[-1] == "... and 1 older job(s): --limit 0 lists them all"


def test_a_resumed_job_counts_this_run_apart_from_the_total(tmp_path: Path, gated: GateSite):
    home = tmp_path / "home"
    ok(run_cli(home, "seeds", "add", gated.url, "--scope", "host", "--robots", "ignore"))
    process = start_cli(home, "crawl", "--profile", "test", "--job", "j",
                        "-s", "CONCURRENT_REQUESTS=4", *QUIET)  # fmt: skip
    assert gated.wait_held(4)
    process.kill()
    process.wait(timeout=CLI_TIMEOUT)
    gated.open()
    result = run_cli(home, "crawl", "--job", "j", "--json", *QUIET)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["resumed"] is True and summary["counts"]["captured"] == 13
    assert summary["run"]["captured"] == 12  # the root was captured before the kill
    seconds = summary["run"]["seconds"]
    assert abs(summary["run"]["urls_per_second"] - 12 / seconds) < 0.1
    first = next(line for line in result.stderr.splitlines() if "job j finished" in line)
    assert first.startswith("job j finished: this run 12 captured, 0 failed in ")
    assert "; total 13 captured (0 truncated), 0 failed; " in first


def test_run_due_json_and_stopped_jobs_in_run_due_and_schedule_list(
    tmp_path: Path, gated: GateSite
):
    home = tmp_path / "home"
    ok(run_cli(home, "seeds", "add", gated.url, "--scope", "host", "--robots", "ignore"))
    ok(run_cli(home, "schedule", "set", "--seed", "1", "--every", "1h"))
    process = start_cli(home, "run-due", "--profile", "test", "-s", "CONCURRENT_REQUESTS=4",
                        *QUIET, new_session=True)  # fmt: skip
    assert gated.wait_held(1)  # the seed page is captured, its links are being fetched
    process.terminate()  # SIGTERM: the fetches in hand are finished, the job stopped
    gated.open()
    out, err = process.communicate(timeout=CLI_TIMEOUT)
    assert process.returncode == 1, out + err
    [stopped] = json.loads(ok(run_cli(home, "jobs", "list", "--json")).stdout)
    name = stopped["job"]
    assert stopped["status"] == "stopped" and name.startswith("due-")

    listed = ok(run_cli(home, "schedule", "list")).stdout.splitlines()
    line = (
        f"1 job(s) did not finish: {name} (stopped {stopped['ended_at'][:19]}Z); resume one"
        " with 'archiver crawl --job NAME', or give it up with 'archiver jobs abandon NAME'"
        " ('archiver jobs' lists them)"
    )
    assert listed[-1] == line
    as_json = json.loads(ok(run_cli(home, "schedule", "list", "--json")).stdout)
    assert [j["job"] for j in as_json["stopped_jobs"]] == [name]

    # The seed was captured before the stop: nothing is due, and run-due says so.
    nothing = ok(run_cli(home, "run-due", "--profile", "test", "--json", *QUIET))
    assert f"archiver: {line}" in nothing.stderr.splitlines()
    answer = json.loads(nothing.stdout)
    assert (answer["job"], answer["status"], answer["exit_code"]) == (None, "nothing due", 0)
    assert answer["next_due"]["seed_id"] == 1 and answer["next_due"]["url"] == gated.url

    # watch says the same, each of its lines timestamped, and when the next seed is due.
    watcher = start_cli(home, "watch", "--profile", "test", *QUIET)
    assert watcher.stderr is not None
    err = Lines(watcher.stderr)
    due_line = err.wait_for(" next due at ")
    watcher.terminate()
    watcher.wait(timeout=CLI_TIMEOUT)
    assert watcher.returncode == 0
    lines = err.text().splitlines()
    assert re.fullmatch(rf"{STAMP} watching the schedules of {re.escape(str(home))} .*", lines[0])
    assert lines[1] == f"{lines[1][:20]} {line}" and re.fullmatch(STAMP, lines[1][:20])
    assert re.fullmatch(rf"{STAMP} next due at {STAMP}: seed 1 {re.escape(gated.url)}", due_line)
    assert re.fullmatch(rf"{STAMP} watch stopped", lines[-1])

    in_two_hours = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = ok(run_cli(home, "run-due", "--profile", "test", "--json", *QUIET,
                       env={"ARCHIVER_NOW": in_two_hours}))  # fmt: skip
    summary = json.loads(later.stdout)
    assert summary["job"].startswith("due-") and summary["status"] == "finished"
    assert [s["seed_id"] for s in summary["seeds"] if s["seed_id"]] == [1]


@pytest.mark.skipif(POSTGRES_RUN, reason="reads the lock of a job of its own (SQLite)")
def test_a_running_job_is_shown_running(tmp_path: Path, gated: GateSite):
    home = tmp_path / "home"
    ok(run_cli(home, "seeds", "add", gated.url + "p0", "--robots", "ignore"))
    process = start_cli(home, "crawl", "--profile", "test", "--job", "live", *QUIET)
    try:
        assert gated.wait_held(1)
        shown = ok(run_cli(home, "jobs", "show", "live")).stdout.splitlines()
        assert shown[0].startswith("job live running: ")
        assert f"  crawled now by process {process.pid}" in shown
    finally:
        gated.open()
        process.communicate(timeout=CLI_TIMEOUT)
    assert process.returncode == 0
