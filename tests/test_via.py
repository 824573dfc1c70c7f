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

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from clihelp import run_cli
from seedcli import ok
from servehelp import serving
from tls import LoopbackPki
from vantagesites import (
    ENV,
    HTTP_VANTAGE,
    PASSWORD,
    SOCKS_VANTAGE,
    Origin,
    Pproxy,
    add_http_vantage,
    captures,
    crawl,
    everything_written,
    fields,
    free_port,
    records,
)
from warcs import catalog_rows


def test_an_http_proxy_with_a_password_records_what_the_origin_received(
    home: Path, origin: Origin, http_proxy: Pproxy, tmp_path: Path
) -> None:
    pki = LoopbackPki(tmp_path / "pki")
    secure = Origin(tls=pki.leaf("good")[0])
    add_http_vantage(home, http_proxy)
    try:
        result = crawl(
            home, origin.url + "page", secure.url + "secure", "--via", "hk-1", "--job", "hk",
            "-s", f"ARCHIVER_TLS_CA_FILE={pki.ca_file}",
            env={"ARCHIVER_EGRESS_PROBE_URL": origin.url + "ip"},
        )  # fmt: skip
    finally:
        secure.close()
    assert result.returncode == 0, result.stderr
    shown = json.loads(ok(run_cli(home, "jobs", "show", "hk", "--json")).stdout)
    assert shown["command"] == (
        f"archiver crawl {origin.url}page {secure.url}secure --job hk --profile test --via hk-1"
    )

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
    port = free_port("127.0.0.2")
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
