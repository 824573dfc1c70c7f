"""Broken and hostile servers: the crawler survives each, within a memory bound, and
records what happened honestly (issue: nothing lost)."""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from warcs import catalog_rows, read_warc, warc_files

BIN = Path(sys.executable).parent
MEMORY_BOUND_MB = 250


class Scripted:
    """A loopback server: ``handle(conn, request_bytes)`` writes whatever it likes."""

    def __init__(self, handle):
        self.handle = handle
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        # Keep-alive, as an HTTP/1.1 server that sends no "Connection: close" must be:
        # closing after each answer races the crawler's next request on the connection
        # (a reset that a busy machine turns into a failed fetch).
        with conn, contextlib.suppress(OSError):  # the crawler hung up on us: expected
            data = b""
            while not self.stop.is_set():
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                request, _, data = data.partition(b"\r\n\r\n")
                self.handle(conn, request + b"\r\n\r\n", self.stop)

    def close(self):
        self.stop.set()
        self.listener.close()


def page(conn, body: bytes, head: bytes = b"Content-Type: text/html\r\n") -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + head + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def gzip_bomb(conn, request, stop):
    bomb = gzip.compress(b"<a href=x>" + b" " * 200_000_000, compresslevel=9)
    page(conn, bomb, b"Content-Type: text/html\r\nContent-Encoding: gzip\r\n")


def endless(conn, request, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
    block = os.urandom(65536)
    while not stop.is_set():
        conn.sendall(block)


def slow_drip(conn, request, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
    while not stop.is_set():
        conn.sendall(b".")
        time.sleep(0.1)


def header_flood(conn, request, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Flood: " + b"a" * 100 + b"\r\n"
    for _ in range(200_000):
        if stop.is_set():
            return
        conn.sendall(line * 10)


def overlong_header(conn, request, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Long: " + b"b" * 5_000_000 + b"\r\n\r\n")


def invalid_status(conn, request, stop):
    conn.sendall(b"HTTP/1.1 TWO-HUNDRED Fine\r\nContent-Length: 2\r\n\r\nhi")


def redirect_loop(conn, request, stop):
    target = b"/b" if b"GET / " in request or b"GET /a " in request else b"/a"
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + target + b"\r\nContent-Length: 0\r\n\r\n")


def bad_scheme_redirect(conn, request, stop):
    conn.sendall(
        b"HTTP/1.1 301 Moved\r\nLocation: ftp://files.example/x\r\nContent-Length: 0\r\n\r\n"
    )


def mixed_charsets(conn, request, stop):
    body = (
        b'<meta charset="utf-8"><title>caf\xe9 \xe2\x82\xac</title>'
        b"<img src='/img-\xe9.png'><img src='/img-\xc3\xa9.png'><a href='/\xff\xfe'>x</a>"
    )
    page(conn, body, b"Content-Type: text/html; charset=iso-8859-1\r\n")


def many_links(conn, request, stop):
    if b"GET / " in request:
        body = b"".join(b"<a href='/l%d'>l</a>" % i for i in range(100_000))
        page(conn, body)
    else:
        page(conn, b"ok")


def longer_than_length(conn, request, stop):
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello, and more"
    )


CASES = {
    "gzip-bomb": (gzip_bomb, ["-s", "ARCHIVER_MAX_PARSE_BYTES=1000000"]),
    "endless-body": (endless, ["-s", "ARCHIVER_MAX_BODY_BYTES=3000000"]),
    "slow-drip": (slow_drip, ["-s", "ARCHIVER_MAX_FETCH_SECONDS=1"]),
    "header-flood": (header_flood, []),
    "overlong-header": (overlong_header, []),
    "invalid-status-line": (invalid_status, []),
    "redirect-loop": (redirect_loop, []),
    "redirect-to-ftp": (bad_scheme_redirect, []),
    "mixed-charsets": (mixed_charsets, []),
    "100k-links": (many_links, ["--set", "ARCHIVER_MAX_EMBED_HOPS=0"]),
    "longer-than-content-length": (longer_than_length, []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_server(tmp_path, case):
    handle, args = CASES[case]
    server = Scripted(handle)
    try:
        code, out, err, home = run_in_fresh_process(tmp_path, server.url, args)
    finally:
        server.close()
    assert "Traceback" not in err, err
    rows = {
        r["url"].removeprefix(server.url): r for r in catalog_rows(home, "SELECT * FROM captures")
    }
    files = warc_files(home)
    if files:
        check = subprocess.run([BIN / "warcio", "check", *map(str, files)], capture_output=True)
        assert check.returncode == 0, check.stdout
    assert not list(home.rglob("*.open"))
    assert catalog_rows(home, "SELECT status FROM jobs")[0]["status"] == "finished"
    peak = float(err.strip().splitlines()[-1].split("peak-rss-mb=")[1])
    print(f"{case}: peak RSS {peak:.0f} MB")
    assert peak < MEMORY_BOUND_MB, f"{case}: {peak:.0f} MB"
    EXPECT[case](rows, home, code)


def run_in_fresh_process(tmp_path, url, args):
    """The crawl runs as the only child of a small wrapper, which reports its peak RSS."""
    home = tmp_path / "home"
    wrapper = (
        "import os, resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:])\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(f'peak-rss-mb={peak:.1f}', file=sys.stderr)\n"
        "sys.exit(p.returncode)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, "-m", "archiver", "crawl",
         "--profile", "test", url, *args],
        cwd=tmp_path, env={**os.environ, "ARCHIVER_HOME": str(home)},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr, home


def expect_gzip_bomb(rows, home, code):
    assert code == 0 and rows[""]["state"] == "ok"
    assert rows[""]["size"] < 1_000_000  # stored as sent: the small compressed body


def expect_endless(rows, home, code):
    assert (rows[""]["state"], rows[""]["truncated"], rows[""]["size"]) == (
        "truncated", "length", 3_000_000)  # fmt: skip
    truncated = [r for r in read_warc(warc_files(home)[0]) if "WARC-Truncated" in r.headers]
    assert truncated and {r.headers["WARC-Truncated"] for r in truncated} == {"length"}


def expect_slow(rows, home, code):
    assert (rows[""]["state"], rows[""]["truncated"]) == ("truncated", "time")


def expect_bad_response(rows, home, code):
    assert code == 1 and rows[""]["state"] == "failed"
    assert rows[""]["error"].startswith("bad-response:"), rows[""]["error"]


def expect_loop(rows, home, code):
    assert code == 0
    assert {u: r["http_status"] for u, r in rows.items() if r["kind"] != "robots"} == {
        "": 302, "b": 302, "a": 302}  # fmt: skip


def expect_ftp(rows, home, code):
    seed = rows[""]
    assert seed["http_status"] == 301 and seed["final_url"] == "ftp://files.example/x"
    assert [u for u, r in rows.items() if r["kind"] != "robots"] == [""]


def expect_charsets(rows, home, code):
    # iso-8859-1 is read as windows-1252, as browsers do (WHATWG Encoding).
    assert code == 0 and rows[""]["title"] == "café â‚¬"
    assert any(u.startswith("img-") for u in rows)


def expect_many_links(rows, home, code):
    assert code == 0 and rows[""]["state"] == "ok"
    [meta] = [r for r in read_warc(warc_files(home)[0]) if r.type == "metadata"
              and b"linkHops: 0" in r.content and b"kind: seed" in r.content]  # fmt: skip
    assert meta.content.count(b"\noutlink: ") == 100_000


def expect_longer(rows, home, code):
    assert code == 0 and rows[""]["state"] == "ok" and rows[""]["size"] == 5


EXPECT = {
    "gzip-bomb": expect_gzip_bomb,
    "endless-body": expect_endless,
    "slow-drip": expect_slow,
    "header-flood": expect_bad_response,
    "overlong-header": expect_bad_response,
    "invalid-status-line": expect_bad_response,
    "redirect-loop": expect_loop,
    "redirect-to-ftp": expect_ftp,
    "mixed-charsets": expect_charsets,
    "100k-links": expect_many_links,
    "longer-than-content-length": expect_longer,
}
