"""The Flask application: its guard, its pages, its error pages."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from archiver.errors import ArchiverError, NotFound
from archiver.home import ArchiveHome
from archiver.urls import display_iri
from archiver.web.guard import Guard
from archiver.web.requestctx import close_catalogs, marked


def create_app(
    home: ArchiveHome,
    *,
    allowed_hosts: set[str],
    token: str | None = None,
    replay_origin: str | None = None,
) -> Flask:
    app = Flask(__name__)
    app.config["HOME"] = home
    app.config["REPLAY_ORIGIN"] = replay_origin
    Guard(allowed_hosts, token, replay_origin).install(app)
    app.jinja_env.filters["iri"] = display_iri
    app.jinja_env.filters["marked"] = marked
    app.teardown_appcontext(close_catalogs)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        return render_template("error.html", code=exc.code, message=exc.description), exc.code

    @app.errorhandler(ArchiverError)
    def archiver_error(exc: ArchiverError):  # type: ignore[no-untyped-def]
        code = 404 if isinstance(exc, NotFound) else 400
        return render_template("error.html", code=code, message=str(exc)), code

    from archiver.web import capturepage, eventspage, listing, timelinepage

    for module in (listing, capturepage, timelinepage, eventspage):
        module.register(app)
    return app
