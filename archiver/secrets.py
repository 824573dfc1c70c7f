"""Keeping operator secrets out of everything archiver writes.

Credentials the operator configures (proxy passwords, Authorization headers, AWS
keys, anything in a setting named like a secret) must never reach WARC request
records, the catalog, logs or messages. Request records keep every header actually
sent, but the values of credential headers are replaced, and the metadata record says
which were; settings snapshots mask secret values; a log filter scrubs known secret
strings from every log line.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

REDACTED = "[redacted by archiver]"
SECRET_HEADERS = (b"authorization", b"proxy-authorization")
_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|AUTH|ACCESS_KEY|PRIVATE_KEY", re.I
)
# Environment variables holding URLs whose password is a secret (proxies, the catalog).
_PROXY_ENV = (
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "ARCHIVER_CATALOG",
)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


@functools.lru_cache(maxsize=1024)  # a crawl sends the same few names again and again
def is_secret_header(name: bytes | str) -> bool:
    """Authorization, Proxy-Authorization, and headers named like secrets (X-Auth-Token,
    X-Api-Key, ...)."""
    text = name.decode("latin-1") if isinstance(name, bytes) else name
    text = text.strip()
    return text.lower().encode() in SECRET_HEADERS or bool(
        _SECRET_NAME.search(text.replace("-", "_")) or re.search(r"api.?key", text, re.I)
    )


def redact_request_head(
    block: bytes, given: Iterable[tuple[str, str]] = ()
) -> tuple[bytes, list[str]]:
    """The request bytes with credential header values replaced; and the names replaced.

    ``given`` are (name, value) headers the operator gave (``--header-for``): whatever
    their name (a ``Cookie``), the value is replaced where it stands in that header, and
    the rest of the line (the site's own cookies) is kept."""
    values: dict[bytes, list[bytes]] = {}
    for name, value in given:
        key = name.strip().lower().encode("latin-1")
        # A Cookie's pairs may be sent among the site's own, in another order.
        parts = value.split(";") if key == b"cookie" else [value]
        values.setdefault(key, []).extend(
            part.strip().encode("utf-8") for part in parts if part.strip()
        )  # as Scrapy sends it
    end = block.find(b"\r\n\r\n")
    head, rest = (block, b"") if end < 0 else (block[: end + 2], block[end + 2 :])
    lines = head.split(b"\r\n")
    replaced = []
    for i, line in enumerate(lines[1:], start=1):
        name, sep, value = line.partition(b":")
        if sep and is_secret_header(name):
            lines[i] = name + b": " + REDACTED.encode()
            replaced.append(name.strip().decode("latin-1"))
        elif sep and any(v in value for v in values.get(name.strip().lower(), ())):
            for v in sorted(values[name.strip().lower()], key=len, reverse=True):
                value = value.replace(v, REDACTED.encode())
            lines[i] = name + b":" + value
            replaced.append(name.strip().decode("latin-1"))
    return b"\r\n".join(lines) + rest, replaced


def redact_cookies(block: bytes, values: Mapping[str, Iterable[str]]) -> tuple[bytes, list[str]]:
    """The request bytes with the values of these cookies (a login profile's: name to
    values) replaced in its Cookie header, and the names of those replaced. Each pair
    keeps its name and place; the site's own cookies stay as sent."""
    if not values:
        return block, []
    wanted = {
        name.encode("latin-1"): {value.encode("utf-8") for value in given if value}
        for name, given in values.items()
    }
    end = block.find(b"\r\n\r\n")
    head, rest = (block, b"") if end < 0 else (block[: end + 2], block[end + 2 :])
    lines = head.split(b"\r\n")
    names: list[str] = []
    for i, line in enumerate(lines[1:], start=1):
        header, sep, value = line.partition(b":")
        if not sep or header.strip().lower() != b"cookie":
            continue
        parts = value.split(b";")
        for j, part in enumerate(parts):
            name, eq, text = part.partition(b"=")
            if eq and text.strip() in wanted.get(name.strip(), ()):
                parts[j] = name + eq + text.replace(text.strip(), REDACTED.encode(), 1)
                shown = name.strip().decode("latin-1")
                if shown not in names:
                    names.append(shown)
        lines[i] = header + sep + b";".join(parts)
    return b"\r\n".join(lines) + rest, names


def _mask_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.password:
        return value.replace(f":{parts.password}@", f":{REDACTED}@", 1)
    return value


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    """A dict setting, given as a dict or as the JSON text ``-s`` passes."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def redact_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """A settings mapping safe to store: secret-named values and credential headers masked."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        mapping = _as_mapping(value)
        if is_secret_name(name) and value not in (None, ""):
            out[name] = REDACTED
        elif mapping is not None:
            out[name] = {
                k: (REDACTED if is_secret_header(str(k)) else v) for k, v in mapping.items()
            }
        elif isinstance(value, str) and "://" in value:
            out[name] = _mask_url(value)
        else:
            out[name] = value
    return out


# Shorter values are not scrubbed from logs: every "s1" in a log line would go, and a
# secret that short protects nothing.
MIN_SECRET = 4


def secret_values(settings: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> set[str]:
    """Strings that must not appear in any log line."""
    found: set[str] = set()
    for name, value in list(settings.items()) + list(environ.items()):
        if is_secret_name(name) and isinstance(value, str) and len(value) >= MIN_SECRET:
            found.add(value)
    headers = _as_mapping(settings.get("DEFAULT_REQUEST_HEADERS")) or {}
    if headers:
        for key, value in headers.items():
            if is_secret_header(str(key)) and value:
                found.add(str(value))
                found.update(part for part in str(value).split() if len(part) >= 8)
    for name in _PROXY_ENV:
        password = urlsplit(environ.get(name, "")).password
        if name == "ARCHIVER_CATALOG":
            from archiver.catalog.db import url_passwords

            found |= url_passwords(environ.get(name, ""))
            if environ.get("PGPASSWORD"):
                found.add(environ["PGPASSWORD"])
        if password:
            found.update({password, unquote(password)})
    return found


class LogScrubber:
    """Removes known secret strings from every log record as it is created, whatever
    handler later writes it (Scrapy replaces its root handler while it starts)."""

    def __init__(self, secrets: Iterable[str]):
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._make = logging.getLogRecordFactory()

    def install(self) -> None:
        if self.secrets:
            logging.setLogRecordFactory(self)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._make(*args, **kwargs)
        message = record.getMessage()
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
        return record

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text
