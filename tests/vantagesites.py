"""Loopback parts for the vantage point tests: an origin that logs every request with the
address it came from and answers by it, and real proxies started with pproxy, each
connecting out from its own loopback address (how the origin tells them apart).

Also what the tests read back: the WARC records, ``captures --json``, and every byte the
archive and the commands wrote (searched for secrets)."""

from __future__ import annotations

import gzip
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli
from seedcli import ok
from warcs import catalog_rows, read_warc, warc_files

PASSWORD = "pr0xy-secret-never-stored"
HTTP_VANTAGE = "127.0.0.2"  # the HTTP proxy listens, and connects out, here
SOCKS_VANTAGE = "127.0.0.3"  # the SOCKS5 server's
BLOCKED_PAGE = b"<html><head><title>Unavailable</title></head><body>Not here.</body></html>"


class Origin:
    """An HTTP(S) site on 127.0.0.1 that logs each request (its peer address, request line
    and headers) and answers by where the request came from: a 451 to the SOCKS5
    vantage, the page to anyone else. ``/ip`` answers the caller's address."""

    def __init__(self, tls: ssl.SSLContext | None = None, moved: dict[str, str] | None = None):
        """``moved``: paths answered with a 302 to the URL given."""
        self.log: list[dict[str, Any]] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                peer = self.client_address[0]
                origin.log.append(
                    {"peer": peer, "line": self.requestline, "headers": dict(self.headers)}
                )
                status, body = (
                    200,
                    (
                        f"<html><head><title>Seen from {peer}</title></head>"
                        f"<body><p>This page was asked for from {peer}.</p></body></html>"
                    ),
                )
                if self.path in (moved or {}):
                    self.send_response(302)
                    self.send_header("Location", (moved or {})[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/empty":  # renders blank: a suspect browser capture
                    body = f"<html><head><title>Seen from {peer}</title></head></html>"
                if self.path == "/ip":
                    body = peer
                elif peer == SOCKS_VANTAGE:
                    status, body = 451, BLOCKED_PAGE.decode()
                data = body.encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/html" if self.path != "/ip" else "text/plain"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Pproxy:
    """``python -m pproxy`` listening on ``host``, its outgoing connections from ``host``
    too (``@in``): how the origin tells the vantage points apart."""

    def __init__(self, scheme: str, host: str, auth: str | None = None):
        self.host, self.port = host, free_port(host)
        fragment = f"#{auth}" if auth else ""
        # --auth 0: every connection signs in (pproxy otherwise trusts an address for days)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pproxy", "--auth", "0",
             "-l", f"{scheme}://{host}:{self.port}/@in{fragment}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:  # until it listens
            try:
                socket.create_connection((host, self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"pproxy did not start on {host}:{self.port}") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


ENV = {"HK_PROXY_PASSWORD": PASSWORD}


def add_http_vantage(home: Path, proxy: Pproxy, name: str = "hk-1") -> None:
    url = f"http://alice:env:HK_PROXY_PASSWORD@{proxy.host}:{proxy.port}"
    ok(run_cli(home, "vantage", "add", name, "--proxy", url, "--country", "HK"))


def crawl(home: Path, *args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return run_cli(home, "crawl", "--profile", "test", *args, env={**ENV, **(env or {})})


def records(home: Path) -> list[tuple[str, dict[str, str], bytes]]:
    """(type, WARC headers, block as stored) of every record, digests checked."""
    found = []
    for path in warc_files(home):
        for rec in read_warc(path):
            assert rec.digest_problems == []
            found.append((rec.type, rec.headers, rec.raw_block))
    return found


def fields(block: bytes) -> list[tuple[str, str]]:
    lines = block.decode("utf-8").splitlines()
    return [tuple(line.split(": ", 1)) for line in lines if ": " in line]  # type: ignore[misc]


def captures(home: Path) -> list[dict[str, Any]]:
    return json.loads(ok(run_cli(home, "captures", "--json")).stdout)


def everything_written(home: Path, *outputs: Any) -> bytes:
    """Every byte the crawl left: WARC files (decompressed), catalog, logs, and output."""
    data = b""
    for path in home.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            data += gzip.decompress(raw) if path.name.endswith(".warc.gz") else raw
    for result in outputs:
        data += (result.stdout + result.stderr).encode()
    if os.environ.get("ARCHIVER_CATALOG"):  # the PostgreSQL run: the catalog is there
        for table in ("captures", "jobs", "vantages", "seeds"):
            data += json.dumps(catalog_rows(home, f"SELECT * FROM {table}"), default=str).encode()
    return data


# Fixtures: imported by the test modules that use them.


@pytest.fixture
def origin() -> Iterator[Origin]:
    site = Origin()
    yield site
    site.close()


@pytest.fixture
def http_proxy() -> Iterator[Pproxy]:
    proxy = Pproxy("http", HTTP_VANTAGE, auth=f"alice:{PASSWORD}")
    yield proxy
    proxy.close()


@pytest.fixture
def socks_proxy() -> Iterator[Pproxy]:
    proxy = Pproxy("socks5", SOCKS_VANTAGE)
    yield proxy
    proxy.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"
