"""Where readers replay captures, and what the archive is called in citations.

One function answers each question, so that every command that shows a replay URL
(``cite``, ``timemap``, ``lookup``) reads the same setting: ``--replay-base``, else the
``ARCHIVER_REPLAY_BASE`` environment variable. A citation without a replay base names
the archive and the capture id instead: a ``file://`` path means nothing to a reader. A
TimeMap without one is refused: its memento URLs are for Memento clients to follow.
"""

from __future__ import annotations

import os
from pathlib import Path

REPLAY_ENV = "ARCHIVER_REPLAY_BASE"
ARCHIVE_NAME_ENV = "ARCHIVER_ARCHIVE_NAME"
OPERATOR_ENV = "ARCHIVER_OPERATOR"

NO_REPLAY_WARNING = (
    "warning: no replay base is set (--replay-base, {env}, or once for this home:"
    " 'archiver config set replay_base URL'): citations name the archive ({name}) and the"
    " capture id instead of a replay URL"
)


def replay_base(explicit: str | None = None) -> str | None:
    """The replay service's base URL (pywb style: ``BASE/TIMESTAMP/URL``), without a
    trailing slash; None when none is configured."""
    chosen = explicit or os.environ.get(REPLAY_ENV) or ""
    return chosen.strip().rstrip("/") or None


def archive_name(home: Path, operator: str | None = None) -> str:
    """What citations call the archive: ``ARCHIVER_ARCHIVE_NAME``, else the operator
    (``ARCHIVER_OPERATOR``, else the one the capture's job recorded), else the name of
    the archive home's folder."""
    for candidate in (
        os.environ.get(ARCHIVE_NAME_ENV),
        os.environ.get(OPERATOR_ENV),
        operator,
        home.name,
    ):
        if candidate and candidate.strip():
            return candidate.strip()
    return "archiver"


def replay_url(base: str, timestamp14: str, url: str) -> str:
    """A capture's replay URL, pywb and Wayback style: ``{base}/{timestamp}/{url}``."""
    return f"{base}/{timestamp14}/{url}"
