"""Credentials go to their host only: --header-for, the credentials file, and refusals.

Two loopback hosts (127.0.0.1 and 127.0.0.2) log every request they get; a page on A
loads requisites from B and from A on another port, and redirects to B. A gets the
headers, the others never do; the WARC shows them redacted; nothing stores them.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.http import Request
from warcs import archiver, catalog_rows, read_warc, warc_files

from archiver.crawl.hostheaders import HostHeadersMiddleware, HostRule, parse_options
from archiver.secrets import redact_request_head
from archiver.urls import normalize_url

TOKEN = "Bearer HOSTTOKEN7f3a9c21"
COOKIE = "sid=COOKIESECRET44b1"
Route = tuple[int, list[tuple[str, str]], bytes]


class LoggingSite:
    """A loopback server on ``host`` with scripted routes; ``log`` holds (path, headers)."""

    def __init__(self, host: str, tls=None):  # type: ignore[no-untyped-def]
        self.routes: dict[str, Route | Callable[[], Route]] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.log.append((self.path, dict(self.headers.items())))
                route = site.routes.get(self.path, (404, [], b"not here"))
                status, headers, body = route() if callable(route) else route
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str, html: str) -> None:
        self.routes[path] = (200, [("Content-Type", "text/html")], html.encode())

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = (302, [("Location", location)], b"moved")

    def received(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.log if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sites() -> Iterator[Callable[..., LoggingSite]]:
    made: list[LoggingSite] = []

    def make(host: str = "127.0.0.1", tls=None) -> LoggingSite:  # type: ignore[no-untyped-def]
        made.append(LoggingSite(host, tls))
        return made[-1]

    yield make
    for site in made:
        site.close()


def everything_written(home: Path) -> dict[str, str]:
    out = {}
    for path in home.rglob("*"):
        if path.is_file() and not path.name.startswith("catalog.sqlite"):
            data = path.read_bytes()
            if path.name.endswith((".warc.gz", ".warc.gz.open")):
                data = gzip.decompress(data)
            out[str(path)] = data.decode("latin-1")
    conn = sqlite3.connect(home / "catalog.sqlite")
    out["catalog dump"] = "\n".join(conn.iterdump())
    conn.close()
    return out


def test_headers_go_to_their_host_only(tmp_path, sites):
    a, b, c = sites("127.0.0.1"), sites("127.0.0.2"), sites("127.0.0.1")  # c: A's host, other port
    a.page(
        "/",
        f'<img src="{b.url}/b.png"><link rel=stylesheet href="{c.url}/c.css">'
        '<a href="/to-b">to B</a><a href="/page2.html">two</a>',
    )
    a.redirect("/to-b", f"{b.url}/landing.html")  # a redirect to another host
    a.page("/page2.html", "<p>two</p>")
    a.routes["/a.png"] = (200, [("Content-Type", "image/png")], b"\x89PNG a")
    b.page("/landing.html", f'<p>B</p><img src="{a.url}/a.png">')
    b.routes["/b.png"] = (200, [("Content-Type", "image/png")], b"\x89PNG b")
    c.routes["/c.css"] = (200, [("Content-Type", "text/css")], b"p{}")
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", a.url + "/", "--scope", "host").returncode == 0
    host = f"127.0.0.1:{a.port}"
    result = archiver(
        home, "crawl", "--profile", "test", "--job", "h", "-s", "LOG_LEVEL=DEBUG",
        "--header-for", host, f"Authorization: {TOKEN}", "--header-for", host, f"Cookie: {COOKIE}",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # A got the headers on every request: the page, its links, its robots.txt, and a
    # requisite of B's page (headers belong to the host, whoever links to it).
    a_paths = {path for path, _ in a.log}
    assert {"/", "/robots.txt", "/to-b", "/page2.html", "/a.png"} <= a_paths
    for _, headers in a.log:
        assert headers.get("Authorization") == TOKEN
        assert COOKIE in headers.get("Cookie", "")
    # B (another host) and C (A's host on another port) never did, redirect included.
    assert {path for path, _ in b.log} >= {"/b.png", "/landing.html"}
    assert [path for path, _ in c.log] == ["/c.css"]
    for path, headers in b.log + c.log:
        assert "Authorization" not in headers, path
        assert not any("COOKIESECRET" in value for value in headers.values()), path
    # The request records hold what was sent, the values redacted.
    records = read_warc(warc_files(home)[0])
    requests = {r.headers["WARC-Target-URI"]: r.raw_block for r in records if r.type == "request"}
    for url in (a.url + "/", a.url + "/to-b", a.url + "/a.png"):
        assert b"Authorization: [redacted by archiver]" in requests[url]
        assert b"Cookie: [redacted by archiver]" in requests[url]
    for url in (b.url + "/landing.html", b.url + "/b.png", c.url + "/c.css"):
        assert b"Authorization" not in requests[url] and b"Cookie" not in requests[url]
    [meta] = [
        r for r in records if r.type == "metadata" and r.headers["WARC-Target-URI"] == a.url + "/"
    ]
    assert b"redactedRequestHeaders: Authorization, Cookie" in meta.content
    # The values are nowhere archiver writes; the job records hosts and names only.
    outputs = {"stdout": result.stdout, "stderr": result.stderr, **everything_written(home)}
    leaks = [
        where for where, text in outputs.items() for s in ("HOSTTOKEN", "COOKIESECRET") if s in text
    ]
    assert leaks == []
    [job] = catalog_rows(home, "SELECT settings FROM jobs")
    assert json.loads(job["settings"])["host_headers"] == {host: ["Authorization", "Cookie"]}


def test_no_headers_after_a_downgrade_to_http(tmp_path, sites):
    from tls import server_context

    secure, plain = sites("127.0.0.1", tls=server_context(tmp_path)), sites("127.0.0.1")
    secure.redirect("/down", f"{plain.url}/plain.html")  # https -> http, same host
    plain.page("/plain.html", "<p>plain</p>")
    plain.page("/direct.html", "<p>direct</p>")
    home = tmp_path / "home"
    result = archiver(
        home, "crawl", "--profile", "test", secure.url + "/down", plain.url + "/direct.html",
        "--header-for", "127.0.0.1", f"Authorization: {TOKEN}",  # any port of the host
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert [h.get("Authorization") for h in secure.received("/down")] == [TOKEN]
    assert [h.get("Authorization") for h in plain.received("/direct.html")] == [TOKEN]
    assert [h.get("Authorization") for h in plain.received("/plain.html")] == [None]


def test_resume_asks_for_the_headers_again(tmp_path, sites):
    site = sites()
    release = threading.Event()
    site.page("/", "".join(f'<a href="/p{n}.html">p</a>' for n in range(6)))
    served: list[int] = []

    def page() -> Route:  # the first page asked for is held until the crawl is stopped
        served.append(1)
        if len(served) == 1:
            release.wait(30)
        return 200, [("Content-Type", "text/html")], b"<p>p</p>"

    for n in range(6):
        site.routes[f"/p{n}.html"] = page
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + "/", "--scope", "host").returncode == 0
    host = f"127.0.0.1:{site.port}"
    env = {**os.environ, "ARCHIVER_HOME": str(home)}
    crawl = [sys.executable, "-m", "archiver", "crawl", "--profile", "test", "--job", "r",
             "-s", "CONCURRENT_REQUESTS=1"]  # fmt: skip
    process = subprocess.Popen(
        [*crawl, "--header-for", host, f"Authorization: {TOKEN}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not served and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served, "the crawl never reached a page"
    process.send_signal(signal.SIGTERM)
    release.set()
    out, err = process.communicate(timeout=60)
    assert catalog_rows(home, "SELECT status FROM jobs")[0]["status"] == "stopped", out + err
    before = len(site.log)

    again = subprocess.run(crawl, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == (
        f"Error: job 'r' was crawled with --header-for {host} 'Authorization: …'; header"
        " values are never stored: give them again to resume it (archiver crawl --job r"
        " --header-for HOST 'NAME: VALUE'), or put them in the credentials file"
    )
    # The credentials file serves too, once no other user can read it (as ssh asks).
    credentials = home / "credentials"
    credentials.write_text(f"# for the resume\n{host} Authorization: {TOKEN}\n")
    credentials.chmod(0o644)
    refused = subprocess.run(crawl, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"Error: credentials file {credentials} is open to other users (-rw-r--r--) or not"
        f" yours: make it private with 'chmod 600 {credentials}'"
    )
    assert len(site.log) == before
    credentials.chmod(0o600)
    resumed = subprocess.run(crawl, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "job r: resuming" in resumed.stderr
    after = site.log[before:]
    assert after, "the resume fetched nothing"
    assert [headers.get("Authorization") for _, headers in after] == [TOKEN] * len(after)


@pytest.mark.parametrize("name", ["Authorization", "Cookie", "X-Api-Key"])
def test_credentials_in_default_request_headers_are_refused(tmp_path, name):
    home = tmp_path / "home"
    headers = json.dumps({name: "s3cret-value", "Accept": "text/html"})
    result = archiver(
        home, "crawl", "http://127.0.0.1:9/", "-s", f"DEFAULT_REQUEST_HEADERS={headers}"
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: DEFAULT_REQUEST_HEADERS would send {name} to every host of the crawl: give it"
        f" for its host only, with --header-for HOST '{name}: VALUE' (or in the credentials"
        " file)"
    )
    assert not (home / "catalog.sqlite").exists()  # nothing was written


@pytest.mark.parametrize(
    ("host", "header", "message"),
    [
        ("example.org/path", "A: b", "bad --header-for host 'example.org/path': write a host"),
        ("ftp://example.org", "A: b", "the scheme must be http or https, not 'ftp'"),
        ("example.org", "no colon", "write it as 'Name: value'"),
        ("example.org", "Host: x", "--header-for cannot set Host"),
    ],
)
def test_bad_header_for_is_an_error(tmp_path, host, header, message):
    result = archiver(
        tmp_path / "home", "crawl", "http://127.0.0.1:9/", "--header-for", host, header
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_host_rules():
    assert HostRule.parse("Example.ORG.").matches("https://example.org:8443/x")
    assert not HostRule.parse("example.org").matches("https://www.example.org/")
    assert not HostRule.parse("example.org").matches("https://example.org.evil.test/")
    assert not HostRule.parse("example.org").matches("https://evilexample.org/")
    sub = HostRule.parse(".example.org")
    assert sub.matches("http://example.org/") and sub.matches("http://a.b.example.org/")
    assert not sub.matches("http://badexample.org/")
    assert HostRule.parse("example.org:8080").matches("http://example.org:8080/")
    assert not HostRule.parse("example.org:8080").matches("http://example.org/")
    assert HostRule.parse("example.org:80").matches("http://example.org/")
    secure = HostRule.parse("https://example.org")
    assert secure.matches("https://example.org/") and not secure.matches("http://example.org/")
    assert HostRule.parse("bücher.example").matches("http://xn--bcher-kva.example/")
    assert HostRule.parse("[::1]:8080").matches("http://[::1]:8080/")
    assert str(HostRule.parse("HTTPS://.Example.org:8443")) == "https://.example.org:8443"
    # International names as seed URLs are normalized (UTS #46): faß.de is not fass.de.
    seed = normalize_url("http://faß.de/")
    assert HostRule.parse("faß.de").matches(seed) and not HostRule.parse("fass.de").matches(seed)
    assert not HostRule.parse("faß.de").matches("http://fass.de/")


def test_swapped_arguments_never_print_the_value(tmp_path):
    secret = "sid=S3CRET-SESSION-VALUE"
    result = archiver(
        tmp_path / "home", "crawl", "http://127.0.0.1:9/",
        "--header-for", f"Cookie: {secret}", "example.org",
    )  # fmt: skip
    assert result.returncode == 1 and result.stderr.startswith("Error: "), result.stderr
    assert "the host comes first" in result.stderr
    assert "S3CRET" not in result.stderr + result.stdout


def test_middleware_takes_headers_off_copies_and_downgrades():
    middleware = HostHeadersMiddleware(
        parse_options(
            [
                ("a.example", f"Authorization: {TOKEN}"),
                ("a.example", f"Cookie: {COOKIE}"),
                ("a.example", "X-Session: s1"),
            ]
        )
    )
    first = Request("https://a.example/", headers={"Cookie": "site=1"})
    middleware.process_request(first)
    assert first.headers["Authorization"] == TOKEN.encode()
    assert first.headers["Cookie"] == f"site=1; {COOKIE}".encode()
    # Scrapy's RedirectMiddleware (robots.txt) copies a request's headers to the next hop.
    elsewhere = first.replace(url="https://b.example/", meta={"redirect_urls": [first.url]})
    middleware.process_request(elsewhere)
    assert b"X-Session" not in elsewhere.headers and b"Authorization" not in elsewhere.headers
    assert elsewhere.headers["Cookie"] == b"site=1"
    # From https down to http, on the same host: nothing (as requests does).
    down = Request("http://a.example/", meta={"archiver": {"redirects": 1, "via": first.url}})
    middleware.process_request(down)
    assert b"Authorization" not in down.headers and b"Cookie" not in down.headers
    up = Request("https://a.example/", meta={"archiver": {"redirects": 1, "via": "http://x/"}})
    middleware.process_request(up)
    assert up.headers["Authorization"] == TOKEN.encode()


def test_given_cookie_pairs_are_redacted_among_the_sites_own():
    block = b"GET / HTTP/1.1\r\nCookie: b=2; site=1; a=1\r\nX-Session: s1\r\nAccept: s1\r\n\r\n"
    clean, names = redact_request_head(block, [("Cookie", "a=1; b=2"), ("X-Session", "s1")])
    assert clean == (
        b"GET / HTTP/1.1\r\nCookie: [redacted by archiver]; site=1; [redacted by archiver]\r\n"
        b"X-Session: [redacted by archiver]\r\nAccept: s1\r\n\r\n"
    )
    assert names == ["Cookie", "X-Session"]


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")  # fmt: skip
def test_a_browser_page_sends_them_to_their_host_only(tmp_path, sites):
    """What the browser loads goes through the same downloader, under the same rule,
    a subresource's redirect to another host included."""
    a, b = sites("127.0.0.1"), sites("127.0.0.2")
    a.page(
        "/",
        f'<p>post</p><img src="{b.url}/b.png"><img src="/moved.png">'
        f'<script>fetch("{b.url}/api").then(r => r.text())</script>',
    )
    a.redirect("/moved.png", f"{b.url}/moved.png")
    for path in ("/b.png", "/moved.png"):
        b.routes[path] = (200, [("Content-Type", "image/png")], b"\x89PNG b")
    b.routes["/api"] = (200, [("Content-Type", "application/json"),
                              ("Access-Control-Allow-Origin", "*")], b"{}")  # fmt: skip
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", a.url + "/", "--browser").returncode == 0
    result = archiver(
        home, "crawl", "--profile", "test", "--header-for", f"127.0.0.1:{a.port}",
        f"Authorization: {TOKEN}", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert {path for path, _ in a.log} >= {"/", "/moved.png"}
    assert {headers.get("Authorization") for _, headers in a.log} == {TOKEN}
    assert {path for path, _ in b.log} >= {"/b.png", "/moved.png", "/api"}
    assert [path for path, headers in b.log if "Authorization" in headers] == []


def test_run_due_takes_them_from_the_credentials_file(tmp_path, sites):
    a, b = sites("127.0.0.1"), sites("127.0.0.2")
    a.page("/", f'<p>due</p><img src="{b.url}/b.png">')
    b.routes["/b.png"] = (200, [("Content-Type", "image/png")], b"\x89PNG b")
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", a.url + "/").returncode == 0
    assert archiver(home, "schedule", "set", "--seed", "1", "--every", "1h").returncode == 0
    credentials = tmp_path / "private" / "creds"
    credentials.parent.mkdir()
    credentials.write_text(f"127.0.0.1:{a.port}\t Authorization: {TOKEN}\n")
    credentials.chmod(0o600)
    env = {**os.environ, "ARCHIVER_HOME": str(home), "ARCHIVER_CREDENTIALS": str(credentials)}
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "run-due", "--profile", "test"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert [h.get("Authorization") for h in a.received("/")] == [TOKEN]
    assert [path for path, _ in b.log] == ["/b.png"]
    assert "Authorization" not in b.log[0][1]
