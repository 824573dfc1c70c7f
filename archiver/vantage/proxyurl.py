"""A vantage point's proxy URL, checked: its kind, and its password held by reference.

A proxy URL is ``scheme://[user[:env:VARIABLE]@]host:port``, the scheme one of http,
https, socks5 and socks5h; ``tor`` stands for a local Tor's SOCKS port
(``tor://127.0.0.1:9050``), and ``tor://HOST:PORT`` for one elsewhere. A password is a
secret: it is never written into the catalog, so the URL names the environment
variable that holds it (``env:PROXY_PASSWORD``), read when the proxy is used. A literal
password is refused, and never repeated in the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from archiver.errors import InvalidVantage

KINDS = ("http", "https", "socks5", "socks5h", "tor")
TOR_DEFAULT = "tor://127.0.0.1:9050"  # Tor's default SocksPort
ENV_PREFIX = "env:"
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXAMPLE = "http://alice:env:PROXY_PASSWORD@proxy.example.org:3128"


@dataclass(frozen=True)
class ProxyURL:
    kind: str  # one of KINDS
    url: str  # as stored: a password only as an env:VARIABLE reference
    host: str
    port: int
    password_env: str | None  # the variable holding the password, if there is one


def _shown(text: str) -> str:
    """The URL for a message: whatever stands as its password is left out."""
    head, at, host = text.rpartition("@")
    if not at:
        return text
    scheme, sep, userinfo = head.partition("://")
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user}:…@{host}" if ":" in userinfo else text


def parse_proxy(text: str) -> ProxyURL:
    """The proxy ``text`` names, or InvalidVantage naming the problem and the fix."""
    written = text.strip()
    if written.lower() == "tor":
        written = TOR_DEFAULT
    try:
        parts = urlsplit(written)
        port = parts.port
    except ValueError:
        raise InvalidVantage(
            f"--proxy {_shown(written)!r} is not a proxy URL: give scheme://host:port,"
            f" such as socks5h://127.0.0.1:1080"
        ) from None
    kind = parts.scheme.lower()
    if kind not in KINDS or "://" not in written:
        raise InvalidVantage(
            f"--proxy {_shown(written)!r}: the scheme must be http://, https://, socks5:// or"
            " socks5h://, or give tor for a local Tor (127.0.0.1:9050)"
        )
    if not parts.hostname or port is None:
        raise InvalidVantage(
            f"--proxy {_shown(written)!r} needs a host and a port:"
            f" {kind}://HOST:PORT, such as {kind}://127.0.0.1:{9050 if kind == 'tor' else 1080}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidVantage(
            f"--proxy {_shown(written)!r} has a path: a proxy URL is {kind}://HOST:PORT"
            " and nothing after it"
        )
    password_env = None
    if parts.password is not None:
        variable = parts.password[len(ENV_PREFIX) :]
        if not parts.password.startswith(ENV_PREFIX) or not _VARIABLE.fullmatch(variable):
            raise InvalidVantage(
                f"--proxy {_shown(written)!r} holds a password: archiver never stores one;"
                " put it in an environment variable and name that variable instead,"
                f" as in --proxy '{_EXAMPLE}'"
            )
        password_env = variable
    netloc = parts.netloc.rpartition("@")
    host_port = netloc[2].lower()
    url = f"{kind}://{netloc[0]}{netloc[1]}{host_port}"
    return ProxyURL(kind, url, parts.hostname, port, password_env)
