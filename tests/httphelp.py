"""HTTP helpers for tests that talk to the test servers directly (no crawler)."""

from __future__ import annotations

import http.client
import socket
import struct
import time
from urllib.parse import urlsplit

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def stamp_arrivals(sock: socket.socket) -> None:
    """Have the kernel stamp each packet this connection receives (see ``arrival``)."""
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def arrival(sock: socket.socket) -> float | None:
    """When the kernel received the next request's first bytes (wall-clock seconds),
    without reading them; None when the client closed. A handler thread starved of CPU
    (CI runs several suites on two cores) would stamp the request late by its own clock."""
    data, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", value[:16])
            return seconds + nanoseconds / 1e9
    return time.time() if data else None


def open_connection(base_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def http_get(
    base_url: str, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = open_connection(base_url)
    try:
        conn.request(method, target, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp, body
    finally:
        conn.close()


def raw_exchange(base_url: str, request: bytes) -> bytes:
    """Send raw request bytes; return every byte received until the server closes."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def raw_get(base_url: str, target: str, extra: bytes = b"") -> tuple[bytes, bytes]:
    parts = urlsplit(base_url)
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n".encode()
        + extra
        + b"\r\n"
    )
    head, _, body = raw_exchange(base_url, request).partition(b"\r\n\r\n")
    return head, body


def header_lines(head: bytes) -> list[tuple[str, str]]:
    out = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        out.append((name.strip().lower(), value.strip()))
    return out


def dechunk(raw: bytes) -> tuple[bytes, list[bytes]]:
    """Decode chunked framing strictly; return (entity, chunk payloads)."""
    chunks: list[bytes] = []
    pos = 0
    while True:
        eol = raw.index(b"\r\n", pos)
        size = int(raw[pos:eol], 16)
        pos = eol + 2
        if size == 0:
            assert raw[pos:] == b"\r\n", "no trailers, then the final CRLF"
            return b"".join(chunks), chunks
        chunks.append(raw[pos : pos + size])
        assert raw[pos + size : pos + size + 2] == b"\r\n"
        pos += size + 2
