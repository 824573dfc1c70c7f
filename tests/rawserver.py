"""A bare socket server for byte-exact tests, and the exact response it sends by default
(import as ``from rawserver import ...``)."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

# ---------------------------------------------------------------------------------------------
# Fidelity response for the raw socket server
# ---------------------------------------------------------------------------------------------

FIDELITY_HTML: bytes = (
    b"<!doctype html>\n"
    b'<html lang="en"><head><meta charset="utf-8"><title>Fidelity Check</title></head>\n'
    b"<body><h1>Fidelity Check</h1>\n"
    b"<p>Every byte of this response, headers included, must be archived exactly.</p>\n"
    b"</body></html>\n"
)
#: The gzip entity (the de-chunked message body) of FIDELITY_RESPONSE.
FIDELITY_BODY_GZ: bytes = gzip.compress(FIDELITY_HTML, compresslevel=9, mtime=0)
_third = len(FIDELITY_BODY_GZ) // 3
#: The chunk payloads, in order (3 chunks of unequal size).
FIDELITY_CHUNKS: tuple[bytes, ...] = (
    FIDELITY_BODY_GZ[:10],
    FIDELITY_BODY_GZ[10 : 10 + _third],
    FIDELITY_BODY_GZ[10 + _third :],
)
FIDELITY_HEADER_BYTES: bytes = (
    b"HTTP/1.1 200 Everything Fine\r\n"
    b"Date: Wed, 12 Feb 2020 08:00:00 GMT\r\n"
    b"Server: FidelityTest/1.0\r\n"
    b"content-TYPE: text/html; charset=utf-8\r\n"
    b"X-MiXeD-Case: yes\r\n"
    b"Set-Cookie: session=abc123; Path=/; HttpOnly\r\n"
    b"Set-Cookie: lang=zh-Hans; Path=/\r\n"
    b"Content-Encoding: gzip\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Connection: close\r\n"
    b"\r\n"
)
#: The exact bytes the raw server sends by default.
FIDELITY_RESPONSE: bytes = (
    FIDELITY_HEADER_BYTES
    + b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in FIDELITY_CHUNKS)
    + b"0\r\n\r\n"
)


# ---------------------------------------------------------------------------------------------
# RawSocketServer
# ---------------------------------------------------------------------------------------------

Responder = Callable[[bytes], bytes]


class RawSocketServer:
    """A bare socket server: per connection, read one request (headers up to the blank line,
    plus a Content-Length body if any), record its exact bytes in :attr:`received`, send the
    scripted raw ``response`` (bytes, or a callable mapping request bytes to response bytes),
    then close the connection.
    """

    def __init__(self, response: bytes | Responder = FIDELITY_RESPONSE) -> None:
        self.response = response
        self.received: list[bytes] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._sock is None:
            raise RuntimeError("RawSocketServer is not started")
        return f"http://{self.host}:{self.port}/"

    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(16)
        sock.settimeout(0.05)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="raw-socket", daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = 0
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                request = self._read_request(conn)
            except OSError:
                return
            if not request:
                return
            with self._lock:
                self.received.append(request)
            response = self.response(request) if callable(self.response) else self.response
            try:
                conn.sendall(response)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
