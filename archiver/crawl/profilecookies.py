"""Sending a login profile's cookies: to the profile's hosts only, by the cookies' rules.

A request carries the profile of its seed (``meta["archiver"]["profile"]``). Its
profile's cookies that apply to its URL (archiver/profiles/cookiefile.py) are added to
its ``Cookie`` header, after the site's own (Scrapy's cookie jar, or the browser's);
any profile cookie it is not entitled to (another host, another profile, a request
made signed out) is taken off, whoever put it there, so neither a redirect nor a
browser that keeps cookies by its own rules carries one elsewhere. The values never
leave the crawl's memory: request records show them redacted (archiver/secrets.py) and
the log scrubber knows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.crawl.meta import META
from archiver.profiles.store import Profile

SETTING = "ARCHIVER_LOGIN_PROFILES"  # set by the CLI only (a SignedIn); never stored


@dataclass(frozen=True)
class SignedIn:
    """The profiles a crawl's seeds are crawled as, with their cookies."""

    profiles: Mapping[str, Profile] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.profiles)

    def secrets(self) -> set[str]:
        found: set[str] = set()
        for profile in self.profiles.values():
            found |= profile.secrets()
        return found

    def cookie_values(self) -> dict[str, set[str]]:
        """Each cookie name with the values a profile gives it (what records redact)."""
        values: dict[str, set[str]] = {}
        for profile in self.profiles.values():
            for cookie in profile.cookies:
                values.setdefault(cookie.name, set()).add(cookie.value)
        return values

    def browser_cookies(self, name: str) -> list[dict[str, Any]]:
        """The profile's cookies as a Playwright context's storage state holds them."""
        return [
            {
                "name": cookie.name,
                "value": cookie.value,
                # A leading dot: the domain and its subdomains; none: that host alone.
                "domain": cookie.domain if cookie.host_only else f".{cookie.domain}",
                "path": cookie.path,
                "expires": cookie.expires or -1,
                "httpOnly": cookie.http_only,
                "secure": cookie.secure,
                "sameSite": "Lax",
            }
            for cookie in self.profiles[name].cookies
        ]


def _pairs(value: str) -> list[tuple[str, str, str]]:
    """A Cookie header's pairs: (name, value, as written)."""
    pairs = []
    for part in value.split(";"):
        if part.strip():
            name, _, rest = part.strip().partition("=")
            pairs.append((name.strip(), rest.strip(), part.strip()))
    return pairs


class ProfileCookiesMiddleware:
    """Adds a request's profile cookies, and takes off those it may not carry."""

    def __init__(self, signed_in: SignedIn):
        self.signed_in = signed_in
        self.all_pairs = {
            (cookie.name, cookie.value)
            for profile in signed_in.profiles.values()
            for cookie in profile.cookies
        }

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProfileCookiesMiddleware:
        from scrapy.exceptions import NotConfigured

        signed_in = crawler.settings.get(SETTING)
        if not isinstance(signed_in, SignedIn) or not signed_in:
            raise NotConfigured("no seed is crawled as a login profile")
        return cls(signed_in)

    def process_request(self, request: Any, spider: Any = None) -> None:
        name = (request.meta.get(META) or {}).get("profile")
        profile = self.signed_in.profiles.get(name) if name else None
        entitled = profile.cookies_for(request.url) if profile is not None else []
        allowed = {(cookie.name, cookie.value) for cookie in entitled}
        current = request.headers.get("Cookie")
        have = _pairs(current.decode("latin-1")) if current else []
        kept = [p for p in have if p[:2] not in self.all_pairs or p[:2] in allowed]
        names = {pair[0] for pair in kept}
        # The site's own cookie of the same name (set since, by the site) wins, as in a
        # browser whose cookie the site replaced.
        kept += [(c.name, c.value, f"{c.name}={c.value}") for c in entitled if c.name not in names]
        if kept == have:
            return None
        if kept:
            request.headers["Cookie"] = "; ".join(pair[2] for pair in kept)
        else:
            del request.headers["Cookie"]
        return None
