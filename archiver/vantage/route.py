"""How a crawl reaches a vantage point's proxy, and what it records of it.

A crawl is given the vantage points it may use as :class:`Route` s (the ``vantages``
rows, their passwords still ``env:VARIABLE`` references); the password is read from the
environment only when the proxy is used, by :meth:`Route.credentials`. A proxy URL with a
user and no password is asked for it, as curl does: a crawl at a terminal asks once and
puts the answer in its own environment (:func:`asked_variable`), never anywhere else. What a capture
records is :class:`Seen`: the name, the country and the proxy kind, never the proxy's
address or credentials (DESIGN §9).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from archiver.catalog.vantages import VantageRow
from archiver.errors import InvalidVantage
from archiver.vantage.proxyurl import parse_proxy


def asked_variable(name: str) -> str:
    """Where a crawl keeps the password it asked for vantage point ``name``, for its own
    run (and the jobs it starts) only: ``ARCHIVER_PROXY_PASSWORD_HK_1``."""
    return "ARCHIVER_PROXY_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


@dataclass(frozen=True)
class Seen:
    """What a capture records of the vantage point it was fetched through."""

    name: str
    country: str | None
    kind: str
    egress: str | None = None  # the address the egress probe saw (ARCHIVER_EGRESS_PROBE_URL)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "country": self.country, "kind": self.kind,
                "egress": self.egress}  # fmt: skip

    def warc_fields(self) -> list[tuple[str, str]]:
        """The vantage fields of a metadata or warcinfo record."""
        fields = [("vantage", self.name), ("vantage-proxy-kind", self.kind)]
        if self.country:
            fields.append(("vantage-country", self.country))
        if self.egress:
            fields.append(("vantage-egress-ip", self.egress))
        return fields

    def label(self) -> str:
        """``hk-1 (HK)``: how a citation or a message names it."""
        return f"{self.name} ({self.country})" if self.country else self.name


@dataclass(frozen=True)
class Route:
    """A vantage point as a crawl uses it: where its proxy listens and how to speak to it."""

    name: str
    kind: str  # http, https, socks5, socks5h, tor
    host: str
    port: int
    username: str | None
    password_env: str | None
    country: str | None
    egress: str | None = None  # the address a probe saw its requests come from

    @classmethod
    def of(cls, row: VantageRow) -> Route:
        parsed = parse_proxy(row.proxy)
        user = urlsplit(parsed.url).username
        return cls(
            name=row.name,
            kind=parsed.kind,
            host=parsed.host,
            port=parsed.port,
            username=unquote(user) if user else None,
            password_env=parsed.password_env,
            country=row.country,
        )

    @property
    def password_variable(self) -> str | None:
        """The variable its password is read from: the one its URL names, or the one a
        crawl at a terminal keeps the password it asked for in; None without a user."""
        if self.password_env is not None:
            return self.password_env
        return asked_variable(self.name) if self.username else None

    @property
    def seen(self) -> Seen:
        return Seen(self.name, self.country, self.kind, self.egress)

    @property
    def remote_dns(self) -> bool:
        """Does the proxy resolve the target's name (socks5h, Tor, HTTP CONNECT)? Only a
        ``socks5://`` proxy is given an address the crawler looked up itself."""
        return self.kind != "socks5"

    def credentials(self) -> tuple[str, str] | None:
        """(user, password) for the proxy, the password read from its variable now; None
        when the proxy takes none. InvalidVantage when the variable is not set."""
        if self.password_env is None:
            if not self.username:
                return None
            return (self.username, os.environ.get(asked_variable(self.name), ""))
        password = os.environ.get(self.password_env)
        if not password:
            raise InvalidVantage(
                f"vantage point {self.name!r} takes its proxy password from"
                f" ${self.password_env}, which is not set: export it before crawling"
            )
        return (self.username or "", password)

    def to_setting(self) -> dict[str, object]:
        """The route as the crawl's ARCHIVER_VANTAGES setting holds it (no secret in it)."""
        return {
            "kind": self.kind, "host": self.host, "port": self.port,
            "username": self.username, "password_env": self.password_env,
            "country": self.country, "egress": self.egress,
        }  # fmt: skip

    @classmethod
    def from_setting(cls, name: str, value: dict[str, object]) -> Route:
        return cls(name=name, **value)  # type: ignore[arg-type]

    def warcinfo_fields(self) -> list[tuple[str, str]]:
        """What a warcinfo record says of a vantage point the crawl goes through."""
        return self.seen.warc_fields()
