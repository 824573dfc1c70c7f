"""Request headers scoped to hosts: credentials go only to the host they are for.

``archiver crawl --header-for HOST 'Name: value'`` (or a line of the credentials file,
which serves schedules) adds a header to the requests whose URL matches HOST:

- ``example.org``: that host exactly, on any port (as netrc and cookies match hosts);
- ``example.org:8443``: that host on that port only;
- ``.example.org``: example.org and all its subdomains;
- ``https://example.org``: over https only (a scheme may prefix any of the above).

Every request is judged by its own URL, so a requisite, a link, a browser subrequest
or a redirect to another host never carries them, and a request that a redirect
brought from https down to http never does either (as requests and curl strip
``Authorization``). The values are never stored: the job's settings snapshot keeps
the hosts and header names only, request records show the values redacted
(archiver/secrets.py) and the log scrubber knows them. A resume gives them again.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.errors import ArchiverError
from archiver.secrets import MIN_SECRET, is_secret_header
from archiver.urls import DEFAULT_PORTS, normalize_host

# scheme://host:port, [v6]:port: what a host argument may look like when it has a colon
HOST_LIKE = re.compile(r"(https?://)?\.?(\[[0-9a-fA-F:.]+\]|[^\s:=/\[\]]+)(:\d+)?/?")

SETTING = "ARCHIVER_HOST_HEADERS"  # set by the CLI only; not an -s setting, never stored
REDIRECTED_FROM = "archiver_redirected_from"  # request.meta: the hop before a redirect
CREDENTIALS_ENV = "ARCHIVER_CREDENTIALS"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_NOT_SETTABLE = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class HostRule:
    """Which URLs a header goes to (see the module docstring)."""

    host: str  # lowercase, IDNA, no trailing dot
    subdomains: bool = False
    port: int | None = None
    scheme: str | None = None

    @classmethod
    def parse(cls, spec: str) -> HostRule:
        text = spec.strip()
        scheme = None
        if "://" in text:
            scheme, _, text = text.partition("://")
            scheme = scheme.lower()
            if scheme not in DEFAULT_PORTS:
                raise _bad_host(spec, f"the scheme must be http or https, not {scheme!r}")
        subdomains = text.startswith(".")
        try:
            parts = urlsplit("//" + text.removeprefix(".").rstrip("/"))
            port = parts.port
        except ValueError:
            raise _bad_host(spec, "the port must be a number") from None
        host = (parts.hostname or "").rstrip(".")
        if not host or parts.path or parts.query or parts.username or "*" in host:
            raise _bad_host(spec, "write a host name, e.g. example.org, .example.org, host:8080")
        try:  # as seed URLs are normalized (UTS #46), so the rule meets the crawl's hosts
            host = normalize_host(f"[{host}]" if ":" in host else host, spec).strip("[]")
        except ArchiverError:
            raise _bad_host(spec, "not a valid host name") from None
        return cls(host, subdomains, port, scheme)

    def __str__(self) -> str:
        text = ("." if self.subdomains else "") + (
            f"[{self.host}]" if ":" in self.host else self.host
        )
        text += f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{text}" if self.scheme else text

    def matches(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
        except ValueError:
            return False
        host = (parts.hostname or "").rstrip(".").lower()
        if self.scheme is not None and parts.scheme.lower() != self.scheme:
            return False
        if self.port is not None and port != self.port:
            return False
        return host == self.host or (self.subdomains and host.endswith("." + self.host))


def _bad_host(spec: str, why: str) -> ArchiverError:
    return ArchiverError(f"bad --header-for host {_shown(spec)}: {why}")


def _shown(host: str) -> str:
    """A host argument as an error may show it: never one that looks like a header or a
    value (the arguments swapped would print the secret)."""
    if any(c in host for c in ":= \t") and not HOST_LIKE.fullmatch(host.strip()):
        return "(not shown: it looks like a header, not a host; the host comes first)"
    return repr(host)


@dataclass(frozen=True)
class HostHeader:
    rule: HostRule
    name: str
    value: str = field(repr=False)  # never in a log line or a traceback

    @classmethod
    def parse(cls, host: str, header: str) -> HostHeader:
        name, sep, value = header.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _TOKEN.match(name) or not value:
            raise ArchiverError(
                f"bad --header-for header for {_shown(host)}: write it as 'Name: value',"
                " e.g. --header-for example.org 'Authorization: Bearer TOKEN'"
            )
        if any(c in value for c in "\r\n\x00"):
            raise ArchiverError(f"bad --header-for header {name}: its value has a line break")
        if name.lower() in _NOT_SETTABLE:
            raise ArchiverError(f"--header-for cannot set {name}: the HTTP client sets it")
        return cls(HostRule.parse(host), name, value)


@dataclass(frozen=True)
class HostHeaders:
    headers: tuple[HostHeader, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.headers)

    def over(self, base: HostHeaders) -> HostHeaders:
        """These, and those of ``base`` (the credentials file) they do not replace."""
        mine = {(str(h.rule), h.name.lower()) for h in self.headers}
        kept = tuple(h for h in base.headers if (str(h.rule), h.name.lower()) not in mine)
        return HostHeaders(kept + self.headers)

    def summary(self) -> dict[str, list[str]]:
        """Hosts and header names, for the job's settings snapshot (never the values)."""
        out: dict[str, list[str]] = {}
        for h in self.headers:
            out.setdefault(str(h.rule), []).append(h.name)
        return out

    def secrets(self) -> set[str]:
        """Strings no log line may hold: each value, and the long words of it."""
        found = set()
        for h in self.headers:
            if len(h.value) >= MIN_SECRET:
                found.add(h.value)
            found.update(word for word in re.split(r"[\s;]+", h.value) if len(word) >= 8)
        return found

    def pairs(self) -> list[tuple[str, str]]:
        return [(h.name, h.value) for h in self.headers]


def parse_options(options: Iterable[tuple[str, str]]) -> HostHeaders:
    return HostHeaders(tuple(HostHeader.parse(host, header) for host, header in options))


def credentials_path(home: Path, environ: Mapping[str, str] = os.environ) -> Path | None:
    """``$ARCHIVER_CREDENTIALS`` (which must exist), else ``HOME/credentials`` if it does."""
    named = environ.get(CREDENTIALS_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ArchiverError(f"{CREDENTIALS_ENV}={named}: no such file")
        return path
    path = home / "credentials"
    return path if path.is_file() else None


def load_credentials(path: Path) -> HostHeaders:
    """A credentials file: one ``HOST Name: value`` a line, ``#`` comments. Like ssh with
    a private key, a file that other users may read or change is refused."""
    info = path.stat()
    if info.st_mode & 0o077 or info.st_uid != os.getuid():
        mode = stat.filemode(info.st_mode)
        raise ArchiverError(
            f"credentials file {path} is open to other users ({mode}) or not yours:"
            f" make it private with 'chmod 600 {path}'"
        )
    headers = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        host, _, header = text.replace("\t", " ").partition(" ")
        try:
            headers.append(HostHeader.parse(host, header.strip()))
        except ArchiverError as exc:
            # The message names the line, never its value.
            raise ArchiverError(f"credentials file {path}, line {number}: {exc}") from None
    return HostHeaders(tuple(headers))


def collect(home: Path, options: Iterable[tuple[str, str]]) -> HostHeaders:
    """The credentials file's headers, with ``--header-for`` ones over them."""
    given = parse_options(options)
    path = credentials_path(home)
    return given.over(load_credentials(path)) if path is not None else given


def refuse_default_credentials(settings: Mapping[str, Any]) -> None:
    """Credentials in DEFAULT_REQUEST_HEADERS would go to every host of the crawl."""
    value = settings.get("DEFAULT_REQUEST_HEADERS")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return  # Scrapy reports a setting it cannot read
    if not isinstance(value, Mapping):
        return
    for name in value:
        if str(name).strip().lower() == "cookie" or is_secret_header(str(name)):
            raise ArchiverError(
                f"DEFAULT_REQUEST_HEADERS would send {str(name).strip()} to every host of the"
                f" crawl: give it for its host only, with --header-for HOST"
                f" '{str(name).strip()}: VALUE' (or in the credentials file)"
            )


def missing_on_resume(recorded: Mapping[str, Iterable[str]], given: HostHeaders) -> list[str]:
    """``--header-for`` options a job was run with that are not given again."""
    have = {(host, name.lower()) for host, names in given.summary().items() for name in names}
    return [
        f"--header-for {host} '{name}: …'"
        for host, names in recorded.items()
        for name in names
        if (host, name.lower()) not in have
    ]


class HostHeadersMiddleware:
    """Adds the host-scoped headers to the requests they are for, and takes them off any
    other (a request copied by a redirect or a retry keeps the headers it had)."""

    def __init__(self, headers: HostHeaders):
        self.headers = headers

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostHeadersMiddleware:
        from scrapy.exceptions import NotConfigured

        headers = crawler.settings.get(SETTING)
        if not isinstance(headers, HostHeaders) or not headers:
            raise NotConfigured("no --header-for headers")
        return cls(headers)

    def process_request(self, request: Any, spider: Any = None) -> None:
        allowed = not _downgraded(request)
        for h in self.headers.headers:
            if allowed and h.rule.matches(request.url):
                _add(request.headers, h.name, h.value)
            else:
                _remove(request.headers, h.name, h.value)
        return None


def _previous_hop(request: Any) -> str | None:
    meta = request.meta
    if meta.get(REDIRECTED_FROM):
        return str(meta[REDIRECTED_FROM])
    if meta.get("redirect_urls"):  # Scrapy's RedirectMiddleware (robots.txt)
        return str(meta["redirect_urls"][-1])
    info = meta.get("archiver") or {}
    if info.get("redirects") and info.get("via"):  # the spider's own redirect hops
        return str(info["via"])
    return None


def _downgraded(request: Any) -> bool:
    previous = _previous_hop(request)
    return bool(previous and previous.startswith("https:") and request.url.startswith("http:"))


def _cookie_pairs(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _add(headers: Any, name: str, value: str) -> None:
    if name.lower() == "cookie" and headers.get(name):
        # The site's own cookies (Scrapy's cookie jar) stay; the operator's are added.
        have = _cookie_pairs(headers.get(name).decode("latin-1"))
        extra = [pair for pair in _cookie_pairs(value) if pair not in have]
        headers[name] = "; ".join(have + extra)
    else:
        headers[name] = value


def _remove(headers: Any, name: str, value: str) -> None:
    current = headers.get(name)
    if current is None:
        return
    text = current.decode("latin-1")
    if name.lower() == "cookie":
        mine = set(_cookie_pairs(value))
        kept = [pair for pair in _cookie_pairs(text) if pair not in mine]
        if kept:
            headers[name] = "; ".join(kept)
        else:
            del headers[name]
    elif text.strip() == value:
        del headers[name]
