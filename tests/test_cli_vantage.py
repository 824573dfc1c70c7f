"""``archiver vantage add/list/show/remove`` run as a user runs them: vantage points kept in
the catalog, a proxy password only ever as a reference to an environment variable."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli
from seedcli import assert_no_archive, ok

SECRET = "hunter2-not-for-the-catalog"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def vantages_json(home: Path) -> list[dict[str, Any]]:
    data = json.loads(ok(run_cli(home, "vantage", "list", "--json")).stdout)
    assert isinstance(data, list)
    return data


def refused(result: Any, message: str) -> None:
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def test_add_list_show_remove(home: Path) -> None:
    result = ok(
        run_cli(
            home, "vantage", "add", "hk-residential", "--country", "hk", "--note", "HK ISP",
            "--proxy", "SOCKS5H://alice:env:HK_PROXY_PASSWORD@Proxy.Example.org:1080",
        )
    )  # fmt: skip
    assert result.stdout == (
        "added vantage point hk-residential: socks5h"
        " socks5h://alice:env:HK_PROXY_PASSWORD@proxy.example.org:1080 (HK)\n"
    )
    ok(run_cli(home, "vantage", "add", "local-tor", "--proxy", "tor"))
    ok(
        run_cli(
            home, "vantage", "add", "de-1", "--proxy", "http://127.0.0.1:3128", "--country", "DE"
        )
    )

    listed = vantages_json(home)
    assert [(v["vantage"], v["kind"], v["proxy"], v["country"], v["note"]) for v in listed] == [
        ("de-1", "http", "http://127.0.0.1:3128", "DE", ""),
        ("hk-residential", "socks5h",
         "socks5h://alice:env:HK_PROXY_PASSWORD@proxy.example.org:1080", "HK", "HK ISP"),
        ("local-tor", "tor", "tor://127.0.0.1:9050", None, ""),
    ]  # fmt: skip
    assert all(v["created_at"].endswith("Z") for v in listed)
    assert ok(run_cli(home, "vantage", "list")).stdout == (
        "de-1            http     DE  http://127.0.0.1:3128\n"
        "hk-residential  socks5h  HK  socks5h://alice:env:HK_PROXY_PASSWORD@proxy.example.org:1080"
        "  HK ISP\n"
        "local-tor       tor      --  tor://127.0.0.1:9050\n"
    )

    shown = json.loads(ok(run_cli(home, "vantage", "show", "hk-residential", "--json")).stdout)
    assert shown == listed[1]
    text = ok(run_cli(home, "vantage", "show", "hk-residential", env={"HK_PROXY_PASSWORD": SECRET}))
    assert "password:   from $HK_PROXY_PASSWORD (set in this environment)\n" in text.stdout
    assert SECRET not in text.stdout + text.stderr
    unset = run_cli(home, "vantage", "show", "hk-residential", env={"HK_PROXY_PASSWORD": None})
    assert "password:   from $HK_PROXY_PASSWORD (not set in this environment)\n" in unset.stdout

    assert ok(run_cli(home, "vantage", "remove", "local-tor")).stdout == (
        "removed vantage point local-tor\n"
    )
    assert [v["vantage"] for v in vantages_json(home)] == ["de-1", "hk-residential"]


def test_an_empty_list_says_how_to_add_one(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    assert ok(run_cli(home, "vantage", "list")).stdout == (
        "no vantage points: add one with archiver vantage add NAME --proxy URL\n"
    )
    assert vantages_json(home) == []


def test_a_taken_name_is_refused_and_the_first_kept(home: Path) -> None:
    ok(run_cli(home, "vantage", "add", "hk-1", "--proxy", "socks5://127.0.0.1:1080"))
    refused(
        run_cli(home, "vantage", "add", "hk-1", "--proxy", "http://127.0.0.1:3128"),
        "a vantage point named 'hk-1' already exists: choose another name, or remove it"
        " first with archiver vantage remove hk-1",
    )
    assert [v["proxy"] for v in vantages_json(home)] == ["socks5://127.0.0.1:1080"]


@pytest.mark.parametrize(
    ("proxy", "message"),
    [
        ("ftp://127.0.0.1:21", "--proxy 'ftp://127.0.0.1:21': the scheme must be http://,"
         " https://, socks5:// or socks5h://, or give tor for a local Tor (127.0.0.1:9050)"),
        ("socks4://127.0.0.1:1080", "--proxy 'socks4://127.0.0.1:1080': the scheme must be"
         " http://, https://, socks5:// or socks5h://, or give tor for a local Tor"
         " (127.0.0.1:9050)"),
        ("127.0.0.1:3128", "--proxy '127.0.0.1:3128': the scheme must be http://, https://,"
         " socks5:// or socks5h://, or give tor for a local Tor (127.0.0.1:9050)"),
        ("http://127.0.0.1", "--proxy 'http://127.0.0.1' needs a host and a port:"
         " http://HOST:PORT, such as http://127.0.0.1:1080"),
        ("http://127.0.0.1:3128/path", "--proxy 'http://127.0.0.1:3128/path' has a path: a"
         " proxy URL is http://HOST:PORT and nothing after it"),
        ("http://127.0.0.1:99999", "--proxy 'http://127.0.0.1:99999' is not a proxy URL: give"
         " scheme://host:port, such as socks5h://127.0.0.1:1080"),
    ],
)  # fmt: skip
def test_a_proxy_url_that_cannot_work_is_refused(home: Path, proxy: str, message: str) -> None:
    refused(run_cli(home, "vantage", "add", "v", "--proxy", proxy), message)
    if not os.environ.get("ARCHIVER_CATALOG"):
        assert_no_archive(home)  # a refused add makes no archive


@pytest.mark.parametrize(
    ("country", "message"),
    [
        ("ZZ", "--country 'ZZ' is not an ISO 3166-1 alpha-2 country code: give a two-letter"
         " ISO 3166-1 code such as CN, HK, TW or DE"),
        ("UK", "--country 'UK' is not an ISO 3166-1 alpha-2 country code: did you mean GB?"),
        ("CHN", "--country 'CHN' is not an ISO 3166-1 alpha-2 country code: give a two-letter"
         " ISO 3166-1 code such as CN, HK, TW or DE"),
    ],
)  # fmt: skip
def test_a_country_that_is_not_iso_3166_alpha2_is_refused(
    home: Path, country: str, message: str
) -> None:
    ok(run_cli(home, "vantage", "add", "first", "--proxy", "tor", "--country", "tw"))
    refused(run_cli(home, "vantage", "add", "v", "--proxy", "tor", "--country", country), message)
    assert [(v["vantage"], v["country"]) for v in vantages_json(home)] == [("first", "TW")]


def test_a_literal_password_is_refused_and_never_written_or_shown(home: Path) -> None:
    ok(run_cli(home, "vantage", "add", "kept", "--proxy", "http://127.0.0.1:3128"))
    for proxy, shown in (
        (f"http://alice:{SECRET}@127.0.0.1:3128", "http://alice:…@127.0.0.1:3128"),
        (f"socks5h://bob:{SECRET}@127.0.0.1:1080", "socks5h://bob:…@127.0.0.1:1080"),
        # not a variable's name after env:, so a literal password
        (f"http://alice:env:{SECRET}@127.0.0.1:3128", "http://alice:…@127.0.0.1:3128"),
    ):
        result = run_cli(home, "vantage", "add", "leaky", "--proxy", proxy)
        refused(
            result,
            f"--proxy {shown!r} holds a password: archiver never stores one; put it in an"
            " environment variable and name that variable instead, as in --proxy"
            " 'http://alice:env:PROXY_PASSWORD@proxy.example.org:3128'",
        )
    assert [v["vantage"] for v in vantages_json(home)] == ["kept"]
    written = [path for path in home.rglob("*") if path.is_file()]
    if not os.environ.get("ARCHIVER_CATALOG"):
        assert home / "catalog.sqlite" in written
    assert [path for path in written if SECRET.encode() in path.read_bytes()] == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("direct", "vantage name 'direct' is reserved for a direct connection: choose another"
         " name"),
        ("hk proxy", "vantage name 'hk proxy' is not allowed: use letters, digits, '.', '_'"
         " and '-' (up to 64, starting with a letter or digit), such as hk-residential"),
        ("-hk", "vantage name '-hk' is not allowed: use letters, digits, '.', '_' and '-' (up"
         " to 64, starting with a letter or digit), such as hk-residential"),
    ],
)  # fmt: skip
def test_a_name_that_cannot_be_used_is_refused(home: Path, name: str, message: str) -> None:
    refused(run_cli(home, "vantage", "add", "--proxy", "tor", "--", name), message)


def test_an_unknown_name_suggests_the_closest(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    refused(
        run_cli(home, "vantage", "show", "hk-1"),
        "no vantage point named 'hk-1': there are none yet: add one with archiver vantage"
        " add NAME --proxy URL",
    )
    ok(run_cli(home, "vantage", "add", "hk-proxy", "--proxy", "socks5h://127.0.0.1:1080"))
    ok(run_cli(home, "vantage", "add", "de-tor", "--proxy", "tor"))
    for command in ("show", "remove"):
        refused(
            run_cli(home, "vantage", command, "hk-prxy"),
            "no vantage point named 'hk-prxy': did you mean 'hk-proxy'?",
        )
    refused(
        run_cli(home, "vantage", "remove", "zzz"),
        "no vantage point named 'zzz': the vantage points are de-tor, hk-proxy",
    )
    assert [v["vantage"] for v in vantages_json(home)] == ["de-tor", "hk-proxy"]


def test_the_country_codes_are_the_249_iso_3166_1_assigns() -> None:
    table = Path("/usr/share/zoneinfo/iso3166.tab")  # the tz database's copy of ISO 3166-1
    if not table.exists():
        pytest.skip("no tz database iso3166.tab on this machine to compare with")
    from archiver.vantage.countries import ISO_3166_ALPHA2

    lines = table.read_text(encoding="utf-8").splitlines()
    assigned = {line.split("\t")[0] for line in lines if line[:1].isalpha()}
    assert len(assigned) == 249
    assert assigned == ISO_3166_ALPHA2


def test_a_vantage_point_seeds_or_schedules_name_is_removed_only_with_force(home: Path) -> None:
    for name in ("hk-1", "cn-1"):
        ok(run_cli(home, "vantage", "add", name, "--proxy", "socks5h://127.0.0.1:1080"))
    ok(run_cli(home, "seeds", "add", "https://example.org/a", "--via", "cn-1,hk-1"))
    ok(run_cli(home, "seeds", "add", "https://example.org/b", "--via", "cn-1"))
    ok(run_cli(home, "seeds", "add", "https://example.org/c", "--tag", "news"))
    ok(run_cli(home, "schedule", "set", "--tag", "news", "--every", "1h", "--via", "hk-1"))

    refused(
        run_cli(home, "vantage", "remove", "hk-1"),
        "vantage point 'hk-1' is still named by seed 1, the schedule of tag news, whose crawls"
        " would fail without it: give them another first (archiver seeds edit 1 --via"
        " direct), or remove it anyway with --force",
    )
    assert [v["vantage"] for v in vantages_json(home)] == ["cn-1", "hk-1"]

    ok(run_cli(home, "seeds", "edit", "1", "--via", "cn-1"))
    ok(run_cli(home, "schedule", "set", "--tag", "news", "--every", "1h", "--via", "direct"))
    assert ok(run_cli(home, "vantage", "remove", "hk-1")).stdout == "removed vantage point hk-1\n"

    forced = ok(run_cli(home, "vantage", "remove", "cn-1", "--force"))
    assert forced.stdout == "removed vantage point cn-1\n"
    assert forced.stderr == (
        "archiver: warning: seed 1, seed 2 still name 'cn-1': their crawls fail (no vantage"
        " point of that name) until they name another\n"
    )
    assert vantages_json(home) == []
