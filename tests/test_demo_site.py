"""The demo site server (archiver.demo): files, gzip, redirect, 404, refusal of ".."."""

from __future__ import annotations

import gzip
import http.client
import re
import socket
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from archiver.demo.server import SITE_ROOT, serve_demo_site

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _conn(base_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def _get(
    base_url: str, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = _conn(base_url)
    try:
        conn.request(method, target, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp, body
    finally:
        conn.close()


def _raw(base_url: str, request: bytes) -> bytes:
    """Send raw request bytes; return every byte received until the server closes."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def _raw_get(base_url: str, target: str, extra: bytes = b"") -> tuple[bytes, bytes]:
    parts = urlsplit(base_url)
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n".encode()
        + extra
        + b"\r\n"
    )
    head, _, body = _raw(base_url, request).partition(b"\r\n\r\n")
    return head, body


def _header_lines(head: bytes) -> list[tuple[str, str]]:
    out = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        out.append((name.strip().lower(), value.strip()))
    return out


def _dechunk(raw: bytes) -> tuple[bytes, list[bytes]]:
    """Decode chunked framing strictly; return (entity, chunk payloads)."""
    chunks: list[bytes] = []
    pos = 0
    while True:
        eol = raw.index(b"\r\n", pos)
        size = int(raw[pos:eol], 16)
        pos = eol + 2
        if size == 0:
            assert raw[pos:] == b"\r\n", "no trailers, then the final CRLF"
            return b"".join(chunks), chunks
        chunks.append(raw[pos : pos + size])
        assert raw[pos + size : pos + size + 2] == b"\r\n"
        pos += size + 2


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
        resp, body = _get(base, "/")
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
            resp, body = _get(base, target, headers={"Accept-Encoding": "gzip, deflate"})
            assert resp.status == 200
            assert resp.getheader("Content-Encoding") == "gzip"
            assert resp.getheader("Vary") == "Accept-Encoding"
            assert resp.getheader("Content-Length") == str(len(body))
            assert gzip.decompress(body) == (SITE_ROOT / file).read_bytes()
        resp, body = _get(base, "/index.html", headers={"Accept-Encoding": "gzip;q=0"})
        assert resp.getheader("Content-Encoding") is None
        resp, body = _get(base, "/static/logo.png", headers={"Accept-Encoding": "gzip"})
        assert resp.getheader("Content-Type") == "image/png"
        assert resp.getheader("Content-Encoding") is None
        assert body == (SITE_ROOT / "static/logo.png").read_bytes()


def test_demo_redirect() -> None:
    with serve_demo_site() as base:
        resp, body = _get(base, "/old-report")
        assert resp.status == 301
        assert resp.getheader("Location") == "/reports/2019-defenders.html"
        assert b"<title>" in body


def test_demo_404_and_dotdot() -> None:
    with serve_demo_site() as base:
        resp, body = _get(base, "/nope.html")
        assert resp.status == 404
        assert b"<title>Not Found</title>" in body
        for target in ("/../server.py", "/static/../../server.py", "/%2e%2e/server.py"):
            head, body = _raw_get(base, target)
            assert head.split(b" ")[1] in (b"403", b"404"), target
            assert b"serve_demo_site" not in body


def test_demo_conditional_and_keep_alive() -> None:
    with serve_demo_site() as base:
        conn = _conn(base)
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
            resp, body = _get(base, target)
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
