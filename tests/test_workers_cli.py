"""Workers on a shared frontier, run as a user runs them: ``archiver crawl --submit``,
``archiver worker``, ``archiver workers`` and ``archiver jobs show``, a subprocess per
command, over the fixture site on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from clihelp import CLI_TIMEOUT, job_json, ok, run_cli, start_cli
from pgserver import POSTGRES_RUN
from servers import FixtureSite
from warcs import catalog_rows, read_warc, warc_files

# Every URL a host-scoped crawl of the fixture site's root reaches (robots.txt aside).
SITE_PATHS = (
    "",
    "index.html",
    "page2.html",
    "sub/page3.html",
    "style.css",
    "img/logo.png",
    "img/bg.png",
    "img/photo.png",
    "redirect",
    "redirect-chain",
    "gzip.html",
    "chunked.html",
    "chunked-gzip.html",
    "cookies",
    "query?a=1&b=two",
    "gone",
    "missing",
)
WORKER_ID = re.compile(r"[a-z0-9-]+-(\d+)-[0-9a-f]{4}")


def refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    """The command failed with a one-line error saying ``message``, and no traceback."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: "), result.stderr
    assert message in result.stderr, result.stderr


def submit(home: Path, job: str, *selection: str) -> None:
    """``crawl --submit``: the job's name on stdout, nothing crawled."""
    result = ok(run_cli(home, "crawl", "--submit", "--profile", "test", "--job", job, *selection))
    assert result.stdout == f"{job}\n"
    assert f"job {job}: submitted" in result.stderr


def submit_site(home: Path, site: FixtureSite, job: str, *settings: str) -> None:
    """The whole fixture site (its root, host scope) submitted as ``job``."""
    ok(run_cli(home, "seeds", "add", site.url, "--scope", "host", "--robots", "ignore",
               "--tag", "site"))  # fmt: skip
    submit(home, job, "--tag", "site", *settings)


def workers_json(home: Path) -> list[dict[str, Any]]:
    return json.loads(ok(run_cli(home, "workers", "--all", "--json")).stdout)


def workers_json_running(home: Path) -> list[dict[str, Any]]:
    """``workers --json`` without --all: the workers still running."""
    return json.loads(ok(run_cli(home, "workers", "--json")).stdout)


def captured_urls(home: Path, job: str) -> list[str]:
    """The URLs the catalog holds captures of in ``job`` (one per capture; no robots.txt)."""
    rows = catalog_rows(
        home,
        "SELECT c.url FROM captures c JOIN jobs j ON j.id = c.job_id"
        " WHERE j.name = ? AND c.kind != 'robots'",
        (job,),
    )
    return [row["url"] for row in rows]


def responses(homes: list[Path]) -> Counter[str]:
    """How many response records each URL has in the WARC files of ``homes``."""
    found: Counter[str] = Counter()
    for home in dict.fromkeys(homes):
        for warc in warc_files(home):
            for rec in read_warc(warc):
                assert not rec.digest_problems, (warc.name, rec.digest_problems)
                if rec.type == "response":
                    found[rec.headers["WARC-Target-URI"]] += 1
    return found


def site_urls(site: FixtureSite) -> set[str]:
    return {site.url + path for path in SITE_PATHS}


def test_a_submitted_job_is_crawled_by_a_worker(tmp_path: Path, fixture_site: FixtureSite):
    home = tmp_path / "home"
    submit_site(home, fixture_site, "shared")
    assert fixture_site.requests == []  # submitted, not crawled
    before = job_json(home, "shared")
    assert before["status"] == "running" and before["shared"] is True
    assert before["urls"] == {"queued": 1, "leased": 0, "done": 0, "failed": 0}
    assert workers_json(home) == []

    worker = ok(run_cli(home, "worker", "--exit-when-idle"))
    assert "worker idle" in worker.stderr

    job = job_json(home, "shared")
    assert job["status"] == "finished", job
    urls = captured_urls(home, "shared")
    assert sorted(urls) == sorted(site_urls(fixture_site))  # every page, each once
    assert job["urls"] == {"queued": 0, "leased": 0, "done": len(SITE_PATHS), "failed": 0}
    assert job["hosts"] == [
        {"host": "127.0.0.1", "queued": 0, "leased": 0, "done": len(SITE_PATHS), "failed": 0}
    ]
    assert job["failed"] == []

    [row] = workers_json(home)
    named = WORKER_ID.fullmatch(row["id"])
    assert named and named.group(1) == str(row["pid"]), row  # host-pid-xxxx
    assert row["job"] == "shared" and row["state"] == "stopped"
    assert row["fetched"] == len(SITE_PATHS)
    assert row["reason"] == "finished"
    assert row["started"] == row["started_at"]  # the deprecated name, with the same value
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["started_at"])
    assert workers_json_running(home) == []

    files = warc_files(home)
    assert files and all(row["id"] in warc.name for warc in files), [w.name for w in files]
    assert not list(home.rglob("*.open"))
    found = responses([home])
    assert {url: n for url, n in found.items() if not url.endswith("robots.txt")} == {
        url: 1 for url in site_urls(fixture_site)
    }
    for path in ("index.html", "page2.html", "sub/page3.html", "style.css", "img/logo.png"):
        [rec] = [
            r
            for warc in files
            for r in read_warc(warc)
            if r.type == "response" and r.headers["WARC-Target-URI"] == fixture_site.url + path
        ]
        assert rec.content == (fixture_site.root / path).read_bytes(), path


@pytest.mark.parametrize("host_workers", ["1", "2"])
def test_two_workers_share_a_job_without_capturing_a_url_twice(
    tmp_path: Path, fixture_site: FixtureSite, host_workers: str
):
    """Two workers on one job: on PostgreSQL with a home each (two machines sharing the
    catalog), on SQLite in one home (a home's SQLite catalog is not shared). With
    ARCHIVER_HOST_WORKERS=2 both may fetch from the one host at once."""
    first = tmp_path / "a" / "home"
    second = tmp_path / "b" / "home" if POSTGRES_RUN else first
    submit_site(first, fixture_site, "pair", "-s", f"ARCHIVER_HOST_WORKERS={host_workers}")
    started = [start_cli(home, "worker", "--exit-when-idle") for home in (first, second)]
    for process in started:
        out, err = process.communicate(timeout=CLI_TIMEOUT)
        assert process.returncode == 0, out + err
        assert "Traceback" not in out + err

    homes = [first, second]
    job = job_json(second, "pair")
    assert job["status"] == "finished", job
    assert job["urls"] == {"queued": 0, "leased": 0, "done": len(SITE_PATHS), "failed": 0}
    urls = captured_urls(first, "pair")
    assert sorted(urls) == sorted(site_urls(fixture_site))  # every URL, none twice
    found = responses(homes)
    assert {url: n for url, n in found.items() if not url.endswith("robots.txt")} == {
        url: 1 for url in site_urls(fixture_site)
    }
    assert not any(list(home.rglob("*.open")) for home in homes)
    rows = workers_json(first)
    assert len(rows) == 2 and {row["state"] for row in rows} == {"stopped"}, rows
    assert sum(row["fetched"] for row in rows) == len(SITE_PATHS)
    for home in dict.fromkeys(homes):
        names = [warc.name for warc in warc_files(home)]
        assert all(any(row["id"] in name for row in rows) for name in names), names


def test_submitting_an_existing_job_name_changes_nothing(tmp_path: Path, fixture_site: FixtureSite):
    home = tmp_path / "home"
    submit(home, "taken", fixture_site.url + "page2.html")
    seeds = ok(run_cli(home, "seeds", "list", "--json")).stdout
    job = job_json(home, "taken")
    for again in ([fixture_site.url + "sub/page3.html"], []):
        result = run_cli(home, "crawl", "--submit", "--job", "taken", *again)
        refused(result, "a job named 'taken' already exists: choose another --job name")
        assert result.stdout == ""
    assert ok(run_cli(home, "seeds", "list", "--json")).stdout == seeds
    assert job_json(home, "taken") == job
    assert fixture_site.requests == []


def test_unknown_jobs_are_named_in_the_error(tmp_path: Path):
    home = tmp_path / "home"
    refused(run_cli(home, "worker", "--job", "nosuch", "--exit-when-idle"), "no job named 'nosuch'")
    refused(run_cli(home, "jobs", "show", "nosuch"), "no job named 'nosuch'")
    refused(run_cli(home, "jobs", "show", "nosuch", "--json"), "no job named 'nosuch'")


@pytest.mark.sqlite_only  # on PostgreSQL every job's frontier is shared
def test_a_worker_refuses_an_ordinary_job(tmp_path: Path, fixture_site: FixtureSite):
    home = tmp_path / "home"
    ok(run_cli(home, "crawl", "--profile", "test", "--job", "plain", fixture_site.url))
    result = run_cli(home, "worker", "--job", "plain", "--exit-when-idle")
    refused(result, "job 'plain' is not shared by workers")
    assert "archiver crawl --submit" in result.stderr
    assert "resume" not in result.stderr  # it finished: there is nothing to resume


def wait_for(condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def stop_worker(worker: subprocess.Popen[str], how: str) -> None:
    if how == "sigterm":  # as a service manager stops it
        worker.send_signal(signal.SIGTERM)
    else:  # Ctrl-C in its terminal: SIGINT to the foreground process group
        os.killpg(worker.pid, signal.SIGINT)


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
def test_a_stopped_worker_finishes_its_fetches_and_another_finishes_the_job(
    tmp_path: Path, fixture_site: FixtureSite, how: str
):
    home = tmp_path / "home"
    slow = fixture_site.url + "slow?seconds=3"
    # One fetch at a time from the host: while the slow page is fetched, the rest of the
    # site (its root, or the links found there) waits in the frontier.
    ok(run_cli(home, "seeds", "add", slow, "--robots", "ignore", "--tag", "site"))
    submit_site(home, fixture_site, "halted", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    worker = start_cli(home, "worker", "--job", "halted", new_session=True)
    try:
        wait_for(lambda: "/slow?seconds=3" in fixture_site.requests, "the slow page's request")
    finally:
        stop_worker(worker, how)
    out, err = worker.communicate(timeout=CLI_TIMEOUT)
    assert worker.returncode == 0, out + err
    assert "Traceback" not in out + err
    assert not list(home.rglob("*.open"))  # every WARC file closed

    job = job_json(home, "halted")
    assert job["status"] == "running", job
    left = job["urls"]
    assert left["leased"] == 0 and left["failed"] == 0, left
    assert left["queued"] > 0, left  # the rest of the site, back in the queue
    assert slow in captured_urls(home, "halted")  # the fetch in hand was finished
    [row] = workers_json(home)
    assert row["state"] == "stopped" and row["fetched"] == left["done"], row

    ok(run_cli(home, "worker", "--exit-when-idle"))
    job = job_json(home, "halted")
    assert job["status"] == "finished", job
    total = len(SITE_PATHS) + 1
    assert job["urls"] == {"queued": 0, "leased": 0, "done": total, "failed": 0}
    urls = captured_urls(home, "halted")
    assert sorted(urls) == sorted(site_urls(fixture_site) | {slow})  # none twice
    assert not list(home.rglob("*.open"))
