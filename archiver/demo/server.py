"""A tiny local web server for the bundled demo site (used by ``archiver demo``).

The server binds 127.0.0.1 on a free port, runs in a daemon thread and serves the static
files under :data:`SITE_ROOT` with realistic HTTP behaviour: correct ``Content-Type``,
``Content-Length``, ``Last-Modified`` and ``ETag`` headers, gzip content encoding for HTML
and CSS when the client accepts it, conditional GETs (304), a scripted permanent redirect
(``/old-report``) and HTTP/1.1 keep-alive.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["REDIRECTS", "SITE_ROOT", "serve_demo_site"]

SITE_ROOT: Path = Path(__file__).resolve().parent / "site"

#: Scripted redirects: request path -> (status, Location).
REDIRECTS: dict[str, tuple[int, str]] = {
    "/old-report": (HTTPStatus.MOVED_PERMANENTLY, "/reports/2019-defenders.html"),
}

_CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".js": "text/javascript",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
_COMPRESSIBLE = {".html", ".htm", ".css"}


def _accepts_gzip(header: str | None) -> bool:
    """True when an Accept-Encoding header value allows gzip (and does not give it q=0)."""
    if not header:
        return False
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


def _page(title: str, message: str) -> bytes:
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>\n"
    ).encode()


class _DemoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DefendersWatchDemo/1.0"
    root: Path  # set on the per-server subclass

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    # -- helpers ---------------------------------------------------------------------------

    def _send_simple(
        self,
        status: int,
        body: bytes,
        *,
        send_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _resolve(self, url_path: str) -> Path | None:
        """Map a URL path to a file under root, or None (missing, or outside root)."""
        segments = [s for s in url_path.split("/") if s]
        if any(s in (".", "..") or "\\" in s or "\x00" in s for s in segments):
            return None
        root = self.root.resolve()
        candidate = root.joinpath(*segments).resolve() if segments else root
        if not candidate.is_relative_to(root):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _not_modified(self, etag: str, mtime: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip() for t in inm.split(",")}
            weak = {t[2:] if t.startswith("W/") else t for t in tags}
            return "*" in tags or etag in tags or etag in weak
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(mtime) <= since
        return False

    def _handle(self, *, send_body: bool) -> None:
        raw_path = urlsplit(self.path).path
        url_path = unquote(raw_path)

        if url_path in REDIRECTS:
            status, location = REDIRECTS[url_path]
            body = _page("Moved", f"This page has moved to {location}.")
            self._send_simple(status, body, send_body=send_body, headers={"Location": location})
            return

        if ".." in url_path.split("/"):
            body = _page("Forbidden", "Paths outside the site are not served.")
            self._send_simple(HTTPStatus.FORBIDDEN, body, send_body=send_body)
            return

        path = self._resolve(url_path)
        if path is None:
            body = _page("Not Found", f"No such page: {url_path}")
            self._send_simple(HTTPStatus.NOT_FOUND, body, send_body=send_body)
            return

        data = path.read_bytes()
        mtime = path.stat().st_mtime
        suffix = path.suffix.lower()
        content_type = _CONTENT_TYPES.get(suffix, "application/octet-stream")
        digest = hashlib.sha1(data).hexdigest()[:16]
        compressible = suffix in _COMPRESSIBLE
        use_gzip = compressible and _accepts_gzip(self.headers.get("Accept-Encoding"))
        etag = f'"{digest}-gz"' if use_gzip else f'"{digest}"'

        common = {
            "Last-Modified": formatdate(mtime, usegmt=True),
            "ETag": etag,
            "Cache-Control": "max-age=60",
        }
        if compressible:
            common["Vary"] = "Accept-Encoding"

        if self._not_modified(etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in common.items():
                self.send_header(name, value)
            self.end_headers()
            return

        if use_gzip:
            data = gzip.compress(data, compresslevel=6, mtime=0)

        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        for name, value in common.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(data)


@contextmanager
def serve_demo_site(root: Path = SITE_ROOT) -> Iterator[str]:
    """Serve the demo site on 127.0.0.1 (free port) in a daemon thread; yield its base URL
    like 'http://127.0.0.1:PORT/'; shut down on exit."""
    handler = type("DemoHandler", (_DemoHandler,), {"root": Path(root)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="archiver-demo-site",
        daemon=True,
    )
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
