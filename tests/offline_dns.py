"""A Scrapy DNS resolver for tests: names under ``.invalid`` (RFC 6761) fail at once.

Tests must never send traffic off the machine, a DNS query included, so an
unresolvable name is answered here instead of by the system resolver.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from scrapy.resolver import CachingThreadedResolver


class OfflineResolver(CachingThreadedResolver):
    def getHostByName(self, name, timeout=()):  # noqa: N802 - Twisted interface
        if name.endswith(".invalid"):
            return defer.fail(DNSLookupError(f"no address for {name} (offline test resolver)"))
        return super().getHostByName(name, timeout)
