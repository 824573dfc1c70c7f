"""Crawling through vantage points (``--via``), run as a user runs it: a loopback origin
that logs every request with the address it came from, and real proxies started here
with pproxy (an HTTP proxy with a password, a SOCKS5 server). Each proxy connects out
from its own loopback address, so the origin tells them apart and answers differently:
the page from the HTTP vantage, a 451 from the SOCKS5 one.

Read back: origin-form request lines, no proxy credentials anywhere (WARC files, catalog,
logs), the vantage in warcinfo, metadata records, ``captures --json`` and ``cite``; a
proxy that is down or refuses fails the capture with the reason ``proxy``, and the
origin's log shows that nothing reached it."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli
from seedcli import ok
from servehelp import serving
from tls import LoopbackPki
from warcs import catalog_rows, read_warc, warc_files

PASSWORD = "pr0xy-secret-never-stored"
HTTP_VANTAGE = "127.0.0.2"  # the HTTP proxy listens, and connects out, here
SOCKS_VANTAGE = "127.0.0.3"  # the SOCKS5 server's
BLOCKED_PAGE = b"<html><head><title>Unavailable</title></head><body>Not here.</body></html>"


class Origin:
    """An HTTP(S) site on 127.0.0.1 that logs each request (its peer address, request line
    and headers) and answers by where the request came from: a 451 to the SOCKS5
    vantage, the page to anyone else. ``/ip`` answers the caller's address."""

    def __init__(self, tls: ssl.SSLContext | None = None, moved: dict[str, str] | None = None):
        """``moved``: paths answered with a 302 to the URL given."""
        self.log: list[dict[str, Any]] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                peer = self.client_address[0]
                origin.log.append(
                    {"peer": peer, "line": self.requestline, "headers": dict(self.headers)}
                )
                status, body = (
                    200,
                    (
                        f"<html><head><title>Seen from {peer}</title></head>"
                        f"<body><p>This page was asked for from {peer}.</p></body></html>"
                    ),
                )
                if self.path in (moved or {}):
                    self.send_response(302)
                    self.send_header("Location", (moved or {})[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/empty":  # renders blank: a suspect browser capture
                    body = f"<html><head><title>Seen from {peer}</title></head></html>"
                if self.path == "/ip":
                    body = peer
                elif peer == SOCKS_VANTAGE:
                    status, body = 451, BLOCKED_PAGE.decode()
                data = body.encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/html" if self.path != "/ip" else "text/plain"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Pproxy:
    """``python -m pproxy`` listening on ``host``, its outgoing connections from ``host``
    too (``@in``): how the origin tells the vantage points apart."""

    def __init__(self, scheme: str, host: str, auth: str | None = None):
        self.host, self.port = host, _free_port(host)
        fragment = f"#{auth}" if auth else ""
        # --auth 0: every connection signs in (pproxy otherwise trusts an address for days)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pproxy", "--auth", "0",
             "-l", f"{scheme}://{host}:{self.port}/@in{fragment}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:  # until it listens
            try:
                socket.create_connection((host, self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"pproxy did not start on {host}:{self.port}") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def origin() -> Iterator[Origin]:
    site = Origin()
    yield site
    site.close()


@pytest.fixture
def http_proxy() -> Iterator[Pproxy]:
    proxy = Pproxy("http", HTTP_VANTAGE, auth=f"alice:{PASSWORD}")
    yield proxy
    proxy.close()


@pytest.fixture
def socks_proxy() -> Iterator[Pproxy]:
    proxy = Pproxy("socks5", SOCKS_VANTAGE)
    yield proxy
    proxy.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


ENV = {"HK_PROXY_PASSWORD": PASSWORD}


def add_http_vantage(home: Path, proxy: Pproxy, name: str = "hk-1") -> None:
    url = f"http://alice:env:HK_PROXY_PASSWORD@{proxy.host}:{proxy.port}"
    ok(run_cli(home, "vantage", "add", name, "--proxy", url, "--country", "HK"))


def crawl(home: Path, *args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return run_cli(home, "crawl", "--profile", "test", *args, env={**ENV, **(env or {})})


def records(home: Path) -> list[tuple[str, dict[str, str], bytes]]:
    """(type, WARC headers, block as stored) of every record, digests checked."""
    found = []
    for path in warc_files(home):
        for rec in read_warc(path):
            assert rec.digest_problems == []
            found.append((rec.type, rec.headers, rec.raw_block))
    return found


def fields(block: bytes) -> list[tuple[str, str]]:
    lines = block.decode("utf-8").splitlines()
    return [tuple(line.split(": ", 1)) for line in lines if ": " in line]  # type: ignore[misc]


def captures(home: Path) -> list[dict[str, Any]]:
    return json.loads(ok(run_cli(home, "captures", "--json")).stdout)


def everything_written(home: Path, *outputs: Any) -> bytes:
    """Every byte the crawl left: WARC files (decompressed), catalog, logs, and output."""
    data = b""
    for path in home.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            data += gzip.decompress(raw) if path.name.endswith(".warc.gz") else raw
    for result in outputs:
        data += (result.stdout + result.stderr).encode()
    if os.environ.get("ARCHIVER_CATALOG"):  # the PostgreSQL run: the catalog is there
        for table in ("captures", "jobs", "vantages", "seeds"):
            data += json.dumps(catalog_rows(home, f"SELECT * FROM {table}"), default=str).encode()
    return data


def test_an_http_proxy_with_a_password_records_what_the_origin_received(
    home: Path, origin: Origin, http_proxy: Pproxy, tmp_path: Path
) -> None:
    pki = LoopbackPki(tmp_path / "pki")
    secure = Origin(tls=pki.leaf("good")[0])
    add_http_vantage(home, http_proxy)
    try:
        result = crawl(
            home, origin.url + "page", secure.url + "secure", "--via", "hk-1",
            "-s", f"ARCHIVER_TLS_CA_FILE={pki.ca_file}",
            env={"ARCHIVER_EGRESS_PROBE_URL": origin.url + "ip"},
        )  # fmt: skip
    finally:
        secure.close()
    assert result.returncode == 0, result.stderr

    # The origins saw the proxy's address, origin-form requests, and no proxy header.
    seen = origin.log + secure.log
    assert {entry["peer"] for entry in seen} == {HTTP_VANTAGE}
    assert sorted(entry["line"] for entry in seen) == [
        "GET /ip HTTP/1.1",
        "GET /page HTTP/1.1",
        "GET /robots.txt HTTP/1.1",
        "GET /robots.txt HTTP/1.1",
        "GET /secure HTTP/1.1",
    ]
    assert not any("Proxy-Authorization" in entry["headers"] for entry in seen)

    found = records(home)
    requests = {h.get("WARC-Target-URI"): b for t, h, b in found if t == "request"}
    assert requests[origin.url + "page"].startswith(b"GET /page HTTP/1.1\r\n")
    assert requests[secure.url + "secure"].startswith(b"GET /secure HTTP/1.1\r\n")
    # DESIGN §9: behind a proxy the origin's address is unknown, so none is written.
    assert not any(h.get("WARC-IP-Address") for _, h, _ in found)
    [secure_response] = [
        h for t, h, _ in found
        if t == "response" and h.get("WARC-Target-URI") == secure.url + "secure"
    ]  # fmt: skip
    assert secure_response.get("WARC-Cipher-Suite")  # TLS ran inside the tunnel

    infos = [fields(b) for t, _, b in found if t == "warcinfo"]
    assert infos and all(
        ("vantage", "hk-1") in info and ("vantage-proxy-kind", "http") in info
        and ("vantage-country", "HK") in info and ("vantage-egress-ip", HTTP_VANTAGE) in info
        for info in infos
    )  # fmt: skip
    metadata = {h.get("WARC-Target-URI"): fields(b) for t, h, b in found if t == "metadata"}
    for url in (origin.url + "page", secure.url + "secure"):
        assert [f for f in metadata[url] if f[0].startswith("vantage")] == [
            ("vantage", "hk-1"), ("vantage-proxy-kind", "http"), ("vantage-country", "HK"),
            ("vantage-egress-ip", HTTP_VANTAGE),
        ]  # fmt: skip

    rows = captures(home)
    assert {row["url"]: row["vantage"] for row in rows if "robots" not in row["url"]} == {
        origin.url + "page": {
            "name": "hk-1",
            "country": "HK",
            "kind": "http",
            "egress": HTTP_VANTAGE,
        },
        secure.url + "secure": {
            "name": "hk-1",
            "country": "HK",
            "kind": "http",
            "egress": HTTP_VANTAGE,
        },
    }
    page = next(row for row in rows if row["url"] == origin.url + "page")
    assert page["title"] == f"Seen from {HTTP_VANTAGE}"
    cited = ok(run_cli(home, "cite", page["capture_id"]))
    assert "\n  Captured via hk-1 (HK).\n" in cited.stdout
    apa = ok(run_cli(home, "cite", page["capture_id"], "--format", "apa")).stdout
    assert apa.rstrip().endswith(" Captured via hk-1 (HK).")
    [as_json] = json.loads(ok(run_cli(home, "cite", page["capture_id"], "--json")).stdout)
    assert as_json["vantage"] == {
        "name": "hk-1",
        "country": "HK",
        "kind": "http",
        "egress": HTTP_VANTAGE,
    }

    # The web view's record page says where the capture was seen from.
    with serving(home) as base, urllib.request.urlopen(f"{base}/c/{page['capture_id']}") as shown:
        html = shown.read().decode()
    assert "<dd>vantage point hk-1 (HK), through its http proxy</dd>" in html
    assert "<dd>not recorded: fetched through a proxy</dd>" in html

    # Removing the vantage point leaves what the captures recorded of it.
    ok(run_cli(home, "vantage", "remove", "hk-1"))
    assert page["vantage"] == next(
        row["vantage"] for row in captures(home) if row["capture_id"] == page["capture_id"]
    )
    assert PASSWORD.encode() not in everything_written(home, result, cited)


def test_a_direct_crawl_records_the_address_and_no_vantage(home: Path, origin: Origin) -> None:
    result = crawl(home, origin.url + "page")
    assert result.returncode == 0, result.stderr
    assert {entry["peer"] for entry in origin.log} == {"127.0.0.1"}
    found = records(home)
    assert {h.get("WARC-IP-Address") for t, h, _ in found if t == "response"} == {"127.0.0.1"}
    assert not any(f[0].startswith("vantage") for t, _, b in found if t != "response"
                   and t != "request" for f in fields(b))  # fmt: skip
    assert {row["vantage"] for row in captures(home)} == {None}


def test_through_socks5_the_origin_answers_otherwise_and_the_seed_keeps_its_vantage(
    home: Path, origin: Origin, socks_proxy: Pproxy, http_proxy: Pproxy
) -> None:
    proxy = f"socks5h://{socks_proxy.host}:{socks_proxy.port}"
    ok(run_cli(home, "vantage", "add", "cn-1", "--proxy", proxy, "--country", "CN"))
    add_http_vantage(home, http_proxy)
    ok(run_cli(home, "seeds", "add", origin.url + "blocked", "--via", "cn-1"))
    ok(run_cli(home, "seeds", "add", origin.url + "open", "--via", "hk-1"))
    listed = ok(run_cli(home, "seeds", "list")).stdout
    assert ", via cn-1\n" in listed and ", via hk-1\n" in listed

    result = crawl(home)  # every seed through its own vantage point
    assert result.returncode == 0, result.stderr
    peers = {entry["line"]: entry["peer"] for entry in origin.log}
    assert peers["GET /blocked HTTP/1.1"] == SOCKS_VANTAGE
    assert peers["GET /open HTTP/1.1"] == HTTP_VANTAGE
    rows = {row["url"]: row for row in captures(home)}
    blocked, opened = rows[origin.url + "blocked"], rows[origin.url + "open"]
    assert (blocked["http_status"], blocked["vantage"]) == (
        451,
        {"name": "cn-1", "country": "CN", "kind": "socks5h", "egress": None},
    )
    assert (opened["http_status"], opened["vantage"]["name"]) == (200, "hk-1")
    requests = {h.get("WARC-Target-URI"): b for t, h, b in records(home) if t == "request"}
    assert requests[origin.url + "blocked"].startswith(b"GET /blocked HTTP/1.1\r\n")

    # crawl --via direct overrides the seeds' own; seeds edit --via changes a seed's.
    result = crawl(home, "--seed", str(blocked["seed_id"]), "--via", "direct")
    assert result.returncode == 0, result.stderr
    direct = [entry["peer"] for entry in origin.log if entry["line"] == "GET /blocked HTTP/1.1"]
    assert direct[0] == SOCKS_VANTAGE and set(direct[1:]) == {"127.0.0.1"}  # (and confirmed)
    edited = ok(run_cli(home, "seeds", "edit", str(blocked["seed_id"]), "--via", "direct"))
    assert edited.stdout == f"edited {blocked['seed_id']} {origin.url}blocked: via cn-1 -> direct\n"


def test_a_socks5_proxy_is_given_the_address_the_crawler_resolved(
    home: Path, origin: Origin, socks_proxy: Pproxy
) -> None:
    proxy = f"socks5://{socks_proxy.host}:{socks_proxy.port}"
    ok(run_cli(home, "vantage", "add", "cn-2", "--proxy", proxy))
    url = origin.url.replace("127.0.0.1", "localhost") + "named"
    result = crawl(home, url, "--via", "cn-2")
    assert result.returncode == 0, result.stderr
    [row] = [row for row in captures(home) if row["url"] == url]
    seen_from = {"name": "cn-2", "country": None, "kind": "socks5", "egress": None}
    assert (row["http_status"], row["vantage"]) == (451, seen_from)


def test_a_proxy_that_is_down_fails_the_capture_and_nothing_goes_direct(
    home: Path, origin: Origin
) -> None:
    port = _free_port("127.0.0.2")  # nothing listens there
    ok(run_cli(home, "vantage", "add", "down", "--proxy", f"http://127.0.0.2:{port}"))
    result = crawl(home, origin.url + "page", "--via", "down")
    assert result.returncode == 1
    assert "0 ok, 0 truncated, 1 failed, 0 B [proxy: 1]" in result.stdout
    assert origin.log == []  # not one request reached the origin, directly or otherwise
    [row] = [row for row in captures(home) if row["url"] == origin.url + "page"]
    assert row["state"] == "failed"
    assert row["error"] == (
        "proxy: cannot reach the proxy of vantage point 'down': Connection was refused by"
        " other side: 111: Connection refused."
    )
    assert row["vantage"] == {"name": "down", "country": None, "kind": "http", "egress": None}
    [attempt] = [
        fields(b) for t, h, b in records(home)
        if t == "metadata" and h.get("WARC-Target-URI") == origin.url + "page"
    ]  # fmt: skip
    assert ("fetchError", row["error"]) in attempt and ("vantage", "down") in attempt


def test_a_wrong_password_is_a_407_failure_not_a_capture(
    home: Path, origin: Origin, http_proxy: Pproxy
) -> None:
    add_http_vantage(home, http_proxy)
    result = crawl(home, origin.url + "page", "--via", "hk-1",
                   env={"HK_PROXY_PASSWORD": "not-the-password"})  # fmt: skip
    assert result.returncode == 1
    assert origin.log == []
    [row] = [row for row in captures(home) if row["url"] == origin.url + "page"]
    assert (row["state"], row["http_status"]) == ("failed", None)
    assert row["error"] == (
        "proxy: vantage point 'hk-1' (http proxy) refused the credentials (407 Proxy"
        " Authentication Required): check the user in its proxy URL and its password"
        " variable ('archiver vantage show hk-1')"
    )
    assert not any(t in ("response", "request") for t, _, _ in records(home))


def test_a_502_to_connect_is_a_failure_with_the_proxys_reason(
    home: Path, origin: Origin, raw_server: Any
) -> None:
    proxy = raw_server(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
    ok(run_cli(home, "vantage", "add", "gw", "--proxy", f"http://127.0.0.1:{proxy.port}"))
    result = crawl(home, origin.url + "page", "--via", "gw")
    assert result.returncode == 1
    [row] = [row for row in captures(home) if row["url"] == origin.url + "page"]
    host = origin.url.split("/")[2]
    assert row["error"] == (
        f"proxy: vantage point 'gw' (http proxy) would not open a tunnel to {host}"
        " (502 Bad Gateway)"
    )
    assert origin.log == []


def test_an_unset_password_variable_stops_the_crawl_before_it_starts(
    home: Path, origin: Origin, http_proxy: Pproxy
) -> None:
    add_http_vantage(home, http_proxy)
    result = crawl(home, origin.url + "page", "--via", "hk-1", env={"HK_PROXY_PASSWORD": None})
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: vantage point 'hk-1' takes its proxy password from $HK_PROXY_PASSWORD, which"
        " is not set: export it before crawling\n"
    )
    assert origin.log == []


def test_an_unknown_vantage_point_is_refused_and_nothing_is_written(
    home: Path, origin: Origin
) -> None:
    message = (
        "Error: --via: no vantage point named 'nowhere'; see them with 'archiver vantage"
        " list', add one with 'archiver vantage add NAME --proxy URL', or give --via direct\n"
    )
    ok(run_cli(home, "seeds", "add", origin.url + "other"))
    for command in (("crawl", "--profile", "test", origin.url + "page", "--via", "nowhere"),
                    ("seeds", "add", origin.url + "page", "--via", "nowhere")):  # fmt: skip
        result = run_cli(home, *command)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", message)
    assert [row["url"] for row in catalog_rows(home, "SELECT url FROM seeds")] == [
        origin.url + "other"
    ]
    assert catalog_rows(home, "SELECT id FROM jobs") == []
    assert origin.log == []


def test_seed_imports_take_a_via_column(home: Path, tmp_path: Path, origin: Origin) -> None:
    ok(run_cli(home, "vantage", "add", "hk-1", "--proxy", "http://127.0.0.2:3128"))
    good = tmp_path / "good.csv"
    good.write_text(f"url,via\n{origin.url}a,hk-1\n{origin.url}b,\n")
    ok(run_cli(home, "seeds", "import", str(good)))
    rows = catalog_rows(home, "SELECT url, via FROM seeds ORDER BY url")
    assert [(row["url"], row["via"]) for row in rows] == [
        (origin.url + "a", "hk-1"), (origin.url + "b", None),
    ]  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text(f"url,via\n{origin.url}c,nowhere\n")
    result = run_cli(home, "seeds", "import", str(bad))
    assert (result.returncode, result.stderr) == (
        1,
        f"Error: {bad}: line 2: no vantage point named 'nowhere'; see them with 'archiver"
        " vantage list', add one with 'archiver vantage add NAME --proxy URL', or give --via"
        " direct\n",
    )
    assert len(catalog_rows(home, "SELECT url FROM seeds")) == 2


def test_the_private_network_guard_still_applies_to_targets(
    home: Path, origin: Origin, http_proxy: Pproxy
) -> None:
    add_http_vantage(home, http_proxy)
    guarded = {"ARCHIVER_ALLOW_PRIVATE_NETWORKS": None}
    refused = crawl(home, origin.url + "page", "--via", "hk-1", env=guarded)
    assert refused.returncode == 1
    assert origin.log == []
    [row] = [row for row in captures(home) if row["url"] == origin.url + "page"]
    assert row["error"].startswith("private-network: 127.0.0.1 is a loopback address, refused")
    # The target's network allowed: the proxy's own loopback address needs no allowing.
    allowed = crawl(home, origin.url + "page", "--via", "hk-1",
                    "-s", "ARCHIVER_ALLOW_NETWORKS=127.0.0.1/32", env=guarded)  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert [entry["peer"] for entry in origin.log if "page" in entry["line"]] == [HTTP_VANTAGE]


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")  # fmt: skip
def test_a_browser_page_goes_through_its_vantage_point(
    home: Path, origin: Origin, http_proxy: Pproxy
) -> None:
    # The browser reaches no network itself: each request it makes is fetched by the
    # crawler, here through the seed's vantage point, and recorded as such.
    add_http_vantage(home, http_proxy)
    ok(run_cli(home, "seeds", "add", origin.url + "app", "--browser", "--via", "hk-1"))
    result = crawl(home)
    assert result.returncode == 0, result.stderr
    assert (
        origin.log
        and [(e["peer"], e["line"]) for e in origin.log if e["peer"] != HTTP_VANTAGE] == []
    )
    assert "GET /app HTTP/1.1" in [e["line"] for e in origin.log]
    rows = [row for row in captures(home) if row["url"] == origin.url + "app"]
    assert [(row["title"], row["vantage"]["name"]) for row in rows] == [
        (f"Seen from {HTTP_VANTAGE}", "hk-1")
    ]
    found = records(home)
    assert any(t == "resource" and h["WARC-Target-URI"].startswith("urn:dom:") for t, h, _ in found)

    # A page that renders blank is fetched again (suspect): through the vantage point too.
    ok(run_cli(home, "seeds", "add", origin.url + "empty", "--browser", "--via", "hk-1"))
    again = crawl(home, "--seed", "2", "-s", "ARCHIVER_SUSPECT_RETRY_DELAY=0")
    assert again.returncode == 0, again.stderr
    direct = [(e["peer"], e["line"]) for e in origin.log if e["peer"] != HTTP_VANTAGE]
    assert direct == []
    tries = [row for row in captures(home) if row["url"] == origin.url + "empty"]
    assert [(row["quality"], row["vantage"]["name"]) for row in tries] == [("suspect", "hk-1")] * 2
    found = records(home)
    assert not any(h.get("WARC-IP-Address") for _, h, _ in found)
    assert PASSWORD.encode() not in everything_written(home, result, again)


def test_vantage_test_says_whether_the_proxy_works(
    home: Path, origin: Origin, http_proxy: Pproxy
) -> None:
    add_http_vantage(home, http_proxy)
    tunnel = run_cli(home, "vantage", "test", "hk-1", "--url", origin.url, env=ENV)
    host = origin.url.split("/")[2]
    assert (tunnel.returncode, tunnel.stdout) == (
        0,
        f"vantage point hk-1: ok: a tunnel to {host} opened\n",
    )
    probed = run_cli(home, "vantage", "test", "hk-1",
                     env={**ENV, "ARCHIVER_EGRESS_PROBE_URL": origin.url + "ip"})  # fmt: skip
    assert (probed.returncode, probed.stdout) == (
        0,
        f"vantage point hk-1: ok: requests come from {HTTP_VANTAGE}\n",
    )
    wrong = run_cli(home, "vantage", "test", "hk-1", "--url", origin.url,
                    env={"HK_PROXY_PASSWORD": "wrong"})  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stdout == (
        "vantage point hk-1: failed: vantage point 'hk-1' (http proxy) refused the credentials"
        " (407 Proxy Authentication Required): check the user in its proxy URL and its"
        " password variable ('archiver vantage show hk-1')\n"
    )
    port = _free_port("127.0.0.2")
    ok(run_cli(home, "vantage", "add", "down", "--proxy", f"socks5h://127.0.0.2:{port}"))
    down = run_cli(home, "vantage", "test", "down", "--url", origin.url)
    assert (down.returncode, down.stdout) == (
        1,
        "vantage point down: failed: cannot reach the proxy of vantage point 'down':"
        " Connection refused\n",
    )
    nothing = run_cli(home, "vantage", "test", "hk-1", env={"ARCHIVER_EGRESS_PROBE_URL": None})
    assert (nothing.returncode, nothing.stderr) == (
        1,
        "Error: nothing to test hk-1 against: give --url URL (a site to open a tunnel to),"
        " or set ARCHIVER_EGRESS_PROBE_URL to a URL that answers with the caller's address\n",
    )
    assert origin.log and {entry["peer"] for entry in origin.log} == {HTTP_VANTAGE}


def test_run_due_goes_through_the_schedules_vantage_point(
    home: Path, origin: Origin, socks_proxy: Pproxy
) -> None:
    proxy = f"socks5h://{socks_proxy.host}:{socks_proxy.port}"
    ok(run_cli(home, "vantage", "add", "cn-1", "--proxy", proxy, "--country", "CN"))
    ok(run_cli(home, "seeds", "add", origin.url + "scheduled"))  # no vantage of its own
    wrong = run_cli(home, "schedule", "set", "--seed", "1", "--every", "1d", "--via", "cn-2")
    assert (wrong.returncode, wrong.stderr) == (
        1,
        "Error: --via: no vantage point named 'cn-2' (did you mean 'cn-1'?); see them with"
        " 'archiver vantage list', add one with 'archiver vantage add NAME --proxy URL', or"
        " give --via direct\n",
    )
    made = ok(run_cli(home, "schedule", "set", "--seed", "1", "--every", "1d", "--via", "cn-1"))
    assert made.stdout == "schedule 1: seed 1, every 1d, via cn-1\n"
    result = run_cli(home, "run-due", "--profile", "test")
    assert result.returncode == 0, result.stderr
    assert [entry["peer"] for entry in origin.log if "scheduled" in entry["line"]] == [
        SOCKS_VANTAGE
    ]
    [row] = [row for row in captures(home) if row["url"] == origin.url + "scheduled"]
    assert (row["http_status"], row["vantage"]["name"]) == (451, "cn-1")


def test_a_socks5_password_is_sent_in_the_handshake_only(home: Path, origin: Origin) -> None:
    proxy = Pproxy("socks5", SOCKS_VANTAGE, auth=f"bob:{PASSWORD}")
    try:
        url = f"socks5h://bob:env:HK_PROXY_PASSWORD@{proxy.host}:{proxy.port}"
        ok(run_cli(home, "vantage", "add", "cn-3", "--proxy", url, "--country", "CN"))
        good = crawl(home, origin.url + "signed-in", "--via", "cn-3")
        bad = crawl(home, origin.url + "wrong", "--via", "cn-3",
                    env={"HK_PROXY_PASSWORD": "not-the-password"})  # fmt: skip
    finally:
        proxy.close()
    assert good.returncode == 0, good.stderr
    assert bad.returncode == 1
    assert [(e["peer"], e["line"]) for e in origin.log if "robots" not in e["line"]] == [
        (SOCKS_VANTAGE, "GET /signed-in HTTP/1.1")
    ]
    rows = {row["url"]: row for row in captures(home)}
    assert rows[origin.url + "signed-in"]["http_status"] == 451
    assert rows[origin.url + "wrong"]["error"] == (
        "proxy: vantage point 'cn-3' (socks5h proxy) closed the connection when given the"
        " credentials: check the user in its proxy URL and its password variable ('archiver"
        " vantage show cn-3')"
    )
    assert PASSWORD.encode() not in everything_written(home, good, bad)


def test_a_robots_txt_moved_to_another_host_is_fetched_through_the_same_vantage(
    home: Path, http_proxy: Pproxy
) -> None:
    # example.org/robots.txt redirecting to www.example.org is common: the second host's
    # robots.txt goes through the vantage point too, and is recorded as such.
    other = Origin()
    moved = Origin(moved={"/robots.txt": other.url + "robots.txt"})
    add_http_vantage(home, http_proxy)
    try:
        result = crawl(home, moved.url + "page", "--via", "hk-1")
    finally:
        moved.close()
        other.close()
    assert result.returncode == 0, result.stderr
    assert [(e["peer"], e["line"]) for e in other.log] == [
        (HTTP_VANTAGE, "GET /robots.txt HTTP/1.1")
    ]
    assert {e["peer"] for e in moved.log} == {HTTP_VANTAGE}
    robots = [row for row in captures(home) if row["url"] == other.url + "robots.txt"]
    assert [row["vantage"] for row in robots] == [
        {"name": "hk-1", "country": "HK", "kind": "http", "egress": None}
    ]
    assert not any(h.get("WARC-IP-Address") for _, h, _ in records(home))


def test_an_environment_proxy_never_reaches_into_a_tunnel(
    home: Path, origin: Origin, http_proxy: Pproxy
) -> None:
    # Scrapy reads http_proxy from the environment and would add its Proxy-Authorization
    # to every request: inside a vantage point's tunnel that header would reach the origin.
    add_http_vantage(home, http_proxy)
    env_proxy = "http://bob:ENVSECRET123@127.0.0.9:9"
    result = crawl(
        home, origin.url + "page", "--via", "hk-1",
        env={"http_proxy": env_proxy, "https_proxy": env_proxy, "no_proxy": None},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {e["peer"] for e in origin.log} == {HTTP_VANTAGE}
    assert [e["line"] for e in origin.log if "Proxy-Authorization" in e["headers"]] == []
    requests = [b for t, _, b in records(home) if t == "request"]
    assert requests and not any(b"Proxy-Authorization" in b for b in requests)


def test_a_proxy_url_given_as_via_is_refused_without_showing_it(home: Path) -> None:
    for command in (
        ("crawl", "--profile", "test", "http://127.0.0.1:9/"),
        ("seeds", "add", "http://127.0.0.1:9/"),
    ):
        result = run_cli(home, *command, "--via", f"http://bob:{PASSWORD}@10.0.0.1:3128")
        assert result.returncode == 1
        assert PASSWORD not in result.stdout + result.stderr
        assert result.stderr == (
            "Error: invalid via: give the name of a vantage point, not a proxy URL; add one with"
            " archiver vantage add NAME --proxy URL, then use its name\n"
        )


def test_a_name_a_socks5_proxy_is_given_resolved_is_checked(
    home: Path, origin: Origin, socks_proxy: Pproxy
) -> None:
    # socks5:// (not socks5h): the crawler resolves the name and hands the proxy the
    # address, so that address meets the private-network rule as a direct fetch's does.
    ok(
        run_cli(
            home,
            "vantage",
            "add",
            "cn-2",
            "--proxy",
            f"socks5://{socks_proxy.host}:{socks_proxy.port}",
        )
    )
    port = origin.url.rstrip("/").rsplit(":", 1)[1]
    url = f"http://sneaky.loopback.test:{port}/page"  # resolves to 127.0.0.2 (offline_dns)
    result = crawl(
        home, url, "--via", "cn-2", "-s", "DNS_RESOLVER=offline_dns.OfflineResolver",
        env={"ARCHIVER_ALLOW_PRIVATE_NETWORKS": None, "PYTHONPATH": str(Path(__file__).parent)},
    )  # fmt: skip
    assert result.returncode == 1
    assert origin.log == []
    [row] = [row for row in captures(home) if row["url"] == url]
    assert row["error"].startswith("private-network: 127.0.0.2 is a loopback address, refused")
