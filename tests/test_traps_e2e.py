"""Exclusions, inclusions and trap guards, crawled for real against a local trap site."""

from __future__ import annotations

import pytest
from trapsite import TrapSite
from warcs import archiver, catalog_rows, read_warc, warc_files


@pytest.fixture
def site():
    with TrapSite() as served:
        yield served


def test_traps_end_the_crawl_and_are_counted(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url, "--scope", "host").returncode == 0
    result = archiver(
        home, "crawl", "--profile", "test", "--job", "traps",
        "-s", "ARCHIVER_MAX_QUERY_VARIANTS=30", "-s", "ARCHIVER_MAX_PAGES_PER_HOST=150",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # The query calendar: 30 dates, then the next one is stopped and counted.
    assert len(site.fetched("/calendar?")) == 30
    # Relative links stacking one segment: /loop/loop/ yes, /loop/loop/loop/ no.
    assert site.fetched("/loop/") == ["/loop/", "/loop/loop/"]
    # 20 path segments at most: /deep/1/.../19/.
    assert max(len(p.strip("/").split("/")) for p in site.fetched("/deep/")) == 20
    # The path calendar runs until the host has 150 pages.
    pages = catalog_rows(home, "SELECT url FROM frontier WHERE kind = 'page'")
    assert len(pages) == 150
    rejected = {r["reason"]: r for r in catalog_rows(home, "SELECT * FROM rejected ORDER BY rowid")}
    assert set(rejected) == {"query-variants", "segment-repeats", "path-segments", "host-pages"}
    assert rejected["segment-repeats"]["url"] == site.url + "loop/loop/loop/"
    assert rejected["query-variants"]["rule"] == "ARCHIVER_MAX_QUERY_VARIANTS=30"
    never = {r["url"].removeprefix(site.url.rstrip("/")) for r in rejected.values()}
    assert not never & set(site.requests)  # counted, never fetched
    out = result.stdout
    assert "not followed: 4 link(s) [host-pages: 1, path-segments: 1, query-variants: 1," in out
    assert (
        "query-variants (ARCHIVER_MAX_QUERY_VARIANTS=30): 1, e.g. "
        f"{site.url}calendar?date=2026-12-30" in out
    )


def test_include_exclude_and_job_exclusions(tmp_path, site):
    home = tmp_path / "home"
    added = archiver(
        home, "seeds", "add", site.url + "blog/index.html", "--scope", "prefix",
        "--include", "/media/", "--exclude", "[?&]replytocom=",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    result = archiver(
        home, "crawl", "--profile", "test", "--job", "blog", "-s", "ARCHIVER_EXCLUDE=/print/"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fetched = set(site.requests)
    assert {"/blog/index.html", "/blog/post.html", "/media/clip.html", "/media/more.html"} <= (
        fetched
    )  # include adds /media/ to the prefix scope, and follows on from there
    assert "/other/page.html" not in fetched  # neither in scope nor included
    assert "/blog/post.html?replytocom=7" not in fetched  # the seed's exclusion
    assert "/blog/print/post.html" not in fetched  # the job's exclusion
    assert "/blog/print/logo.png" in fetched  # a requisite: the page must replay
    rows = catalog_rows(home, "SELECT url, reason, rule, via FROM rejected ORDER BY url")
    assert [(r["url"].removeprefix(site.url), r["reason"], r["rule"]) for r in rows] == [
        ("blog/post.html?replytocom=7", "excluded", "[?&]replytocom="),
        ("blog/print/post.html", "excluded", "ARCHIVER_EXCLUDE /print/"),
    ]
    assert rows[0]["via"] == site.url + "blog/index.html"
    assert "not followed: 2 link(s) [excluded: 2]" in result.stdout
    uris = {r.headers.get("WARC-Target-URI") for f in warc_files(home) for r in read_warc(f)}
    assert site.url + "blog/print/logo.png" in uris
    assert site.url + "blog/print/post.html" not in uris


def test_resume_counts_on_from_where_the_job_stopped(tmp_path, site):
    """The guards' counters come back from the frontier: a stop and a resume fetch no
    more calendar dates than one run, and record the stopped link once."""
    home = tmp_path / "home"
    seed = site.url + "calendar?date=2026-11-30"
    assert archiver(home, "seeds", "add", seed, "--scope", "prefix").returncode == 0
    first = archiver(
        home, "crawl", "--profile", "test", "--job", "cal",
        "-s", "ARCHIVER_MAX_QUERY_VARIANTS=25", "-s", "CLOSESPIDER_PAGECOUNT=10",
    )  # fmt: skip
    assert first.returncode == 1 and "stopped before it finished" in first.stderr
    before = len(site.fetched("/calendar?"))
    assert 5 <= before < 25  # robots.txt counts as a response too
    again = archiver(home, "crawl", "--job", "cal", "-s", "CLOSESPIDER_PAGECOUNT=0")
    assert again.returncode == 0, again.stdout + again.stderr
    dates = site.fetched("/calendar?")
    # the seed (not counted: it is not a followed link) and 25 followed dates
    assert len(set(dates)) == 26
    assert catalog_rows(home, "SELECT COUNT(*) AS n FROM rejected")[0]["n"] == 1
    assert "query-variants (ARCHIVER_MAX_QUERY_VARIANTS=25): 1," in again.stdout
