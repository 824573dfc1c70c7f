"""HTTP helpers for tests that talk to the test servers directly (no crawler)."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit


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
