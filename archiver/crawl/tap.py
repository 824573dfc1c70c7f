"""A protocol-level tap under Scrapy's HTTP/1.1 download handler.

Scrapy decodes content-encoding, de-chunks and normalizes headers before any
middleware sees a response, so a faithful record has to be taken lower down
(DESIGN §2). The handler here installs its own connection factory; its protocol,
a subclass of Scrapy's HTTP/1.1 client protocol, tees every byte written to the
transport (the exact request) and the raw response head received (interim ``1xx``
heads kept apart), and takes the entity from the parser's transfer decoder
(de-chunked, still content-encoded; the chunk framing is not kept, the trailer fields
are). Over TLS the protocol sits above the TLS layer, so it sees plaintext.

These are private Scrapy and Twisted internals: pyproject pins the Scrapy range and
``tests/test_tap_internals.py`` fails loudly if an upgrade moves them.

Each Scrapy request is matched to its exchange by a marker header that the
protocol removes before anything is written, so it never goes over the wire.

On a TLS connection the protocol also takes, once, what the server presented (version,
cipher suite, certificate chain) from the OpenSSL connection below it, and has the chain
checked (archiver/capture/peertls.py); every exchange on the connection carries it.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import uuid
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from OpenSSL import SSL

from archiver.crawl.startup import cheap_stack

with cheap_stack():  # Scrapy's deprecated-class shims read every frame's source: 45 ms
    from scrapy.core.downloader.handlers.http11 import (
        HTTP11DownloadHandler,
        _LenientHTTP11ClientFactory,
        _LenientHTTP11ClientProtocol,
        _LenientHTTPClientParser,
    )
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils._download_handlers import wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import fail
from twisted.internet.error import ConnectionDone
from twisted.web.http import _IdentityTransferDecoder

from archiver.capture.exchange import Exchange, Limits
from archiver.capture.peertls import PeerTls
from archiver.capture.tlsverify import TrustStore
from archiver.catalog.db import utc_now
from archiver.crawl.meta import META, VANTAGE, VANTAGE_SEEN
from archiver.crawl.tunnel import ProxyFailure, RoutedAgent, TunnelState

logger = logging.getLogger(__name__)

MARKER = b"X-Archiver-Exchange"
RECORDED = "archiver_recorded"  # request.meta: this attempt's records are written
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS}


class AddressRefused(IgnoreRequest):
    """The URL leads to an address the crawl may not reach (see archiver/netpolicy.py)."""


class CaptureTruncated(IgnoreRequest):
    """The body was cut at the size or time limit; its records are written (WARC-Truncated)."""


class _TeeTransport:
    """Wraps the connection's transport; every write is also given to the exchange."""

    def __init__(self, transport: Any, protocol: RecordingProtocol):
        self._transport = transport
        self._protocol = protocol

    def write(self, data: bytes) -> None:
        self._protocol.tee_out(data)
        self._transport.write(data)

    def writeSequence(self, seq: list[bytes]) -> None:
        data = b"".join(seq)
        self._protocol.tee_out(data)
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _TappedParser(_LenientHTTPClientParser):
    """Scrapy's lenient response parser, with the de-chunked entity teed to the exchange."""

    archiver_exchange: Exchange | None = None
    archiver_protocol: RecordingProtocol | None = None

    def switchToBodyMode(self, decoder: Any) -> None:
        exchange = self.archiver_exchange
        if exchange is not None and hasattr(decoder, "dataCallback"):
            deliver = decoder.dataCallback
            protocol = self.archiver_protocol
            # Scrapy keeps every body it is given in memory; the spool has the whole body,
            # so Scrapy gets only what the spider parses: the head of a text body.
            budget = [exchange.limits.parse_bytes if _is_text(exchange) else 0]

            def tee(data: bytes) -> None:
                try:
                    kept = exchange.on_body(data)
                except OSError as exc:  # the body spool cannot be written (disk full)
                    exchange.spool_error = exc
                    if protocol is not None:
                        protocol.transport.abortConnection()
                    return
                if budget[0] > 0 and kept:
                    deliver(kept[: budget[0]])
                    budget[0] -= len(kept)
                if len(kept) < len(data) and protocol is not None:
                    protocol.abort_for_limit()

            decoder.dataCallback = tee
            if hasattr(decoder, "_trailerHeaders"):  # chunked: keep the trailer fields
                finished = decoder.finishCallback

                def trailers(rest: bytes) -> None:
                    exchange.on_trailers(decoder._trailerHeaders)
                    finished(rest)

                decoder.finishCallback = trailers
        super().switchToBodyMode(decoder)


def _is_text(exchange: Exchange) -> bool:
    content_type = (exchange.header("Content-Type") or "").split(";")[0].strip().lower()
    return content_type.startswith("text/") or content_type in (
        "application/xhtml+xml",
        "application/xml",
    )


class RecordingProtocol(_LenientHTTP11ClientProtocol):
    def __init__(self, quiescent_callback: Any, registry: dict[str, Exchange], trust: TrustStore):
        super().__init__(quiescent_callback)
        self._registry = registry
        self._trust = trust
        self._exchange: Exchange | None = None
        self._timer: Any = None
        self._tls: PeerTls | None = None
        self._tls_seen = False  # the connection was looked at (TLS or not)

    def makeConnection(self, transport: Any) -> None:
        super().makeConnection(_TeeTransport(transport, self))

    def tee_out(self, data: bytes) -> None:
        if self._exchange is not None:
            self._exchange.on_request_bytes(data)

    def request(self, request: Any) -> Any:
        tokens = request.headers.getRawHeaders(MARKER)
        exchange = None
        if tokens:
            request.headers.removeHeader(MARKER)
            exchange = self._registry.get(tokens[0].decode("ascii"))
        if exchange is not None:
            exchange.started_at = utc_now()
            try:
                # DESIGN §9: through a proxy the peer is the proxy, and the origin's
                # address is never learnt, so WARC-IP-Address is for direct connections.
                direct = exchange.vantage is None
                exchange.ip_address = str(self.transport.getPeer().host) if direct else None
            except Exception:
                exchange.ip_address = None
            # Second guard of the address policy: the address actually connected to, in
            # case DNS answered differently than when the handler checked. Nothing is sent.
            policy = exchange.address_policy
            if policy is not None and exchange.ip_address:
                refusal = policy.refusal(exchange.ip_address)
                if refusal:
                    exchange.refused = refusal
                    self.transport.abortConnection()
                    return fail(AddressRefused(refusal))
        self._exchange = exchange
        if exchange is not None and exchange.limits.max_seconds:
            from twisted.internet import reactor

            self._timer = reactor.callLater(exchange.limits.max_seconds, self._time_limit)
        deferred = super().request(request)
        if exchange is not None and self._parser is not None:
            self._parser.__class__ = _TappedParser
            self._parser.archiver_exchange = exchange
            self._parser.archiver_protocol = self
        return deferred

    def dataReceived(self, data: bytes) -> None:
        exchange = self._exchange
        if exchange is not None:
            if not self._tls_seen:  # the handshake is over once application data arrives
                self._tls_seen = True
                self._tls = _observe_tls(self.transport._transport, exchange.url, self._trust)
            exchange.tls = self._tls
            exchange.on_response_bytes(data)
            if exchange.head_overflow:  # a header flood: stop reading it
                self.transport.abortConnection()
                return
        super().dataReceived(data)

    def _end_exchange(self, **outcome: Any) -> None:
        exchange, self._exchange = self._exchange, None
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if exchange is not None:
            exchange.finish(**outcome)

    def _finishResponse_WAITING(self, rest: bytes) -> None:
        self._end_exchange()
        super()._finishResponse_WAITING(rest)

    _finishResponse_TRANSMITTING = _finishResponse_WAITING

    def connectionLost(self, reason: Any = None) -> None:
        if self._exchange is not None:
            if self._body_ends_at_close() and reason is not None and reason.check(ConnectionDone):
                self._end_exchange()  # RFC 9112 §6.3: no length given, so close ends the body
            else:
                self._end_exchange(truncated="disconnect", error=_describe(reason))
        super().connectionLost(reason)

    def _body_ends_at_close(self) -> bool:
        decoder = getattr(self._parser, "bodyDecoder", None)
        return isinstance(decoder, _IdentityTransferDecoder) and decoder.contentLength is None

    def _time_limit(self) -> None:
        self._timer = None
        if self._exchange is not None:
            self._exchange.truncated = "time"
            self._exchange.error = (
                f"cut at the time limit ({self._exchange.limits.max_seconds:g} s)"
            )
            self.transport.abortConnection()

    def abort_for_limit(self) -> None:
        if self._exchange is not None:
            limit = self._exchange.limits.max_body_bytes
            self._exchange.error = f"cut at the size limit ({limit} bytes)"
        self.transport.abortConnection()


def _is_localhost(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _proxy_detail(exc: BaseException, route: Any) -> str:
    """What went wrong with the proxy, for the failure's reason."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        if isinstance(current, ProxyFailure):
            return str(current)
        seen.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"no tunnel through vantage point {route.name!r}: {text}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _observe_tls(transport: Any, url: str, trust: TrustStore) -> PeerTls | None:
    """What the server of a TLS connection presented; None on a plain connection. Both a
    direct connection (Twisted's TLS wrapper) and a tunnel through a proxy (``startTLS``)
    give the OpenSSL connection through ``getHandle``."""
    get_handle = getattr(transport, "getHandle", None)
    connection = get_handle() if get_handle is not None else None
    if not isinstance(connection, SSL.Connection):
        return None
    parts = urlsplit(url)
    try:
        chain = connection.get_peer_cert_chain(as_cryptography=True) or []
        return PeerTls.observe(
            version=connection.get_protocol_version_name(),
            cipher=connection.get_cipher_name(),
            chain=chain,
            host=parts.hostname or "",
            port=parts.port or 443,
            at=utc_now(),
            trust=trust,
        )
    except Exception:  # never let the record of the connection stop the fetch
        logger.exception("could not read the TLS connection of %s", url)
        return None


def _describe(reason: Any) -> str:
    value = getattr(reason, "value", reason)
    return f"{type(value).__name__}: {value}" if value is not None else "connection lost"


class _RecordingFactory(_LenientHTTP11ClientFactory):
    def __init__(
        self,
        quiescent_callback: Any,
        metadata: Any,
        registry: dict[str, Exchange],
        trust: TrustStore,
    ):
        super().__init__(quiescent_callback, metadata)
        self._registry = registry
        self._trust = trust

    def buildProtocol(self, addr: Any) -> RecordingProtocol:
        return RecordingProtocol(self._quiescentCallback, self._registry, self._trust)


class ArchivingDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler with every exchange recorded through the session."""

    def __init__(self, crawler: Any):
        super().__init__(crawler)
        session = getattr(crawler, "archiver_session", None)
        if session is None:
            raise NotConfigured("ArchivingDownloadHandler needs the archiver session extension")
        self._session = session
        self._registry: dict[str, Exchange] = {}
        # Certificates are not verified by the connection (DOWNLOAD_VERIFY_CERTIFICATES
        # stays off: a page behind a bad certificate is still captured); each chain is
        # checked against this store and the verdict recorded.
        trust = TrustStore.load(session.config.tls_ca_file)
        self._pool._factory = partial(_RecordingFactory, registry=self._registry, trust=trust)
        # Twisted would resend a request on a fresh connection when a pooled one turns
        # out stale, reusing the request whose marker is gone; Scrapy's RetryMiddleware
        # retries instead, as a new, recorded exchange.
        self._pool.retryAutomatically = False
        # A connection goes back to the pool just after its response reached Scrapy,
        # which has started the next request by then, on a new connection: with room for
        # only as many idle connections as requests in flight, every other connection
        # was closed on its return (half the fetches of a loopback crawl opened one).
        self._pool.maxPersistentPerHost *= 2
        self._routes = session.config.vantages
        self._spool_dir = str(session.body_spool_dir)
        self._limits = Limits(
            max_body_bytes=session.config.max_body_bytes,
            max_seconds=session.config.max_fetch_seconds,
            parse_bytes=session.config.max_parse_bytes,
        )

    async def _check_address(self, request: Any, route: Any) -> None:
        """Refuse before connecting when the host is, or resolves to, a refused address.
        Through a vantage point the proxy resolves names, in its own network: an address
        given in the URL is checked, and ``localhost``; the proxy's own address is not,
        since it is the vantage point the operator chose. A ``socks5://`` proxy is given the
        address the crawler resolved: that address is checked, as for a direct fetch."""
        proxied = route is not None
        policy = self._session.config.address_policy
        if policy.allow_private or request.meta.get("proxy"):
            return
        host = urlparse_cached(request).hostname or ""
        refusal = policy.refusal(host)
        if proxied and refusal is None and _is_localhost(host):
            refusal = policy.refusal("127.0.0.1")
        resolved_here = route is None or not route.remote_dns
        if refusal is None and not _is_ip(host) and resolved_here:
            from twisted.internet import reactor

            try:
                address = await maybe_deferred_to_future(reactor.resolve(host))
            except Exception:
                return
            refusal = policy.refusal(address)
        if refusal:
            raise AddressRefused(refusal)

    def _route(self, request: Any) -> Any:
        """The vantage point this request goes through (None: a direct connection). A
        name the crawl was not given fails the fetch: it never goes out directly."""
        name = request.meta.get(VANTAGE)
        if name is None and META not in request.meta:  # Scrapy's own: robots.txt
            netloc = urlparse_cached(request).netloc
            name = self._session.vantage_of_host.get(netloc)
            if name is not None:
                # A redirect is a new request carrying this one's meta: a robots.txt moved
                # to another host is fetched through the same vantage point, never directly.
                request.meta[VANTAGE] = name
        if name is None:
            return None
        route = self._routes.get(name)
        if route is None:
            request.meta["archiver_error"] = f"proxy: vantage point {name!r} is not known"
            raise ProxyFailure(f"vantage point {name!r} is not known")
        return route

    async def _download(self, request: Any, route: Any, state: TunnelState) -> Any:
        """Scrapy's download, with the agent that sends a request through its vantage."""
        if route is None:
            return await super().download_request(request)
        agent = RoutedAgent(
            route=route,
            state=state,
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        with wrap_twisted_exceptions():
            return await maybe_deferred_to_future(agent.download_request(request))

    async def download_request(self, request: Any) -> Any:
        request.meta.pop(RECORDED, None)  # set again below if this attempt is recorded
        route = self._route(request)
        if route is not None:
            # An environment proxy (Scrapy's HttpProxyMiddleware reads http_proxy and
            # friends) never carries a vantage point's requests, and its credentials are
            # never sent into the tunnel, to the origin.
            request.meta.pop("proxy", None)
            request.meta.pop("_auth_proxy", None)
            request.headers.pop(b"Proxy-Authorization", None)
        await self._check_address(request, route)
        token = uuid.uuid4().hex
        exchange = Exchange(
            url=request.url, started_at=utc_now(), limits=self._limits, spool_dir=self._spool_dir
        )
        if route is not None:
            exchange.vantage = request.meta[VANTAGE_SEEN] = route.seen
        else:
            request.meta.pop(VANTAGE_SEEN, None)  # a redirect's copy of its source's meta
        if route is None and not request.meta.get("proxy"):
            exchange.address_policy = self._session.config.address_policy
        self._registry[token] = exchange
        request.headers[MARKER] = token
        state = TunnelState()
        try:
            response = await self._download(request, route, state)
        except Exception as exc:
            if route is not None and not exchange.has_response and state.opened is False:
                # Fail closed (DESIGN §9): no tunnel, no fetch, and never a direct one.
                exchange.discard()
                detail = _proxy_detail(exc, route)
                request.meta["archiver_error"] = f"proxy: {detail}"
                raise ProxyFailure(detail) from exc
            if exchange.refused:
                exchange.discard()
                raise AddressRefused(exchange.refused) from exc
            unwritable = exchange.spool_error or exc
            if isinstance(unwritable, OSError) and unwritable.errno in DISK_FULL_ERRNOS:
                exchange.discard()
                self._session.stop_unwritable(unwritable)
                raise
            if exchange.has_response and exchange.status_line()[1] is None:
                # Not an HTTP response (an invalid status line): no application/http record
                # can hold it, so it is a failed fetch, named as such.
                line = exchange.raw_head.split(b"\n", 1)[0].strip()[:200]
                request.meta["archiver_error"] = f"bad-response: invalid status line {line!r}"
                exchange.discard()
            elif exchange.has_response:
                exchange.finish(truncated="disconnect", error=f"{type(exc).__name__}: {exc}")
                self._session.record_now(exchange, request)
                request.meta[RECORDED] = True
                if exchange.truncated in ("length", "time"):
                    raise CaptureTruncated(exchange.error or exchange.truncated) from exc
            else:
                exchange.discard()
                if exchange.truncated == "time":
                    request.meta["archiver_error"] = f"timeout: {exchange.error}"
                elif exchange.head_overflow:
                    request.meta["archiver_error"] = exchange.error
                elif exchange.longest_partial_line() > _LenientHTTPClientParser.MAX_LENGTH:
                    request.meta["archiver_error"] = (
                        "bad-response: a header line longer than"
                        f" {_LenientHTTPClientParser.MAX_LENGTH} bytes"
                    )
            raise
        finally:
            del self._registry[token]
            request.headers.pop(MARKER, None)
        if not exchange.has_response:
            raise RuntimeError(
                "archiver tap saw no response bytes for a completed download: the Scrapy "
                "internals it relies on have changed"
            )
        exchange.finish()
        self._session.hand_to_spider(exchange, request)
        return response
