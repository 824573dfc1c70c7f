"""A local site the tests change between captures: each path answers from a script of
responses (the last one repeats), so a page can be edited, deleted, replaced with a
removal notice or redirected to a login page, and flap, on cue."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    etag: bool = False  # send an ETag and answer If-None-Match with 304
    delay: float = 0.0  # seconds before answering
    cut: int | None = None  # send only this much of the body, then drop the connection


def page(title: str, text: str, extra: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{text}</p>{extra}</body></html>"
    ).encode()


class MutableSite:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.times: list[tuple[float, str]] = []  # (time.monotonic(), path) of each request
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site._serve(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def set(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with these replies in turn, the last one from then on."""
        with self._lock:
            self.routes[path] = list(replies)

    def _next(self, path: str) -> Reply | None:
        with self._lock:
            script = self.routes.get(path)
            if not script:
                return None
            return script.pop(0) if len(script) > 1 else script[0]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append((handler.path, dict(handler.headers.items())))
            self.times.append((time.monotonic(), handler.path))
        reply = self._next(path) or Reply(404, page("Not Found", "no such page"))
        if reply.delay:
            time.sleep(reply.delay)
        headers = [("Content-Type", reply.content_type), *reply.headers]
        status, body = reply.status, reply.body
        if reply.etag:
            tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers.append(("ETag", tag))
            if handler.headers.get("If-None-Match") == tag:
                status, body = 304, b""
                headers = [("ETag", tag)]
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        if status != 304:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if reply.cut is not None:  # a reset mid-body, as censors' middleboxes do
            handler.wfile.write(body[: reply.cut])
            handler.wfile.flush()
            handler.close_connection = True
            import socket

            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(body)

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
