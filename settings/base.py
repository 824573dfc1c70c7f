"""Base Scrapy settings for archival crawls. Profiles import this and override."""

from archiver.crawl.config import ARCHIVER_SETTINGS
from archiver.spiders.decode import ACCEPT_ENCODING

BOT_NAME = "archiver"
SPIDER_MODULES = ["archiver.spiders.seedlist"]

# Every exchange is recorded below Scrapy's decoding layer (see archiver/crawl/tap.py).
DOWNLOAD_HANDLERS = {
    "http": "archiver.crawl.tap.ArchivingDownloadHandler",
    "https": "archiver.crawl.tap.ArchivingDownloadHandler",
    # Nothing but http(s) is fetched: these would go around the tap and the address policy.
    "ftp": None,
    "s3": None,
    "file": None,
    "data": None,
}
EXTENSIONS = {"archiver.crawl.session.ArchiveSession": 0}
# Scrapy's own extensions, less those a crawl here never uses: each listed one is imported
# by every crawl even when set to None in EXTENSIONS (Scrapy loads a component to compare
# it), and the remote control alone imports aiohttp, 110 ms of a one-page crawl's start-up.
# Left out: remote control, telnet console, feed exports, memory debugger, spider state.
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}

# Polite defaults for real sites: a few connections per host, AutoThrottle backing off
# when a server slows down, robots.txt per seed (see the seed's --robots).
CONCURRENT_REQUESTS = 32
# Scrapy hands each response's output to CONCURRENT_ITEMS asyncio workers (100 by default:
# 100 tasks per page). The spider yields requests, not items: a few workers do
# (benchmarks/crawl_speed.py: +13%).
CONCURRENT_ITEMS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
ROBOTSTXT_OBEY = True

# The spider follows redirects itself so each hop is its own request/response pair,
# and sees every status: a 404 or a 503 is also what the server said.
# RedirectMiddleware acts on robots.txt only (RFC 9309: up to 5 redirects).
REDIRECT_ENABLED = True
REDIRECT_MAX_TIMES = 5
HTTPERROR_ALLOW_ALL = True
RETRY_HTTP_CODES: list[int] = []
RETRY_TIMES = 2
METAREFRESH_ENABLED = False
DEPTH_LIMIT = 0
# Work per request no archiver crawl reads: the depth Scrapy counts (the spider counts its
# own hops) and the downloader's byte and status counters (crawl.log has each fetch).
SPIDER_MIDDLEWARES = {"scrapy.spidermiddlewares.depth.DepthMiddleware": None}
DOWNLOADER_STATS = False
URLLENGTH_LIMIT = 0  # a long URL is still a page to keep; no silent drop
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"  # the spider de-duplicates

# Size and time limits are the archiver's (WARC-Truncated), not Scrapy's.
DOWNLOAD_MAXSIZE = 0
DOWNLOAD_WARNSIZE = 0
DOWNLOAD_TIMEOUT = 240  # above ARCHIVER_MAX_FETCH_SECONDS so ours cuts first
COOKIES_ENABLED = True

# The spider undoes content-encoding itself, bounded (archiver/spiders/decode.py).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    # Scrapy's robots.txt rules, shared by the workers of a job (fetched once per host).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "archiver.crawl.robots.SharedRobotsTxt": 100,
    # Between RobotsTxtMiddleware (100) and the downloader: robots.txt as RFC 9309 reads it.
    "archiver.crawl.robots.PrepareRobotsTxt": 110,
    # Under --robots ignore, each host's robots.txt is still archived (never applied).
    "archiver.crawl.robots.ArchiveIgnoredRobotsTxt": 115,
    # Confirmation fetches wait here, after robots.txt and before the downloader.
    "archiver.crawl.delay.DelayMiddleware": 120,
    # --header-for headers, to their hosts only: after CookiesMiddleware (700), so a given
    # Cookie joins the site's own (archiver/crawl/hostheaders.py).
    "archiver.crawl.hostheaders.HostHeadersMiddleware": 750,
    # Login profiles' cookies, to their hosts only, after the site's own (700) too.
    "archiver.crawl.profilecookies.ProfileCookiesMiddleware": 760,
}
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": ACCEPT_ENCODING,
}

LOG_LEVEL = "INFO"  # to HOME/jobs/JOB/scrapy.log
LOGSTATS_INTERVAL = 0
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port on a crawler of at-risk content

for _name, (_default, _doc) in ARCHIVER_SETTINGS.items():
    globals()[_name] = _default
