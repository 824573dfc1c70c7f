"""``archiver seeds list`` and ``archiver seeds show`` run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli
from seedcli import by_url, ok, seeds_json


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_list_filters_by_tag(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://a.example/", "--tag", "T,shared"))
    ok(run_cli(home, "seeds", "add", "https://b.example/", "--tag", "other,shared"))
    ok(run_cli(home, "seeds", "add", "https://c.example/"))

    assert [s["url"] for s in seeds_json(home, "--tag", "T")] == ["https://a.example/"]
    assert [s["url"] for s in seeds_json(home, "--tag", "t")] == ["https://a.example/"]
    assert [s["url"] for s in seeds_json(home, "--tag", "shared")] == [
        "https://a.example/",
        "https://b.example/",
    ]
    # Several tags: seeds with any of them.
    assert [s["url"] for s in seeds_json(home, "--tag", "T", "--tag", "other")] == [
        "https://a.example/",
        "https://b.example/",
    ]
    assert len(seeds_json(home)) == 3
    assert seeds_json(home, "--tag", "nosuchtag") == []

    text = ok(run_cli(home, "seeds", "list", "--tag", "T")).stdout
    assert "https://a.example/" in text
    assert "https://b.example/" not in text
    assert "no seeds" in ok(run_cli(home, "seeds", "list", "--tag", "nosuchtag")).stdout


def test_list_of_an_empty_registry(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    ok(run_cli(home, "seeds", "remove", "https://example.org/"))
    assert seeds_json(home) == []
    listed = ok(run_cli(home, "seeds", "list")).stdout
    assert listed == "no seeds: add some with 'archiver seeds add URL'\n"


def test_show_text_and_json(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://x.example/"))
    ok(
        run_cli(
            home,
            "seeds",
            "add",
            "https://example.org/report",
            "--tag",
            "ngo",
            "--scope",
            "host",
            "--depth",
            "2",
            "--note",
            "why it matters",
            "--nominated-by",
            "alice",
        )
    )
    text = ok(run_cli(home, "seeds", "show", "2")).stdout
    assert "https://example.org/report" in text
    assert "scope host" in text
    assert "depth 2" in text
    assert "ngo" in text
    assert "note: why it matters" in text
    assert "nominated by: alice" in text
    assert "0 capture(s)" in text
    assert "removed" not in text

    data = json.loads(ok(run_cli(home, "seeds", "show", "2", "--json")).stdout)
    assert data["id"] == 2
    assert data["url"] == "https://example.org/report"
    assert data["tags"] == ["ngo"]
    assert data["scope"] == "host"
    assert data["depth"] == 2
    assert data["note"] == "why it matters"
    assert data["nominated_by"] == "alice"
    assert data["captures"] == 0 and data["timeline"] == []
    assert data["removed_at"] is None
    # show --json describes the same seed as list --json
    listed = by_url(seeds_json(home))["https://example.org/report"]
    assert {
        k: v for k, v in data.items() if k not in ("captures", "timeline", "vantages", "geo")
    } == listed
