"""Opening a tunnel through a vantage point's proxy, as bytes in and bytes out.

An HTTP proxy is asked with ``CONNECT host:port`` (RFC 9110 §9.3.6), credentials in
``Proxy-Authorization: Basic``; a SOCKS5 proxy (and Tor's SOCKS port) with a SOCKS5
``CONNECT`` (RFC 1928), credentials by RFC 1929. No I/O here: the crawl's connection
(archiver/crawl/tunnel.py) and ``archiver vantage test`` (archiver/vantage/probe.py) each
send what :meth:`Handshake.start` and :meth:`Handshake.feed` return, until ``open``.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import struct

from archiver.errors import ArchiverError
from archiver.vantage.route import Route

_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})([^\r\n]*)")
_MAX_HEAD = 16 * 1024
# RFC 1928 §6: the replies a SOCKS5 server gives to a CONNECT.
_SOCKS_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused by the target",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}


class ProxyFailure(ArchiverError):
    """The proxy could not be reached, or would not open a tunnel to the target."""


class Handshake:
    """One tunnel's handshake with the proxy. ``address`` is the target's address when
    the crawler resolved it (``socks5://``); else the proxy is given the name."""

    def __init__(self, route: Route, host: str, port: int, address: str | None = None):
        self.route = route
        self.host = host
        self.port = port
        self.address = address
        self.open = False
        self.rest = b""  # bytes after the proxy's answer: the origin's
        self._buffer = b""
        self._step = ""

    def start(self) -> bytes:
        """The first bytes to send the proxy (reads the password variable now)."""
        if self.route.kind in ("http", "https"):
            self._step = "connect"
            return self._connect_request()
        self._step = "methods"
        methods = b"\x00\x02" if self.route.credentials() else b"\x00"
        return b"\x05" + bytes([len(methods)]) + methods

    def feed(self, data: bytes) -> bytes:
        """Take the proxy's bytes; return what to send next (maybe nothing). Raises
        ProxyFailure when the proxy refuses."""
        self._buffer += data
        return getattr(self, f"_on_{self._step}")()

    def closed(self) -> ProxyFailure:
        """Why the tunnel failed when the proxy closed the connection before it opened."""
        if self._step == "auth":  # some servers close rather than answer a bad password
            return ProxyFailure(
                f"{self.where} closed the connection when given the credentials: check the"
                f" user in its proxy URL and its password variable ('archiver vantage show"
                f" {self.route.name}')"
            )
        return ProxyFailure(f"{self.where} closed the connection before a tunnel opened")

    @property
    def where(self) -> str:
        return f"vantage point {self.route.name!r} ({self.route.kind} proxy)"

    def _connect_request(self) -> bytes:
        host = f"[{self.host}]" if ":" in self.host else self.host  # RFC 9110 §7.2: IPv6
        target = f"{host}:{self.port}".encode("idna")
        head = b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + target + b"\r\n"
        credentials = self.route.credentials()
        if credentials:
            token = base64.b64encode(":".join(credentials).encode("utf-8"))
            head += b"Proxy-Authorization: Basic " + token + b"\r\n"
        return head + b"\r\n"

    def _on_connect(self) -> bytes:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise ProxyFailure(f"{self.where} answered CONNECT with no end of its head")
            return b""
        found = _STATUS.match(self._buffer)
        if found is None:
            line = self._buffer.split(b"\r\n", 1)[0][:100]
            raise ProxyFailure(f"{self.where} answered CONNECT with {line!r}, not HTTP")
        status = int(found.group(1))
        reason = found.group(2).decode("latin-1").strip()
        if status == 407:
            raise ProxyFailure(
                f"{self.where} refused the credentials (407 {reason}): check the user in its"
                f" proxy URL and its password variable ('archiver vantage show"
                f" {self.route.name}')"
            )
        if not 200 <= status < 300:
            raise ProxyFailure(
                f"{self.where} would not open a tunnel to {self.host}:{self.port}"
                f" ({status} {reason})"
            )
        return self._opened(self._buffer[end + 4 :])

    def _on_methods(self) -> bytes:
        if len(self._buffer) < 2:
            return b""
        version, method = self._buffer[0], self._buffer[1]
        self._buffer = self._buffer[2:]
        if version != 5:
            raise ProxyFailure(f"{self.where} did not answer as a SOCKS5 server")
        if method == 0x02:
            user, password = self.route.credentials() or ("", "")
            name, secret = user.encode("utf-8"), password.encode("utf-8")
            self._step = "auth"
            return b"\x01" + bytes([len(name)]) + name + bytes([len(secret)]) + secret
        if method == 0x00:
            return self._request()
        raise ProxyFailure(
            f"{self.where} accepts none of the ways archiver signs in (none, or user and password)"
        )

    def _on_auth(self) -> bytes:
        if len(self._buffer) < 2:
            return b""
        if self._buffer[1] != 0:
            raise ProxyFailure(
                f"{self.where} refused the credentials: check the user in its proxy URL and"
                f" its password variable ('archiver vantage show {self.route.name}')"
            )
        self._buffer = self._buffer[2:]
        return self._request()

    def _request(self) -> bytes:
        if self.address is not None:
            ip = ipaddress.ip_address(self.address.strip("[]"))
            target = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
        else:
            name = self.host.encode("idna")
            target = b"\x03" + bytes([len(name)]) + name
        self._step = "reply"
        return b"\x05\x01\x00" + target + struct.pack("!H", self.port)

    def _on_reply(self) -> bytes:
        if len(self._buffer) < 5:
            return b""
        reply, kind = self._buffer[1], self._buffer[3]
        if reply != 0:
            why = _SOCKS_REPLIES.get(reply, f"reply {reply}")
            raise ProxyFailure(
                f"{self.where} would not open a tunnel to {self.host}:{self.port} ({why})"
            )
        size = {1: 4, 4: 16, 3: 1 + self._buffer[4]}.get(kind)
        if size is None:
            raise ProxyFailure(f"{self.where} gave a SOCKS5 reply archiver cannot read")
        if len(self._buffer) < 4 + size + 2:
            return b""
        return self._opened(self._buffer[4 + size + 2 :])

    def _opened(self, rest: bytes) -> bytes:
        self.open = True
        self.rest = rest
        self._buffer = b""
        self._step = "done"
        return b""

    def _on_done(self) -> bytes:
        self.rest += self._buffer
        self._buffer = b""
        return b""
