"""Running one crawl job in this process (the Twisted reactor runs once per process)."""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.settings import Settings, default_settings

from archiver.browser.launch import browser_settings
from archiver.catalog import Catalog
from archiver.catalog.jobs import Job, create_job, resume_job
from archiver.catalog.seeds import Seed
from archiver.config import load as load_config
from archiver.crawl import hostheaders, profilecookies
from archiver.crawl.config import ARCHIVER_SETTINGS, CrawlConfig, validate_overrides
from archiver.crawl.interrupts import InterruptibleProcess
from archiver.errors import ArchiverError, NotFound
from archiver.home import ArchiveHome
from archiver.secrets import LogScrubber, redact_settings, secret_values
from archiver.settings import PROFILES
from archiver.spiders.seedlist import SeedListSpider, SeedTarget

# Scrapy reads these as numbers with a fraction although their defaults are whole.
_FLOAT_SETTINGS = {
    "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY", "CLOSESPIDER_TIMEOUT",
}  # fmt: skip


def _check_scrapy_values(settings: Settings, overrides: Mapping[str, str]) -> None:
    """Scrapy reads settings lazily and fails mid-crawl; read typed ones now instead."""
    getters = {bool: settings.getbool, int: settings.getint, float: settings.getfloat}
    for name in overrides:
        default = getattr(default_settings, name, None)
        kind = float if name in _FLOAT_SETTINGS else type(default)
        getter = getters.get(kind)
        if getter is None:
            continue
        try:
            getter(name)
        except ValueError:
            wanted = {bool: "true or false", int: "a whole number", float: "a number"}
            raise ArchiverError(
                f"setting {name}={overrides[name]!r} must be {wanted[kind]}"
            ) from None


_NOT_FROM_ENV = ("ARCHIVER_HOME", "ARCHIVER_JOB", "ARCHIVER_STORE", "ARCHIVER_WORKER")


def build_settings(
    profile: str,
    home: Path,
    job_name: str,
    overrides: Mapping[str, str],
    store: str | None,
    host_headers: hostheaders.HostHeaders | None = None,
) -> Settings:
    """Scrapy settings for a job: the profile, then the overrides; validated before use.
    ``host_headers`` (--header-for) are held in the settings object only, never stored."""
    if profile not in PROFILES:
        raise ArchiverError(
            f"unknown settings profile {profile!r}: choose one of {', '.join(PROFILES)}"
        )
    # ARCHIVER_* settings may come from the environment too (cron, systemd), and any
    # setting from the home's archiver.toml [settings]; -s wins, then the environment.
    from_env = {
        name: value
        for name, value in os.environ.items()
        if name in ARCHIVER_SETTINGS and name not in _NOT_FROM_ENV and name not in overrides
    }
    from_file = load_config(home, check_settings=True).settings
    overrides = {**from_file, **from_env, **overrides}
    validate_overrides(dict(overrides))
    settings = Settings()
    settings.setmodule(importlib.import_module(f"archiver.settings.{profile}"), priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    _check_scrapy_values(settings, overrides)
    hostheaders.refuse_default_credentials(settings)
    if host_headers:
        settings.set(hostheaders.SETTING, host_headers, priority="cmdline")
    settings.set("ARCHIVER_HOME", str(home), priority="cmdline")
    settings.set("ARCHIVER_JOB", job_name, priority="cmdline")
    if store:
        settings.set("ARCHIVER_STORE", store, priority="cmdline")
    # Scrapy's log goes to the job's folder, beside its crawl.log (a line per URL, written
    # by the session); the terminal gets progress and a summary.
    log_dir = ArchiveHome(home).job_dir(job_name)
    settings.set("LOG_FILE", str(log_dir / "scrapy.log"), priority="cmdline")
    config = CrawlConfig.from_settings(settings)
    settings.set("USER_AGENT", config.user_agent, priority="cmdline")
    if config.from_header:  # RFC 9110 §10.1.2: who to contact about the crawl
        headers = dict(settings.getdict("DEFAULT_REQUEST_HEADERS"))
        headers["From"] = config.from_header
        settings.set("DEFAULT_REQUEST_HEADERS", headers, priority="cmdline")
    return settings


SNAPSHOT_SCRAPY = (
    "USER_AGENT", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_TARGET_CONCURRENCY", "ROBOTSTXT_OBEY", "RETRY_TIMES",
    "DOWNLOAD_TIMEOUT", "COOKIES_ENABLED", "DEFAULT_REQUEST_HEADERS",
    # where the job's store is (never its credentials): upload and get use these later
    "AWS_ENDPOINT_URL", "AWS_REGION_NAME",
)  # fmt: skip


def settings_snapshot(settings: Settings, profile: str, overrides: Mapping[str, str]) -> dict:
    """What the job ran with, for its catalog row: every ARCHIVER_* setting, the Scrapy
    settings that shape what was fetched, the profile and the overrides as typed."""
    from archiver.crawl.config import ARCHIVER_SETTINGS

    values = {name: settings.get(name) for name in ARCHIVER_SETTINGS}
    values.update({name: settings.get(name) for name in SNAPSHOT_SCRAPY})
    values["DEFAULT_REQUEST_HEADERS"] = dict(settings.getdict("DEFAULT_REQUEST_HEADERS"))
    snapshot = {
        "profile": profile,
        "overrides": redact_settings(overrides),
        "settings": redact_settings(values),
    }
    host_headers = settings.get(hostheaders.SETTING)
    if host_headers:  # which hosts got which headers; a resume must give them again
        snapshot["host_headers"] = host_headers.summary()
    return snapshot


@dataclass(frozen=True)
class CrawlRun:
    """How one run of a job's crawl in this process ended."""

    seconds: float
    # Stopped by a second signal: the reactor stopped with nothing closed, so the job is
    # still marked running and its open WARC file waits for the repair at the next start.
    forced: bool = False


def run_crawl(settings: Settings, seeds: Sequence[SeedTarget]) -> bool:
    """Run the crawl to the end, or until stopped; True if a second signal forced the
    stop. A failure to start (a store or home that went away) becomes an ArchiverError
    instead of a Twisted traceback."""
    Path(settings["LOG_FILE"]).parent.mkdir(parents=True, exist_ok=True)
    process = InterruptibleProcess(settings)
    # Scrapy filters by level in its handler; raising the root logger's level as well
    # stops debug records from being built at all (PERF.md: ~100 per response).
    logging.getLogger().setLevel(settings.get("LOG_LEVEL", "INFO"))
    # These log request headers (signatures, session tokens) at DEBUG: never below WARNING.
    for name in ("botocore", "boto3", "s3transfer", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    secrets = secret_values(settings.copy_to_dict())
    if settings.get(hostheaders.SETTING):
        secrets |= settings[hostheaders.SETTING].secrets()
    if settings.get(profilecookies.SETTING):
        secrets |= settings[profilecookies.SETTING].secrets()
    LogScrubber(secrets).install()
    failures: list[BaseException] = []

    def keep(failure):  # type: ignore[no-untyped-def]
        failures.append(failure.value)

    process.crawl(SeedListSpider, seeds=list(seeds)).addErrback(keep)
    process.start()
    if failures and not process.forced:
        error = failures[0]
        if isinstance(error, ArchiverError):
            raise error
        raise ArchiverError(
            f"the crawl could not run: {type(error).__name__}: {error} "
            f"(details in {settings['LOG_FILE']})"
        ) from error
    return process.forced


def sign_in(settings: Settings, catalog: Catalog, home: Path, seeds: Sequence[Seed]) -> list[Seed]:
    """The seeds as they are crawled: each as its own profile, or all as
    ARCHIVER_SIGNED_IN_AS (crawl --as). Their profiles' cookies are loaded from the home
    and held in the settings object only; a profile that is gone, or whose cookies are
    not here, stops the crawl before it starts (never a capture signed out instead)."""
    from archiver.catalog.profiles import get_profile
    from archiver.crawl import profilecookies
    from archiver.profiles import store

    chosen = settings.get("ARCHIVER_SIGNED_IN_AS") or None
    crawled = [replace(seed, profile=chosen) for seed in seeds] if chosen else list(seeds)
    profiles = {}
    for name in sorted({seed.profile for seed in crawled if seed.profile}):
        if get_profile(catalog, name) is None and not chosen:
            using = ",".join(str(s.id) for s in crawled if s.profile == name)
            raise NotFound(
                f"seed(s) {using} are crawled as profile {name!r}, which is gone: add it again"
                f" with archiver profile add {name} --cookies FILE --hosts HOSTS, or crawl"
                f" them signed out after archiver seeds edit ID --profile none. Nothing was"
                " crawled"
            )
        profiles[name] = store.load(catalog, home, name)
    if profiles:
        settings.set(profilecookies.SETTING, profilecookies.SignedIn(profiles), priority="cmdline")
    return crawled


def profiles_summary(seeds: Sequence[Seed]) -> str | None:
    """Who the crawl signed in as, for the warcinfo record: one profile, or which seeds
    used which; None when no seed is crawled signed in."""
    if not any(seed.profile for seed in seeds):
        return None
    used = {seed.profile for seed in seeds}
    if len(used) == 1:
        return str(used.pop())
    parts = [
        f"{name or 'none'}: seeds {','.join(str(s.id) for s in seeds if s.profile == name)}"
        for name in sorted(used, key=lambda n: n or "")
    ]
    return "per seed (" + "; ".join(parts) + ")"


def robots_summary(seeds: Sequence[Seed]) -> str:
    """The robots policy for the warcinfo record: one policy, or which seeds used which."""
    policies = {seed.robots for seed in seeds}
    if len(policies) == 1:
        return policies.pop()
    parts = [
        f"{policy}: seeds {','.join(str(s.id) for s in seeds if s.robots == policy)}"
        for policy in sorted(policies)
    ]
    return "per seed (" + "; ".join(parts) + ")"


def run_job(
    catalog: Catalog,
    settings: Settings,
    seeds: Sequence[Seed],
    *,
    profile: str,
    overrides: Mapping[str, str],
    resume: Job | None = None,
    selection: Mapping[str, object] | None = None,
) -> CrawlRun:
    """Record the job in the catalog (or mark ``resume`` running again), crawl its
    seeds, and say how the run ended. ``selection``: what the command chose
    (archiver/jobs/selection.py), kept so that the same command resumes the job."""
    name = settings["ARCHIVER_JOB"]
    snapshot = {
        **settings_snapshot(settings, profile, overrides),
        "robots_summary": robots_summary(seeds),
        "profiles_summary": profiles_summary(seeds),
    }
    if selection is not None:
        snapshot["selection"] = dict(selection)
    enable_browser(settings, seeds)  # before the job exists: a missing Chromium stops here
    if resume is not None:
        resume_job(catalog, resume.id, snapshot)
    else:
        create_job(catalog, name, snapshot, [seed.id for seed in seeds])
    return _timed_crawl(settings, seeds)


def _timed_crawl(settings: Settings, seeds: Sequence[Seed]) -> CrawlRun:
    started = time.monotonic()
    forced = run_crawl(
        settings,
        [
            SeedTarget(
                s.id,
                s.url,
                s.scope,
                s.depth,
                s.robots,
                s.browser,
                s.include,
                s.exclude,
                s.profile,
                s.via,
            )
            for s in seeds
        ],
    )
    return CrawlRun(time.monotonic() - started, forced)


def submit_job(
    catalog: Catalog,
    settings: Settings,
    seeds: Sequence[Seed],
    *,
    profile: str,
    overrides: Mapping[str, str],
    selection: Mapping[str, object] | None = None,
) -> Job:
    """Record a job whose frontier workers share (archiver/crawl/shared.py): its settings
    and seeds, and the seeds as its first frontier entries, committed together."""
    from archiver.catalog.frontier import FrontierEntry

    snapshot = {
        **settings_snapshot(settings, profile, overrides),
        "robots_summary": robots_summary(seeds),
        "profiles_summary": profiles_summary(seeds),
        "frontier": "shared",
    }
    if selection is not None:
        snapshot["selection"] = dict(selection)
    enable_browser(settings, seeds)  # a missing Chromium stops here, before the job exists
    entries = [FrontierEntry(s.url, s.id, "seed", 0, None) for s in seeds]
    return create_job(catalog, settings["ARCHIVER_JOB"], snapshot, [s.id for s in seeds], entries)


def run_worker(settings: Settings, seeds: Sequence[Seed]) -> CrawlRun:
    """Work a shared job's frontier as one worker until it is done or this one stops."""
    enable_browser(settings, seeds)
    return _timed_crawl(settings, seeds)


def browser_seeds(settings: Settings, seeds: Sequence[Seed]) -> list[Seed]:
    """The seeds captured with the browser: marked so, or on a browser host."""
    options = CrawlConfig.from_settings(settings).browser
    return [s for s in seeds if s.browser or options.host_wants_browser(urlsplit(s.url).hostname)]


def enable_browser(settings: Settings, seeds: Sequence[Seed]) -> None:
    """Load the browser handler when a seed needs it; without Chromium, say which seeds
    need it and how to install it (crawls without browser seeds never need it)."""
    needing = browser_seeds(settings, seeds)
    if not needing:
        return
    config = CrawlConfig.from_settings(settings)
    try:
        values = browser_settings(config.browser, config.user_agent)
    except ArchiverError as exc:
        listed = ", ".join(f"{s.id} {s.url}" for s in needing[:5])
        more = f" and {len(needing) - 5} more" if len(needing) > 5 else ""
        raise ArchiverError(
            f"{exc}. Seeds that need the browser: {listed}{more}. Nothing was crawled;"
            " crawl the other seeds by --seed or --tag, or set ARCHIVER_BROWSER_HOSTS=none"
            " if these hosts do not need a browser"
        ) from None
    for name, value in values.items():
        settings.set(name, value, priority="cmdline")
