"""URL validation and normalization for seeds and crawl targets.

``normalize_url`` turns what a person typed into one canonical, crawlable form
(or raises :class:`~archiver.errors.InvalidURL` with a one-line message naming the
problem and the fix). It is idempotent, and its output is left unchanged by
``w3lib.url.safe_url_string``, so the URL recorded is the URL the crawler requests.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import idna

from archiver.errors import InvalidURL

__all__ = ["display_host", "display_iri", "normalize_url", "surt_key", "url_host"]

_MAX_SHOWN = 200
DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_AUTHORITY_END_RE = re.compile(r"[/?#]")
_PORT_RE = re.compile(r"[0-9]+")
_LABEL_RE = re.compile(r"[a-z0-9_-]{1,63}")
_HEX = frozenset("0123456789abcdefABCDEF")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 pchar plus "/". The query additionally allows "?" but percent-encodes "'",
# as browsers (WHATWG "special-query" set) and w3lib.safe_url_string both do.
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = (_PATH_SAFE | frozenset("?")) - frozenset("'")


def _show(value: str) -> str:
    """The value repr-quoted (so it stays on one line), truncated to ~200 chars."""
    if len(value) > _MAX_SHOWN:
        value = value[:_MAX_SHOWN] + "..."
    return repr(value)


def _missing_scheme(s: str) -> InvalidURL:
    if re.match(r"https?//", s, re.IGNORECASE):
        scheme, _, rest = s.partition("//")
        candidate = f"{scheme.lower()}://{rest}"
    else:
        candidate = "https:" + s if s.startswith("//") else "https://" + s
    try:
        suggestion = normalize_url(candidate)
    except InvalidURL:
        return InvalidURL(
            f"URL {_show(s)} has no scheme and is not a valid address: "
            "write a full URL such as 'https://example.org/page'"
        )
    return InvalidURL(f"URL {_show(s)} has no scheme: write it as {_show(suggestion)}")


def _split_scheme(s: str) -> tuple[str, str]:
    m = _SCHEME_RE.match(s)
    # "example.org:8080/x" and "localhost:8080" are a host and port, not a scheme.
    if m is None or "." in m.group(1) or s[m.end() : m.end() + 1].isdigit():
        raise _missing_scheme(s)
    scheme = m.group(1).lower()
    rest = s[m.end() :]
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(
            f"unsupported URL scheme {scheme + ':'!r} in {_show(s)}: "
            "only http and https URLs can be archived"
        )
    if not rest.startswith("//"):
        fixed = f"{scheme}://{rest.lstrip('/')}"
        raise InvalidURL(
            f"URL {_show(s)} is missing '//' after {scheme + ':'!r}: write it as {_show(fixed)}"
        )
    return scheme, rest[2:]


def _ascii_host(host: str, raw: str) -> str:
    """Validate a lower-case ASCII registered name or IPv4 literal."""
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if not all(_LABEL_RE.fullmatch(label) for label in labels) or len(name) > 253:
        raise InvalidURL(
            f"invalid host name {_show(host)} in {_show(raw)}: a host may contain only letters, "
            "digits, '-', '_' and dots between non-empty labels (no spaces)"
        )
    if labels[-1].isdigit():
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise InvalidURL(
                f"invalid IPv4 address {_show(host)} in {_show(raw)}: "
                "use four numbers 0-255 separated by dots, e.g. 192.0.2.1"
            ) from None
    return host


def normalize_host(host: str, raw: str) -> str:
    if not host:
        raise InvalidURL(
            f"URL {_show(raw)} has no host name: write it as 'https://example.org/...'"
        )
    if host.startswith("["):
        inner = host[1:-1] if host.endswith("]") else ""
        try:
            if "%" in inner:
                raise ValueError(inner)
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise InvalidURL(
                f"invalid IPv6 address {_show(host)} in {_show(raw)}: "
                "write it in brackets without a zone, e.g. http://[2001:db8::1]/"
            ) from None
        return host.lower()
    if host.isascii():
        return _ascii_host(host.lower(), raw)
    try:
        encoded = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        try:
            encoded = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURL(
                f"invalid international host name {_show(host)} in {_show(raw)}: "
                "check the spelling of the domain"
            ) from None
    return _ascii_host(encoded.lower(), raw)


def _normalize_port(port: str, scheme: str, raw: str) -> str:
    if port == "":
        return ""
    if not _PORT_RE.fullmatch(port) or not 0 < int(port) <= 65535:
        raise InvalidURL(
            f"invalid port {_show(port)} in {_show(raw)}: "
            "use a number from 1 to 65535, or leave the port out"
        )
    number = int(port)
    return "" if number == DEFAULT_PORTS[scheme] else f":{number}"


def _quote(text: str, safe: frozenset[str]) -> str:
    """Percent-encode (as UTF-8) what is not in ``safe``, keeping valid %XX escapes."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%" and text[i + 1 : i + 2] in _HEX and text[i + 2 : i + 3] in _HEX:
            out.append(text[i : i + 3])
            i += 3
            continue
        if c in safe:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for an absolute path (starting with "/")."""
    segments = path.split("/")
    output: list[str] = []
    for segment in segments:
        if segment == ".":
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            continue
        output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")
    return "/".join(output) or "/"


def normalize_url(raw: str) -> str:
    """Validate ``raw`` and return its canonical http(s) form, or raise InvalidURL."""
    if not isinstance(raw, str):
        raise InvalidURL(f"URL must be text, not {type(raw).__name__}: {_show(repr(raw))}")
    s = raw.strip()
    if not s:
        raise InvalidURL("empty URL: give a full address such as 'https://example.org/page'")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidURL(f"URL {_show(s)} contains invalid characters: retype it") from None
    scheme, rest = _split_scheme(s)
    end = _AUTHORITY_END_RE.search(rest)
    authority, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    if "@" in authority:
        raise InvalidURL(
            f"URL {_show(s)} contains a user name or password: remove the 'user:pass@' part "
            "(credentials must not be stored in seed lists)"
        )
    if authority.startswith("[") and "]" in authority:
        close = authority.index("]") + 1
        host, after = authority[:close], authority[close:]
        if after and not after.startswith(":"):
            raise InvalidURL(f"unexpected text {_show(after)} after the IPv6 address in {_show(s)}")
        port = after[1:]
    else:
        host, _, port = authority.partition(":")
        if ":" in port:
            raise InvalidURL(
                f"invalid host {_show(authority)} in {_show(s)}: "
                "put IPv6 addresses in brackets, e.g. http://[2001:db8::1]/"
            )
    host = normalize_host(host, s)
    port = _normalize_port(port, scheme, s)
    tail = tail.partition("#")[0]
    path, _, query = tail.partition("?")
    path = _remove_dot_segments(_quote(path, _PATH_SAFE)) if path else "/"
    query = _quote(query, _QUERY_SAFE)
    return f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "")


def url_host(url: str) -> str:
    """Lower-case host of a normalized URL, without port (IPv6 stays in brackets)."""
    _, sep, rest = url.partition("://")
    if not sep:
        raise InvalidURL(f"not an absolute URL: {_show(url)}")
    end = _AUTHORITY_END_RE.search(rest)
    authority = (rest[: end.start()] if end else rest).rpartition("@")[2]
    if authority.startswith("[") and "]" in authority:
        return authority[: authority.index("]") + 1].lower()
    return authority.partition(":")[0].lower()


def surt_key(url: str) -> str:
    """SURT sort key of a URL, as pywb and cdxj-indexer compute it."""
    import surt  # imported here: it pulls in requests and tldextract (~80 ms at start-up)

    return surt.surt(url)


_ESCAPES_RE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# UTF-8 sequence length by the lead byte's high nibble (0xC2-0xDF: 2, 0xE_: 3, 0xF_: 4).
_UTF8_SIZES = {0xC: 2, 0xD: 2, 0xE: 3, 0xF: 4}


def _shown_char(char: str) -> bool:
    """Whether a decoded character may be shown as itself in an IRI: not a control,
    format or space character, and not right-to-left (RFC 3987 §3.2 and §4.1 keep
    those percent-encoded, as they can make a URL read as another)."""
    category = unicodedata.category(char)
    if category[0] in "CZ":
        return False
    return unicodedata.bidirectional(char) not in ("R", "AL", "RLE", "RLO", "LRE", "LRO")


def _decode_escapes(match: re.Match[str]) -> str:
    """A run of ``%XX`` escapes with the UTF-8 sequences of non-ASCII characters decoded;
    escaped ASCII (``%2F``, ``%20``) and invalid UTF-8 stay escaped."""
    escapes = match.group(0)
    octets = bytes.fromhex(escapes.replace("%", ""))
    out, i = [], 0
    while i < len(octets):
        lead = octets[i]
        size = _UTF8_SIZES.get(lead >> 4, 1) if lead >= 0xC2 else 1
        chunk = octets[i : i + size]
        try:
            char = chunk.decode("utf-8") if lead >= 0x80 and len(chunk) == size else ""
        except UnicodeDecodeError:
            char = ""
        if char and _shown_char(char):
            out.append(char)
            i += size
        else:
            out.append(escapes[3 * i : 3 * i + 3])
            i += 1
    return "".join(out)


def display_host(host: str) -> str:
    """A host name as people read it: punycode labels (``xn--``) in Unicode."""
    labels = []
    for label in host.split("."):
        try:
            labels.append(idna.decode(label) if label.startswith("xn--") else label)
        except idna.IDNAError:
            labels.append(label)  # not valid IDNA 2008: shown as it is
    return ".".join(labels)


def display_iri(url: str) -> str:
    """A URL as people read it (RFC 3987 §3.2): punycode host labels as Unicode, and
    percent-encoded UTF-8 in the path, query and fragment as the characters it encodes.
    For text meant for readers; catalogs, indexes and structured formats keep the URI."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = _AUTHORITY_END_RE.search(rest)
    authority, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    if not authority.startswith("["):
        host, colon, port = authority.partition(":")
        authority = display_host(host) + colon + port
    return f"{scheme}://{authority}{_ESCAPES_RE.sub(_decode_escapes, tail)}"
