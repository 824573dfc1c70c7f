"""The ARCHIVER_* crawl settings: each name, its default and what it does. Declared once;
archiver/crawl/config.py parses them, settings/base.py and the README list them."""

from __future__ import annotations

from typing import Any

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
