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
    # Fetched once and archived as evidence of the stated policy, never applied.
    assert site.requests.count("/robots.txt") == 1
    [robots] = catalog_rows(home, "SELECT * FROM captures WHERE kind = 'robots'")
    assert (robots["url"], robots["http_status"]) == (site.url + "robots.txt", 200)
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


def scripted(pages):
    """A raw-server handler answering from {path: (status, content type, body, extra)}."""

    def respond(request: bytes) -> bytes:
        path = request.split(b" ", 2)[1]
        status, kind, body, extra = pages.get(path, (b"404 Not Found", b"text/plain", b"", b""))
        return (
            b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\n" + extra
            + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
        )  # fmt: skip

    return respond


RULES = b"User-agent: *\nDisallow: /private/\n"
SITE = {
    b"/": (b"200 OK", b"text/html", b"<a href='/private/a.html'>a</a><a href='/open.html'>o</a>",
           b""),
    b"/open.html": (b"200 OK", b"text/html", b"<title>open</title>", b""),
    b"/private/a.html": (b"200 OK", b"text/html", b"<title>secret</title>", b""),
}  # fmt: skip
ROBOTS = {
    "gzipped": {
        b"/robots.txt": (b"200 OK", b"text/plain", gzip.compress(RULES),
                         b"Content-Encoding: gzip\r\n"),
    },
    "redirected": {
        b"/robots.txt": (b"301 Moved", b"text/html", b"", b"Location: /rules.txt\r\n"),
        b"/rules.txt": (b"200 OK", b"text/plain", RULES, b""),
    },
    "server-error-means-disallow-all": {
        b"/robots.txt": (b"503 Unavailable", b"text/html", b"<h1>down</h1>", b""),
    },
}  # fmt: skip


@pytest.mark.parametrize("case", list(ROBOTS))
def test_robots_txt_is_read_as_rfc_9309_says(tmp_path, raw_server, case):
    server = raw_server(scripted({**SITE, **ROBOTS[case]}))
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", server.url, "--scope", "host").returncode == 0
    result = archiver(home, "crawl", "--profile", "test")
    rows = {r["url"].removeprefix(server.url): r for r in catalog_rows(home)}
    assert not any(b" /private/a.html " in r for r in server.received)
    if case == "server-error-means-disallow-all":
        assert result.returncode == 1  # even the seed page is disallowed
        assert rows[""]["error"].startswith("robots:")
        assert not any(r.startswith(b"GET / ") for r in server.received)
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert rows["private/a.html"]["error"].startswith("robots:")
        assert rows["open.html"]["state"] == "ok"
    # Every robots.txt exchange is archived, bytes as sent.
    responses = {
        r.headers["WARC-Target-URI"].removeprefix(server.url): r
        for r in read_warc(warc_files(home)[0]) if r.type == "response"
    }  # fmt: skip
    for path, (_, _, body, _) in ROBOTS[case].items():
        assert responses[path.decode().lstrip("/")].raw_block.endswith(body)
