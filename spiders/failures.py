"""Naming why a fetch failed, as a short reason the crawl summary can group by."""

from __future__ import annotations

from scrapy import exceptions as scrapy_errors
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import BadResponseVersion, ParseError

from archiver.crawl.tap import AddressRefused

# Scrapy 2.19 wraps Twisted's errors in its own; both are listed so either matches.
_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (scrapy_errors.CannotResolveHostError, "dns"),
    (net.DNSLookupError, "dns"),
    (scrapy_errors.DownloadConnectionRefusedError, "refused"),
    (net.ConnectionRefusedError, "refused"),
    (scrapy_errors.DownloadTimeoutError, "timeout"),
    (net.TimeoutError, "timeout"),
    (scrapy_errors.ResponseDataLossError, "incomplete"),
    (scrapy_errors.UnsupportedURLSchemeError, "unsupported"),
)
_TLS_MARKERS = ("SSL", "TLS", "certificate", "handshake")
# The server answered, but not with HTTP we can read (an invalid status line, say).
_BAD_RESPONSE = (ParseError, BadResponseVersion)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes, and the failures Twisted nests in ``reasons``."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        if current.__cause__ is not None:
            todo.append(current.__cause__)
        for reason in getattr(current, "reasons", None) or []:
            value = getattr(reason, "value", None)
            if isinstance(value, BaseException):
                todo.append(value)
    return seen


def describe_failure(failure: Failure) -> str:
    """``reason: detail``, e.g. ``dns: no address for example.invalid``."""
    value = failure.value
    detail = " ".join(str(value).split()) or type(value).__name__
    chain = _chain(value)
    for kind, reason in _REASONS:
        if any(isinstance(exc, kind) for exc in chain):
            return f"{reason}: {detail}"
    if isinstance(value, AddressRefused):
        return f"private-network: {detail}"
    if isinstance(value, scrapy_errors.IgnoreRequest):
        if "robots.txt" in detail:
            return f"robots: {detail}"
        return f"ignored: {detail}"
    if any(isinstance(exc, _BAD_RESPONSE) for exc in chain):
        return f"bad-response: {detail}"
    inner = " ".join(f"{type(exc).__name__} {exc}" for exc in chain)
    if any(marker in inner for marker in _TLS_MARKERS):
        return f"tls: {detail}"
    if any(isinstance(exc, net.ConnectionLost | net.ConnectionDone) for exc in chain):
        return f"reset: {detail}"
    return f"error: {type(value).__name__}: {detail}"
