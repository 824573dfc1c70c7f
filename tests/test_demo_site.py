"""The demo site server (archiver.demo): files, gzip, redirect, 404, refusal of ".."."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

from httphelp import http_get, open_connection, raw_get

from archiver.demo.server import SITE_ROOT, serve_demo_site

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Demo site
# ---------------------------------------------------------------------------------------------

DEMO_PAGES = [
    "index.html",
    "reports/2019-defenders.html",
    "news/vpn-crackdown.html",
    "social/post-8841.html",
]


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src"):
                self.links.append(value)


def test_demo_site_files() -> None:
    for page in DEMO_PAGES:
        text = (SITE_ROOT / page).read_text(encoding="utf-8")
        assert text.lower().startswith("<!doctype html>"), page
        assert '<meta charset="utf-8">' in text, page
        assert re.search(r"<title>[^<]+</title>", text), page
    report = (SITE_ROOT / "reports/2019-defenders.html").read_text(encoding="utf-8")
    assert 'property="og:title"' in report
    assert "<figure>" in report
    assert "residential surveillance" in report
    css = (SITE_ROOT / "static/site.css").read_text()
    assert '@import url("print.css")' in css
    assert re.search(r"url\(\s*['\"]?[^'\")]+\.png", css)
    for png in ("logo.png", "figure.png", "avatar.png"):
        data = (SITE_ROOT / "static" / png).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert 100 < len(data) < 2000


def test_demo_index_and_headers() -> None:
    with serve_demo_site() as base:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", base)
        resp, body = http_get(base, "/")
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
        assert resp.getheader("Content-Encoding") is None
        assert body == (SITE_ROOT / "index.html").read_bytes()
        assert resp.getheader("Content-Length") == str(len(body))
        assert resp.getheader("Last-Modified")
        assert resp.getheader("ETag")
        for link in (
            "/reports/2019-defenders.html",
            "/news/vpn-crackdown.html",
            "/social/post-8841.html",
            "/old-report",
            "/static/site.css",
            "/static/logo.png",
        ):
            assert f'"{link}"'.encode() in body


def test_demo_gzip_when_asked() -> None:
    with serve_demo_site() as base:
        for target, file in (
            ("/index.html", "index.html"),
            ("/static/site.css", "static/site.css"),
        ):
            resp, body = http_get(base, target, headers={"Accept-Encoding": "gzip, deflate"})
            assert resp.status == 200
            assert resp.getheader("Content-Encoding") == "gzip"
            assert resp.getheader("Vary") == "Accept-Encoding"
            assert resp.getheader("Content-Length") == str(len(body))
            assert gzip.decompress(body) == (SITE_ROOT / file).read_bytes()
        resp, body = http_get(base, "/index.html", headers={"Accept-Encoding": "gzip;q=0"})
        assert resp.getheader("Content-Encoding") is None
        resp, body = http_get(base, "/static/logo.png", headers={"Accept-Encoding": "gzip"})
        assert resp.getheader("Content-Type") == "image/png"
        assert resp.getheader("Content-Encoding") is None
        assert body == (SITE_ROOT / "static/logo.png").read_bytes()


def test_demo_redirect() -> None:
    with serve_demo_site() as base:
        resp, body = http_get(base, "/old-report")
        assert resp.status == 301
        assert resp.getheader("Location") == "/reports/2019-defenders.html"
        assert b"<title>" in body


def test_demo_404_and_dotdot() -> None:
    with serve_demo_site() as base:
        resp, body = http_get(base, "/nope.html")
        assert resp.status == 404
        assert b"<title>Not Found</title>" in body
        for target in ("/../server.py", "/static/../../server.py", "/%2e%2e/server.py"):
            head, body = raw_get(base, target)
            assert head.split(b" ")[1] in (b"403", b"404"), target
            assert b"serve_demo_site" not in body


def test_demo_conditional_and_keep_alive() -> None:
    with serve_demo_site() as base:
        conn = open_connection(base)
        try:
            conn.request("GET", "/static/site.css")
            resp = conn.getresponse()
            resp.read()
            assert resp.getheader("Content-Type") == "text/css"
            etag = resp.getheader("ETag")
            sock = conn.sock
            conn.request("GET", "/static/site.css", headers={"If-None-Match": etag or ""})
            resp = conn.getresponse()
            assert resp.status == 304
            assert resp.read() == b""
            assert conn.sock is sock
        finally:
            conn.close()


def test_demo_crawl_all_links_resolve() -> None:
    """Every same-site href/src/url() on the demo site resolves (after redirects) to 200."""
    with serve_demo_site() as base:
        seen: set[str] = set()
        queue = ["/"]
        while queue:
            target = queue.pop()
            if target in seen:
                continue
            seen.add(target)
            resp, body = http_get(base, target)
            if resp.status in (301, 302):
                queue.append(resp.getheader("Location") or "")
                continue
            assert resp.status == 200, target
            ctype = resp.getheader("Content-Type") or ""
            links: list[str] = []
            if ctype.startswith("text/html"):
                parser = _LinkParser()
                parser.feed(body.decode("utf-8"))
                links = parser.links
            elif ctype.startswith("text/css"):
                links = re.findall(r"url\(\s*['\"]?([^'\")]+)", body.decode("utf-8"))
            for link in links:
                absolute = urljoin(base + target.lstrip("/"), link)
                if absolute.startswith(base):
                    queue.append("/" + absolute[len(base) :])
        assert "/old-report" in seen
        assert "/static/print.css" in seen
        assert "/static/banner.png" in seen
        assert "/social/post-8841.html" in seen
