"""Watching at-risk seeds: classification, confirmation, events, schedules, run-due, watch.

The site is changed between captures by the tests (edited, deleted, replaced with a
removal notice, redirected to a login page, flapping); time is injected with
ARCHIVER_NOW instead of slept, and confirmation fetches wait 0 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mutablesite import MutableSite, Reply, page
from warcs import archiver, catalog_rows, warc_files

from archiver.catalog.seeds import Seed
from archiver.errors import ArchiverError
from archiver.watch.classify import Fetch, classify, is_soft404_target
from archiver.watch.patterns import RemovalPatterns
from archiver.watch.schedules import Schedule, due_for, parse_duration

FAST = ("-s", "ARCHIVER_CONFIRM_DELAY=0")
POST = "/statuses/8841"


# -- classification ----------------------------------------------------------------------

PATTERNS = RemovalPatterns.load()
URL = "https://weibo.com/1234/8841"


@pytest.mark.parametrize(
    ("fetch", "previous", "expected"),
    [
        (Fetch(URL, 200, payload_digest="sha256:a"), None, "captured"),
        (Fetch(URL, 200, payload_digest="sha256:a"), "sha256:a", "unchanged"),
        (Fetch(URL, 200, payload_digest="sha256:b"), "sha256:a", "changed"),
        (Fetch(URL, 304), "sha256:a", "unchanged"),
        (Fetch(URL, 404), "sha256:a", "gone"),
        (Fetch(URL, 410), "sha256:a", "gone"),
        (Fetch(URL, 403), "sha256:a", "blocked"),
        (Fetch(URL, 451), "sha256:a", "blocked"),
        (Fetch(URL, None, error="timeout: took longer than 180 s"), "sha256:a", "blocked"),
        (Fetch(URL, None, error="reset: Connection lost"), "sha256:a", "blocked"),
        (Fetch(URL, None, error="dns: no address"), "sha256:a", "error"),
        (Fetch(URL, 503), "sha256:a", "error"),
        (Fetch(URL, 429), "sha256:a", "error"),
        (Fetch(URL, 302, location="https://weibo.com/"), "sha256:a", "soft404"),
        (Fetch(URL, 302, location="https://passport.weibo.com/visitor/visitor?a=1"), None,
         "soft404"),
        (Fetch(URL, 301, location="https://weibo.com/1234/8841/"), "sha256:a", "error"),
        (Fetch(URL, 200, text="<p>抱歉，此微博已被删除。</p>"), "sha256:a", "removed"),
        (Fetch("https://mp.weixin.qq.com/s/x", 200, text="此内容因违规无法查看"), None, "removed"),
        (Fetch("https://x.com/a/status/1", 200, text="Hmm... This post is unavailable."), None,
         "removed"),
        (Fetch("https://example.org/p", 200, text="This post is unavailable",
               payload_digest="sha256:a"), "sha256:a", "unchanged"),  # not X: no pattern
    ],
)  # fmt: skip
def test_classification(fetch, previous, expected):
    assert classify(fetch, previous, PATTERNS)[0] == expected


def test_soft404_targets():
    assert is_soft404_target("https://x.com/a/status/1", "https://x.com/i/flow/login")
    assert is_soft404_target("https://example.org/post/1", "https://example.org/")
    assert not is_soft404_target("https://example.org/", "https://example.org/")
    assert not is_soft404_target("http://example.org/post/1", "https://example.org/post/1")
    assert not is_soft404_target("https://example.org/a", "https://example.org/authors/a")


def test_operator_patterns_file(tmp_path):
    good = tmp_path / "p.json"
    good.write_text(json.dumps({"example.org": ["Removed by order", "re:taken\\s+down"]}))
    patterns = RemovalPatterns.load(str(good))
    assert patterns.match("www.example.org", "<p>This was TAKEN  down</p>") == "re:taken\\s+down"
    assert patterns.match("example.org", "removed BY ORDER of") == "Removed by order"
    assert patterns.match("weibo.com", "该微博已被删除")  # the built-in ones stay
    for bad, message in [
        ("{not json", "is not valid JSON"),
        ('{"example.org": "one string"}', "must map host names to lists"),
        ('{"example.org": ["re:("]}', "is not a valid regular expression"),
    ]:
        good.write_text(bad)
        with pytest.raises(ArchiverError, match=message):
            RemovalPatterns.load(str(good))
    with pytest.raises(ArchiverError, match="cannot read removal patterns"):
        RemovalPatterns.load(str(tmp_path / "missing.json"))


# -- schedules -------------------------------------------------------------------------


def _seed(risk: str = "medium") -> Seed:
    return Seed(1, URL, (), "social", "page", None, "obey", risk, "", "", "", "", None)


def _schedule(every: str | None = "6h", rrule: str | None = None, ladder: str = "") -> Schedule:
    rungs = tuple(parse_duration(p) for p in ladder.split(",")) if ladder else ()
    return Schedule(1, 1, None, parse_duration(every) if every else None, rrule, rungs,
                    "2026-01-01T00:00:00.000Z")  # fmt: skip


def test_durations():
    assert parse_duration("10m") == 600
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2w") == 14 * 86400
    for bad in ("", "6", "six hours", "6x", "-1h", "1" * 30 + "w"):
        with pytest.raises(ArchiverError, match=r"is not a duration|more than ten years"):
            parse_duration(bad)
    with pytest.raises(ArchiverError, match="more than ten years"):
        parse_duration("999999999w")


def test_due_times():
    t0 = "2026-01-01T10:00:00.000Z"
    at = datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert due_for(_seed(), _schedule(), None, None).at.year == 1  # never captured: now
    assert due_for(_seed(), _schedule(), t0, t0).at == at + timedelta(hours=6)
    rrule = _schedule(None, "FREQ=HOURLY;INTERVAL=4")  # 00:00, 04:00, 08:00, 12:00 ...
    assert due_for(_seed(), rrule, t0, t0).at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    ladder = _schedule("1d", ladder="10m,1h,6h")
    high = _seed("high")
    assert due_for(high, ladder, t0, t0).at == at + timedelta(minutes=10)
    later = "2026-01-01T10:11:00.000Z"
    assert due_for(high, ladder, t0, later).at == at + timedelta(hours=1)
    climbed = "2026-01-01T16:05:00.000Z"
    assert due_for(high, ladder, t0, climbed).at == datetime(2026, 1, 2, 16, 5, tzinfo=UTC)
    assert due_for(_seed("medium"), ladder, t0, t0).at == at + timedelta(days=1)


# -- the crawl classifies and confirms -----------------------------------------------------


@pytest.fixture
def site():
    with MutableSite() as running:
        running.set(POST, Reply(body=page("Post 8841", "发出来几分钟就被删了 — the original text")))
        running.set("/", Reply(body=page("Home", "the platform's home page")))
        running.set("/login", Reply(body=page("Log in", "log in to see this")))
        yield running


def crawl(home, *extra):  # type: ignore[no-untyped-def]
    result = archiver(home, "crawl", "--profile", "test", "--seed", "1", *FAST, *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def timeline(home):  # type: ignore[no-untyped-def]
    shown = archiver(home, "seeds", "show", "1", "--json")
    assert shown.returncode == 0, shown.stderr
    return [(t["status"], t["confirmed"]) for t in json.loads(shown.stdout)["timeline"]]


def events(home, *args):  # type: ignore[no-untyped-def]
    listed = archiver(home, "events", "--json", *args)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def test_edit_delete_notice_and_login_wall_become_confirmed_events(tmp_path, site):
    home = tmp_path / "home"
    patterns = tmp_path / "patterns.json"
    patterns.write_text(json.dumps({"127.0.0.1": ["This post was removed by the platform"]}))
    env_patterns = ("-s", f"ARCHIVER_REMOVAL_PATTERNS={patterns}")
    assert archiver(home, "seeds", "add", site.url + POST[1:], "--scope", "page").returncode == 0
    crawl(home)
    crawl(home)
    site.set(POST, Reply(body=page("Post 8841", "edited: one sentence is gone")))
    crawl(home)
    assert timeline(home) == [("captured", True), ("unchanged", True), ("changed", True)]
    assert events(home) == []

    site.set(POST, Reply(404, page("Not Found", "no such post")))
    summary = crawl(home).stdout
    assert "seed status: 1 gone" in summary
    assert f"EVENT: seed 1 {site.url}{POST[1:]} is gone" in summary
    assert timeline(home)[-2:] == [("gone", True), ("gone", True)]  # seen, then confirmed
    [gone] = events(home)
    rows = {r["id"]: r for r in catalog_rows(home, "SELECT id, http_status, captured_at,"
                                             " payload_digest FROM captures")}  # fmt: skip
    assert gone["kind"] == "gone" and gone["url"] == site.url + POST[1:]
    assert rows[gone["last_present"]]["http_status"] == 200  # the edited version
    assert rows[gone["first_absent"]]["http_status"] == 404
    assert rows[gone["confirmed_by"]]["http_status"] == 404
    assert gone["first_absent"] != gone["confirmed_by"]
    assert gone["last_present_at"] < gone["first_absent_at"] <= gone["confirmed_at"]

    site.set(POST, Reply(body=page("Post", "This post was removed by the platform.")))
    crawl(home, *env_patterns)
    removed = events(home, "--kind", "removed")
    assert [e["previous"] for e in removed] == ["gone"]
    assert removed[0]["last_present"] == gone["last_present"]  # still the last real version

    site.set(POST, Reply(302, b"", headers=[("Location", "/login?next=/statuses/8841")]))
    crawl(home, *env_patterns)
    assert [e["kind"] for e in events(home)] == ["gone", "removed", "soft404"]
    assert [e["kind"] for e in events(home, "--kind", "soft404")] == ["soft404"]
    assert events(home, "--since", "2000-01-01", "--seed", "1")[0]["kind"] == "gone"

    shown = archiver(home, "seeds", "show", "1")
    assert "status timeline:" in shown.stdout and "soft404" in shown.stdout
    listed = archiver(home, "events")
    assert "last present:" in listed.stdout and "first absent:" in listed.stdout


def test_a_flap_is_not_an_event(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + POST[1:], "--scope", "page").returncode == 0
    crawl(home)
    original = page("Post 8841", "发出来几分钟就被删了 — the original text")
    site.set(POST, Reply(503, b"busy"), Reply(404, b"gone?"), Reply(body=original))
    crawl(home)  # 503: transient, no confirmation asked
    crawl(home)  # 404, then the confirming fetch finds it back
    assert timeline(home) == [
        ("captured", True), ("error", False), ("gone", False), ("unchanged", True),
    ]  # fmt: skip
    assert events(home) == []


def test_event_command_and_webhook(tmp_path, site):
    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path / "home"
    out = tmp_path / "event.json"
    hooks = (
        "-s",
        f"ARCHIVER_EVENT_COMMAND=sh -c 'cat > {out}'",
        "-s",
        f"ARCHIVER_EVENT_WEBHOOK=http://127.0.0.1:{server.server_address[1]}/hook",
    )
    try:
        assert archiver(home, "seeds", "add", site.url + POST[1:]).returncode == 0
        crawl(home, *hooks)
        site.set(POST, Reply(410, page("Gone", "deleted")))
        crawl(home, *hooks)
    finally:
        server.shutdown()
    event = json.loads(out.read_text())
    assert event["kind"] == "gone" and event["first_absent"] and event["last_present"]
    assert [json.loads(body)["id"] for body in received] == [event["id"]]


# -- schedules, run-due, watch -------------------------------------------------------------


def at(hours: float) -> dict[str, str]:
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return {"ARCHIVER_NOW": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}


def run(home, *args, env=None, timeout=120):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), *args],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, cwd=home.parent,
    )  # fmt: skip


def seed_captures(home) -> int:  # type: ignore[no-untyped-def]
    return len(catalog_rows(home, "SELECT id FROM captures WHERE kind = 'seed'"))


def test_run_due_captures_what_is_due_once(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + POST[1:], "--tag", "weibo").returncode == 0
    assert archiver(home, "seeds", "add", site.url, "--tag", "news").returncode == 0
    made = run(home, "schedule", "set", "--tag", "weibo", "--every", "6h")
    assert made.returncode == 0 and "tag weibo, every 6h" in made.stdout
    listed = run(home, "schedule", "list")
    assert "DUE" in listed.stdout and "never captured" in listed.stdout
    first = run(home, "run-due", "--profile", "test", *FAST)
    assert first.returncode == 0, first.stderr
    assert seed_captures(home) == 1  # only the scheduled seed
    again = run(home, "run-due", "--profile", "test", *FAST)
    assert again.returncode == 0 and again.stdout.startswith("nothing due; next: seed 1")
    assert seed_captures(home) == 1
    assert run(home, "run-due", "--profile", "test", env=at(5)).stdout.startswith("nothing due")
    later = run(home, "run-due", "--profile", "test", *FAST, env=at(7))
    assert later.returncode == 0, later.stderr
    assert seed_captures(home) == 2
    as_json = json.loads(run(home, "schedule", "list", "--json").stdout)
    assert as_json["seeds"][0]["seed_id"] == 1 and as_json["seeds"][0]["due_now"] is False
    assert run(home, "schedule", "remove", "--tag", "weibo").returncode == 0
    assert "no schedules" in run(home, "schedule", "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seed", "1"), "choose how often"),
        (("--every", "6h"), "choose what to schedule"),
        (("--seed", "1", "--every", "30s"), "less than a minute"),
        (("--seed", "1", "--every", "soon"), "is not a duration"),
        (("--seed", "1", "--rrule", "FREQ=SOMETIMES"), "is not an RRULE"),
        (("--seed", "1", "--every", "1d", "--ladder", "1h,10m"), "rungs must grow"),
        (("--seed", "9", "--every", "1d"), "no seed with id '9'"),
        (("--tag", "nobody", "--every", "1d"), "no active seed has the tag"),
    ],
)
def test_bad_schedules_get_clear_errors(tmp_path, args, message):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", "https://example.org/").returncode == 0
    result = archiver(home, "schedule", "set", *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_overlapping_runs_never_capture_a_seed_twice(tmp_path, site):
    home = tmp_path / "home"
    slow = Reply(body=page("Slow", "x" * 2000))
    for n in range(3):
        site.set(f"/slow/{n}", slow)
        assert archiver(home, "seeds", "add", f"{site.url}slow/{n}", "--tag", "t").returncode == 0
    assert run(home, "schedule", "set", "--tag", "t", "--every", "1h").returncode == 0
    delay = ("-s", "DOWNLOAD_DELAY=1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    command = [sys.executable, "-m", "archiver", "--home", str(home), "run-due", "--profile",
               "test", *FAST, *delay]  # fmt: skip
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=120) for p in runs]
    assert all(p.returncode == 0 for p in runs), outputs
    assert seed_captures(home) == 3, outputs


def start_watch(home, **popen):  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", "--home", str(home), "watch", "--profile", "test",
         *FAST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )  # fmt: skip


def wait_until(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)


def job_statuses(home) -> list[str]:  # type: ignore[no-untyped-def]
    return [j["status"] for j in catalog_rows(home, "SELECT status FROM jobs")]


def test_watch_captures_then_stops_cleanly_on_sigterm(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + POST[1:]).returncode == 0
    assert run(home, "schedule", "set", "--seed", "1", "--every", "1h").returncode == 0
    watcher = start_watch(home)
    wait_until(lambda: (home / "catalog.sqlite").exists() and seed_captures(home) > 0)
    assert seed_captures(home) == 1
    # asleep until the next due time once its run has finished
    wait_until(lambda: job_statuses(home) == ["finished"])
    watcher.send_signal(signal.SIGTERM)
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    assert "watch stopped" in err
    assert not list(home.rglob("*.open"))
    assert all(w.stat().st_size > 0 for w in warc_files(home))


def test_sigterm_during_a_capture_finishes_it_and_exits(tmp_path, site):
    home = tmp_path / "home"
    site.set("/slow-post", Reply(body=page("Slow", "slow to answer"), delay=4))
    assert archiver(home, "seeds", "add", site.url + "slow-post").returncode == 0
    assert run(home, "schedule", "set", "--seed", "1", "--every", "1h").returncode == 0
    watcher = start_watch(home)
    wait_until(lambda: any(p == "/slow-post" for p, _ in site.requests))
    watcher.send_signal(signal.SIGTERM)  # the page is still on its way
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "watch stopped" in err
    assert not list(home.rglob("*.open"))  # the WARC file was closed
    jobs = catalog_rows(home, "SELECT status FROM jobs")
    assert [j["status"] for j in jobs] in (["stopped"], ["finished"])


def test_processes_starting_together_on_a_new_home_all_work(tmp_path):
    """Several processes may start at once on a home nobody has opened yet (a script
    adding seeds in parallel): each of them creates it, none trips on another."""
    home = tmp_path / "home"
    command = [sys.executable, "-m", "archiver", "--home", str(home), "seeds", "add"]
    runs = [subprocess.Popen([*command, f"https://example.org/{n}"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for n in range(6)]  # fmt: skip
    outputs = [p.communicate(timeout=60) for p in runs]
    assert [p.returncode for p in runs] == [0] * 6, outputs
    assert all(out.startswith("added ") for out, _ in outputs)
    listed = run(home, "schedule", "list")
    assert (listed.returncode, listed.stdout) == (
        0,
        "no schedules (add one with 'archiver schedule set')\n",
    )


def test_absent_then_absent_otherwise_is_still_an_event(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + POST[1:], "--scope", "page").returncode == 0
    crawl(home)
    site.set(POST, Reply(404, b"not found"), Reply(403, b"forbidden"))
    crawl(home)
    assert [e["kind"] for e in events(home)] == ["gone"]
    assert timeline(home)[-2:] == [("gone", True), ("blocked", True)]


def test_a_reset_mid_body_is_blocked(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + POST[1:], "--scope", "page").returncode == 0
    crawl(home)
    site.set(POST, Reply(body=page("Post 8841", "x" * 5000), cut=100))
    result = archiver(home, "crawl", "--profile", "test", "--seed", "1", *FAST)
    assert result.returncode == 0, result.stderr
    [event] = events(home)
    assert event["kind"] == "blocked" and "mid-body" in event["reason"]


def test_a_seed_redirecting_to_a_page_already_fetched_is_judged(tmp_path, site):
    home = tmp_path / "home"
    site.set("/", Reply(body=page("Home", "front", "<a href='/b/'>b</a>")))
    site.set("/b/", Reply(body=page("B", "the post")))
    site.set("/b", Reply(301, b"", headers=[("Location", "/b/")]))
    assert archiver(home, "seeds", "add", site.url, "--scope", "host").returncode == 0
    assert archiver(home, "seeds", "add", site.url + "b", "--scope", "page").returncode == 0
    for _ in range(2):
        result = archiver(home, "crawl", "--profile", "test", *FAST)
        assert result.returncode == 0, result.stderr
    shown = json.loads(archiver(home, "seeds", "show", "2", "--json").stdout)
    assert [t["status"] for t in shown["timeline"]] == ["captured", "unchanged"]


def test_an_unconfirmed_change_makes_the_seed_due_again(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + POST[1:]).returncode == 0
    assert run(home, "schedule", "set", "--seed", "1", "--every", "1d").returncode == 0
    assert run(home, "run-due", "--profile", "test", *FAST).returncode == 0
    site.set(POST, Reply(404, b"gone?"), Reply(503, b"busy"))  # the confirmation fails
    assert run(home, "run-due", "--profile", "test", *FAST, env=at(25)).returncode == 0
    listed = run(home, "schedule", "list", env=at(25))
    assert "DUE" in listed.stdout and "waits to be confirmed" in listed.stdout, listed.stdout
    site.set(POST, Reply(404, b"gone"))
    assert run(home, "run-due", "--profile", "test", *FAST, env=at(25)).returncode == 0
    assert [e["kind"] for e in events(home)] == ["gone"]


def test_ctrl_c_in_a_terminal_stops_watch_cleanly(tmp_path, site):
    """The terminal sends SIGINT to the whole foreground group: the capture in hand still
    gets exactly one SIGTERM and closes its files."""
    home = tmp_path / "home"
    site.set("/slow-post", Reply(body=page("Slow", "slow to answer"), delay=4))
    assert archiver(home, "seeds", "add", site.url + "slow-post").returncode == 0
    assert run(home, "schedule", "set", "--seed", "1", "--every", "1h").returncode == 0
    watcher = start_watch(home, start_new_session=True)
    wait_until(lambda: any(p == "/slow-post" for p, _ in site.requests))
    os.killpg(watcher.pid, signal.SIGINT)  # as Ctrl-C does
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "forcing unclean shutdown" not in err
    assert not list(home.rglob("*.open"))
    assert [j["status"] for j in catalog_rows(home, "SELECT status FROM jobs")] != ["running"]


def test_watch_refuses_bad_options_at_once(tmp_path):
    result = run(tmp_path / "home", "watch", "-s", "ARCHIVER_NO_SUCH=1", timeout=30)
    assert result.returncode == 1 and "unknown setting ARCHIVER_NO_SUCH" in result.stderr
