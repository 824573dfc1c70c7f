"""For tests against sites on loopback: no throttling, quick progress, short limits."""

from archiver.settings.base import *  # noqa: F403

AUTOTHROTTLE_ENABLED = False
CONCURRENT_REQUESTS_PER_DOMAIN = 8
RETRY_TIMES = 0
ARCHIVER_PROGRESS_INTERVAL = 1.0
ARCHIVER_MAX_FETCH_SECONDS = 30
ARCHIVER_UPLOAD_ATTEMPTS = 2
DOWNLOAD_TIMEOUT = 40
