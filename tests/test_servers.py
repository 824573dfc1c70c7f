"""Tests for the test servers themselves: the fixture site and the raw socket server."""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable

import pytest
from httphelp import dechunk, header_lines, http_get, open_connection, raw_exchange, raw_get
from rawserver import (
    FIDELITY_BODY_GZ,
    FIDELITY_CHUNKS,
    FIDELITY_HTML,
    FIDELITY_RESPONSE,
    RawSocketServer,
)
from servers import (
    CHUNK_SIZE,
    CHUNKED_GZIP_HTML,
    CHUNKED_HTML,
    DEFAULT_FIXTURE_ROOT,
    GZIP_HTML,
    FixtureSite,
    big_body,
    chunk_frame,
)

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# FixtureSite
# ---------------------------------------------------------------------------------------------


def test_fixture_site_url_and_root(fixture_site: FixtureSite) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", fixture_site.url)
    assert fixture_site.root == DEFAULT_FIXTURE_ROOT
    assert (fixture_site.root / "index.html").is_file()


@pytest.mark.parametrize(
    ("target", "file", "ctype"),
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/page2.html", "page2.html", "text/html; charset=utf-8"),
        ("/sub/page3.html", "sub/page3.html", "text/html; charset=utf-8"),
        ("/style.css", "style.css", "text/css"),
        ("/img/logo.png", "img/logo.png", "image/png"),
        ("/img/bg.png", "img/bg.png", "image/png"),
        ("/img/photo.png", "img/photo.png", "image/png"),
    ],
)
def test_fixture_static_files(
    fixture_site: FixtureSite, target: str, file: str, ctype: str
) -> None:
    resp, body = http_get(fixture_site.url, target)
    assert resp.status == 200
    assert resp.getheader("Content-Type") == ctype
    expected = (fixture_site.root / file).read_bytes()
    assert resp.getheader("Content-Length") == str(len(expected))
    assert body == expected
    if ctype == "image/png":
        assert body.startswith(b"\x89PNG\r\n\x1a\n")


def test_fixture_site_content_links(fixture_site: FixtureSite) -> None:
    index = (fixture_site.root / "index.html").read_text()
    for link in ("page2.html", "sub/page3.html", "/redirect", "/gzip.html", "/chunked.html"):
        assert f'href="{link}"' in index
    css = (fixture_site.root / "style.css").read_text()
    assert 'url("img/bg.png")' in css


def test_fixture_keep_alive(fixture_site: FixtureSite) -> None:
    conn = open_connection(fixture_site.url)
    try:
        conn.request("GET", "/index.html")
        resp = conn.getresponse()
        resp.read()
        first_sock = conn.sock
        assert first_sock is not None
        for target in ("/page2.html", "/gzip.html", "/chunked.html", "/redirect"):
            conn.request("GET", target)
            resp = conn.getresponse()
            resp.read()
            assert conn.sock is first_sock, f"connection was not reused for {target}"
    finally:
        conn.close()


def test_fixture_head(fixture_site: FixtureSite) -> None:
    resp, body = http_get(fixture_site.url, "/page2.html", method="HEAD")
    assert resp.status == 200
    assert body == b""
    assert resp.getheader("Content-Length") == str(
        len((fixture_site.root / "page2.html").read_bytes())
    )


def test_fixture_redirects(fixture_site: FixtureSite) -> None:
    resp, _ = http_get(fixture_site.url, "/redirect")
    assert resp.status == 302
    assert resp.getheader("Location") == "/index.html"
    resp, _ = http_get(fixture_site.url, "/redirect-chain")
    assert resp.status == 301
    assert resp.getheader("Location") == "/redirect"


def test_fixture_gzip(fixture_site: FixtureSite) -> None:
    resp, body = http_get(fixture_site.url, "/gzip.html")
    assert resp.status == 200
    assert resp.getheader("Content-Encoding") == "gzip"
    assert resp.getheader("Content-Length") == str(len(body))
    assert body[:2] == b"\x1f\x8b"
    assert gzip.decompress(body) == GZIP_HTML


def test_fixture_chunked_raw_framing(fixture_site: FixtureSite) -> None:
    head, body = raw_get(fixture_site.url, "/chunked.html")
    assert head.startswith(b"HTTP/1.1 200 ")
    headers = dict(header_lines(head))
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert body == chunk_frame(CHUNKED_HTML, CHUNK_SIZE)
    entity, chunks = dechunk(body)
    assert entity == CHUNKED_HTML
    assert len(chunks) >= 3


def test_fixture_chunked_gzip_raw_framing(fixture_site: FixtureSite) -> None:
    head, body = raw_get(fixture_site.url, "/chunked-gzip.html")
    headers = dict(header_lines(head))
    assert headers["transfer-encoding"] == "chunked"
    assert headers["content-encoding"] == "gzip"
    entity, chunks = dechunk(body)
    assert len(chunks) >= 3
    assert gzip.decompress(entity) == CHUNKED_GZIP_HTML


def test_fixture_chunked_via_http_client(fixture_site: FixtureSite) -> None:
    resp, body = http_get(fixture_site.url, "/chunked.html")
    assert resp.status == 200
    assert body == CHUNKED_HTML
    resp, body = http_get(fixture_site.url, "/chunked-gzip.html")
    assert gzip.decompress(body) == CHUNKED_GZIP_HTML


def test_fixture_cookies(fixture_site: FixtureSite) -> None:
    resp, _ = http_get(fixture_site.url, "/cookies")
    assert resp.status == 200
    cookies = resp.msg.get_all("Set-Cookie")
    assert cookies is not None and len(cookies) == 2
    assert cookies[0].startswith("first=one")
    assert cookies[1].startswith("second=two")
    head, _ = raw_get(fixture_site.url, "/cookies")
    assert [v for k, v in header_lines(head) if k == "set-cookie"] == cookies


@pytest.mark.parametrize(
    ("target", "status"), [("/gone", 410), ("/missing", 404), ("/no-such-file.html", 404)]
)
def test_fixture_error_statuses(fixture_site: FixtureSite, target: str, status: int) -> None:
    resp, body = http_get(fixture_site.url, target)
    assert resp.status == status
    assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
    assert b"<title>" in body


def test_fixture_refuses_dotdot(fixture_site: FixtureSite) -> None:
    for target in ("/../servers.py", "/sub/../../servers.py", "/%2e%2e/servers.py"):
        head, body = raw_get(fixture_site.url, target)
        assert head.split(b" ")[1] in (b"403", b"404"), target
        assert b"RawSocketServer" not in body


def test_fixture_slow_drip(fixture_site: FixtureSite) -> None:
    conn = open_connection(fixture_site.url)
    try:
        start = time.monotonic()
        conn.request("GET", "/slow?seconds=1.2")
        resp = conn.getresponse()
        headers_at = time.monotonic() - start
        assert resp.status == 200
        first = resp.read(1)
        body = first + resp.read()
        elapsed = time.monotonic() - start
    finally:
        conn.close()
    # headers come before the drip: in the first half of the exchange, whatever the load
    assert headers_at < elapsed / 2, (headers_at, elapsed)
    assert len(body) == 6 == int(resp.getheader("Content-Length") or 0)
    assert elapsed >= 1.0


def test_fixture_big(fixture_site: FixtureSite) -> None:
    n = 200_003
    resp, body = http_get(fixture_site.url, f"/big?bytes={n}")
    assert resp.status == 200
    assert resp.getheader("Content-Length") == str(n)
    assert body == big_body(n)
    assert big_body(5) == b"\x00\x01\x02\x03\x04"


def test_fixture_query_echo(fixture_site: FixtureSite) -> None:
    resp, body = http_get(fixture_site.url, "/query?a=1&b=two")
    assert resp.status == 200
    assert body == b"/query?a=1&b=two"
    _, body = http_get(fixture_site.url, "/query?b=%20x&a=1")
    assert body == b"/query?b=%20x&a=1"


def test_fixture_records_requests(fixture_site: FixtureSite) -> None:
    http_get(fixture_site.url, "/index.html", headers={"User-Agent": "probe/1"})
    http_get(fixture_site.url, "/query?a=1&b=two")
    http_get(fixture_site.url, "/missing")
    assert fixture_site.requests == ["/index.html", "/query?a=1&b=two", "/missing"]
    assert fixture_site.request_log[0].method == "GET"
    assert fixture_site.request_log[0].headers["User-Agent"] == "probe/1"


def test_fixture_custom_root(tmp_path) -> None:
    (tmp_path / "index.html").write_bytes(b"<!doctype html><title>x</title>")
    with FixtureSite(tmp_path) as site:
        assert site.root == tmp_path
        _, body = http_get(site.url, "/")
        assert body == b"<!doctype html><title>x</title>"
        resp, _ = http_get(site.url, "/redirect")
        assert resp.status == 302


# ---------------------------------------------------------------------------------------------
# RawSocketServer / FIDELITY_RESPONSE
# ---------------------------------------------------------------------------------------------


def test_fidelity_response_shape() -> None:
    head, sep, body = FIDELITY_RESPONSE.partition(b"\r\n\r\n")
    assert sep
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 Everything Fine"
    assert b"X-MiXeD-Case: yes" in lines
    assert b"content-TYPE: text/html; charset=utf-8" in lines
    assert sum(1 for line in lines if line.startswith(b"Set-Cookie: ")) == 2
    assert b"Content-Encoding: gzip" in lines
    assert b"Transfer-Encoding: chunked" in lines
    assert not any(line.lower().startswith(b"content-length") for line in lines)
    entity, chunks = dechunk(body)
    assert entity == FIDELITY_BODY_GZ
    assert tuple(chunks) == FIDELITY_CHUNKS
    assert len(chunks) >= 3
    assert all(b";" not in line for line in body.split(b"\r\n")[::2] if line)
    assert gzip.decompress(FIDELITY_BODY_GZ) == FIDELITY_HTML
    assert b"<title>" in FIDELITY_HTML


def test_raw_server_records_exact_request(
    raw_server: Callable[..., RawSocketServer],
) -> None:
    server = raw_server()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.url)
    request = (
        b"GET /some/Path?x=1&Y=2 HTTP/1.1\r\n"
        b"host: 127.0.0.1\r\n"
        b"X-Weird-CASE:   spaced  \r\n"
        b"Accept-Encoding: gzip\r\n"
        b"\r\n"
    )
    response = raw_exchange(server.url, request)
    assert response == FIDELITY_RESPONSE
    assert server.received == [request]


def test_raw_server_reads_request_body(raw_server: Callable[..., RawSocketServer]) -> None:
    server = raw_server(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    request = b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\na=1&b=2"
    assert (
        raw_exchange(server.url, request) == b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    )
    assert server.received == [request]


def test_raw_server_callable_response(raw_server: Callable[..., RawSocketServer]) -> None:
    def respond(request: bytes) -> bytes:
        target = request.split(b" ")[1]
        return (
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(target)
            + target
        )

    server = raw_server(respond)
    resp, body = http_get(server.url, "/echo?q=1")
    assert resp.status == 200
    assert body == b"/echo?q=1"
    resp, body = http_get(server.url, "/second")
    assert body == b"/second"
    assert len(server.received) == 2
    assert server.received[0].startswith(b"GET /echo?q=1 HTTP/1.1\r\n")
    assert server.received[1].endswith(b"\r\n\r\n")


def test_raw_server_fidelity_via_http_client(raw_server: Callable[..., RawSocketServer]) -> None:
    server = raw_server()
    resp, body = http_get(server.url, "/")
    assert resp.status == 200
    assert resp.reason == "Everything Fine"
    assert resp.getheader("x-mixed-case") == "yes"
    assert resp.msg.get_all("Set-Cookie") is not None
    assert len(resp.msg.get_all("Set-Cookie") or []) == 2
    assert body == FIDELITY_BODY_GZ  # http.client de-chunks but does not decompress
    assert gzip.decompress(body) == FIDELITY_HTML


def test_raw_server_context_manager() -> None:
    with RawSocketServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") as server:
        assert raw_exchange(server.url, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").endswith(
            b"\r\n\r\nok"
        )
        url = server.url
    with pytest.raises(OSError):
        raw_exchange(url, b"GET / HTTP/1.1\r\n\r\n")
