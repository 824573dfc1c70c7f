"""The archive home as the CLI finds it: made on first use, ARCHIVER_HOME, and a read-only
command on a folder with no archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli
from pgserver import POSTGRES_RUN
from seedcli import assert_no_archive, ok, seeds_json


@pytest.mark.sqlite_only  # the home's catalog.sqlite itself
def test_home_is_created_on_first_use(tmp_path: Path) -> None:
    home = tmp_path / "not" / "yet" / "home"
    assert not home.exists()
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    assert home.is_dir()
    assert (home / "catalog.sqlite").is_file()
    assert [s["url"] for s in seeds_json(home)] == ["https://example.org/"]


@pytest.mark.parametrize(
    "args",
    [("seeds", "list"), ("seeds", "list", "--json"), ("seeds", "show", "https://example.org/"),
     ("captures",), ("lookup", "https://example.org/", "--at", "2020-02-12"),
     ("schedule", "list"), ("events", "--json")],
)  # fmt: skip
def test_read_only_command_on_a_home_with_no_archive(tmp_path: Path, args: tuple[str]) -> None:
    """A mistyped --home is not an empty archive: the command says there is none there,
    exits 1, and creates nothing."""
    home = tmp_path / "fresh"
    result = run_cli(home, *args)
    assert (result.returncode, result.stdout) == (1, "")
    if POSTGRES_RUN:
        assert result.stderr.startswith("Error: no archive in the catalog postgresql://")
        assert result.stderr.endswith(
            ": the database has no archiver tables yet. Check --catalog (or ARCHIVER_CATALOG),"
            " or start an archive there with 'archiver seeds add URL'\n"
        )
    else:
        assert result.stderr == (
            f"Error: no archive in '{home}': it has no catalog.sqlite. Give the archive's folder"
            " with --home (or ARCHIVER_HOME), or start an archive there with"
            " 'archiver seeds add URL'\n"
        )
    assert not home.exists()
    assert_no_archive(home)
    # An existing folder without a catalog is no archive either, and stays as it was.
    home.mkdir()
    assert run_cli(home, *args).returncode == 1
    assert list(home.iterdir()) == []


@pytest.mark.sqlite_only  # the home's catalog.sqlite itself
def test_archiver_home_environment_variable(tmp_path: Path) -> None:
    home = tmp_path / "from-env"
    env = {"ARCHIVER_HOME": str(home)}
    result = ok(run_cli(None, "seeds", "add", "https://env.example/", env=env, cwd=tmp_path))
    assert "added 1 https://env.example/" in result.stdout
    assert (home / "catalog.sqlite").is_file()
    assert not (tmp_path / ".xdg-data").exists()  # the default home was not used

    listed = json.loads(ok(run_cli(None, "seeds", "list", "--json", env=env, cwd=tmp_path)).stdout)
    assert [s["url"] for s in listed] == ["https://env.example/"]
    assert [s["url"] for s in seeds_json(home)] == ["https://env.example/"]

    # --home wins over ARCHIVER_HOME
    other = tmp_path / "other"
    result = run_cli(other, "seeds", "list", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 1 and f"no archive in '{other}'" in result.stderr
    ok(run_cli(other, "seeds", "add", "https://other.example/", env=env, cwd=tmp_path))
    assert (other / "catalog.sqlite").is_file()
    assert [s["url"] for s in seeds_json(home)] == ["https://env.example/"]
