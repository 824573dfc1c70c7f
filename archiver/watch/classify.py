"""Classifying one fetch of a seed page against the seed's previous state.

States a seed can be in: ``present`` (with the observations ``captured`` for a first
capture, ``unchanged`` and ``changed``), and the absent ones: ``gone`` (404/410),
``removed`` (a platform's removal notice served with 200), ``blocked`` (401/403/451,
a reset connection, a timeout) and ``soft404`` (a redirect to the site's home page or
a login page). ``error`` (5xx, 429, DNS, refused, TLS) is transient: it never changes
a seed's state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from archiver.watch.notices import find_notice
from archiver.watch.patterns import RemovalPatterns

PRESENT = ("captured", "unchanged", "changed")
ABSENT = ("gone", "removed", "blocked", "soft404")
TRANSIENT = "error"
OBSERVATIONS = (*PRESENT, *ABSENT, TRANSIENT)

# Where platforms send a visitor instead of a post: sign-in walls and visitor checks.
_LOGIN = re.compile(
    r"(^|[/._-])(login|log-in|signin|sign-in|sign_in|signup|passport|auth|sso|account/access"
    r"|visitor|i/flow/login|checkpoint|captcha)([/._?=-]|$)",
    re.IGNORECASE,
)
_BLOCKED_ERRORS = ("timeout", "reset", "incomplete")


def state_of(observation: str) -> str:
    """The seed state an observation puts it in: ``present`` or one of ABSENT."""
    return "present" if observation in PRESENT else observation


@dataclass(frozen=True)
class Fetch:
    """What one fetch of a seed page came back with."""

    url: str
    status: int | None  # None: no response at all
    location: str | None = None  # a redirect's resolved target
    text: str | None = None  # the page as served (decoded), for removal notices
    error: str | None = None  # "timeout: ...", "dns: ..." when no response came
    payload_digest: str | None = None


def is_soft404_target(seed_url: str, target: str) -> bool:
    """A redirect to the site's home page, or to a sign-in page, from a page that was
    neither: what platforms do instead of a 404."""
    seed, to = urlsplit(seed_url), urlsplit(target)
    if seed.path.strip("/") == "" and not seed.query:
        return False  # the seed is itself a home page
    if to.path.strip("/") == "" and not to.query:
        return True
    return _LOGIN.search(to.path) is not None or (
        to.hostname != seed.hostname and _LOGIN.search(to.hostname or "") is not None
    )


def classify(
    fetch: Fetch,
    previous_digest: str | None,
    patterns: RemovalPatterns,
    previous_title: str | None = None,
) -> tuple[str, str]:
    """(observation, reason) for one fetch; ``previous_digest`` is the payload digest of
    the seed's last present capture, None if it was never present, ``previous_title``
    its title (see notices.py for where a removal notice counts)."""
    status = fetch.status
    if status is None:
        reason = fetch.error or "no response"
        if reason.split(":", 1)[0] in _BLOCKED_ERRORS:
            return "blocked", reason
        return TRANSIENT, reason
    if status in (404, 410):
        return "gone", f"HTTP {status}"
    if status in (401, 403, 451):
        return "blocked", f"HTTP {status}"
    if fetch.location and is_soft404_target(fetch.url, fetch.location):
        # a 3xx, or a page whose <meta http-equiv=refresh> sends readers away
        return "soft404", f"HTTP {status} to {fetch.location}"
    if 300 <= status < 400 and status != 304:
        return TRANSIENT, f"HTTP {status} to {fetch.location or '(no Location)'}"
    if status == 304:
        return "unchanged", "HTTP 304"
    if 200 <= status < 300:
        host = urlsplit(fetch.url).hostname or ""
        notice = find_notice(patterns, host, fetch.text, previous_title) if fetch.text else None
        if notice:
            return "removed", notice
        if previous_digest is None:
            return "captured", f"HTTP {status}"
        if fetch.payload_digest == previous_digest:
            return "unchanged", f"HTTP {status}, same payload"
        return "changed", f"HTTP {status}, new payload {fetch.payload_digest}"
    return TRANSIENT, f"HTTP {status}"
