"""The researcher commands as typed: ``captures`` filters, ``cite`` without and with a
replay base, ``lookup`` and ``timemap``, and one JSON vocabulary across them, over a
catalog whose captures were made at known times."""

from __future__ import annotations

import json

import pytest
from clihelp import ok, run_cli

from archiver.catalog import open_catalog
from archiver.catalog.captures import CaptureRow, insert_captures
from archiver.catalog.jobs import create_job
from archiver.catalog.seeds import add_seeds
from archiver.catalog.statuses import insert_status
from archiver.home import ArchiveHome
from archiver.seedspec import SeedSpec

POST = "https://example.org/post/1"
MISSING = "https://example.org/post/2"
IDN = "https://xn--fiqs8s.example/%E6%96%B0%E9%97%BB/1"
OTHER = "https://other.example/x"
SHA = "sha256:" + "ab" * 32


def row(url, at, job_id, status=200, state="ok", title=None, seed_id=None):  # type: ignore[no-untyped-def]
    from archiver.urls import surt_key

    return CaptureRow(
        url=url, final_url=url if state == "ok" else None, surt=surt_key(url), seed_id=seed_id,
        job_id=job_id, kind="seed", hops=0, via=None, captured_at=at, state=state,
        software="archiver/test", http_status=status if state == "ok" else None,
        payload_digest=SHA if state == "ok" else None, title=title,
        error=None if state == "ok" else "dns: no such host",
        record_digest="sha256:" + "cd" * 32 if state == "ok" else None,
        warc_offset=100 if state == "ok" else None, warc_length=50 if state == "ok" else None,
    )  # fmt: skip


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def ids(home):
    """Captures made at known times in ``home``, by name."""
    catalog = open_catalog(ArchiveHome(home).ensure().catalog_location)  # SQLite, or PostgreSQL
    [added] = add_seeds(catalog, [SeedSpec(url=POST)])
    seed = added.seed.id
    j = create_job(catalog, "j", {"settings": {"ARCHIVER_OPERATOR": ""}}, [seed]).id
    k = create_job(catalog, "k", {"settings": {"ARCHIVER_OPERATOR": "ops@example.org"}}, []).id
    rows = {
        "first": row(POST, "2020-02-12T06:00:00.000Z", j, title="Post", seed_id=seed),
        "failed": row(POST, "2020-02-12T08:00:00.000Z", j, state="failed", seed_id=seed),
        "second": row(POST, "2020-02-12T09:12:00.000Z", j, title="Post", seed_id=seed),
        "third": row(POST, "2020-02-13T00:00:00.500Z", j, title="Post", seed_id=seed),
        "missing": row(MISSING, "2020-03-01T23:59:59.999Z", j, status=404),
        "idn": row(IDN, "2020-03-02T10:00:00.000Z", j, title="新闻"),
        "other": row(OTHER, "2020-04-01T00:00:00.000Z", k, title="Other"),
    }
    with catalog.transaction() as conn:
        ids = dict(zip(rows, insert_captures(conn, list(rows.values())), strict=True))
        insert_status(conn, seed, ids["third"], "removed", "removal notice: gone", True)
    catalog.close()
    return ids


def listed(home, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The capture ids ``archiver captures ARGS --json`` lists."""
    return [
        r["capture_id"] for r in json.loads(ok(run_cli(home, "captures", *args, "--json")).stdout)
    ]


def test_captures_filters(home, ids):
    posts = ["first", "failed", "second", "third", "missing"]
    assert listed(home, "--prefix", "https://example.org/post/") == [ids[n] for n in posts]
    assert listed(home, "--prefix", "http://EXAMPLE.org/po") == [ids[n] for n in posts]
    assert listed(home, "--status", "200", "--job", "j") == [
        ids[n] for n in ("first", "second", "third", "idn")
    ]
    assert listed(home, "--status", "4xx") == [ids["missing"]]
    assert listed(home, "--status", "404,200", "--prefix", "https://example.org/post/2") == [
        ids["missing"]
    ]
    # --to a day alone takes in the whole day, to its last millisecond.
    assert listed(home, "--from", "2020-02-13", "--to", "2020-03-01") == [
        ids["third"], ids["missing"]
    ]  # fmt: skip
    assert listed(home, "--from", "2020-02-12 17:00 Asia/Shanghai", "--to", "20200212091200") == [
        ids["second"]
    ]
    assert listed(home, "--limit", "2") == [ids["first"], ids["failed"]]
    assert listed(home, "--job", "k") == [ids["other"]]


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--job", "nosuch"], 1, "Error: no job named 'nosuch'"),
        (["--status", "abc"], 2, "Error: Invalid value for '--status': 'abc' is not an HTTP"
         " status: write a code (404), a class (4xx), or several (404,410)"),
        (["--from", "2020-03-01", "--to", "2020-02-01"], 1,
         "Error: --from '2020-03-01' is after --to '2020-02-01': swap them"),
        (["--from", "03/04/2020"], 1, "Error: the date '03/04/2020' is ambiguous (day or month"
         " first?): write it as 2020-04-03 (3 April) or 2020-03-04 (March 4)"),
        (["--limit", "0"], 2, "Error: Invalid value for '--limit': 0 is not in the range x>=1."),
    ],
)  # fmt: skip
def test_captures_refuses_bad_filters(home, ids, args, code, error):
    result = run_cli(home, "captures", *args)
    assert result.returncode == code, result.stderr
    assert result.stderr.strip().splitlines()[-1] == error
    assert result.stdout == ""


def test_captures_lists_iris(home, ids):
    out = ok(run_cli(home, "captures", "--prefix", "https://中国.example/")).stdout
    shown = [ids["idn"], "2020-03-02T10:00:00.000Z", "200", "0", "https://中国.example/新闻/1"]
    assert out.split() == shown
    ok(run_cli(home, "seeds", "add", "https://中国.example/新闻/1"))
    assert "   2  https://中国.example/新闻/1\n" in ok(run_cli(home, "seeds", "list")).stdout
    [seed] = [s for s in json.loads(ok(run_cli(home, "seeds", "list", "--json")).stdout)
              if s["seed_id"] == 2]  # fmt: skip
    assert seed["url"] == IDN  # machine output keeps the URI


def test_cite_without_a_replay_base_names_the_archive_and_warns_once(home, ids):
    result = ok(run_cli(home, "cite", ids["first"], ids["second"], "--format", "apa"))
    assert result.stderr.splitlines() == [
        "warning: no replay base is set (--replay-base, ARCHIVER_REPLAY_BASE, or once for this"
        " home: 'archiver config set replay_base URL'): citations name the archive (home) and"
        " the capture id instead of a replay URL"
    ]
    first, second = result.stdout.strip().split("\n\n")
    assert first == (
        "Post. (n.d.). example.org. Retrieved February 12, 2020, from"
        " https://example.org/post/1. Archived 2020-02-12 06:00:00.000 UTC in home"
        f" (capture {ids['first']}, SHA-256 {'ab' * 32})."
    )
    assert "file:" not in result.stdout
    named = ok(run_cli(home, "cite", ids["first"], "--format", "bluebook",
                       env={"ARCHIVER_ARCHIVE_NAME": "NCHRD Evidence Archive"}))  # fmt: skip
    assert " [NCHRD Evidence Archive] (capture " in named.stdout
    assert "(NCHRD Evidence Archive)" in named.stderr
    operator = ok(run_cli(home, "cite", ids["other"], "--format", "csl-json"))
    [item] = json.loads(operator.stdout)
    assert item["archive"] == "ops@example.org" and item["archive_location"] == ids["other"]


def test_a_replay_base_is_used_everywhere(home, ids):
    env = {"ARCHIVER_REPLAY_BASE": "https://replay.example/archive/"}
    replay = f"https://replay.example/archive/20200212091200/{POST}"
    cited = ok(run_cli(home, "cite", ids["second"], "--format", "chicago", env=env))
    assert cited.stderr == "" and f"Archived copy: {replay} (capture" in cited.stdout
    found = ok(run_cli(home, "lookup", POST, "--at", "2020-02-12T09:12Z", env=env))
    assert found.stdout.splitlines()[-1] == f"replay: {replay}"
    timemap = ok(run_cli(home, "timemap", POST, env=env))
    assert timemap.stderr == "" and f'<{replay}>; rel="memento"' in timemap.stdout
    given = ok(run_cli(home, "cite", ids["second"], "--format", "robust-link",
                       "--replay-base", "https://other.example/wb", env=env))  # fmt: skip
    assert 'data-versionurl="https://other.example/wb/20200212091200/' in given.stdout
    ok(run_cli(home, "config", "set", "replay_base", "https://wb.example/a"))
    configured = ok(run_cli(home, "timemap", POST))
    assert f'<https://wb.example/a/20200212091200/{POST}>; rel="' in configured.stdout


def test_a_timemap_without_a_replay_base_is_refused(home, ids):
    """A TimeMap is for Memento clients, which follow its memento URLs: with no replay
    service there are none to give (cite, for readers, names the capture id instead)."""
    for fmt in ("link", "json"):
        refused = run_cli(home, "timemap", POST, "--format", fmt)
        assert (refused.returncode, refused.stdout) == (1, "")
        assert refused.stderr == (
            "Error: no replay base is set, so a TimeMap has no memento URLs to give: set one"
            " once for this home with 'archiver config set replay_base URL' (or give"
            " --replay-base URL, or ARCHIVER_REPLAY_BASE); offline, 'archiver captures --url"
            f" {POST}' lists the captures, and 'archiver get ID' writes one's WARC records\n"
        )


def test_what_a_capture_shows_is_cited(home, ids):
    gone = ok(run_cli(home, "cite", ids["missing"], "--format", "apa")).stdout
    assert gone.startswith("[Captured as HTTP 404]. (n.d.). example.org. Retrieved March 1, 2020")
    removed = ok(run_cli(home, "cite", ids["third"], "--format", "apa")).stdout
    assert removed.startswith("Post [Captured as a removal notice]. (n.d.). example.org.")
    text = ok(run_cli(home, "cite", ids["idn"])).stdout
    assert text.startswith("“新闻”. https://中国.example/新闻/1. Archived 2020-03-02 10:00:00.000")
    [item] = json.loads(ok(run_cli(home, "cite", ids["idn"], "--format", "csl-json")).stdout)
    assert item["URL"] == IDN and item["container-title"] == "中国.example"


def test_one_json_vocabulary(home, ids):
    cid = ids["second"]
    [listed_row] = [
        r
        for r in json.loads(ok(run_cli(home, "captures", "--json")).stdout)
        if r["capture_id"] == cid
    ]
    [cited] = json.loads(ok(run_cli(home, "cite", cid, "--json")).stdout)
    found = json.loads(
        ok(run_cli(home, "lookup", POST, "--at", "2020-02-12T09:00Z", "--json")).stdout
    )
    timemap = json.loads(
        ok(
            run_cli(home, "timemap", POST, "--format", "json", "--replay-base", "https://r.example")
        ).stdout
    )
    [memento] = [m for m in timemap["mementos"]["list"] if m["capture_id"] == cid]
    for record in (listed_row, cited, found):
        assert record["capture_id"] == cid
        assert record["captured_at"] == "2020-02-12T09:12:00.000Z"
        assert record["payload_digest"] == SHA
        assert record["url"] == POST and record["job"] == "j"
        assert "sha256" not in record
    assert listed_row["id"] == cid  # the deprecated name, kept for scripts written against it
    assert memento["payload_digest"] == SHA
    assert found["requested"] == "2020-02-12T09:00:00.000Z" and found["offset_seconds"] == 720
    assert found["replay_url"] is None


@pytest.mark.parametrize(
    ("at", "mode", "which", "said"),
    [
        ("2020-02-12 16:00 Asia/Shanghai", "--before", "first", "2 h before the requested time"),
        ("2020-02-12 16:00 Asia/Shanghai", "--closest", "second",
         "1 h 12 min after the requested time"),
        ("20200212091200", "--after", "second", "at the requested time"),
        ("2020年2月12日 下午5点 北京时间", "--after", "second", "12 min after the requested time"),
        ("2020年2月13日", "--closest", "third", "under a second after the requested time"),
        ("now", "--before", "idn", None),
    ],
)  # fmt: skip
def test_lookup_reads_dates_as_people_type_them(home, ids, at, mode, which, said):
    url = IDN if which == "idn" else POST
    result = ok(run_cli(home, "lookup", url, "--at", at, mode))
    first, second = result.stdout.splitlines()[:2]
    assert first.startswith(ids[which] + "  ")
    if said:
        assert second.startswith(f"captured {said} (")


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--at", "03/04/2026"], 1, "Error: the date '03/04/2026' is ambiguous (day or month"
         " first?): write it as 2026-04-03 (3 April) or 2026-03-04 (March 4)"),
        (["--at", "12 Feb 2020 14:00 CST"], 1, "Error: the time zone in '12 Feb 2020 14:00 CST'"
         " is unknown or ambiguous: write an offset instead, e.g. '12 Feb 2020 14:00 +0800',"
         " or a zone name such as Asia/Shanghai"),
        (["--at", "2020-02-12 Asia/Shangai"], 1, "Error: unknown time zone 'Asia/Shangai' in"
         " '2020-02-12 Asia/Shangai': write an IANA name such as Asia/Shanghai or"
         " Europe/Berlin, or an offset such as +0800"),
        (["--at", "2020-02-12", "--before", "--after"], 2,
         "Error: --before and --after cannot be used together: choose one"),
        (["--at", "2020-02-12", "--closest", "--after"], 2,
         "Error: --closest and --after cannot be used together: choose one"),
    ],
)  # fmt: skip
def test_lookup_refuses_what_it_would_have_to_guess(home, ids, args, code, error):
    result = run_cli(home, "lookup", POST, *args)
    assert result.returncode == code, result.stderr
    assert result.stderr.strip().splitlines()[-1] == error
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_every_listing_names_its_records_the_same_way(home, ids):
    """A record's own id is ``<kind>_id`` (``id`` stays as a deprecated copy); seeds,
    captures and jobs are ``seed_id``, ``capture_id`` and ``job`` wherever they appear."""
    from archiver.catalog.statuses import PresentCapture, insert_event
    from archiver.catalog.workers import register

    catalog = open_catalog(ArchiveHome(home).catalog_location)
    with catalog.transaction() as conn:
        insert_event(conn, seed_id=1, url=POST, kind="removed", reason="removal notice",
                     previous="present",
                     last_present=PresentCapture(ids["second"], "2020-02-12T09:12:00.000Z"),
                     first_absent=ids["third"], first_absent_at="2020-02-13T00:00:00.500Z",
                     confirmed_by=ids["third"])  # fmt: skip
    register(catalog, "vm-1-abcd", "vm", 1, "j")
    catalog.close()
    ok(run_cli(home, "schedule", "set", "--seed", "1", "--every", "6h"))

    [seed] = json.loads(ok(run_cli(home, "seeds", "list", "--json")).stdout)
    assert seed["seed_id"] == seed["id"] == 1 and seed["url"] == POST
    shown = json.loads(ok(run_cli(home, "seeds", "show", "1", "--json")).stdout)
    assert shown["seed_id"] == 1
    assert shown["timeline"][0]["capture_id"] == ids["third"]
    assert shown["timeline"][0]["captured_at"] == "2020-02-13T00:00:00.500Z"
    [event] = json.loads(ok(run_cli(home, "events", "--json")).stdout)
    assert event["event_id"] == event["id"] and event["seed_id"] == 1 and event["url"] == POST
    assert (event["last_present"], event["last_present_at"]) == (
        ids["second"],
        "2020-02-12T09:12:00.000Z",
    )
    schedules = json.loads(ok(run_cli(home, "schedule", "list", "--json")).stdout)
    [schedule] = schedules["schedules"]
    assert schedule["schedule_id"] == schedule["id"] and schedule["seed_id"] == 1
    [due] = schedules["seeds"]
    assert due["seed_id"] == 1 and due["schedule_id"] == schedule["schedule_id"]
    [worker] = json.loads(ok(run_cli(home, "workers", "--json")).stdout)
    assert worker["worker_id"] == worker["id"] == "vm-1-abcd" and worker["job"] == "j"
