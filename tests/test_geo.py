"""A seed captured from several vantage points (``crawl --via a,b``) and compared, run as
a user runs it: a loopback origin that answers by the address a request comes from, and
two real proxies started with pproxy (an HTTP proxy with a password on 127.0.0.2, a
SOCKS5 server on 127.0.0.3), each connecting out from its own address.

The origin serves ``/news`` to the HTTP vantage and a 451 to the SOCKS5 one (geo-blocked),
``/story`` in an edition per vantage (geo-different) and ``/same`` alike to both (no
event). Read back: ``events`` and ``events --json`` with the capture from each vantage as
evidence, ``seeds show`` with the state per vantage, and a second run that finds the
same differences and adds no event. A seed's own vantage points and a schedule's are
crawled the same way, and Ctrl-C stops the job in hand and starts no other."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from clihelp import CLI_TIMEOUT, job_json, run_cli, start_cli
from gatesite import GateSite
from seedcli import ok
from streamlines import Lines
from vantagesites import ENV, HTTP_VANTAGE, SOCKS_VANTAGE, Pproxy, add_http_vantage, free_port

BLOCKED = b"<html><head><title>Unavailable</title></head><body>Not here.</body></html>"


class Origin:
    """A site on 127.0.0.1 that logs (peer, path) and answers by the peer's address."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.tokens = 0
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                peer = self.client_address[0]
                origin.log.append((peer, self.path))
                status, body = 200, b"<html><head><title>The same</title></head></html>"
                if self.path == "/news" and peer == SOCKS_VANTAGE:
                    status, body = 451, BLOCKED
                elif self.path == "/news":
                    body = b"<html><head><title>News</title></head><body>Read.</body></html>"
                elif self.path == "/story":
                    body = f"<html><head><title>Edition for {peer}</title></head></html>".encode()
                elif self.path == "/live" and peer == SOCKS_VANTAGE:
                    status, body = 451, BLOCKED
                elif self.path in ("/token", "/live"):  # a new hidden token each time
                    origin.tokens += 1
                    body = (
                        "<html><head><title>Form</title></head><body><form><input"
                        f' type="hidden" name="csrf" value="t{origin.tokens}"></form></body></html>'
                    ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin() -> Iterator[Origin]:
    site = Origin()
    yield site
    site.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def vantages(home: Path) -> Iterator[None]:
    """hk-1: the HTTP proxy with a password (HK); cn-1: the SOCKS5 server (CN)."""
    http_proxy = Pproxy("http", HTTP_VANTAGE, auth=f"alice:{ENV['HK_PROXY_PASSWORD']}")
    socks_proxy = Pproxy("socks5", SOCKS_VANTAGE)
    try:
        add_http_vantage(home, http_proxy)
        proxy = f"socks5h://{socks_proxy.host}:{socks_proxy.port}"
        ok(run_cli(home, "vantage", "add", "cn-1", "--proxy", proxy, "--country", "CN"))
        yield
    finally:
        http_proxy.close()
        socks_proxy.close()


def crawl(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli(home, "crawl", "--profile", "test", *args, env=ENV)


def captures(home: Path) -> dict[str, dict[str, Any]]:
    rows = json.loads(ok(run_cli(home, "captures", "--json")).stdout)
    return {row["id"]: row for row in rows}


def events(home: Path) -> list[dict[str, Any]]:
    return json.loads(ok(run_cli(home, "events", "--json")).stdout)


def seed_ids(home: Path) -> dict[str, int]:
    rows = json.loads(ok(run_cli(home, "seeds", "list", "--json")).stdout)
    return {row["url"]: row["id"] for row in rows}


def test_a_page_blocked_from_one_vantage_is_a_geo_blocked_event_with_both_captures(
    home: Path, origin: Origin, vantages: None
) -> None:
    news = origin.url + "news"
    first = crawl(home, news, "--via", "hk-1,cn-1", "--job", "geo")
    assert first.returncode == 0, first.stderr
    # One job per vantage point, each fetching through its own proxy.
    assert "archiver: crawling via hk-1 as job geo-hk-1\n" in first.stderr
    assert "archiver: crawling via cn-1 as job geo-cn-1\n" in first.stderr
    assert {peer for peer, path in origin.log if path == "/news"} == {HTTP_VANTAGE, SOCKS_VANTAGE}
    seed = seed_ids(home)[news]
    # One run is one fetch from each side: not evidence yet (a 451 or a timeout once, a
    # page deleted between the two jobs). The next run that agrees makes the event.
    assert (
        f"archiver: seed {seed} from 2 vantage points: blocked (hk-1 present, cn-1 blocked);"
        " seen in this run only: an event if the next run agrees\n"
    ) in first.stderr
    assert events(home) == []

    result = crawl(home, "--seed", str(seed), "--via", "hk-1,cn-1", "--job", "geo-2")
    assert result.returncode == 0, result.stderr
    assert (
        f"archiver: seed {seed} from 2 vantage points: blocked (hk-1 present, cn-1 blocked);"
        " event 1 geo-blocked\n"
    ) in result.stderr
    [event] = events(home)
    rows = captures(home)
    by_vantage = {e["vantage"]: e for e in event["evidence"]}
    assert set(by_vantage) == {"hk-1", "cn-1"}
    seen_hk, seen_cn = by_vantage["hk-1"], by_vantage["cn-1"]
    facts = lambda seen: (seen["country"], seen["state"], seen["status"], seen["reason"])  # noqa: E731
    assert facts(seen_hk) == ("HK", "present", "unchanged", "HTTP 200, same payload")
    assert facts(seen_cn) == ("CN", "blocked", "blocked", "HTTP 451")
    # The evidence is the captures each vantage made in the agreeing run.
    hk_row, cn_row = rows[seen_hk["capture_id"]], rows[seen_cn["capture_id"]]
    made = lambda row: (row["http_status"], row["vantage"]["name"], row["job"])  # noqa: E731
    assert (made(hk_row), made(cn_row)) == (
        (200, "hk-1", "geo-2-hk-1"),
        (451, "cn-1", "geo-2-cn-1"),
    )
    assert (event["kind"], event["seed_id"], event["url"], event["vantage"]) == (
        "geo-blocked", seed, news, "cn-1",
    )  # fmt: skip
    assert event["reason"] == "present via hk-1 (HK); blocked via cn-1 (CN): HTTP 451"
    assert (event["last_present"], event["first_absent"]) == (hk_row["id"], cn_row["id"])

    listed = ok(run_cli(home, "events")).stdout.splitlines()
    assert listed == [
        f"{event['confirmed_at']}  seed {seed}  geo-blocked  {news}  ({event['reason']})",
        f"    via hk-1 (HK): present, {hk_row['id']} at {seen_hk['captured_at']}"
        " (HTTP 200, same payload)",
        f"    via cn-1 (CN): blocked, {cn_row['id']} at {seen_cn['captured_at']} (HTTP 451)",
    ]
    assert ok(run_cli(home, "events", "--kind", "geo-different")).stdout == "no events\n"

    shown = ok(run_cli(home, "seeds", "show", str(seed))).stdout
    assert "      state per vantage: hk-1 present, cn-1 blocked\n" in shown
    assert "      vantages compared: blocked at " in shown
    assert f"  unchanged {hk_row['id']} via hk-1  HTTP 200, same payload\n" in shown
    assert f"  blocked   {cn_row['id']} via cn-1  HTTP 451\n" in shown
    data = json.loads(ok(run_cli(home, "seeds", "show", str(seed), "--json")).stdout)
    assert data["vantages"] == {"hk-1": "present", "cn-1": "blocked"}
    assert (data["geo"]["verdict"], data["geo"]["states"]) == (
        "blocked", {"hk-1": "present", "cn-1": "blocked"},
    )  # fmt: skip

    # Again: the same difference goes on, and is no new event.
    again = crawl(home, "--seed", str(seed), "--via", "hk-1,cn-1", "--job", "geo-3")
    assert again.returncode == 0, again.stderr
    assert (
        f"archiver: seed {seed} from 2 vantage points: blocked (hk-1 present, cn-1 blocked)\n"
    ) in again.stderr
    assert len(events(home)) == 1
    data = json.loads(ok(run_cli(home, "seeds", "show", str(seed), "--json")).stdout)
    assert [(row["vantage"], row["status"], row["confirmed"]) for row in data["timeline"]] == [
        ("hk-1", "captured", True), ("cn-1", "blocked", True),
        ("hk-1", "unchanged", True), ("cn-1", "blocked", True),
        ("hk-1", "unchanged", True), ("cn-1", "blocked", True),
    ]  # fmt: skip


def test_a_page_that_changes_on_every_request_and_is_blocked_is_geo_blocked(
    home: Path, origin: Origin, vantages: None
) -> None:
    # Present from hk-1 with new bytes each run (a token, a clock), 451 from cn-1 both
    # runs: the block agrees, so it is an event though the page itself never repeats.
    live = origin.url + "live"
    first = crawl(home, live, "--via", "hk-1,cn-1", "--job", "live")
    assert "seen in this run only: an event if the next run agrees\n" in first.stderr
    seed = seed_ids(home)[live]
    second = crawl(home, "--seed", str(seed), "--via", "hk-1,cn-1", "--job", "live-2")
    assert second.returncode == 0, second.stderr
    assert [(e["kind"], e["seed_id"]) for e in events(home)] == [("geo-blocked", seed)]


def test_a_block_seen_once_is_no_event(home: Path, origin: Origin, vantages: None) -> None:
    # cn-1 blocked in one run, not in the next (a 451 once, a passing outage): no event.
    story = origin.url + "news"
    first = crawl(home, story, "--via", "hk-1,cn-1", "--job", "once")
    assert "seen in this run only: an event if the next run agrees\n" in first.stderr
    seed = seed_ids(home)[story]
    second = crawl(home, "--seed", str(seed), "--via", "hk-1,direct", "--job", "once-2")
    assert second.returncode == 0, second.stderr
    assert f"seed {seed} from 2 vantage points: same (hk-1 present, direct present)\n" in (
        second.stderr
    )
    assert events(home) == []


def test_content_that_differs_by_vantage_is_geo_different_and_the_same_is_no_event(
    home: Path, origin: Origin, vantages: None
) -> None:
    story, same, token = origin.url + "story", origin.url + "same", origin.url + "token"
    first = crawl(home, story, same, token, "--via", "hk-1,cn-1", "--job", "ed", "--json")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert [job["job"] for job in out["jobs"]] == ["ed-hk-1", "ed-cn-1"]
    ids = seed_ids(home)
    verdicts = {v["seed_id"]: v for v in out["geo"]}
    assert (verdicts[ids[same]]["verdict"], verdicts[ids[same]]["event"]) == ("same", None)
    assert (verdicts[ids[story]]["verdict"], verdicts[ids[story]]["event"]) == ("different", None)
    assert verdicts[ids[story]]["awaiting_next_run"] is True
    assert events(home) == []

    result = crawl(home, "--seed", str(ids[story]), "--seed", str(ids[token]),
                   "--via", "hk-1,cn-1", "--job", "ed-2", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    verdicts = {v["seed_id"]: v for v in json.loads(result.stdout)["geo"]}
    [event] = events(home)
    assert event == verdicts[ids[story]]["event"]
    assert (event["kind"], event["seed_id"]) == ("geo-different", ids[story])
    assert event["vantage"] is None
    rows = captures(home)
    seen = {e["vantage"]: e for e in event["evidence"]}
    assert {name: e["state"] for name, e in seen.items()} == {"hk-1": "present", "cn-1": "present"}
    hk_row, cn_row = rows[seen["hk-1"]["capture_id"]], rows[seen["cn-1"]["capture_id"]]
    assert (hk_row["title"], cn_row["title"]) == (
        f"Edition for {HTTP_VANTAGE}", f"Edition for {SOCKS_VANTAGE}",
    )  # fmt: skip
    assert hk_row["payload_digest"] != cn_row["payload_digest"]
    assert event["reason"] == (
        f"content differs: hk-1 (HK) {hk_row['payload_digest'][:19]},"
        f" cn-1 (CN) {cn_row['payload_digest'][:19]}"
    )
    # A page whose bytes change on every request differs from each vantage both times,
    # but never the same way twice: no claim that the vantage points see different pages.
    assert verdicts[ids[token]]["verdict"] == "different"
    assert verdicts[ids[token]]["event"] is None
    assert ok(run_cli(home, "events", "--kind", "geo-blocked")).stdout == "no events\n"


def test_direct_may_be_one_of_the_vantages(home: Path, origin: Origin, vantages: None) -> None:
    same = origin.url + "same"
    result = crawl(home, same, "--via", "direct,cn-1", "--job", "d")
    assert result.returncode == 0, result.stderr
    assert {peer for peer, _ in origin.log} == {"127.0.0.1", SOCKS_VANTAGE}
    seed = seed_ids(home)[same]
    assert (
        f"archiver: seed {seed} from 2 vantage points: same (direct present, cn-1 present)\n"
    ) in result.stderr
    assert events(home) == []


def test_several_vantages_are_checked_before_anything_is_crawled(
    home: Path, origin: Origin, vantages: None
) -> None:
    url = origin.url + "same"
    for via, message in [
        ("hk-1,nowhere", "--via: no vantage point named 'nowhere'; see them with 'archiver"
                         " vantage list', add one with 'archiver vantage add NAME --proxy URL',"
                         " or give --via direct"),
        ("hk-1,", "invalid via 'hk-1,': an empty name in the list; list vantage points as"
                  " hk-1,cn-1 (direct for a direct connection)"),
        ("hk-1,hk-1", "invalid via 'hk-1,hk-1': a vantage point named twice"),
    ]:  # fmt: skip
        result = crawl(home, url, "--via", via)
        assert (result.returncode, result.stderr) == (1, f"Error: {message}\n")
    result = crawl(home, url, "--via", "hk-1,cn-1", "--submit")
    assert (result.returncode, result.stderr) == (
        1,
        "Error: --submit takes one vantage point: submit a job per vantage (--via NAME) instead\n",
    )
    assert origin.log == []
    assert ok(run_cli(home, "seeds", "list")).stdout.startswith("no seeds")


def test_a_seeds_own_vantages_and_a_schedules_are_each_crawled_and_compared(
    home: Path, origin: Origin, vantages: None
) -> None:
    news, same = origin.url + "news", origin.url + "same"
    ok(run_cli(home, "seeds", "add", news, "--via", "hk-1,cn-1"))
    ok(run_cli(home, "seeds", "add", same, "--via", "cn-1"))
    ids = seed_ids(home)
    listed = ok(run_cli(home, "seeds", "list")).stdout
    assert ", via hk-1,cn-1\n" in listed and ", via cn-1\n" in listed
    result = crawl(home, "--job", "own")  # each seed through its own vantage points
    assert result.returncode == 0, result.stderr
    assert "archiver: crawling via hk-1 as job own-hk-1\n" in result.stderr
    assert "archiver: crawling via cn-1 as job own-cn-1\n" in result.stderr
    rows = [row for row in captures(home).values() if row["url"] in (news, same)]
    assert sorted((row["url"], row["job"]) for row in rows) == [
        (news, "own-cn-1"), (news, "own-hk-1"), (same, "own-cn-1"),
    ]  # fmt: skip
    assert events(home) == []  # one run: not yet evidence
    again = crawl(home, "--job", "own-2")
    assert again.returncode == 0, again.stderr
    assert [(e["kind"], e["seed_id"]) for e in events(home)] == [("geo-blocked", ids[news])]

    # A schedule's vantage points win over the seed's own: run-due captures from each.
    edited = ok(run_cli(home, "seeds", "edit", str(ids[same]), "--via", "direct"))
    assert edited.stdout.endswith(": via cn-1 -> direct\n")
    ok(run_cli(home, "schedule", "set", "--seed", str(ids[same]), "--every", "1h",
               "--via", "direct,hk-1"))  # fmt: skip
    later = {**ENV, "ARCHIVER_NOW": "2100-01-01"}  # an hour and more after the crawl
    due = run_cli(home, "run-due", "--profile", "test", env=later)
    assert due.returncode == 0, due.stderr
    assert {peer for peer, path in origin.log if path == "/same"} == {
        SOCKS_VANTAGE, "127.0.0.1", HTTP_VANTAGE,
    }  # fmt: skip
    assert (
        f"archiver: seed {ids[same]} from 2 vantage points: same (direct present, hk-1 present)\n"
    ) in due.stderr
    assert len(events(home)) == 1
    result = run_cli(home, "seeds", "edit", str(ids[same]), "--via", "hk-1,nowhere")
    assert (result.returncode, result.stderr) == (
        1,
        "Error: --via: no vantage point named 'nowhere'; see them with 'archiver vantage"
        " list', add one with 'archiver vantage add NAME --proxy URL', or give --via direct\n",
    )


def test_ctrl_c_stops_the_job_in_hand_and_starts_no_other(home: Path, vantages: None) -> None:
    settings = ("-s", "CONCURRENT_REQUESTS=4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
                "-s", "ARCHIVER_PROGRESS_INTERVAL=0")  # fmt: skip
    with GateSite(pages=6) as site:
        ok(run_cli(home, "seeds", "add", site.url, "--scope", "host", "--robots", "ignore"))
        process = start_cli(
            home, "crawl", "--profile", "test", "--via", "direct,cn-1", "--job", "g", *settings,
            env=ENV, new_session=True,
        )  # fmt: skip
        assert process.stderr is not None
        err = Lines(process.stderr)
        assert site.wait_held(4), err.text(timeout=1)  # the direct job has them in flight
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C, to the command
        assert err.wait_for("^stopping: ") == "stopping: 4 requests in flight; Ctrl-C again forces"
        site.open()
        process.wait(timeout=CLI_TIMEOUT)
    assert process.returncode == 1
    text = err.text()
    assert "archiver: crawling via direct as job g-direct\n" in text
    assert "crawling via cn-1" not in text and "vantage points:" not in text
    assert job_json(home, "g-direct")["status"] == "stopped"
    assert run_cli(home, "jobs", "show", "g-cn-1").returncode == 1  # never started


def test_imports_take_several_vantage_points_in_the_via_column(
    home: Path, tmp_path: Path, vantages: None
) -> None:
    good = tmp_path / "good.csv"
    good.write_text('url,via\nhttps://example.org/a,"cn-1,direct"\nhttps://example.org/b,hk-1\n')
    ok(run_cli(home, "seeds", "import", str(good)))
    listed = ok(run_cli(home, "seeds", "list")).stdout
    assert "https://example.org/a" in listed and ", via cn-1,direct\n" in listed
    bad = tmp_path / "bad.csv"
    bad.write_text('url,via\nhttps://example.org/c,"hk-1,nowhere"\n')
    result = run_cli(home, "seeds", "import", str(bad))
    assert (result.returncode, result.stderr) == (
        1,
        f"Error: {bad}: line 2: no vantage point named 'nowhere'; see them with 'archiver"
        " vantage list', add one with 'archiver vantage add NAME --proxy URL', or give --via"
        " direct\n",
    )
    assert "example.org/c" not in ok(run_cli(home, "seeds", "list")).stdout


def test_a_vantage_that_saw_nothing_this_run_is_not_compared_by_what_it_saw_before(
    home: Path, origin: Origin, vantages: None
) -> None:
    same = origin.url + "same"
    first = crawl(home, same, "--via", "hk-1,cn-1", "--job", "one")
    assert first.returncode == 0, first.stderr
    assert "2 vantage points: same (hk-1 present, cn-1 present)\n" in first.stderr
    # cn-1's proxy is gone: its job fails (reason proxy), and hk-1 alone is no comparison.
    ok(run_cli(home, "vantage", "remove", "cn-1", "--force"))
    dead = f"socks5h://127.0.0.3:{free_port('127.0.0.3')}"
    ok(run_cli(home, "vantage", "add", "cn-1", "--proxy", dead, "--country", "CN"))
    second = crawl(home, "--via", "hk-1,cn-1", "--job", "two")
    assert second.returncode == 1
    assert "archiver: crawling via cn-1 as job two-cn-1\n" in second.stderr
    assert "vantage points:" not in second.stderr
    rows = [row for row in captures(home).values() if row["job"] == "two-cn-1"]
    assert [row["error"].split(":")[0] for row in rows if row["url"] == same] == ["proxy"]
    assert events(home) == []


def test_a_change_pending_on_a_vantage_the_seed_left_does_not_keep_it_due(tmp_path: Path) -> None:
    # A change seen via cn-1 whose confirming fetch never came (a crawl stopped), then the
    # seed moved to hk-1: only the vantage points it goes through now keep it due at once.
    from archiver.catalog import open_catalog
    from archiver.catalog.captures import CaptureRow, insert_captures
    from archiver.catalog.jobs import create_job
    from archiver.catalog.seeds import add_seeds
    from archiver.catalog.statuses import insert_status
    from archiver.home import ArchiveHome
    from archiver.seedspec import SeedSpec
    from archiver.watch.status import awaiting_confirmation

    catalog = open_catalog(ArchiveHome(tmp_path).catalog_location)  # SQLite, or PostgreSQL
    url = "https://example.org/p"
    [added] = add_seeds(catalog, [SeedSpec.build(url, via="hk-1")])
    seed = added.seed.id
    job = create_job(catalog, "j", {}, [seed])
    row = CaptureRow(url=url, final_url=url, surt="org,example)/p", seed_id=seed, job_id=job.id,
                     kind="seed", hops=0, via=None, captured_at="2026-01-01T00:00:00.000Z",
                     state="ok", software="archiver/test", http_status=200)  # fmt: skip
    with catalog.transaction() as conn:
        first, second, third = insert_captures(conn, [row, row, row])
        insert_status(conn, seed, first, "captured", "HTTP 200", True, vantage="cn-1")
        insert_status(conn, seed, second, "gone", "HTTP 404", False, vantage="cn-1")
        insert_status(conn, seed, third, "captured", "HTTP 200", True, vantage="hk-1")
    assert awaiting_confirmation(catalog, seed, ["hk-1"]) is False
    assert awaiting_confirmation(catalog, seed, ["hk-1", "cn-1"]) is True
    assert awaiting_confirmation(catalog, seed, ["direct"]) is False
