"""Replay of a capture, on an origin of its own: ReplayWeb.page (the npm package's
``ui.js`` and ``sw.js``, AGPL, fetched at setup and never committed) reading a WACZ of the
capture made on demand, served on a second loopback port. Archived scripts run in that
origin, so they cannot read the app's pages (another origin) nor post to its actions (no
CSRF token, and a foreign Origin). ReplayWeb.page's service worker answers every request
of the replayed page from the package: nothing is fetched from the live web."""

from __future__ import annotations

import html
import os
import tempfile
import threading
from pathlib import Path

from flask import Flask, abort, request, send_file

from archiver.catalog import exports
from archiver.catalog.captures import get_capture
from archiver.jobs.stores import job_s3_options
from archiver.research.export.package import export_wacz
from archiver.research.export.selection import Selection
from archiver.research.timetravel import timestamp14
from archiver.web.guard import host_name, refused_host
from archiver.web.requestctx import catalog, close_catalogs, writable_catalog

RWP_ENV = "ARCHIVER_REPLAYWEB_DIR"
RWP_VERSION = "2.5.3"

EMBED = """<!doctype html>
<html><head><meta charset="utf-8"><title>replay of {capture_id}</title>
<script src="/replay/ui.js"></script></head>
<body style="margin:0"><replay-web-page source="{source}" url="{url}" ts="{ts}"
 replayBase="/replay/" embed="replayonly" style="display:block;width:100%;height:100vh">
</replay-web-page></body></html>
"""

APP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="./ui.js"></script></head>
<body><replay-app-main skipInitialMessage></replay-app-main></body></html>
"""


def replayweb_dir(home_root: Path) -> Path:
    """Where ReplayWeb.page's ``ui.js`` and ``sw.js`` are: ``ARCHIVER_REPLAYWEB_DIR``,
    else ``HOME/replaywebpage``."""
    return Path(os.environ.get(RWP_ENV) or home_root / "replaywebpage")


def has_replayweb(folder: Path) -> bool:
    return (folder / "ui.js").is_file() and (folder / "sw.js").is_file()


def create_replay_app(home, rwp: Path, allowed_hosts: set[str]) -> Flask:  # type: ignore[no-untyped-def]
    app = Flask(__name__)
    app.config["HOME"] = home
    app.teardown_appcontext(close_catalogs)
    cache = Path(tempfile.mkdtemp(prefix="archiver-replay-"))
    app.config["CACHE"] = cache  # removed by whoever runs the app, when it stops
    lock = threading.Lock()
    hosts = {host_name(h) for h in allowed_hosts}

    @app.before_request
    def loopback_names_only():  # type: ignore[no-untyped-def]
        return refused_host(hosts)

    @app.after_request
    def isolated(response):  # type: ignore[no-untyped-def]
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/replay/")
    def replay_app():  # type: ignore[no-untyped-def]
        # The embed's inner frame, when the service worker has not taken the page yet.
        return APP_PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.get("/replay/<name>")
    def replayweb(name: str):  # type: ignore[no-untyped-def]
        if name not in ("ui.js", "sw.js"):
            abort(404)
        answer = send_file(rwp / name, mimetype="application/javascript")
        answer.headers["Service-Worker-Allowed"] = "/"
        return answer

    @app.get("/embed/<capture_id>")
    def embed(capture_id: str):  # type: ignore[no-untyped-def]
        capture = get_capture(catalog(), capture_id)
        page = EMBED.format(
            capture_id=capture.id,
            source=html.escape(f"{request.host_url}wacz/{capture.id}.wacz"),
            url=html.escape(capture.url),
            ts=timestamp14(capture),
        )
        return page, 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.get("/wacz/<capture_id>.wacz")
    def wacz(capture_id: str):  # type: ignore[no-untyped-def]
        # Only ReplayWeb.page on this origin asks for a package: another site the
        # reader has open cannot have one made (a browser says where a request is from).
        if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
            abort(403)
        # Writable for the export's temporary table only: it writes nothing else.
        writable = writable_catalog()
        capture = get_capture(writable, capture_id)
        target = cache / f"{capture.id}.wacz"
        with lock:  # one package a capture, made once
            if not target.exists():
                export_wacz(
                    writable,
                    Selection(
                        *exports.where_ids([capture.id]),
                        f"capture {capture.id}",
                        main_url=capture.url,
                    ),
                    target,
                    s3_for_job=lambda job: job_s3_options(writable, job),
                    title=f"capture {capture.id}",
                )
        return send_file(target, mimetype="application/wacz", conditional=True)

    return app
