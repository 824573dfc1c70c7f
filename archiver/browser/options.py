"""What the browser path is told by the ARCHIVER_* settings, and which pages take it.

Nothing here imports Scrapy or Playwright: the CLI decides before a crawl whether a
job needs the browser, and says so when Chromium is missing.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from archiver.errors import ArchiverError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install Debian's package with 'apt-get install chromium' (or point ARCHIVER_CHROMIUM"
    " at a Chromium executable)"
)


def parse_hosts(text: str) -> tuple[str, ...]:
    """'x.com, Weibo.com' -> ('x.com', 'weibo.com'); 'none' or '' -> ()."""
    if text.strip().lower() in ("", "none"):
        return ()
    hosts = []
    for item in text.split(","):
        host = item.strip().lower().strip(".")
        if not host:
            continue
        if "/" in host or ":" in host or " " in host:
            raise ArchiverError(
                f"setting ARCHIVER_BROWSER_HOSTS: {item.strip()!r} is not a host name;"
                " give host names separated by commas, such as 'x.com,weibo.com'"
            )
        hosts.append(host.removeprefix("www."))
    return tuple(hosts)


@dataclass(frozen=True)
class BrowserOptions:
    hosts: tuple[str, ...] = ()
    chromium: str = ""  # an executable path; empty: look on the PATH
    pages: int = 2
    page_seconds: float = 60.0
    idle_seconds: float = 10.0
    screenshot_max_height: int = 16000
    suspect_retries: int = 1
    suspect_retry_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.page_seconds < 5:
            raise ArchiverError(
                f"setting ARCHIVER_BROWSER_PAGE_SECONDS={self.page_seconds:g} must be at"
                " least 5 (seconds for a whole browser page)"
            )

    def host_wants_browser(self, host: str | None) -> bool:
        """True when ``host`` is one of the browser hosts or a subdomain of one."""
        name = (host or "").lower().strip(".")
        return any(name == h or name.endswith("." + h) for h in self.hosts)


def find_chromium(configured: str = "") -> str | None:
    """The Chromium executable to launch, or None when there is none."""
    if configured:
        path = shutil.which(configured) or configured
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_missing(configured: str = "") -> str:
    where = (
        f"ARCHIVER_CHROMIUM={configured!r} is not an executable"
        if configured
        else ("no Chromium on the PATH")
    )
    return f"browser capture needs Chromium: {where}; {INSTALL_HINT}"
