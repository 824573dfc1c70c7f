"""A Scrapy DNS resolver for tests: names under ``.invalid`` (RFC 6761) fail at once.

Tests must never send traffic off the machine, a DNS query included, so an
unresolvable name is answered here instead of by the system resolver.
"""

from __future__ import annotations

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError


class OfflineResolver(CachingThreadedResolver):
    """``*.invalid`` does not resolve; ``*.loopback.test`` resolves to 127.0.0.2."""

    def getHostByName(self, name, timeout=()):
        if name.endswith(".invalid"):
            return defer.fail(DNSLookupError(f"no address for {name} (offline test resolver)"))
        if name.endswith(".loopback.test"):
            return defer.succeed("127.0.0.2")
        return super().getHostByName(name, timeout)
