"""Retry-After: a host that answers 429 with ``Retry-After`` gets no request until then,
from a plain crawl and from workers sharing a job (judged by the server's own clock)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from archiver.spiders.seedlist import _retry_after_seconds

WAIT = 2  # the Retry-After the site gives, in seconds


class BusySite(BaseHTTPRequestHandler):
    """/ links to /busy, which answers 429 (Retry-After) once, with links onward: those
    are only known from the 429, so every request for them is made after it."""

    protocol_version = "HTTP/1.1"
    log: list[tuple[str, float]]
    answered: list[float]

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.log.append((self.path, time.monotonic()))
        links = ""
        status, extra = 200, []
        if self.path == "/":
            links = '<a href="/busy">busy</a>'
        elif self.path == "/busy":
            links = "".join(f'<a href="/p{n}">p{n}</a>' for n in range(4))
            if not self.answered:
                status, extra = 429, [("Retry-After", str(WAIT))]
        body = f"<title>{self.path}</title>{links}".encode()
        self.send_response(status)
        for name, value in [("Content-Type", "text/html"), *extra]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if status == 429:
            self.answered.append(time.monotonic())


@pytest.fixture
def busy_site():
    handler = type("Handler", (BusySite,), {"log": [], "answered": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()
    server.server_close()


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(tmp_path / "home"), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _after_429(handler) -> list[float]:
    assert len(handler.answered) == 1, handler.log
    [answered] = handler.answered
    return [at - answered for path, at in handler.log if path.startswith("/p")]


@pytest.mark.parametrize("mode", ["crawl", "workers"])
def test_a_429_with_retry_after_holds_the_host(tmp_path, busy_site, mode):
    url, handler = busy_site
    added = _run(tmp_path, "seeds", "add", url, "--scope", "host")
    assert added.returncode == 0, added.stderr
    crawl = ["crawl", "--job", "j", "--profile", "test"]
    if mode == "crawl":
        done = _run(tmp_path, *crawl)
    else:
        submitted = _run(tmp_path, *crawl, "--submit")
        assert submitted.returncode == 0, submitted.stderr
        done = _run(tmp_path, "worker", "--exit-when-idle")
    assert done.returncode == 0, done.stdout + done.stderr
    waits = _after_429(handler)
    assert len(waits) == 4, handler.log
    # Requests sent after the 429 arrived wait its Retry-After (less a little for the
    # time the 429 took to reach the crawler).
    assert min(waits) >= WAIT - 0.2, waits


def test_retry_after_values():
    assert _retry_after_seconds(b"120") == 120
    assert _retry_after_seconds(b"soon") is None
    assert _retry_after_seconds(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 55 <= _retry_after_seconds(future.encode()) <= 60
