"""What a recorded exchange says of itself, read from its bytes: whether the request was
conditional, where a redirect pointed, how long the fetch took, the URL's SURT."""

from __future__ import annotations

from urllib.parse import urljoin

from archiver.capture.exchange import Exchange
from archiver.urls import surt_key


def was_conditional(request: bytes | bytearray) -> bool:
    head = bytes(request).split(b"\r\n\r\n", 1)[0].lower()
    return b"\nif-none-match:" in head or b"\nif-modified-since:" in head


def surt_of(url: str) -> str:
    try:
        return surt_key(url)
    except Exception:
        return url.lower()


def redirect_target(exchange: Exchange, status: int | None) -> str | None:
    """Where a 3xx pointed, resolved against the request URL; None if it did not."""
    location = exchange.header("Location") if status and 300 <= status < 400 else None
    if not location:
        return None
    try:
        return urljoin(exchange.url, location.strip())
    except ValueError:  # e.g. "http://[broken/": kept as sent
        return location.strip()


def fetch_ms(exchange: Exchange) -> int | None:
    """How long the fetch took, in milliseconds (None: it never finished)."""
    if exchange.finished_at is None:
        return None
    elapsed = exchange.finished_at - exchange.started_at
    return max(0, round(elapsed.total_seconds() * 1000))
