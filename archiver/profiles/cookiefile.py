"""Netscape cookie files (``cookies.txt``) and the cookie rules a profile sends them by.

The format browser extensions and ``yt-dlp --cookies`` write: one cookie a line, seven
fields separated by tabs (domain, include subdomains, path, secure, expiry, name,
value); ``#`` starts a comment, except ``#HttpOnly_`` before a domain, which marks an
HttpOnly cookie (as curl and Python's MozillaCookieJar read it). Messages never quote a
line: it holds a value.

A profile's cookies go to its hosts only (``weibo.com`` covers weibo.com and its
subdomains), and there by the cookie's own rules (RFC 6265 §5.4): its domain (a
host-only cookie to that host alone), its path, https only when secure, and not once
expired.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from archiver.errors import ArchiverError, InvalidProfile
from archiver.urls import normalize_host

HTTPONLY_PREFIX = "#HttpOnly_"
HEADER = "# Netscape HTTP Cookie File"
LAYOUT = "DOMAIN, TRUE|FALSE, PATH, TRUE|FALSE, EXPIRES, NAME, VALUE, separated by tabs"
EXPORT_HINT = (
    "export the cookies of a signed-in browser as a Netscape cookies.txt (a browser"
    " extension such as 'Get cookies.txt LOCALLY', or yt-dlp --cookies-from-browser"
    " firefox --cookies cookies.txt)"
)


@dataclass(frozen=True)
class Cookie:
    domain: str  # lower case, without the leading dot
    host_only: bool  # sent to the domain itself only, not its subdomains
    path: str
    secure: bool
    http_only: bool
    expires: int  # seconds since the epoch; 0 for a session cookie
    name: str
    value: str = field(repr=False)  # a secret: never in a message, a log line or the catalog

    @property
    def shown_domain(self) -> str:
        return self.domain if self.host_only else f".{self.domain}"

    def expired(self, now: float) -> bool:
        return self.expires != 0 and self.expires <= now

    def expires_iso(self) -> str | None:
        if not self.expires:
            return None
        return datetime.fromtimestamp(self.expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def reaches(self, host: str) -> bool:
        """Whether a browser sends this cookie to ``host`` (RFC 6265 §5.1.3)."""
        if self.host_only or _is_ip(host):
            return host == self.domain
        return host == self.domain or host.endswith("." + self.domain)

    def concerns(self, hosts: Iterable[str]) -> bool:
        """Whether it would go to any of ``hosts`` or their subdomains."""
        return any(
            self.reaches(host) or self.domain == host or self.domain.endswith("." + host)
            for host in hosts
        )

    def line(self) -> str:
        prefix = HTTPONLY_PREFIX if self.http_only else ""
        flags = ("FALSE" if self.host_only else "TRUE", "TRUE" if self.secure else "FALSE")
        return "\t".join(
            (f"{prefix}{self.shown_domain}", flags[0], self.path, flags[1], str(self.expires),
             self.name, self.value)
        )  # fmt: skip


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _flag(text: str, what: str, where: str) -> bool:
    value = text.strip().upper()
    if value not in ("TRUE", "FALSE"):
        raise InvalidProfile(f"{where}: the {what} field must be TRUE or FALSE ({LAYOUT})")
    return value == "TRUE"


def parse_line(text: str, where: str) -> Cookie | None:
    """One line of a cookie file: a cookie, or None for a comment or a blank line."""
    http_only = text.startswith(HTTPONLY_PREFIX)
    if http_only:
        text = text[len(HTTPONLY_PREFIX) :]
    elif not text.strip() or text.lstrip().startswith("#"):
        return None
    parts = text.rstrip("\r\n").split("\t")
    if len(parts) == 6:  # an empty value, its tab trimmed by an editor
        parts.append("")
    if len(parts) != 7:
        spaces = " (the fields must be separated by tabs, not spaces)" if len(parts) < 3 else ""
        raise InvalidProfile(
            f"{where}: not a Netscape cookie line: {len(parts)} field(s) instead of 7"
            f"{spaces}; each line is {LAYOUT}"
        )
    domain, subdomains, path, secure, expires, name, value = parts
    domain = domain.strip().lower()
    if not domain or not name.strip():
        raise InvalidProfile(f"{where}: a cookie needs a domain and a name ({LAYOUT})")
    try:
        seconds = int(float(expires.strip() or "0"))
    except ValueError:
        raise InvalidProfile(
            f"{where}: the expiry must be a number (seconds since 1970; 0 for a session cookie)"
        ) from None
    include = _flag(subdomains, "include-subdomains", where)
    return Cookie(
        domain=domain.lstrip("."),
        host_only=not include and not domain.startswith("."),
        path=path.strip() or "/",
        secure=_flag(secure, "secure", where),
        http_only=http_only,
        expires=max(seconds, 0),
        name=name.strip(),
        value=value,
    )


def read_cookie_file(path: Path) -> list[Cookie]:
    """Every cookie in the file at ``path``; InvalidProfile saying what is wrong and how
    to fix it (a missing, unreadable or malformed file)."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidProfile(f"cookie file {shown}: no such file; {EXPORT_HINT}") from None
    except IsADirectoryError:
        raise InvalidProfile(
            f"cookie file {shown} is a folder: give the cookies.txt file in it"
        ) from None
    except OSError as exc:
        raise InvalidProfile(
            f"cannot read cookie file {shown}: {exc.strerror or exc}; check that it is yours"
            " and readable (chmod 600 it)"
        ) from None
    if data.startswith(b"SQLite format 3") or b"\x00" in data[:4096]:
        raise InvalidProfile(
            f"cookie file {shown} is a browser's cookie database, not a cookies.txt: {EXPORT_HINT}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidProfile(f"cookie file {shown} is not UTF-8 text: {EXPORT_HINT}") from None
    cookies = []
    for number, line in enumerate(text.splitlines(), start=1):
        cookie = parse_line(line, f"cookie file {shown}, line {number}")
        if cookie is not None:
            cookies.append(cookie)
    if not cookies:
        raise InvalidProfile(f"cookie file {shown} holds no cookies: {EXPORT_HINT}")
    return cookies


def check_hosts(text: str) -> tuple[str, ...]:
    """``--hosts a.example,b.example`` as host names (lower case, IDNA), in order."""
    hosts: list[str] = []
    for item in text.replace(" ", ",").split(","):
        spec = item.strip().lstrip(".").rstrip(".")
        if not spec:
            continue
        parts = urlsplit("//" + spec)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
            host = normalize_host(parts.hostname or "", spec).strip("[]")
        except (ArchiverError, ValueError):
            host = ""
        if not host or "://" in spec or parts.port or parts.path or parts.username:
            raise InvalidProfile(
                f"--hosts {item.strip()!r} is not a host name: give host names separated by"
                " commas, such as --hosts weibo.com,m.weibo.cn (each covers its subdomains)"
            )
        if host not in hosts:
            hosts.append(host)
    if not hosts:
        raise InvalidProfile(
            "--hosts is empty: give the sites the cookies are for, such as --hosts weibo.com"
        )
    return tuple(hosts)


def within(host: str, hosts: Sequence[str]) -> bool:
    """``host`` is one of ``hosts`` or a subdomain of one."""
    return any(host == h or (not _is_ip(host) and host.endswith("." + h)) for h in hosts)


def path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4."""
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def cookies_for(url: str, cookies: Sequence[Cookie], hosts: Sequence[str]) -> list[Cookie]:
    """The cookies to send with a request for ``url``: none outside ``hosts``."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return []
    if not within(host, hosts):
        return []
    now = time.time()
    path = parts.path or "/"
    https = parts.scheme.lower() == "https"
    return [
        cookie
        for cookie in cookies
        if cookie.reaches(host)
        and path_matches(path, cookie.path)
        and (https or not cookie.secure)
        and not cookie.expired(now)
    ]


def write_lines(cookies: Iterable[Cookie], comment: str) -> str:
    """A cookie file of ``cookies`` (what the home keeps of a profile)."""
    lines = [HEADER, f"# {comment}", ""]
    lines += [cookie.line() for cookie in cookies]
    return "\n".join(lines) + "\n"
