"""Trying a vantage point outside a crawl: ``archiver vantage test`` and the egress probe.

Both open a tunnel through the proxy with plain sockets (the same handshake as the
crawl's, archiver/vantage/handshake.py). The egress probe then asks a URL whose answer
is the address the request came from (``ARCHIVER_EGRESS_PROBE_URL``, a service such as
``https://api.ipify.org``), so a crawl can record where the vantage point exits.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from archiver import SOFTWARE
from archiver.vantage.handshake import Handshake, ProxyFailure
from archiver.vantage.route import Route

PROBE_ENV = "ARCHIVER_EGRESS_PROBE_URL"
_MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    """How a try went: ``ok``, what it found (the egress address, or the tunnel's
    target), or why it failed."""

    ok: bool
    detail: str


def _target(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProxyFailure(f"{url!r} is not an http:// or https:// URL")
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def open_tunnel(route: Route, host: str, port: int, timeout: float) -> socket.socket:
    """A socket to ``host:port`` through the vantage point's proxy, or ProxyFailure."""
    if route.kind == "https":
        raise ProxyFailure(
            f"vantage point {route.name!r} is an https:// proxy (TLS to the proxy), which"
            " archiver cannot go through yet"
        )
    address = None
    if not route.remote_dns:
        try:
            address = socket.gethostbyname(host)
        except OSError as exc:
            raise ProxyFailure(f"cannot resolve {host} for the socks5:// proxy: {exc}") from None
    try:
        sock = socket.create_connection((route.host, route.port), timeout=timeout)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ProxyFailure(
            f"cannot reach the proxy of vantage point {route.name!r}: {reason}"
        ) from None
    try:
        handshake = Handshake(route, host, port, address)
        sock.sendall(handshake.start())
        while not handshake.open:
            data = sock.recv(4096)
            if not data:
                raise handshake.closed()
            answer = handshake.feed(data)
            if answer:
                sock.sendall(answer)
    except OSError as exc:
        sock.close()
        raise ProxyFailure(f"no tunnel through vantage point {route.name!r}: {exc}") from None
    except BaseException:
        sock.close()
        raise
    return sock


def check(route: Route, url: str, timeout: float = 15) -> Outcome:
    """Can a tunnel be opened through the vantage point to ``url``'s host?"""
    try:
        _, host, port = _target(url)
        open_tunnel(route, host, port, timeout).close()
    except ProxyFailure as exc:
        return Outcome(False, str(exc))
    return Outcome(True, f"a tunnel to {host}:{port} opened")


def egress(route: Route, url: str, timeout: float = 15) -> Outcome:
    """The address the probe URL says the vantage point's requests come from."""
    try:
        scheme, host, port = _target(url)
        sock = open_tunnel(route, host, port, timeout)
    except ProxyFailure as exc:
        return Outcome(False, str(exc))
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: {SOFTWARE}\r\n"
            "Accept: text/plain\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(request.encode("ascii"))
        answer = b""
        while len(answer) < _MAX_ANSWER:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    except OSError as exc:
        return Outcome(False, f"the probe {url} through {route.name!r} failed: {exc}")
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1")
    if " 200" not in status[:13]:
        return Outcome(False, f"the probe {url} answered {status or 'nothing'!r}")
    if b"chunked" in head.lower():  # one chunk holds an address: skip its size line
        body = body.partition(b"\r\n")[2]
    words = body.decode("utf-8", "replace").split()
    if not words or len(words[0]) > 64:
        return Outcome(False, f"the probe {url} answered no address")
    return Outcome(True, words[0])
