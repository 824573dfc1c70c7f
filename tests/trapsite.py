"""A local site full of crawler traps (import as ``from trapsite import TrapSite``).

* ``/calendar?date=2026-11-30`` links the next day, forever (a query-string calendar);
* ``/cal/2026/11/30`` links ``/cal/2026/12/1``, forever (a path calendar);
* ``/loop/`` links ``loop/`` relatively, so paths stack: ``/loop/loop/loop/…``;
* ``/deep/1/`` links ``/deep/1/2/``, one segment deeper each time;
* ``/blog/…`` pages, with ``?replytocom=`` and ``/print/`` duplicates and a ``/media/`` page
  outside the blog's prefix;
* ``/go?u=PATH`` answers 302 to PATH, ``/refresh?u=PATH`` a page whose
  ``<meta http-equiv=refresh>`` leads to PATH; ``/hub.html`` links such redirects (none of
  these is linked from the pages above).

Every request path (with its query) is kept in ``requests``. Binds 127.0.0.1, port 0.
"""

from __future__ import annotations

import datetime
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

BLOG = {
    "/blog/index.html": "<a href='/blog/post.html'>post</a>"
    "<a href='/blog/post.html?replytocom=7'>reply</a>"
    "<a href='/blog/print/post.html'>print</a>"
    "<a href='/media/clip.html'>media</a>"
    "<a href='/other/page.html'>other</a>"
    "<img src='/blog/print/logo.png'>",
    "/blog/post.html": "<a href='/blog/index.html'>home</a>",
    "/blog/print/post.html": "printable",
    "/media/clip.html": "<a href='/media/more.html'>more</a>",
    "/media/more.html": "more media",
    "/other/page.html": "outside the scope",
}
HUB = (  # redirects out of a followed page: to excluded, trapped and ordinary pages
    "<a href='/go?u=%2Fprint%2Fa.html'>302</a><a href='/refresh?u=%2Fprivate%2Fb.html'>refresh</a>"
    "<a href='/go?u=/loop/loop/loop/'>trap</a><a href='/go?u=/media/more.html'>ordinary</a>"
)
INDEX = (
    "<a href='/calendar?date=2026-11-30'>calendar</a><a href='/cal/2026/11/30'>cal</a>"
    "<a href='/loop/'>loop</a><a href='/deep/1/'>deep</a>"
)


def _page(title: str, body: str) -> bytes:
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"\
        .encode()  # fmt: skip


def _next_day(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, day) + datetime.timedelta(days=1)


class TrapSite:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with site._lock:
                    site.requests.append(self.path)
                status, content_type, body = site.answer(self.path)
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", parse_qs(urlsplit(self.path).query)["u"][0])
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def answer(self, target: str) -> tuple[int, str, bytes]:
        parts = urlsplit(target)
        path = parts.path
        html = "text/html; charset=utf-8"
        if path == "/":
            return 200, html, _page("traps", INDEX)
        if path == "/hub.html":
            return 200, html, _page("hub", HUB)
        if path == "/go":
            return 302, html, _page("moved", "moved")
        if path == "/refresh":
            target = parse_qs(parts.query)["u"][0]
            refresh = f"<meta http-equiv='refresh' content='0; url={target}'>"
            return 200, html, _page("moved", refresh)
        if path == "/robots.txt":
            return 404, "text/plain", b"none"
        if path == "/calendar":
            date = parse_qs(parts.query).get("date", ["2026-11-30"])[0]
            day = _next_day(*map(int, date.split("-")))
            return 200, html, _page(date, f"<a href='/calendar?date={day.isoformat()}'>next</a>")
        if path.startswith("/cal/"):
            day = _next_day(*map(int, path.split("/")[2:5]))
            return 200, html, _page(path, f"<a href='/cal/{day.year}/{day.month}/{day.day}'>n</a>")
        if path.startswith("/loop/"):
            return 200, html, _page(path, "<a href='loop/'>deeper</a>")
        if path.startswith("/deep/"):
            last = int(path.rstrip("/").rsplit("/", 1)[1])
            return 200, html, _page(path, f"<a href='{path}{last + 1}/'>deeper</a>")
        if path.endswith(".png"):
            return 200, "image/png", b"\x89PNG\r\n\x1a\nnot really"
        if path in BLOG:
            return 200, html, _page(path, BLOG[path])
        return 404, html, _page("not found", "no such page")

    def fetched(self, prefix: str) -> list[str]:
        with self._lock:
            return [target for target in self.requests if target.startswith(prefix)]

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
