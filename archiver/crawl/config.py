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
from archiver.errors import ArchiverError
from archiver.netpolicy import AddressPolicy, env_allows_private, parse_networks
from archiver.seedspec import patterns
from archiver.storage.s3 import LOCK_MODES, S3Options
from archiver.vantage.route import Route

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
    "ARCHIVER_SIGNED_IN_AS": (
        None,
        "A login profile every seed of the crawl is captured as, instead of each seed's own"
        " (set by 'archiver crawl --as NAME'; 'archiver profile').",
    ),
    "ARCHIVER_OPERATOR": (
        "",
        "Who runs the crawl (contact e-mail or URL): in the user agent and warcinfo.",
    ),
    "ARCHIVER_FROM": (
        "",
        "A From header sent with every request (an operator e-mail, RFC 9110 §10.1.2);"
        " also the warcinfo's http-header-from.",
    ),
    "ARCHIVER_USER_AGENT": (
        None,
        "Override the user agent; default names the project and the operator contact.",
    ),
    "ARCHIVER_WORKER": (
        None,
        "This crawl's worker id on a shared frontier (set by 'archiver worker' and by"
        " 'archiver crawl' on a PostgreSQL catalog).",
    ),
    "ARCHIVER_LEASE_SECONDS": (
        60,
        "How long a worker's lease on a host and its URLs lasts unless renewed (every 10 s)."
        " A dead worker's URLs go back to the queue after this.",
    ),
    "ARCHIVER_HOST_WORKERS": (
        1,
        "How many workers may fetch from one host at once. 1: one, and the host's delay"
        " holds across all workers; more multiplies the load on each host (for sites of"
        " your own).",
    ),
    "ARCHIVER_LEASE_ATTEMPTS": (
        3,
        "A URL leased this many times without being completed (its workers died on it) is"
        " failed with the reason.",
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
    "ARCHIVER_KEEP_LOCAL": (
        False,
        "Keep the spool copy of a WARC file after it is verified in the store.",
    ),
    "ARCHIVER_UPLOAD_CONCURRENCY": (2, "WARC files uploaded at the same time."),
    "ARCHIVER_UPLOAD_ATTEMPTS": (
        5,
        "Tries per file during a crawl (back-off 1, 2, 4, ... s) before it is left pending.",
    ),
    "ARCHIVER_S3_MULTIPART_THRESHOLD": (
        16 * 1024 * 1024,
        "Upload files this large or larger in parts.",
    ),
    "ARCHIVER_S3_PART_SIZE": (8 * 1024 * 1024, "Size of each part of a multipart upload."),
    "ARCHIVER_S3_OBJECT_LOCK_MODE": (
        "",
        "Object Lock retention for every WARC: GOVERNANCE or COMPLIANCE (empty: none).",
    ),
    "ARCHIVER_S3_OBJECT_LOCK_DAYS": (0, "Days of Object Lock retention from the upload."),
    "ARCHIVER_S3_LEGAL_HOLD": (False, "Put an Object Lock legal hold on every WARC."),
    "ARCHIVER_PROGRESS_INTERVAL": (10.0, "Seconds between progress lines on stderr (0: off)."),
    "ARCHIVER_MAX_EMBED_HOPS": (5, "How many requisite-of-requisite hops to follow (CSS -> font)."),
    "ARCHIVER_MAX_REDIRECTS": (10, "Longest redirect chain followed from one URL."),
    "ARCHIVER_MAX_PARSE_BYTES": (
        32 * 1024 * 1024,
        "Decode and scan at most this much of a page for links (bounds gzip bombs).",
    ),
    "ARCHIVER_EXCLUDE": (
        "",
        "URL regexes never followed as links in this job, besides each seed's own exclusions:"
        " separated by spaces, or a JSON array.",
    ),
    "ARCHIVER_MAX_PATH_SEGMENTS": (
        20,
        "Trap guard: links whose path has more segments are not followed (0: no limit).",
    ),
    "ARCHIVER_MAX_SEGMENT_REPEATS": (
        2,
        "Trap guard: links where one path segment (or run of segments) occurs more times"
        " in a row are not followed, as /a/b/a/b/a/b/ (0: no limit).",
    ),
    "ARCHIVER_MAX_PAGES_PER_HOST": (
        100_000,
        "Trap guard: pages followed per host in a job; links past it are not followed"
        " (0: no limit).",
    ),
    "ARCHIVER_MAX_QUERY_VARIANTS": (
        1000,
        "Trap guard: pages followed per scheme, host and path with different query strings"
        " in a job (a calendar's ?date=); links past it are not followed (0: no limit).",
    ),
    "ARCHIVER_REVISITS": (
        True,
        "Write a revisit record instead of the body when a URL's payload is the same as at"
        " its last capture (and for a 304 to a conditional request).",
    ),
    "ARCHIVER_CONDITIONAL": (
        False,
        "Fetch requisites with If-None-Match / If-Modified-Since when their last capture had"
        " an ETag or Last-Modified (saves bandwidth; pywb 2.x replays the resulting 304"
        " revisits as 304s).",
    ),
    "ARCHIVER_CONFIRM_DELAY": (
        5.0,
        "Seconds before a seed whose state changed is fetched again to confirm the change.",
    ),
    "ARCHIVER_REMOVAL_PATTERNS": (
        None,
        "A JSON file of removal-notice patterns per host, added to the built-in ones.",
    ),
    "ARCHIVER_EVENT_COMMAND": (
        None,
        "A command run for each confirmed event, with the event as JSON on its stdin.",
    ),
    "ARCHIVER_EVENT_WEBHOOK": (None, "A URL each confirmed event is POSTed to, as JSON."),
    "ARCHIVER_VIA": (
        "",
        "The vantage point every request of this crawl goes through (set by 'crawl --via');"
        " empty: each seed's own ('seeds add --via'), or a direct connection.",
    ),
    "ARCHIVER_SEED_VIA": (
        "",
        "Vantage points for some seeds of this crawl, as JSON {seed id: name} (set by"
        " 'run-due' from the seeds' schedules, 'schedule set --via'); wins over a seed's own.",
    ),
    "ARCHIVER_VANTAGES": (
        "",
        "The vantage points the crawl may use, as JSON (set by the CLI from the catalog;"
        " passwords only as env:VARIABLE references).",
    ),
    "ARCHIVER_EGRESS_PROBE_URL": (
        "",
        "A URL whose answer is the address a request comes from (also the environment"
        " variable of the same name): fetched once through each vantage point a crawl uses,"
        " and the answer recorded in warcinfo.",
    ),
    "ARCHIVER_TLS_CA_FILE": (
        None,
        "A PEM file of CA certificates trusted besides the system's when each server's"
        " certificate chain is checked (a private CA; crawling never depends on the check).",
    ),
    "ARCHIVER_BROWSER_HOSTS": (
        "weibo.com,weibo.cn,mp.weixin.qq.com,x.com,twitter.com,t.me,facebook.com,instagram.com",
        "Hosts (and their subdomains) whose pages are always captured with the browser,"
        " comma-separated; 'none' for none.",
    ),
    "ARCHIVER_CHROMIUM": (
        "",
        "The Chromium executable for browser capture; default: chromium on the PATH.",
    ),
    "ARCHIVER_BROWSER_PAGES": (2, "Browser pages open at the same time."),
    "ARCHIVER_BROWSER_PAGE_SECONDS": (
        60.0,
        "Hard time limit per browser page: load, behaviours, screenshot and DOM.",
    ),
    "ARCHIVER_BROWSER_IDLE_SECONDS": (
        10.0,
        "Longest wait for the network to go idle after load and after each behaviour step.",
    ),
    "ARCHIVER_SCREENSHOT_MAX_HEIGHT": (
        16000,
        "Tallest full-page screenshot, in CSS pixels (longer pages are cut there).",
    ),
    "ARCHIVER_SUSPECT_RETRIES": (
        1,
        "Browser captures found suspect (login wall, captcha, placeholder, empty) are"
        " fetched again this many times.",
    ),
    "ARCHIVER_SUSPECT_RETRY_DELAY": (
        30.0,
        "Seconds before a suspect browser capture is fetched again.",
    ),
}


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
