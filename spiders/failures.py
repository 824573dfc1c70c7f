"""Naming why a fetch failed, as a short reason the crawl summary can group by."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

_REASONS = (
    (net.DNSLookupError, "dns"),
    (net.ConnectionRefusedError, "refused"),
    (net.TCPTimedOutError, "timeout"),
    (net.TimeoutError, "timeout"),
    (net.ConnectionLost, "reset"),
    (net.ConnectionDone, "reset"),
)


def describe_failure(failure: Failure) -> str:
    """``reason: detail``, e.g. ``dns: no address for example.invalid``."""
    value = failure.value
    detail = str(value).strip() or type(value).__name__
    for kind, reason in _REASONS:
        if failure.check(kind):
            return f"{reason}: {detail}"
    if failure.check(IgnoreRequest):
        if "robots.txt" in detail:
            return f"robots: {detail}"
        return f"ignored: {detail}"
    if failure.check(ResponseNeverReceived):
        inner = " ".join(str(r.value) for r in getattr(value, "reasons", []))
        if "SSL" in inner or "TLS" in inner or "certificate" in inner:
            return f"tls: {inner}"
        return f"no-response: {inner or detail}"
    name = type(value).__name__
    if "Timeout" in name:
        return f"timeout: {detail}"
    return f"error: {name}: {detail}"
