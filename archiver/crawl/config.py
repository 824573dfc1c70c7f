"""The ARCHIVER_* crawl settings, parsed once into a typed, validated config."""

from __future__ import annotations

import json
import math
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver import SOFTWARE
from archiver.browser.options import BrowserOptions, parse_hosts

# Re-exported: what the settings are is declared there, parsed here.
from archiver.crawl.settingtable import ARCHIVER_SETTINGS
from archiver.errors import ArchiverError
from archiver.netpolicy import AddressPolicy, env_allows_private, parse_networks
from archiver.seedspec import patterns
from archiver.storage.s3 import LOCK_MODES, S3Options
from archiver.vantage.route import Route


def default_user_agent(operator: str) -> str:
    """Names the project and, when set, who to contact about the crawl."""
    contact = f"; +{operator}" if operator else ""
    return f"{SOFTWARE} (archival crawler{contact})"


def _default(name: str) -> Any:
    return ARCHIVER_SETTINGS[name][0]


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


def _float(settings: Any, name: str, maximum: float | None = None) -> float:
    raw = settings.get(name, ARCHIVER_SETTINGS[name][0])
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ArchiverError(f"setting {name}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ArchiverError(f"setting {name}={raw!r} must be a finite number")
    if value < 0:
        raise ArchiverError(f"setting {name}={raw!r} must be >= 0")
    if maximum is not None and value > maximum:
        raise ArchiverError(f"setting {name}={raw!r} must be at most {maximum:g}")
    return value


def _one_line(settings: Any, name: str) -> str:
    value = str(settings.get(name) or "").strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ArchiverError(
            f"setting {name} must be one line of text (e.g. {name}=crawl-ops@example.org)"
        )
    return value


def _prefix(settings: Any) -> str:
    value = str(settings.get("ARCHIVER_WARC_PREFIX") or "archiver")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value):
        raise ArchiverError(
            f"setting ARCHIVER_WARC_PREFIX={value!r} must be letters, digits, '.', '_' or '-'"
            " (it starts every WARC file name)"
        )
    return value


def s3_options(settings: Any) -> S3Options:
    """S3 upload options; credentials and endpoint from Scrapy's AWS_* settings when set,
    else boto3's own chain (environment, AWS_PROFILE, instance roles)."""
    mode = str(settings.get("ARCHIVER_S3_OBJECT_LOCK_MODE") or "").strip().upper()
    if mode and mode not in LOCK_MODES:
        raise ArchiverError(
            f"setting ARCHIVER_S3_OBJECT_LOCK_MODE={mode!r} must be GOVERNANCE or COMPLIANCE"
        )
    days = _int(settings, "ARCHIVER_S3_OBJECT_LOCK_DAYS", 0, 36500)
    if mode and not days:
        raise ArchiverError(
            "setting ARCHIVER_S3_OBJECT_LOCK_MODE needs ARCHIVER_S3_OBJECT_LOCK_DAYS (1 or more)"
        )
    part = _int(settings, "ARCHIVER_S3_PART_SIZE", 5 * 1024 * 1024, 5 * 1024**3)
    return S3Options(
        endpoint_url=settings.get("AWS_ENDPOINT_URL") or None,
        region=settings.get("AWS_REGION_NAME") or None,
        access_key=settings.get("AWS_ACCESS_KEY_ID") or None,
        secret_key=settings.get("AWS_SECRET_ACCESS_KEY") or None,
        session_token=settings.get("AWS_SESSION_TOKEN") or None,
        multipart_threshold=_int(settings, "ARCHIVER_S3_MULTIPART_THRESHOLD", part),
        part_size=part,
        lock_mode=mode or None,
        lock_days=days,
        legal_hold=_bool(settings, "ARCHIVER_S3_LEGAL_HOLD"),
    )


def exclude_patterns(settings: Any) -> tuple[str, ...]:
    """ARCHIVER_EXCLUDE: regexes separated by spaces, or a JSON array of them."""
    raw = settings.get("ARCHIVER_EXCLUDE") or ""
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ArchiverError(
                f"setting ARCHIVER_EXCLUDE={raw!r} is not a valid JSON array ({exc.msg}):"
                " give regexes separated by spaces, or a JSON array of strings"
            ) from None
    return patterns("ARCHIVER_EXCLUDE", raw)


@dataclass(frozen=True)
class TrapLimits:
    """The trap guards (0: off), applied to links a seed's scope would follow."""

    path_segments: int = 20
    segment_repeats: int = 2
    host_pages: int = 100_000
    query_variants: int = 1000

    @classmethod
    def from_settings(cls, settings: Any) -> TrapLimits:
        return cls(
            path_segments=_int(settings, "ARCHIVER_MAX_PATH_SEGMENTS", 0),
            segment_repeats=_int(settings, "ARCHIVER_MAX_SEGMENT_REPEATS", 0),
            host_pages=_int(settings, "ARCHIVER_MAX_PAGES_PER_HOST", 0),
            query_variants=_int(settings, "ARCHIVER_MAX_QUERY_VARIANTS", 0),
        )


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
    from_header: str
    progress_interval: float
    max_embed_hops: int
    max_redirects: int
    max_parse_bytes: int
    commit_every: int
    address_policy: AddressPolicy
    keep_local: bool
    upload_concurrency: int
    upload_attempts: int
    s3: S3Options
    hostname: str
    revisits: bool = True
    conditional: bool = False
    confirm_delay: float = 5.0
    removal_patterns: str | None = None
    event_command: str | None = None
    event_webhook: str | None = None
    browser: BrowserOptions = field(default_factory=BrowserOptions)
    exclude: tuple[str, ...] = ()
    traps: TrapLimits = field(default_factory=TrapLimits)
    worker_id: str | None = None  # set: the job's frontier is shared (crawl/shared.py)
    lease_seconds: float = 60.0
    lease_attempts: int = 3
    host_workers: int = 1
    tls_ca_file: str | None = None  # CA certificates trusted besides the system's
    via: str | None = None  # the vantage point of every request (else each seed's own)
    vantages: dict[str, Route] = field(default_factory=dict)  # the ones it may use, by name
    seed_via: dict[int, str] = field(default_factory=dict)  # schedules' vantages, by seed id

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
            from_header=_one_line(settings, "ARCHIVER_FROM"),
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
            keep_local=_bool(settings, "ARCHIVER_KEEP_LOCAL"),
            upload_concurrency=_int(settings, "ARCHIVER_UPLOAD_CONCURRENCY", 1, 64),
            upload_attempts=_int(settings, "ARCHIVER_UPLOAD_ATTEMPTS", 1, 20),
            s3=s3_options(settings),
            hostname=socket.gethostname(),
            revisits=_bool(settings, "ARCHIVER_REVISITS"),
            conditional=_bool(settings, "ARCHIVER_CONDITIONAL"),
            confirm_delay=_float(settings, "ARCHIVER_CONFIRM_DELAY", 86400),
            removal_patterns=settings.get("ARCHIVER_REMOVAL_PATTERNS") or None,
            event_command=settings.get("ARCHIVER_EVENT_COMMAND") or None,
            event_webhook=settings.get("ARCHIVER_EVENT_WEBHOOK") or None,
            browser=BrowserOptions(
                hosts=parse_hosts(
                    str(
                        settings.get("ARCHIVER_BROWSER_HOSTS", _default("ARCHIVER_BROWSER_HOSTS"))
                        or ""
                    )
                ),
                chromium=str(settings.get("ARCHIVER_CHROMIUM") or ""),
                pages=_int(settings, "ARCHIVER_BROWSER_PAGES", 1, 16),
                page_seconds=_float(settings, "ARCHIVER_BROWSER_PAGE_SECONDS", 3600),
                idle_seconds=_float(settings, "ARCHIVER_BROWSER_IDLE_SECONDS", 600),
                screenshot_max_height=_int(
                    settings, "ARCHIVER_SCREENSHOT_MAX_HEIGHT", 100, 100_000
                ),
                suspect_retries=_int(settings, "ARCHIVER_SUSPECT_RETRIES", 0, 10),
                suspect_retry_delay=_float(settings, "ARCHIVER_SUSPECT_RETRY_DELAY", 86400),
            ),
            exclude=exclude_patterns(settings),
            traps=TrapLimits.from_settings(settings),
            worker_id=settings.get("ARCHIVER_WORKER") or None,
            lease_seconds=_lease_seconds(settings),
            lease_attempts=_int(settings, "ARCHIVER_LEASE_ATTEMPTS", 1, 100),
            host_workers=_int(settings, "ARCHIVER_HOST_WORKERS", 1, 64),
            tls_ca_file=_ca_file(settings),
            via=str(settings.get("ARCHIVER_VIA") or "").strip() or None,
            vantages=_vantages(settings),
            seed_via=seed_vantages(settings),
        )


def seed_vantages(settings: Any) -> dict[int, str]:
    """ARCHIVER_SEED_VIA: the vantage point of some seeds, by seed id."""
    raw = settings.get("ARCHIVER_SEED_VIA") or {}
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    return {int(seed_id): str(name) for seed_id, name in raw.items()}


def _vantages(settings: Any) -> dict[str, Route]:
    """ARCHIVER_VANTAGES: the routes to the vantage points a crawl may use, by name."""
    raw = settings.get("ARCHIVER_VANTAGES") or {}
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    return {name: Route.from_setting(name, value) for name, value in raw.items()}


def _ca_file(settings: Any) -> str | None:
    """ARCHIVER_TLS_CA_FILE, checked to hold PEM certificates before the crawl starts."""
    value = str(settings.get("ARCHIVER_TLS_CA_FILE") or "").strip()
    if not value:
        return None
    from archiver.capture.tlsverify import read_ca_file

    path = str(Path(value).expanduser().resolve())
    read_ca_file(path)
    return path


def _lease_seconds(settings: Any) -> float:
    """Leases are renewed every 10 s and used until 15 s before they expire."""
    seconds = _float(settings, "ARCHIVER_LEASE_SECONDS", 86400)
    if seconds < 30:
        raise ArchiverError(f"setting ARCHIVER_LEASE_SECONDS={seconds:g} must be at least 30")
    return seconds


def known_setting_names() -> set[str]:
    """Every setting a crawl reads: Scrapy's, the profiles', archiver's own."""
    import importlib

    from scrapy.settings import default_settings

    names = {name for name in dir(default_settings) if name.isupper()}
    profile = importlib.import_module("archiver.settings.base")
    names |= {name for name in dir(profile) if name.isupper()}
    return names | set(ARCHIVER_SETTINGS) | {"BROWSER_CAPTURE"}


def validate_overrides(overrides: dict[str, str]) -> None:
    """Reject unknown setting names (with the nearest known one) and bad values before a
    crawl starts: Scrapy ignores a name it does not know, so DOWNLOAD_DELAYY would do
    nothing at all."""
    known = known_setting_names()
    for name in overrides:
        if name in known or name.startswith("PLAYWRIGHT_"):  # scrapy-playwright's own
            continue
        import difflib

        close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.75)
        hint = f": did you mean {close[0]}?" if close else (
            ": settings are Scrapy's (docs.scrapy.org/en/latest/topics/settings.html) or"
            " archiver's ARCHIVER_* ones (README, Settings)"
        )  # fmt: skip
        raise ArchiverError(f"unknown setting {name}{hint}")
    probe = {"ARCHIVER_HOME": "/", "ARCHIVER_JOB": "probe", **overrides}
    config = CrawlConfig.from_settings(probe)
    if config.removal_patterns:
        from archiver.watch.patterns import RemovalPatterns

        RemovalPatterns.load(config.removal_patterns)
