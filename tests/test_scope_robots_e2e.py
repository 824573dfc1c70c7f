"""Scope, depth and robots.txt, crawled for real against a local site."""

from __future__ import annotations

import gzip

import pytest
from servers import FixtureSite
from warcs import archiver, catalog_rows, read_warc, warc_files

PAGES = {
    "robots.txt": b"User-agent: *\nDisallow: /private/\n",
    "index.html": b"<title>i</title><a href='/public/b.html'>b</a>"
    b"<a href='/private/a.html'>a</a><img src='/private/img.png'>",
    "public/b.html": b"<title>b</title><a href='/public/c.html'>c</a>",
    "public/c.html": b"<title>c</title><a href='/public/d.html'>d</a>",
    "public/d.html": b"<title>d</title>",
    "private/a.html": b"<title>a</title>",
    "private/img.png": b"\x89PNG\r\n\x1a\nnot really",
}


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    for name, body in PAGES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(body)
    with FixtureSite(root) as served:
        yield served


def crawl(tmp_path, site, *seed_args):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + "index.html", *seed_args).returncode == 0
    result = archiver(home, "crawl", "--profile", "test", "--job", "j")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")
    return home, {r["url"].removeprefix(site.url): r for r in rows}


def test_robots_obeyed_for_pages_not_for_requisites(tmp_path, site):
    home, rows = crawl(tmp_path, site, "--scope", "host")
    assert rows["private/a.html"]["state"] == "failed"
    assert rows["private/a.html"]["error"].startswith("robots:")
    assert rows["private/img.png"]["state"] == "ok"  # a requisite, as a browser would load it
    assert {"public/b.html", "public/c.html", "public/d.html"} <= set(rows)
    assert site.requests.count("/robots.txt") == 1
    assert all(r["robots"] == "obey" for r in rows.values())
    responses = [r for r in read_warc(warc_files(home)[0]) if r.type == "response"]
    assert any(r.headers["WARC-Target-URI"] == site.url + "robots.txt" for r in responses)


def test_robots_ignored_when_the_seed_says_so(tmp_path, site):
    home, rows = crawl(tmp_path, site, "--scope", "host", "--robots", "ignore")
    assert rows["private/a.html"]["state"] == "ok"
    assert "/robots.txt" not in site.requests
    [warcinfo] = [r for r in read_warc(warc_files(home)[0]) if r.type == "warcinfo"]
    assert b"robots: ignore" in warcinfo.content


def test_depth_limits_link_hops(tmp_path, site):
    _, rows = crawl(tmp_path, site, "--scope", "host", "--depth", "1")
    assert "public/b.html" in rows and "public/c.html" not in rows
    assert rows["public/b.html"]["hops"] == 1


def test_page_scope_takes_the_page_and_its_requisites_only(tmp_path, site):
    _, rows = crawl(tmp_path, site)
    assert set(rows) == {"index.html", "private/img.png"}
    assert site.requests.count("/public/b.html") == 0


def test_page_scope_with_depth_follows_links_off_the_page(tmp_path, site):
    _, rows = crawl(tmp_path, site, "--depth", "2")
    assert {"public/b.html", "public/c.html"} <= set(rows)
    assert "public/d.html" not in rows


def test_gzipped_robots_txt_is_obeyed(tmp_path, raw_server):
    robots = gzip.compress(b"User-agent: *\nDisallow: /private/\n")
    pages = {
        b"/robots.txt": (b"text/plain", robots, b"Content-Encoding: gzip\r\n"),
        b"/": (b"text/html", b"<a href='/private/a.html'>a</a><a href='/open.html'>o</a>", b""),
        b"/open.html": (b"text/html", b"<title>open</title>", b""),
        b"/private/a.html": (b"text/html", b"<title>secret</title>", b""),
    }

    def respond(request: bytes) -> bytes:
        path = request.split(b" ", 2)[1]
        kind, body, extra = pages.get(path, (b"text/plain", b"no", b""))
        status = b"200 OK" if path in pages else b"404 Not Found"
        return (
            b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\n" + extra
            + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
        )  # fmt: skip

    server = raw_server(respond)
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", server.url, "--scope", "host").returncode == 0
    result = archiver(home, "crawl", "--profile", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {r["url"]: r for r in catalog_rows(home)}
    assert rows[server.url + "open.html"]["state"] == "ok"
    assert rows[server.url + "private/a.html"]["error"].startswith("robots:")
    assert not any(b" /private/a.html " in r for r in server.received)
    # The robots.txt record keeps the gzip body as sent.
    [robots_rec] = [
        r for r in read_warc(warc_files(home)[0])
        if r.type == "response" and r.headers["WARC-Target-URI"].endswith("/robots.txt")
    ]  # fmt: skip
    assert robots_rec.raw_block.endswith(robots)
