"""``archiver seeds edit`` run as a user runs it, and a seed's URL taken wherever its id
is (seeds show/remove, schedule, captures, verify, events, crawl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli
from seedcli import ok, seeds_json


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_edit_every_setting_by_id_and_by_url(home: Path) -> None:
    url = "https://example.org/blog/"
    ok(run_cli(home, "seeds", "add", url, "--tag", "draft,ngo", "--exclude", "/print/"))
    result = ok(
        run_cli(
            home, "seeds", "edit", "1", "--scope", "prefix", "--depth", "2", "--robots",
            "ignore", "--risk", "high", "--note", "moved to a new host", "--category", "ngo",
            "--nominated-by", "desk", "--browser", "--add-tag", "china，人权", "--remove-tag",
            "DRAFT", "--add-include", "/media/", "--remove-exclude", "/print/",
        )
    )  # fmt: skip
    assert result.stdout == (
        "edited 1 https://example.org/blog/: category other -> ngo; scope page -> prefix;"
        " depth none -> 2; robots obey -> ignore; risk medium -> high;"
        " note '' -> 'moved to a new host'; nominated_by '' -> 'desk'; browser no -> yes;"
        " tags +china +人权 -draft; include +/media/; exclude -/print/\n"
    )
    [seed] = seeds_json(home)
    assert {k: seed[k] for k in ("scope", "depth", "robots", "risk", "category", "browser")} == {
        "scope": "prefix", "depth": 2, "robots": "ignore", "risk": "high", "category": "ngo",
        "browser": True,
    }  # fmt: skip
    assert (seed["note"], seed["nominated_by"]) == ("moved to a new host", "desk")
    assert seed["tags"] == ["ngo", "china", "人权"]
    assert (seed["include"], seed["exclude"]) == (["/media/"], [])
    assert seed["updated_at"] > seed["added_at"]

    # By URL, in another spelling; --depth none and --no-browser undo; --json says what changed.
    data = json.loads(
        ok(
            run_cli(home, "seeds", "edit", "HTTPS://EXAMPLE.org/blog/", "--depth", "none",
                    "--no-browser", "--note", "", "--json")
        ).stdout
    )  # fmt: skip
    assert data == {
        "seed_id": 1,
        "url": url,
        "outcome": "edited",
        "changes": {
            "note": {"old": "moved to a new host", "new": ""},
            "depth": {"old": 2, "new": None},
            "browser": {"old": True, "new": False},
        },
    }
    [seed] = seeds_json(home)
    assert (seed["depth"], seed["browser"], seed["note"]) == (None, False, "")

    # The same values again change nothing.
    again = ok(run_cli(home, "seeds", "edit", url, "--risk", "high", "--add-tag", "CHINA"))
    assert again.stdout == f"unchanged 1 {url}: it already has these values\n"


def test_edit_a_removed_seed_keeps_it_removed(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    ok(run_cli(home, "seeds", "remove", "1"))
    result = ok(run_cli(home, "seeds", "edit", "1", "--risk", "low"))
    assert result.stdout.splitlines() == [
        "edited 1 https://example.org/: risk medium -> low",
        "  seed 1 is removed: 'archiver seeds add https://example.org/' brings it back",
    ]
    assert seeds_json(home) == []


# --- a seed's URL wherever its id is taken -----------------------------------------------


def test_a_url_names_a_seed_wherever_an_id_does(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://a.example/", "https://b.example/post/7"))
    spelled = "HTTPS://B.Example:443/post/7#comments"

    shown = json.loads(ok(run_cli(home, "seeds", "show", spelled, "--json")).stdout)
    assert (shown["id"], shown["url"]) == (2, "https://b.example/post/7")

    made = ok(run_cli(home, "schedule", "set", "--seed", spelled, "--every", "6h"))
    assert made.stdout.startswith("schedule 1: seed 2, ")
    listed = json.loads(ok(run_cli(home, "schedule", "list", "--json")).stdout)
    assert [s["seed_id"] for s in listed["schedules"]] == [2]
    ok(run_cli(home, "schedule", "remove", "--seed", spelled))
    assert json.loads(ok(run_cli(home, "schedule", "list", "--json")).stdout)["schedules"] == []

    assert ok(run_cli(home, "captures", "--seed", spelled, "--json")).stdout.strip() == "[]"
    verified = ok(run_cli(home, "verify", "--seed", spelled))
    assert verified.stdout == "verified 0 capture(s) of seed 2: 0 ok, 0 failed\n"
    assert ok(run_cli(home, "events", "--seed", spelled, "--json")).stdout.strip() == "[]"

    removed = ok(run_cli(home, "seeds", "remove", spelled))
    assert removed.stdout == "removed 2 https://b.example/post/7 (its captures are kept)\n"
    assert [s["url"] for s in seeds_json(home)] == ["https://a.example/"]
    refused = run_cli(home, "crawl", "--seed", spelled)
    assert (refused.returncode, refused.stderr) == (
        1, "Error: seed 2 was removed: add its URL again to crawl it\n",
    )  # fmt: skip
