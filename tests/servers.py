"""Local HTTP servers for the test suite (import as ``from servers import ...``).

* :class:`FixtureSite` serves ``tests/fixture_site/`` plus scripted paths (redirects, gzip,
  hand-framed chunked bodies, cookies, error statuses, slow drip, big bodies, query echo).
* ``rawserver.RawSocketServer`` (its own module) records exact request bytes and replies
  with scripted raw bytes.

Every server binds 127.0.0.1 on a free port and runs in daemon threads.
"""

from __future__ import annotations

import gzip
import mimetypes
import random
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "CHUNKED_GZIP_HTML",
    "CHUNKED_HTML",
    "CHUNK_SIZE",
    "DEFAULT_FIXTURE_ROOT",
    "GZIP_HTML",
    "SLOW_INTERVAL",
    "FixtureSite",
    "RecordedRequest",
    "big_body",
    "chunk_frame",
]

DEFAULT_FIXTURE_ROOT = Path(__file__).resolve().parent / "fixture_site"

# ---------------------------------------------------------------------------------------------
# Scripted bodies
# ---------------------------------------------------------------------------------------------

GZIP_HTML = (
    b'<!doctype html>\n<html><head><meta charset="utf-8"><title>Gzip Page</title></head>'
    b"<body><h1>Gzip Page</h1><p>This body was sent with Content-Encoding: gzip.</p>"
    b'<p><a href="/index.html">Home</a></p></body></html>\n'
)
CHUNKED_HTML = (
    b'<!doctype html>\n<html><head><meta charset="utf-8"><title>Chunked Page</title></head>'
    b"<body><h1>Chunked Page</h1><p>This body was sent with Transfer-Encoding: chunked, "
    b'in several chunks.</p><p><a href="/page2.html">Page two</a></p></body></html>\n'
)
CHUNKED_GZIP_HTML = (
    b'<!doctype html>\n<html><head><meta charset="utf-8"><title>Chunked Gzip Page</title>'
    b"</head><body><h1>Chunked Gzip Page</h1><p>gzip content coding inside chunked "
    b'transfer coding.</p><p><a href="/index.html">Home</a></p></body></html>\n'
)
#: Chunk payload size used by /chunked.html and /chunked-gzip.html (so each has >= 3 chunks).
CHUNK_SIZE = 40
#: Seconds between bytes of the /slow drip.
SLOW_INTERVAL = 0.2


def _html(title: str, text: str) -> bytes:
    return (
        f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{text}</p></body></html>\n"
    ).encode()


def big_body(n: int) -> bytes:
    """The deterministic content /big?bytes=N sends: bytes 0..255 repeating, cut to n."""
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


def chunk_frame(body: bytes, size: int) -> bytes:
    """Frame ``body`` as HTTP/1.1 chunked transfer coding (lowercase hex, no extensions)."""
    out = bytearray()
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n\r\n"
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# FixtureSite
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    target: str  # raw request target, path + query, exactly as received
    headers: dict[str, str]


class _FixtureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FixtureSite/1.0"
    site: FixtureSite  # set on the per-server subclass

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._dispatch(send_body=True)

    # -- responses -----------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
        send_body: bool = True,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _send_chunked(
        self,
        body: bytes,
        *,
        headers: list[tuple[str, str]] | None = None,
        send_body: bool = True,
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        if not send_body:
            return
        for start in range(0, len(body), CHUNK_SIZE):
            piece = body[start : start + CHUNK_SIZE]
            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.flush()
            time.sleep(0.005)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _redirect(self, status: int, location: str, send_body: bool) -> None:
        body = _html("Moved", f'Moved to <a href="{location}">{location}</a>.')
        self._send(status, body, headers=[("Location", location)], send_body=send_body)

    def _dispatch(self, *, send_body: bool) -> None:
        self.site._record(
            RecordedRequest(self.command, self.path, {k: v for k, v in self.headers.items()})
        )
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query)

        if path == "/redirect":
            self._redirect(302, "/index.html", send_body)
        elif path == "/redirect-chain":
            self._redirect(301, "/redirect", send_body)
        elif path == "/gzip.html":
            self._send(
                200,
                gzip.compress(GZIP_HTML, mtime=0),
                headers=[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                send_body=send_body,
            )
        elif path == "/chunked.html":
            self._send_chunked(CHUNKED_HTML, send_body=send_body)
        elif path == "/chunked-gzip.html":
            self._send_chunked(
                gzip.compress(CHUNKED_GZIP_HTML, mtime=0),
                headers=[("Content-Encoding", "gzip")],
                send_body=send_body,
            )
        elif path == "/cookies":
            self._send(
                200,
                _html("Cookies", "Two cookies were set."),
                headers=[
                    ("Set-Cookie", "first=one; Path=/"),
                    ("Set-Cookie", "second=two; Path=/; HttpOnly"),
                ],
                send_body=send_body,
            )
        elif path == "/gone":
            self._send(410, _html("Gone", "This page was removed."), send_body=send_body)
        elif path == "/missing":
            self._send(404, _html("Not Found", "No such page."), send_body=send_body)
        elif path == "/slow":
            self._slow(query, send_body)
        elif path == "/big":
            self._big(query, send_body)
        elif path == "/random":
            self._random(query, send_body)
        elif path == "/query":
            self._send(
                200,
                self.path.encode(),
                content_type="text/plain; charset=utf-8",
                send_body=send_body,
            )
        else:
            self._static(path, send_body)

    def _slow(self, query: dict[str, list[str]], send_body: bool) -> None:
        seconds = float(query.get("seconds", ["1"])[0])
        count = max(1, round(seconds / SLOW_INTERVAL))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(count))
        self.end_headers()
        self.wfile.flush()
        if not send_body:
            return
        try:
            for _ in range(count):
                time.sleep(SLOW_INTERVAL)
                self.wfile.write(b".")
                self.wfile.flush()
        except OSError:  # client gave up (e.g. a download timeout); that is the point
            self.close_connection = True

    def _big(self, query: dict[str, list[str]], send_body: bool) -> None:
        n = int(query.get("bytes", ["1048576"])[0])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if not send_body:
            return
        block = big_body(65536)  # 65536 is a multiple of 256, so blocks concatenate cleanly
        try:
            remaining = n
            while remaining > 0:
                piece = block[: min(remaining, len(block))]
                self.wfile.write(piece)
                remaining -= len(piece)
        except OSError:
            self.close_connection = True

    def _random(self, query: dict[str, list[str]], send_body: bool) -> None:
        """/random?bytes=N&seed=S: N incompressible bytes, the same for the same seed."""
        n = int(query.get("bytes", ["1048576"])[0])
        source = random.Random(query.get("seed", ["0"])[0])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if not send_body:
            return
        try:
            remaining = n
            while remaining > 0:
                piece = source.randbytes(min(remaining, 1024 * 1024))
                self.wfile.write(piece)
                remaining -= len(piece)
        except OSError:
            self.close_connection = True

    def _static(self, url_path: str, send_body: bool) -> None:
        decoded = unquote(url_path)
        segments = [s for s in decoded.split("/") if s]
        root = self.site.root.resolve()
        if any(s in (".", "..") or "\x00" in s for s in segments):
            self._send(403, _html("Forbidden", "Forbidden."), send_body=send_body)
            return
        candidate = root.joinpath(*segments).resolve() if segments else root
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_relative_to(root) or not candidate.is_file():
            self._send(404, _html("Not Found", "No such page."), send_body=send_body)
            return
        data = candidate.read_bytes()
        suffix = candidate.suffix.lower()
        if suffix in (".html", ".htm"):
            content_type = "text/html; charset=utf-8"
        elif suffix == ".css":
            content_type = "text/css"
        elif suffix == ".png":
            content_type = "image/png"
        else:
            content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        self._send(200, data, content_type=content_type, send_body=send_body)


class FixtureSite:
    """Serve a directory (default ``tests/fixture_site``) plus scripted paths over HTTP/1.1.

    Use as a context manager (or call :meth:`start` / :meth:`close`)::

        with FixtureSite() as site:
            site.url        # 'http://127.0.0.1:PORT/'
            site.requests   # raw request targets received, e.g. ['/index.html', ...]
    """

    def __init__(self, root: Path | str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.root: Path = Path(root) if root is not None else DEFAULT_FIXTURE_ROOT
        self.tls = tls
        self.requests: list[str] = []
        self.request_log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FixtureSite is not started")
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}/"

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request.target)
            self.request_log.append(request)

    def start(self) -> Self:
        handler = type("FixtureHandler", (_FixtureHandler,), {"site": self})
        server = ThreadingHTTPServer((self.host, 0), handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fixture-site",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
