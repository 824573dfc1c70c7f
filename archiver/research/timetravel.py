"""Finding captures by time: date lookup and Memento TimeMaps (RFC 7089).

Times come from ``archiver.research.dates.parse_when`` (what people type, in UTC).
Only captures that hold a response count (a failed fetch is not a memento).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from archiver.catalog.captures import Capture, find_captures
from archiver.catalog.db import Catalog
from archiver.errors import ArchiverError
from archiver.research.replay import replay_url

MODES = ("closest", "before", "after")


def captured_at(capture: Capture) -> datetime:
    return datetime.strptime(capture.captured_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def timestamp14(capture: Capture) -> str:
    return captured_at(capture).strftime("%Y%m%d%H%M%S")


def mementos(catalog: Catalog, url: str) -> list[Capture]:
    """Captures of a URL that hold a response, oldest first."""
    return [c for c in find_captures(catalog, url=url) if c.state != "failed"]


@dataclass(frozen=True)
class Found:
    capture: Capture
    seconds: float  # capture time minus the requested time: negative means before

    def distance(self) -> str:
        return describe_distance(self.seconds)


def lookup(catalog: Catalog, url: str, at: datetime, mode: str = "closest") -> Found | None:
    candidates = [(c, (captured_at(c) - at).total_seconds()) for c in mementos(catalog, url)]
    if mode == "before":
        candidates = [pair for pair in candidates if pair[1] <= 0]
        best = max(candidates, key=lambda pair: pair[1], default=None)
    elif mode == "after":
        candidates = [pair for pair in candidates if pair[1] >= 0]
        best = min(candidates, key=lambda pair: pair[1], default=None)
    else:
        best = min(candidates, key=lambda pair: abs(pair[1]), default=None)
    return Found(*best) if best else None


def describe_distance(seconds: float) -> str:
    if abs(seconds) < 0.5:
        return "at the requested time"
    direction = "before" if seconds < 0 else "after"
    if abs(seconds) < 1:
        return f"under a second {direction} the requested time"
    total = round(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    parts.append(f"{minutes} min" if minutes else "")
    if not days and not hours:
        parts.append(f"{secs} s" if secs else "")
    text = " ".join(p for p in parts if p)
    return f"{text} {direction} the requested time"


def memento_url(base: str, capture: Capture) -> str:
    """pywb style: ``{base}/{14-digit timestamp}/{url}``."""
    return replay_url(base, timestamp14(capture), capture.url)


def _http_date(capture: Capture) -> str:
    return format_datetime(captured_at(capture), usegmt=True)


def timemap_link(url: str, captures: list[Capture], base: str) -> str:
    """An RFC 7089 TimeMap in ``application/link-format``."""
    if not captures:
        raise ArchiverError(f"no captures of {url}: nothing to put in a TimeMap")
    first, last = captures[0], captures[-1]
    lines = [
        f'<{url}>; rel="original"',
        f'<{base}/timemap/link/{url}>; rel="self"; type="application/link-format"'
        f'; from="{_http_date(first)}"; until="{_http_date(last)}"',
    ]
    for i, capture in enumerate(captures):
        rel = "memento"
        if i == 0:
            rel = "first memento"
        if i == len(captures) - 1:
            rel = "last memento" if i else "first last memento"
        lines.append(
            f'<{memento_url(base, capture)}>; rel="{rel}"; datetime="{_http_date(capture)}"'
            f'; capture="{capture.id}"'
        )
    return ",\n".join(lines) + "\n"


def timemap_json(url: str, captures: list[Capture], base: str) -> str:
    if not captures:
        raise ArchiverError(f"no captures of {url}: nothing to put in a TimeMap")
    data = {
        "original_uri": url,
        "timemap_uri": {"link_format": f"{base}/timemap/link/{url}"},
        "mementos": {
            "first": {"datetime": captures[0].captured_at, "uri": memento_url(base, captures[0])},
            "last": {"datetime": captures[-1].captured_at, "uri": memento_url(base, captures[-1])},
            "list": [
                {
                    "datetime": c.captured_at,
                    "uri": memento_url(base, c),
                    "capture_id": c.id,
                    "payload_digest": c.payload_digest,
                }
                for c in captures
            ],
        },
    }
    return json.dumps(data, indent=2)
