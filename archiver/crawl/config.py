"""The ARCHIVER_* crawl settings, parsed once into a typed, validated config."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver import SOFTWARE
from archiver.errors import ArchiverError
from archiver.netpolicy import AddressPolicy, env_allows_private, parse_networks

# name -> (default, description). Declared once; settings/base.py and the README use these.
ARCHIVER_SETTINGS: dict[str, tuple[Any, str]] = {
    "ARCHIVER_HOME": (None, "Archive home folder (set by the CLI from --home / ARCHIVER_HOME)."),
    "ARCHIVER_JOB": (None, "Name of the job being run (set by the CLI)."),
    "ARCHIVER_STORE": (None, "Store URI for closed WARC files; default: the home's warcs/ folder."),
    "ARCHIVER_WARC_PREFIX": ("archiver", "First part of every WARC file name."),
    "ARCHIVER_WARC_MAX_SIZE": (1_000_000_000, "Roll over to a new WARC file past this many bytes."),
    "ARCHIVER_WARC_COMPRESS_LEVEL": (6, "gzip level (1-9) of each WARC record."),
    "ARCHIVER_MAX_BODY_BYTES": (
        256 * 1024 * 1024,
        "Cut response bodies here and mark them WARC-Truncated: length (0: no limit).",
    ),
    "ARCHIVER_MAX_FETCH_SECONDS": (
        180,
        "Cut a fetch still receiving after this long, WARC-Truncated: time (0: no limit).",
    ),
    "ARCHIVER_OPERATOR": (
        "",
        "Who runs the crawl (contact e-mail or URL): in the user agent and warcinfo.",
    ),
    "ARCHIVER_USER_AGENT": (
        None,
        "Override the user agent; default names the project and the operator contact.",
    ),
    "ARCHIVER_COMMIT_EVERY": (
        1,
        "Commit catalog rows after this many captures (each commit fsyncs the WARC first);"
        " a crash refetches at most this many plus the requests in flight.",
    ),
    "ARCHIVER_ALLOW_PRIVATE_NETWORKS": (
        False,
        "Allow loopback, private and link-local addresses (also the environment variable"
        " of the same name).",
    ),
    "ARCHIVER_ALLOW_NETWORKS": (
        "",
        "Networks allowed although private, comma-separated (e.g. 10.1.2.0/24).",
    ),
    "ARCHIVER_PROGRESS_INTERVAL": (10.0, "Seconds between progress lines on stderr (0: off)."),
    "ARCHIVER_MAX_EMBED_HOPS": (5, "How many requisite-of-requisite hops to follow (CSS -> font)."),
    "ARCHIVER_MAX_REDIRECTS": (10, "Longest redirect chain followed from one URL."),
    "ARCHIVER_MAX_PARSE_BYTES": (
        32 * 1024 * 1024,
        "Decode and scan at most this much of a page for links (bounds gzip bombs).",
    ),
}


def default_user_agent(operator: str) -> str:
    """Names the project and, when set, who to contact about the crawl."""
    contact = f"; +{operator}" if operator else ""
    return f"{SOFTWARE} (archival crawler{contact})"


def _int(settings: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    raw = settings.get(name, ARCHIVER_SETTINGS[name][0])
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ArchiverError(f"setting {name}={raw!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ArchiverError(f"setting {name}={raw!r} must be {bound}")
    return value


def _bool(settings: Any, name: str) -> bool:
    raw = settings.get(name, ARCHIVER_SETTINGS[name][0])
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ArchiverError(f"setting {name}={raw!r} must be true or false")


def _float(settings: Any, name: str) -> float:
    raw = settings.get(name, ARCHIVER_SETTINGS[name][0])
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ArchiverError(f"setting {name}={raw!r} is not a number") from None
    if value < 0:
        raise ArchiverError(f"setting {name}={raw!r} must be >= 0")
    return value


def _prefix(settings: Any) -> str:
    value = str(settings.get("ARCHIVER_WARC_PREFIX") or "archiver")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value):
        raise ArchiverError(
            f"setting ARCHIVER_WARC_PREFIX={value!r} must be letters, digits, '.', '_' or '-'"
            " (it starts every WARC file name)"
        )
    return value


@dataclass(frozen=True)
class CrawlConfig:
    home: Path
    job_name: str
    store_uri: str | None
    warc_prefix: str
    warc_max_size: int
    compress_level: int
    max_body_bytes: int
    max_fetch_seconds: float
    operator: str
    user_agent: str
    progress_interval: float
    max_embed_hops: int
    max_redirects: int
    max_parse_bytes: int
    commit_every: int
    address_policy: AddressPolicy
    hostname: str

    @classmethod
    def from_settings(cls, settings: Any) -> CrawlConfig:
        home = settings.get("ARCHIVER_HOME")
        job = settings.get("ARCHIVER_JOB")
        if not home or not job:
            raise ArchiverError("ARCHIVER_HOME and ARCHIVER_JOB must be set (run 'archiver crawl')")
        operator = str(settings.get("ARCHIVER_OPERATOR") or "")
        return cls(
            home=Path(home),
            job_name=str(job),
            store_uri=settings.get("ARCHIVER_STORE") or None,
            warc_prefix=_prefix(settings),
            warc_max_size=_int(settings, "ARCHIVER_WARC_MAX_SIZE", 1),
            compress_level=_int(settings, "ARCHIVER_WARC_COMPRESS_LEVEL", 1, 9),
            max_body_bytes=_int(settings, "ARCHIVER_MAX_BODY_BYTES", 0),
            max_fetch_seconds=_float(settings, "ARCHIVER_MAX_FETCH_SECONDS"),
            operator=operator,
            user_agent=str(settings.get("ARCHIVER_USER_AGENT") or default_user_agent(operator)),
            progress_interval=_float(settings, "ARCHIVER_PROGRESS_INTERVAL"),
            max_embed_hops=_int(settings, "ARCHIVER_MAX_EMBED_HOPS", 0),
            max_redirects=_int(settings, "ARCHIVER_MAX_REDIRECTS", 0),
            max_parse_bytes=_int(settings, "ARCHIVER_MAX_PARSE_BYTES", 1),
            commit_every=_int(settings, "ARCHIVER_COMMIT_EVERY", 1),
            address_policy=AddressPolicy(
                allow_private=_bool(settings, "ARCHIVER_ALLOW_PRIVATE_NETWORKS")
                or env_allows_private(),
                allowed=parse_networks(
                    str(settings.get("ARCHIVER_ALLOW_NETWORKS") or "").split(",")
                ),
            ),
            hostname=socket.gethostname(),
        )


def validate_overrides(overrides: dict[str, str]) -> None:
    """Reject unknown ARCHIVER_* names and bad values before a crawl starts."""
    for name in overrides:
        if name.startswith("ARCHIVER_") and name not in ARCHIVER_SETTINGS:
            known = ", ".join(sorted(ARCHIVER_SETTINGS))
            raise ArchiverError(f"unknown setting {name}: known ARCHIVER_ settings are {known}")
    probe = {"ARCHIVER_HOME": "/", "ARCHIVER_JOB": "probe", **overrides}
    CrawlConfig.from_settings(probe)
