"""Vantage points that cannot be used, and what is refused: a proxy that is down, a wrong
password (407), a 502 to CONNECT, a password variable not set, an unknown name, a proxy URL
given where a name goes, and targets the private-network rule refuses. Each fails closed:
the origin's log shows that nothing reached it directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clihelp import run_cli
from seedcli import ok
from vantagesites import (
    HTTP_VANTAGE,
    PASSWORD,
    Origin,
    Pproxy,
    add_http_vantage,
    captures,
    crawl,
    fields,
    free_port,
    records,
)
from warcs import catalog_rows


def test_a_proxy_that_is_down_fails_the_capture_and_nothing_goes_direct(
    home: Path, origin: Origin
) -> None:
    port = free_port("127.0.0.2")  # nothing listens there
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
