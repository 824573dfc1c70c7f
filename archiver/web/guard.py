"""Who may use the web view, and how: loopback Host names only (a page elsewhere cannot
reach it by DNS rebinding), a token when it listens on another address (``--public``),
and for the actions (POST) a CSRF token and an Origin of its own; strict response
headers so no archived or foreign script runs in its pages."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, abort, redirect, request

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_COOKIE = "archiver_token"


def host_name(host: str) -> str:
    """``HOST[:PORT]`` without the port, lower case (IPv6 without brackets); empty when
    what follows the name is not a port (``127.0.0.1:x.example`` names no loopback host)."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
    elif host.count(":") == 1:
        name, rest = host.split(":")[0], ":" + host.split(":")[1]
    else:
        name, rest = host, ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return ""
    return name


def refused_host(allowed: set[str]) -> Response | None:
    """A plain 400 for a request whose ``Host`` is not one of ``allowed`` (read from the
    request as sent: Werkzeug refuses to parse a malformed one, and the app's pages, which
    build links from it, cannot be shown for it)."""
    given = request.environ.get("HTTP_HOST", "")
    if host_name(given) in allowed:
        return None
    return Response(
        f"this server does not answer for the host {given!r}\n", 400, mimetype="text/plain"
    )


class Guard:
    def __init__(self, allowed_hosts: set[str], token: str | None, frame_origin: str | None):
        self.allowed_hosts = {host_name(h) for h in allowed_hosts}
        self.token = token
        self.csrf = secrets.token_urlsafe(32)  # one per server start, in every form
        self.frame_origin = frame_origin  # the replay's own origin, the one frame allowed

    def install(self, app: Flask) -> None:
        app.before_request(self._check)
        app.after_request(self._headers)
        app.jinja_env.globals["csrf_token"] = self.csrf

    def _check(self) -> Response | None:
        refused = refused_host(self.allowed_hosts)
        if refused is not None:
            return refused
        if self.token is not None:
            given = request.args.get("token")
            if given is not None and hmac.compare_digest(given, self.token):
                answer = redirect(request.path)
                answer.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="Strict")
                return answer
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            presented = request.cookies.get(TOKEN_COOKIE) or bearer
            if not presented or not hmac.compare_digest(presented, self.token):
                abort(
                    401,
                    "give the token: open /?token=TOKEN once, or send Authorization: Bearer TOKEN",
                )
        if request.method == "POST":
            form_token = request.form.get("csrf", "")
            if not hmac.compare_digest(form_token, self.csrf):
                abort(403, "this form is stale or was not sent by this server: reload the page")
            if not self._same_origin():
                abort(403, "this request came from another site")
        return None

    def _same_origin(self) -> bool:
        """The form was posted from a page of this server: its Origin (or Referer) names
        this host. Either scheme: behind a reverse proxy that ends TLS, the browser's
        origin is https while this server is spoken to over http."""
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if origin is None:
            return False
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()

    def _headers(self, response: Response) -> Response:
        frames = self.frame_origin or "'none'"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
            f" frame-src {frames}; object-src 'none'; base-uri 'none'; form-action 'self';"
            " frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # Not no-referrer: with it, a browser sends "Origin: null" on the forms' POSTs.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response
