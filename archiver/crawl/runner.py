"""Running one crawl job in this process (the Twisted reactor runs once per process)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archiver.errors import ArchiverError
from archiver.home import ArchiveHome
from archiver.settings import PROFILES
from archiver.spiders.seedlist import SeedListSpider, SeedTarget


def build_settings(
    profile: str, home: Path, job_name: str, overrides: Mapping[str, str], store: str | None
) -> Settings:
    if profile not in PROFILES:
        raise ArchiverError(
            f"unknown settings profile {profile!r}: choose one of {', '.join(PROFILES)}"
        )
    settings = Settings()
    settings.setmodule(importlib.import_module(f"archiver.settings.{profile}"), priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    settings.set("ARCHIVER_HOME", str(home), priority="cmdline")
    settings.set("ARCHIVER_JOB", job_name, priority="cmdline")
    # The full Scrapy log goes to the job's folder; the terminal gets progress and a summary.
    log_dir = ArchiveHome(home).job_dir(job_name)
    settings.set("LOG_FILE", str(log_dir / "crawl.log"), priority="cmdline")
    if store:
        settings.set("ARCHIVER_STORE", store, priority="cmdline")
    from archiver.crawl.config import CrawlConfig

    config = CrawlConfig.from_settings(settings)  # validates before anything starts
    settings.set("USER_AGENT", config.user_agent, priority="cmdline")
    return settings


def run_crawl(settings: Settings, seeds: Sequence[SeedTarget]) -> None:
    Path(settings["LOG_FILE"]).parent.mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(settings)
    process.crawl(SeedListSpider, seeds=list(seeds))
    process.start()
