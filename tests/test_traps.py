"""Trap guards, include/exclude scoping and their settings, each on its own (no crawl)."""

from __future__ import annotations

import pytest

from archiver.crawl.config import CrawlConfig, TrapLimits, validate_overrides
from archiver.errors import ArchiverError
from archiver.spiders.scope import Scope
from archiver.spiders.traps import LinkGate, longest_repeat, path_segments

H = "https://example.org"


@pytest.mark.parametrize(
    ("path", "segments", "repeat"),
    [
        ("", [], 0),
        ("/", [], 0),
        ("/a/b", ["a", "b"], 1),
        ("/a/b/", ["a", "b"], 1),
        ("/a/a/b", ["a", "a", "b"], 2),
        ("/x/a/a/a/", ["x", "a", "a", "a"], 3),
        ("/a/b/a/b/a/b/", ["a", "b"] * 3, 3),  # a run of two segments, three times
        ("/2026/11/2026/12/", ["2026", "11", "2026", "12"], 1),  # not in a row
    ],
)
def test_segments_and_repeats(path, segments, repeat):
    assert path_segments(path) == segments
    assert longest_repeat(segments) == repeat


def test_path_segments_guard():
    gate = LinkGate(TrapLimits(path_segments=3))
    assert gate.check(H + "/a/b/c/?q=1") is None
    assert gate.check(H + "/a/b/c/d") == ("path-segments", "ARCHIVER_MAX_PATH_SEGMENTS=3")
    assert (
        LinkGate(TrapLimits(path_segments=0)).check(H + "".join(f"/{n}" for n in range(50))) is None
    )


def test_segment_repeats_guard_default_allows_two_in_a_row():
    gate = LinkGate(TrapLimits())
    assert gate.check(H + "/loop/loop/page") is None
    assert gate.check(H + "/loop/loop/loop/page") == (
        "segment-repeats", "ARCHIVER_MAX_SEGMENT_REPEATS=2",
    )  # fmt: skip
    assert gate.check(H + "/a/b/a/b/a/b/")[0] == "segment-repeats"
    assert LinkGate(TrapLimits(segment_repeats=0)).check(H + "/a/a/a/a/") is None


def test_host_pages_guard_counts_admitted_pages_per_host():
    gate = LinkGate(TrapLimits(host_pages=2))
    for url in (H + "/1", "https://EXAMPLE.org/2"):
        assert gate.check(url) is None
        gate.admit(url)
    assert gate.check(H + "/3") == ("host-pages", "ARCHIVER_MAX_PAGES_PER_HOST=2")
    assert gate.check("https://other.example.org/3") is None  # another host


def test_query_variants_guard_per_scheme_host_and_path():
    gate = LinkGate(TrapLimits(query_variants=2))
    gate.admit(H + "/calendar?date=1")
    gate.admit(H + "/calendar?date=2")
    gate.admit(H + "/calendar")  # no query: not a variant
    assert gate.check(H + "/calendar?date=3") == (
        "query-variants", "ARCHIVER_MAX_QUERY_VARIANTS=2",
    )  # fmt: skip
    assert gate.check(H + "/calendar") is None
    assert gate.check("http://example.org/calendar?date=3") is None  # another scheme
    assert gate.check(H + "/agenda?date=3") is None  # another path


def test_job_exclusions_win_and_name_their_rule():
    gate = LinkGate(TrapLimits(), exclude=("/print/", "[?&]sid="))
    assert gate.check(H + "/print/a") == ("excluded", "ARCHIVER_EXCLUDE /print/")
    assert gate.check(H + "/a?x=1&sid=9")[1] == "ARCHIVER_EXCLUDE [?&]sid="
    assert gate.check(H + "/a") is None


SEED = H + "/blog/index.html"


@pytest.mark.parametrize(
    ("kind", "depth", "url", "hops", "allowed"),
    [
        ("prefix", None, H + "/media/x", 1, True),  # included beyond the prefix
        ("prefix", None, H + "/other/x", 1, False),
        ("page", None, H + "/media/x", 4, True),  # page scope's 0 hops bound the scope only
        ("page", None, H + "/other/x", 1, False),
        ("page", 2, H + "/media/x", 3, False),  # a seed's own depth bounds includes too
    ],
)
def test_include_adds_to_the_scope(kind, depth, url, hops, allowed):
    assert Scope(kind, SEED, depth, include=("/media/",)).allows(url, hops) is allowed


def test_exclude_names_the_matching_regex():
    scope = Scope("host", SEED, None, include=("/media/",), exclude=("^https://[^/]+/media/pr",))
    assert scope.allows(H + "/media/private", 1)  # the scope takes it...
    assert scope.excluded(H + "/media/private") == "^https://[^/]+/media/pr"  # ...exclude wins
    assert scope.excluded(H + "/media/public") is None


def probe(**settings: str) -> CrawlConfig:
    return CrawlConfig.from_settings({"ARCHIVER_HOME": "/", "ARCHIVER_JOB": "j", **settings})


def test_trap_settings_defaults_and_overrides():
    assert probe().traps == TrapLimits(20, 2, 100_000, 1000)
    assert probe().exclude == ()
    config = probe(ARCHIVER_MAX_QUERY_VARIANTS="0", ARCHIVER_EXCLUDE=" /print/  [?&]a=1 ")
    assert config.traps.query_variants == 0
    assert config.exclude == ("/print/", "[?&]a=1")
    assert probe(ARCHIVER_EXCLUDE='["a b", "c,d"]').exclude == ("a b", "c,d")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ARCHIVER_EXCLUDE": "/ok/ (unclosed"}, "invalid ARCHIVER_EXCLUDE regex '(unclosed':"),
        ({"ARCHIVER_EXCLUDE": '["a", 1]'}, "invalid ARCHIVER_EXCLUDE regex '1': must be text"),
        ({"ARCHIVER_EXCLUDE": "[oops"}, "setting ARCHIVER_EXCLUDE='[oops' is not a valid JSON"),
        ({"ARCHIVER_MAX_PATH_SEGMENTS": "-1"}, "ARCHIVER_MAX_PATH_SEGMENTS='-1' must be >= 0"),
        ({"ARCHIVER_MAX_PAGES_PER_HOST": "many"}, "is not a whole number"),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ArchiverError) as caught:
        validate_overrides(settings)
    assert message in str(caught.value)
