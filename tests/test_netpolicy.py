"""Private networks are refused by default: by address, through DNS, through a redirect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from warcs import catalog_rows

from archiver.netpolicy import AddressPolicy

TESTS = Path(__file__).parent


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
     "169.254.169.254", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1",
     "[::1]", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a9fe:a9fe", "2002:a9fe:a9fe::1",
     "::127.0.0.1", "::ffff:0:7f00:1", "2001:0:4136:e378:8000:63bf:f5ff:fffe"],
)  # fmt: skip
def test_special_addresses_are_refused(address):
    assert "ARCHIVER_ALLOW_PRIVATE_NETWORKS=1" in AddressPolicy().refusal(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are_allowed(address):
    assert AddressPolicy().refusal(address) is None


def test_allow_lists():
    from archiver.netpolicy import parse_networks

    policy = AddressPolicy(allowed=parse_networks(["10.1.2.0/24"]))
    assert policy.refusal("10.1.2.3") is None
    assert policy.refusal("10.1.3.3") is not None
    assert AddressPolicy(allow_private=True).refusal("127.0.0.1") is None


def crawl(tmp_path, *args, allow_networks=None):
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVER_ALLOW_PRIVATE_NETWORKS"}
    env.update({"ARCHIVER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(TESTS)})
    extra = ["-s", f"ARCHIVER_ALLOW_NETWORKS={allow_networks}"] if allow_networks else []
    return subprocess.run(
        [sys.executable, "-m", "archiver", "crawl", "--profile", "test", *args, *extra,
         "-s", "DNS_RESOLVER=offline_dns.OfflineResolver"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_loopback_seed_is_refused_without_connecting(tmp_path, raw_server):
    server = raw_server()
    result = crawl(tmp_path, server.url)
    assert result.returncode == 1
    assert "private-network: 1" in result.stdout
    rows = catalog_rows(tmp_path / "home", "SELECT url, error FROM captures")
    assert rows and all(
        r["error"].startswith("private-network: 127.0.0.1 is a loopback") for r in rows
    )
    assert server.received == []  # not even robots.txt was asked for


def test_a_name_resolving_to_loopback_is_refused(tmp_path, raw_server):
    server = raw_server()
    port = server.url.rsplit(":", 1)[1]
    url = f"http://sneaky.loopback.test:{port}"
    result = crawl(tmp_path, url, allow_networks="127.0.0.1/32")
    assert result.returncode == 1
    rows = catalog_rows(tmp_path / "home", "SELECT url, error FROM captures")
    assert all("127.0.0.2 is a loopback address" in r["error"] for r in rows), rows
    assert server.received == []


def test_a_redirect_to_a_private_address_is_refused(tmp_path, raw_server):
    target = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")
    port = target.url.rsplit(":", 1)[1].rstrip("/")
    redirect = raw_server(
        f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{port}/admin\r\n"
        "Content-Length: 0\r\n\r\n".encode()
    )
    result = crawl(tmp_path, redirect.url, "--job", "r", allow_networks="127.0.0.1/32")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {r["url"]: r for r in catalog_rows(tmp_path / "home", "SELECT * FROM captures")}
    refused = rows[f"http://127.0.0.2:{port}/admin"]
    assert refused["state"] == "failed" and refused["error"].startswith("private-network:")
    assert rows[redirect.url]["http_status"] == 302
