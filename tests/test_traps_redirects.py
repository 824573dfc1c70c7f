"""Redirects meet the same exclusions and trap guards as links, crawled for real: a
followed page's 3xx or ``<meta http-equiv=refresh>`` into an excluded URL is captured,
its target never requested. A seed's own redirect chain is followed wherever it leads."""

from __future__ import annotations

import shutil

import pytest
from mutablesite import MutableSite, Reply, page
from trapsite import TrapSite
from warcs import archiver, catalog_rows, read_warc, warc_files


@pytest.fixture
def site():
    with TrapSite() as served:
        yield served


def _responses(home) -> dict[str, str]:
    """Target URI → HTTP status line of every response record the crawl wrote."""
    return {
        r.headers["WARC-Target-URI"]: r.status_line
        for f in warc_files(home)
        for r in read_warc(f)
        if r.type == "response"
    }


def test_redirects_of_pages_obey_exclusions_and_guards(tmp_path, site):
    home = tmp_path / "home"
    added = archiver(
        home, "seeds", "add", site.url + "hub.html", "--scope", "host", "--exclude", "/private/"
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    result = archiver(
        home, "crawl", "--profile", "test", "--job", "hub", "-s", "ARCHIVER_EXCLUDE=/print/"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fetched = set(site.requests)
    # The redirecting pages are fetched; the ordinary redirect is followed.
    assert {
        "/go?u=%2Fprint%2Fa.html",
        "/refresh?u=%2Fprivate%2Fb.html",
        "/media/more.html",
    } <= fetched
    # Their excluded and trapped targets never are.
    assert "/print/a.html" not in fetched  # a 302 into the job's exclusion
    assert "/private/b.html" not in fetched  # a meta refresh into the seed's exclusion
    assert not site.fetched("/loop/")  # a 302 into a path the segment-repeats guard stops
    rows = catalog_rows(home, "SELECT url, via, reason, rule FROM rejected ORDER BY url")
    assert [(r["url"].removeprefix(site.url), r["reason"], r["rule"]) for r in rows] == [
        ("loop/loop/loop/", "segment-repeats", "ARCHIVER_MAX_SEGMENT_REPEATS=2"),
        ("print/a.html", "excluded", "ARCHIVER_EXCLUDE /print/"),
        ("private/b.html", "excluded", "/private/"),
    ]
    assert rows[1]["via"] == site.url + "go?u=%2Fprint%2Fa.html"  # the redirect it came from
    assert rows[2]["via"] == site.url + "refresh?u=%2Fprivate%2Fb.html"
    assert "not followed: 3 link(s) [excluded: 2, segment-repeats: 1]" in result.stdout
    # The redirect responses themselves are evidence of where the site pointed: kept.
    responses = _responses(home)
    assert responses[site.url + "go?u=%2Fprint%2Fa.html"].startswith("HTTP/1.1 302")
    assert responses[site.url + "refresh?u=%2Fprivate%2Fb.html"].startswith("HTTP/1.1 200")
    assert site.url + "print/a.html" not in responses
    assert site.url + "private/b.html" not in responses


def test_a_seeds_own_redirects_are_followed_into_exclusions(tmp_path, site):
    """The archivist nominated the seed: where it redirects is captured, excluded or not
    (Heritrix's "seed redirects are seeds"); its links obey the exclusions as ever."""
    home = tmp_path / "home"
    for seed in ("go?u=%2Fblog%2Fprint%2Fpost.html", "refresh?u=%2Fprivate%2Fseed.html"):
        added = archiver(home, "seeds", "add", site.url + seed, "--exclude", "/private/")
        assert added.returncode == 0, added.stderr
    result = archiver(
        home, "crawl", "--profile", "test", "--job", "seeds", "-s", "ARCHIVER_EXCLUDE=/print/"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {"/blog/print/post.html", "/private/seed.html"} <= set(site.requests)
    responses = _responses(home)
    assert responses[site.url + "go?u=%2Fblog%2Fprint%2Fpost.html"].startswith("HTTP/1.1 302")
    assert responses[site.url + "blog/print/post.html"].startswith("HTTP/1.1 200")
    assert catalog_rows(home, "SELECT COUNT(*) AS n FROM rejected")[0]["n"] == 0
    assert "not followed" not in result.stdout


@pytest.mark.xdist_group("browser")
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_browser_pages_redirects_obey_exclusions(tmp_path):
    """A browser page's 302, meta refresh and script navigation into an exclusion: the
    same decision as on the HTTP path."""
    home = tmp_path / "home"
    with MutableSite() as site:
        links = "".join(f"<a href='/p/{name}'>{name}</a>" for name in ("moved", "meta", "js"))
        site.set("/hub", Reply(body=page("hub", "links", links)))
        site.set("/p/moved", Reply(302, b"", headers=[("Location", "/print/a")]))
        refresh = "<meta http-equiv='refresh' content='0; url=/print/b'>"
        site.set("/p/meta", Reply(body=page("meta", "moved", refresh)))
        script = "<script>location.href = '/print/c';</script>"
        site.set("/p/js", Reply(body=page("js", "moved", script)))
        added = archiver(home, "seeds", "add", site.url + "hub", "--scope", "host", "--browser")
        assert added.returncode == 0, added.stderr
        result = archiver(
            home, "crawl", "--profile", "test", "--job", "b", "-s", "ARCHIVER_EXCLUDE=/print/",
            timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        requested = {path for path, _ in site.requests}
    assert {"/hub", "/p/moved", "/p/meta", "/p/js"} <= requested
    assert not {path for path in requested if path.startswith("/print/")}
    rows = catalog_rows(home, "SELECT url, via, reason FROM rejected ORDER BY url")
    assert [(r["url"].removeprefix(site.url), r["via"].removeprefix(site.url), r["reason"])
            for r in rows] == [
        ("print/a", "p/moved", "excluded"),
        ("print/b", "p/meta", "excluded"),
        ("print/c", "p/js", "excluded"),
    ]  # fmt: skip
    assert _responses(home)[site.url + "p/moved"].startswith("HTTP/1.1 302")
