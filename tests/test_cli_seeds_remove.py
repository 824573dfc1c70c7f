"""``archiver seeds remove`` run as a user runs it, and a removed seed added again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli
from seedcli import by_url, ok, seeds_json


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_remove_hides_the_seed_and_re_adding_reactivates_it(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://keep.example/"))
    ok(run_cli(home, "seeds", "add", "https://gone.example/page", "--tag", "old"))

    result = ok(run_cli(home, "seeds", "remove", "2"))
    assert "removed 2 https://gone.example/page" in result.stdout
    assert [s["url"] for s in seeds_json(home)] == ["https://keep.example/"]
    assert seeds_json(home, "--tag", "old") == []

    # show still works on a removed seed and says so
    text = ok(run_cli(home, "seeds", "show", "2")).stdout
    assert "https://gone.example/page" in text
    assert "removed" in text
    data = json.loads(ok(run_cli(home, "seeds", "show", "2", "--json")).stdout)
    assert data["removed_at"]

    # removing again is harmless
    ok(run_cli(home, "seeds", "remove", "2"))
    assert [s["url"] for s in seeds_json(home)] == ["https://keep.example/"]

    # re-adding (in another spelling) brings the same seed back, with merged tags
    result = ok(run_cli(home, "seeds", "add", "HTTPS://GONE.example/page", "--tag", "new"))
    assert result.stdout == "reactivated 2 https://gone.example/page (tags +new)\n"
    seeds = seeds_json(home)
    assert [s["url"] for s in seeds] == ["https://keep.example/", "https://gone.example/page"]
    back = by_url(seeds)["https://gone.example/page"]
    assert back["id"] == 2
    assert back["removed_at"] is None
    assert back["tags"] == ["old", "new"]
    assert "removed" not in ok(run_cli(home, "seeds", "show", "2")).stdout
