"""A site whose pages wait at a gate, for tests that stop a crawl mid-fetch.

The root links to ``/p0`` … ``/pN``; each of those is held by the server until the test
opens the gate, so a test sees requests in flight (``wait_held``) and signals the crawl
then, never after a sleep. ``robots.txt`` is answered at once (404).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

HOLD_LIMIT = 120.0  # seconds a request is held at most, so a failed test never hangs


class GateSite:
    def __init__(self, pages: int = 12):
        self.pages = pages
        self.gate = threading.Event()
        self.held: list[str] = []  # paths waiting at the gate now
        self.served: list[str] = []  # every path answered, in order
        self._changed = threading.Condition()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                site._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def page_urls(self) -> set[str]:
        return {self.url} | {f"{self.url}p{n}" for n in range(self.pages)}

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        if path == "/":
            links = "".join(f'<a href="/p{n}">page {n}</a> ' for n in range(self.pages))
            self._reply(handler, 200, f"<title>gated</title>{links}".encode())
        elif path.startswith("/p"):
            with self._changed:
                self.held.append(path)
                self._changed.notify_all()
            self.gate.wait(HOLD_LIMIT)
            with self._changed:
                self.held.remove(path)
            self._reply(handler, 200, f"<title>{path}</title>the page {path}".encode())
        else:
            self._reply(handler, 404, b"not here")
        with self._changed:
            self.served.append(path)
            self._changed.notify_all()

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the crawl that asked was stopped by force
            handler.close_connection = True

    def wait_held(self, count: int, timeout: float = 60) -> bool:
        """Wait until ``count`` requests are held at the gate (in flight on the server)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.held) >= count, timeout)

    def open(self) -> None:
        self.gate.set()

    def close_gate(self) -> None:
        self.gate.clear()

    def start(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
