"""Running ``archiver seeds ...`` as a user runs it (a subprocess per command), for the
tests/test_cli_seeds_*.py and tests/test_cli_home.py files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clihelp import ok, run_cli

__all__ = ["DEFAULTS", "assert_no_archive", "by_url", "ok", "seeds_json"]


def assert_no_archive(home: Path) -> None:
    result = run_cli(home, "seeds", "list")
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("Error: no archive in "), result.stderr


def seeds_json(home: Path, *args: str) -> list[dict[str, Any]]:
    data = json.loads(ok(run_cli(home, "seeds", "list", "--json", *args)).stdout)
    assert isinstance(data, list)
    return data


def by_url(seeds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {seed["url"]: seed for seed in seeds}


DEFAULTS = {
    "tags": [],
    "category": "other",
    "scope": "page",
    "depth": None,
    "robots": "obey",
    "risk": "medium",
    "note": "",
    "nominated_by": "",
    "removed_at": None,
}
