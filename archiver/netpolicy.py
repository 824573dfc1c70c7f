"""Which addresses a crawl may connect to.

By default only globally routable addresses: a seed list, a redirect or a DNS answer
must not turn the crawler against loopback, private networks, link-local addresses
(the cloud metadata service at 169.254.169.254 among them) or other special ranges.
``ARCHIVER_ALLOW_PRIVATE_NETWORKS=1`` (environment or setting) lifts the rule;
``ARCHIVER_ALLOW_NETWORKS`` lifts it for listed networks only (an intranet, say).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass

from archiver.errors import ArchiverError

ENV_VAR = "ARCHIVER_ALLOW_PRIVATE_NETWORKS"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def env_allows_private() -> bool:
    return os.environ.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


def parse_networks(
    values: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ArchiverError(
                f"ARCHIVER_ALLOW_NETWORKS: {value!r} is not a network (write e.g. 10.1.2.0/24)"
            ) from None
    return tuple(networks)


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def refusal(self, address: str) -> str | None:
        """Why ``address`` may not be crawled, or None when it may."""
        if self.allow_private:
            return None
        try:
            ip: IPAddress = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
        except ValueError:
            return None  # not an IP literal: checked once resolved
        if isinstance(ip, ipaddress.IPv6Address):
            ip = embedded_ipv4(ip) or ip
        if ip.is_global or any(ip in network for network in self.allowed):
            return None
        return (
            f"{ip} is a {_kind(ip)} address, refused so that crawls cannot reach internal"
            f" services; set {ENV_VAR}=1 (or ARCHIVER_ALLOW_NETWORKS) to allow it"
        )


# NAT64 (RFC 6052, RFC 8215) and IPv4-translated (RFC 2765) prefixes: the low 32 bits are IPv4.
_TRANSLATED = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo, NAT64, compatible),
    which is where a connection to it may end up."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _TRANSLATED) or int(ip) >> 32 == 0:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip: IPAddress) -> str:
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    return "non-public"
