"""The Scrapy settings that launch the browser for a job with browser pages.

Chromium is the system's (Debian's ``chromium``), never a download; it is started
with the flags that keep it from calling home, and behind a dead proxy so that only
requests the crawl answers itself (archiver/browser/pagecapture.py) get anywhere.
"""

from __future__ import annotations

import subprocess
from typing import Any

from archiver.browser.options import (
    INSTALL_HINT,
    BrowserOptions,
    chromium_missing,
    find_chromium,
)
from archiver.errors import ArchiverError

CONTEXT = "archiver"
SLOT = "archiver-browser"  # the downloader slot browser pages wait in
DEAD_PROXY = "http://127.0.0.1:9"  # nothing listens: a request not routed through us fails
VIEWPORT = {"width": 1280, "height": 900}
CHROMIUM_FLAGS = [
    # Keep the browser from calling home, fetching components or syncing.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-quic",
    "--disable-gpu",
    "--metrics-recording-only",
    # WebRTC's UDP would go around the proxy: STUN/TURN requests to any address.
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]


def check_chromium(executable: str) -> str:
    """Run ``executable --version``; its answer, or an ArchiverError saying what is wrong."""
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ArchiverError(
            f"browser capture: {executable} does not run ({exc}); {INSTALL_HINT}"
        ) from None
    answer = (done.stdout or "").strip()
    if done.returncode != 0 or "chrom" not in answer.lower():
        raise ArchiverError(
            f"browser capture: {executable} is not Chromium (it answered {answer[:80]!r} to"
            f" --version); {INSTALL_HINT}"
        )
    return answer


def browser_settings(options: BrowserOptions, user_agent: str) -> dict[str, Any]:
    """Scrapy settings for a job with browser pages; ArchiverError without Chromium."""
    executable = find_chromium(options.chromium)
    if executable is None:
        raise ArchiverError(chromium_missing(options.chromium))
    check_chromium(executable)
    handler = "archiver.browser.handler.BrowserDownloadHandler"
    return {
        "BROWSER_CAPTURE": True,
        "DOWNLOAD_HANDLERS": {
            **{scheme: None for scheme in ("ftp", "s3", "file", "data")},
            "http": handler,
            "https": handler,
        },
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": executable,
            "headless": True,
            "args": CHROMIUM_FLAGS,
            # Loopback too: Chromium would otherwise bypass the proxy for it.
            "proxy": {"server": DEAD_PROXY, "bypass": "<-loopback>"},
        },
        "PLAYWRIGHT_CONTEXTS": {
            CONTEXT: {
                "service_workers": "block",  # nothing served from a worker's cache unseen
                "user_agent": user_agent,
                "viewport": VIEWPORT,
                "accept_downloads": False,
                "locale": "en-US",
            }
        },
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": options.pages,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": options.page_seconds * 1000 / 2,
        # The browser pages wait in a slot of their own, so the requests they make hold
        # their host's slots (its concurrency and delays) without waiting on the page.
        "DOWNLOAD_SLOTS": {SLOT: {"concurrency": options.pages, "delay": 0}},
    }
