"""Date lookup and Memento TimeMaps over a catalog with captures at known times."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from archiver.catalog import open_catalog
from archiver.catalog.captures import CaptureRow, insert_captures
from archiver.catalog.jobs import create_job
from archiver.errors import ArchiverError
from archiver.home import ArchiveHome
from archiver.research.dates import parse_when
from archiver.research.timetravel import describe_distance, lookup, mementos, timemap_link

URL = "https://example.org/post/1"
TIMES = ["2020-02-12T06:00:00.000Z", "2020-02-12T09:12:00.000Z", "2020-02-13T00:00:00.500Z"]


@pytest.fixture
def catalog(tmp_path):
    catalog = open_catalog(ArchiveHome(tmp_path).catalog_location)  # SQLite, or PostgreSQL
    job = create_job(catalog, "j", {}, [])
    rows = [
        CaptureRow(url=URL, final_url=URL, surt="org,example)/post/1", seed_id=None,
                   job_id=job.id, kind="seed", hops=0, via=None, captured_at=t, state="ok",
                   software="archiver/test", http_status=200, payload_digest=f"sha256:{i}")
        for i, t in enumerate(TIMES)
    ] + [
        CaptureRow(url=URL, final_url=None, surt="org,example)/post/1", seed_id=None,
                   job_id=job.id, kind="seed", hops=0, via=None,
                   captured_at="2020-02-12T08:00:00.000Z", state="failed",
                   software="archiver/test", error="dns: x")
    ]  # fmt: skip
    with catalog.transaction() as conn:
        insert_captures(conn, rows)
    return catalog


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2020-02-12", "2020-02-12T00:00:00+00:00"),
        ("12 Feb 2020 14:00 +0800", "2020-02-12T06:00:00+00:00"),
        ("2020-02-12T06:00Z", "2020-02-12T06:00:00+00:00"),
        ("Wed, 12 Feb 2020 06:00:00 GMT", "2020-02-12T06:00:00+00:00"),
        ("2020-02-11T22:00:00-08:00", "2020-02-12T06:00:00+00:00"),
        ("February 12, 2020 3:00 PM +0900", "2020-02-12T06:00:00+00:00"),
        ("2020-02-12 14:00 Asia/Shanghai", "2020-02-12T06:00:00+00:00"),
        ("2020-07-01 02:00 America/New_York", "2020-07-01T06:00:00+00:00"),  # EDT, UTC-4
        ("2020-02-12 01:00 America/New_York", "2020-02-12T06:00:00+00:00"),  # EST, UTC-5
        ("20200212060000", "2020-02-12T06:00:00+00:00"),
        ("202002", "2020-02-01T00:00:00+00:00"),
        ("2020", "2020-01-01T00:00:00+00:00"),
        ("2020年2月12日", "2020-02-12T00:00:00+00:00"),
        ("２０２０年２月１２日 下午2点 北京时间", "2020-02-12T06:00:00+00:00"),
        ("2020年2月12日 14:00 Asia/Shanghai", "2020-02-12T06:00:00+00:00"),
        ("Feb 2020", "2020-02-01T00:00:00+00:00"),
        ("13/02/2020", "2020-02-13T00:00:00+00:00"),  # only one reading: 13 is no month
        ("12/12/2020", "2020-12-12T00:00:00+00:00"),
    ],
)
def test_dates_as_people_type_them(typed, expected):
    assert parse_when(typed).isoformat() == expected


@pytest.mark.parametrize(
    ("typed", "end"),
    [
        ("2020-02-12", "2020-02-12T23:59:59.999000+00:00"),
        ("Feb 2020", "2020-02-29T23:59:59.999000+00:00"),
        ("202002", "2020-02-29T23:59:59.999000+00:00"),
        ("2020", "2020-12-31T23:59:59.999000+00:00"),
        ("2020-02-12 14:00 +0800", "2020-02-12T06:00:59.999000+00:00"),
        ("2020-02-12 Asia/Shanghai", "2020-02-12T15:59:59.999000+00:00"),
    ],
)
def test_an_end_takes_in_the_whole_period_named(typed, end):
    assert parse_when(typed, end=True).isoformat() == end


def test_now_is_now():
    before = datetime.now(UTC)
    assert before <= parse_when("now") <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("03/04/2026", "the date '03/04/2026' is ambiguous (day or month first?): write it as"
         " 2026-04-03 (3 April) or 2026-03-04 (March 4)"),
        ("03.04.2026 10:00", "the date '03.04.2026 10:00' is ambiguous (day or month first?)"),
        ("03/04/26", "the date '03/04/26' is ambiguous (which part is the year?)"),
        ("2020-02-12 14:00 CST", "the time zone in '2020-02-12 14:00 CST' is unknown or"
         " ambiguous"),
        ("2020-02-12 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("2020-02-12 10:00 +0100 Europe/Paris",
         "'2020-02-12 10:00 +0100 Europe/Paris' gives two time zones: keep one"),
        ("20201345", "cannot read the date '20201345': as a timestamp (YYYYMMDDhhmmss) it names"
         " no real time"),
    ],
)  # fmt: skip
def test_what_would_have_to_be_guessed_is_refused(typed, message):
    with pytest.raises(ArchiverError) as caught:
        parse_when(typed)
    assert str(caught.value).startswith(message)


def test_an_unreadable_date_is_a_clear_error():
    with pytest.raises(ArchiverError, match="cannot read the date 'next tuesday-ish'"):
        parse_when("next tuesday-ish")
    with pytest.raises(ArchiverError, match="unknown or ambiguous: write an offset instead"):
        parse_when("February 12, 2020 3:00 PM JST")  # never silently read as UTC


def test_distance_is_said_plainly():
    assert describe_distance(-(3 * 3600 + 12 * 60)) == "3 h 12 min before the requested time"
    assert describe_distance(90061) == "1 d 1 h 1 min after the requested time"
    assert describe_distance(42) == "42 s after the requested time"
    assert describe_distance(0.2) == "at the requested time"


def test_lookup_modes(catalog):
    at = parse_when("12 Feb 2020 16:00 +0800")  # 08:00 UTC; the failed fetch at 08:00 is ignored
    closest = lookup(catalog, URL, at)
    assert closest.capture.captured_at == TIMES[1] and closest.seconds == 72 * 60
    before = lookup(catalog, URL, at, "before")
    assert before.capture.captured_at == TIMES[0]
    assert before.distance() == "2 h before the requested time"
    after = lookup(catalog, URL, at, "after")
    assert after.capture.captured_at == TIMES[1]
    assert lookup(catalog, URL, parse_when("2019-01-01"), "before") is None
    assert lookup(catalog, "https://example.org/other", at) is None


def parse_link_format(text: str) -> list[tuple[str, dict[str, str]]]:
    """A small RFC 6690 parser: enough to read a TimeMap back."""
    entries = []
    for entry in re.split(r",\n", text.strip()):
        uri, _, params = entry.partition(">")
        attrs = dict(re.findall(r';\s*([\w-]+)="([^"]*)"', params))
        entries.append((uri.lstrip("<"), attrs))
    return entries


def test_timemap_in_link_format(catalog):
    text = timemap_link(URL, mementos(catalog, URL), "http://replay.example/archive")
    entries = parse_link_format(text)
    assert entries[0] == (URL, {"rel": "original"})
    assert entries[1][0] == f"http://replay.example/archive/timemap/link/{URL}"
    assert entries[1][1]["rel"] == "self" and entries[1][1]["type"] == "application/link-format"
    assert entries[1][1]["from"] == "Wed, 12 Feb 2020 06:00:00 GMT"
    assert entries[1][1]["until"] == "Thu, 13 Feb 2020 00:00:00 GMT"
    mementos_ = entries[2:]
    assert [m[1]["rel"] for m in mementos_] == ["first memento", "memento", "last memento"]
    assert [m[0] for m in mementos_] == [
        f"http://replay.example/archive/20200212060000/{URL}",
        f"http://replay.example/archive/20200212091200/{URL}",
        f"http://replay.example/archive/20200213000000/{URL}",
    ]
    assert mementos_[1][1]["datetime"] == "Wed, 12 Feb 2020 09:12:00 GMT"
    assert all(datetime.strptime(m[1]["datetime"], "%a, %d %b %Y %H:%M:%S GMT") for m in mementos_)
    assert datetime(2020, 2, 12, tzinfo=UTC)


def test_cli_lookup_and_timemap(catalog, tmp_path):
    run = {"cwd": tmp_path, "capture_output": True, "text": True}
    base = [sys.executable, "-m", "archiver", "--home", str(tmp_path)]
    found = subprocess.run([*base, "lookup", URL, "--at", "2020-02-12T08:00Z", "--before"], **run)
    assert found.returncode == 0, found.stderr
    assert "captured 2 h before the requested time" in found.stdout
    none = subprocess.run([*base, "lookup", URL, "--at", "2019-01-01", "--before"], **run)
    assert none.returncode == 1
    assert none.stderr.strip() == (
        f"Error: no capture of {URL} before that time (list them with 'archiver captures --url')"
    )
    bad = subprocess.run([*base, "lookup", URL, "--at", "someday"], **run)
    assert bad.returncode == 1 and bad.stderr.startswith("Error: cannot read the date 'someday'")
    tm = subprocess.run([*base, "timemap", URL, "--replay-base", "http://replay.example"], **run)
    assert tm.returncode == 0 and tm.stdout.startswith(f'<{URL}>; rel="original",')
    assert 'rel="last memento"' in tm.stdout
