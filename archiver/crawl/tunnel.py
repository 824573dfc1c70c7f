"""Connections through a vantage point's proxy: a tunnel to the origin, for every target.

Scrapy sends ``http://`` targets to an HTTP proxy in absolute form (``GET http://…``,
with ``Proxy-Authorization`` among the headers), so its request record would hold what
the proxy received, not what the origin did. Here every target, ``http://`` and
``https://``, goes through a tunnel: an HTTP ``CONNECT`` (RFC 9110 §9.3.6) or a SOCKS5
``CONNECT`` (RFC 1928, with RFC 1929 user/password). Once the tunnel is open the
connection is the origin's: the protocol tap (archiver/crawl/tap.py) sees and records the
origin-form request the origin receives, and the handshake with the proxy is never part
of a record. A SOCKS5 proxy (and Tor's SOCKS port) is spoken to directly, so no bridge
process is needed.

It fails closed: when the proxy cannot be reached or refuses the tunnel, the fetch fails
with :class:`ProxyFailure` (reason ``proxy``); nothing is ever sent around the proxy.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from scrapy.core.downloader.handlers.http11 import _ScrapyAgent
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.web.client import Agent

from archiver.errors import ArchiverError
from archiver.vantage.handshake import Handshake, ProxyFailure
from archiver.vantage.route import Route

__all__ = ["ProxyFailure", "RoutedAgent", "TunnelState"]


@dataclass
class TunnelState:
    """How far a fetch got with its proxy: None while no new tunnel was needed (a pooled
    connection), False while connecting, True once the tunnel is open."""

    opened: bool | None = None


class _Driver:
    """Runs a :class:`Handshake` over the connection the HTTP protocol was given, before
    the protocol gets it: the protocol's ``dataReceived`` is taken aside until the tunnel
    is open, so the proxy's answers never reach the HTTP parser, nor a record."""

    def __init__(self, handshake: Handshake, protocol: Any, done: Deferred[Any]):
        self.handshake = handshake
        self.protocol = protocol
        self.done = done
        self._restore = protocol.dataReceived
        self._lost = protocol.connectionLost
        protocol.dataReceived = self.received
        protocol.connectionLost = self.lost

    def _send(self, data: bytes) -> None:
        if data:  # below the protocol's tee: the handshake is the proxy's, not a record's
            transport = self.protocol.transport
            getattr(transport, "_transport", transport).write(data)

    def start(self) -> None:
        try:
            self._send(self.handshake.start())
        except ArchiverError as exc:  # an unset password variable
            self.fail(ProxyFailure(str(exc)))

    def received(self, data: bytes) -> None:
        try:
            self._send(self.handshake.feed(data))
        except ProxyFailure as exc:
            self.fail(exc)
            return
        if self.handshake.open and not self.done.called:
            self._give_back()
            self.done.callback(self.protocol)

    def lost(self, reason: Any = None) -> None:
        self._give_back()
        self.protocol.connectionLost(reason)
        if not self.done.called:
            self.done.errback(self.handshake.closed())

    def _give_back(self) -> None:
        self.protocol.dataReceived = self._restore
        self.protocol.connectionLost = self._lost

    def fail(self, exc: ProxyFailure) -> None:
        self._give_back()
        self.protocol.transport.abortConnection()
        if not self.done.called:
            self.done.errback(exc)


class TunnelEndpoint(TCP4ClientEndpoint):
    """Connects to the proxy, opens a tunnel to ``host:port`` through it, and (for an
    ``https://`` target) starts TLS with the origin inside the tunnel."""

    def __init__(
        self,
        reactor: Any,
        route: Route,
        host: str,
        port: int,
        tls: Any,
        state: TunnelState,
        timeout: float,
    ):
        super().__init__(reactor, route.host, route.port, timeout)
        self._route = route
        self._target = (host, port)
        self._tls = tls
        self._state = state

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        self._state.opened = False
        connection: list[Any] = []  # the protocol, once connected to the proxy

        def cancel(_: Any) -> None:  # the download timed out during the handshake
            for protocol in connection:
                protocol.transport.abortConnection()

        done: Deferred[Any] = Deferred(canceller=cancel)
        host, port = self._target

        def failed(reason: Any) -> None:
            if not done.called:
                done.errback(
                    ProxyFailure(
                        f"cannot reach the proxy of vantage point {self._route.name!r}:"
                        f" {reason.getErrorMessage()}"
                    )
                )

        def connected(protocol: Any, address: str | None) -> None:
            connection.append(protocol)
            _Driver(Handshake(self._route, host, port, address), protocol, done).start()

        def start(address: str | None) -> None:
            connecting = super(TunnelEndpoint, self).connect(protocolFactory)
            connecting.addCallbacks(lambda protocol: connected(protocol, address), failed)

        if self._route.remote_dns or _is_ip(host):
            start(host if _is_ip(host) else None)
        else:  # socks5://: the crawler resolves, the proxy is given the address
            resolving = self._reactor.resolve(host)
            resolving.addCallbacks(start, failed)

        def opened(protocol: Any) -> Any:
            self._state.opened = True
            if self._tls is not None:
                protocol.transport.startTLS(self._tls, protocolFactory)
            return protocol

        return done.addCallback(opened)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class TunnelAgent(Agent):
    """An Agent whose every connection is a tunnel through one vantage point, kept in the
    pool apart from direct connections and from other vantage points'."""

    def __init__(self, reactor: Any, route: Route, state: TunnelState, **kwargs: Any):
        super().__init__(reactor, **kwargs)
        self._route = route
        self._state = state
        self._tls_policy = kwargs.get("contextFactory")

    def _getEndpoint(self, uri: Any) -> TunnelEndpoint:
        host = uri.host.decode("ascii") if isinstance(uri.host, bytes) else uri.host
        tls = None
        if uri.scheme == b"https":
            tls = self._tls_policy.creatorForNetloc(uri.host, uri.port)
        return TunnelEndpoint(
            self._reactor, self._route, host, uri.port, tls, self._state,
            self._endpointFactory._connectTimeout or 30,
        )  # fmt: skip

    def _requestWithEndpoint(self, key: Any, endpoint: Any, *args: Any, **kwargs: Any) -> Any:
        return super()._requestWithEndpoint(
            (*key, "vantage", self._route.name), endpoint, *args, **kwargs
        )


class RoutedAgent(_ScrapyAgent):
    """Scrapy's agent, with a request that has a vantage point sent through its tunnel."""

    def __init__(self, *, route: Route | None, state: TunnelState, **kwargs: Any):
        super().__init__(**kwargs)
        self._route = route
        self._state = state

    def _get_agent(self, request: Any, timeout: float) -> Any:
        if self._route is None:
            return super()._get_agent(request, timeout)
        from twisted.internet import reactor

        return TunnelAgent(
            reactor, self._route, self._state, contextFactory=self._contextFactory,
            connectTimeout=timeout, pool=self._pool,
        )  # fmt: skip
