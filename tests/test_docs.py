"""The README cannot drift from the code: every command and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from archiver.cli import cli
from archiver.crawl.config import ARCHIVER_SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def subcommands(group: click.Group) -> dict[str, click.Command]:
    """A group's commands, the top group's imported first (it loads them when used)."""
    return group.load_all() if hasattr(group, "load_all") else group.commands


def command_paths(group: click.Group, prefix: str = "archiver") -> list[str]:
    paths = []
    for name, command in subcommands(group).items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths += command_paths(command, path)
        else:
            paths.append(path)
    return paths


def test_every_command_is_in_the_readme():
    missing = [path for path in command_paths(cli) if path not in README]
    assert not missing


def json_commands(group: click.Group, prefix: str = "") -> set[str]:
    """The commands that print JSON: with ``--json``, or with a ``--format`` choice of json."""
    found = set()
    for name, command in subcommands(group).items():
        path = prefix + name
        options = {opt: param for param in command.params for opt in getattr(param, "opts", ())}
        fmt = options.get("--format")
        if "--json" in options:
            found.add(path)
        elif fmt is not None and "json" in getattr(fmt.type, "choices", ()):
            found.add(f"{path} --format json")
        if isinstance(command, click.Group):
            found |= json_commands(command, path + " ")
    return found


def test_the_machine_output_list_names_every_command_with_json():
    section = README.split("### Machine output (`--json`)\n", 1)[1].split("\n| key |", 1)[0]
    listed = set(re.findall(r"`([^`]+)`", section)) - {"--json"}
    commands = json_commands(cli)
    assert {"crawl", "seeds add", "jobs show", "timemap --format json"} <= commands
    assert sorted(commands - listed) == [], "commands with JSON missing from the README's list"
    assert sorted(listed - commands) == [], "listed in the README, but no JSON"


def test_every_setting_is_in_the_readme():
    assert [name for name in ARCHIVER_SETTINGS if f"`{name}" not in README] == []


def test_every_command_has_help_with_an_example():
    def walk(group: click.Group):
        for command in subcommands(group).values():
            if isinstance(command, click.Group):
                yield from walk(command)
            else:
                yield command

    assert [c.name for c in walk(cli) if "Example:" not in (c.help or "")] == []


def test_readme_starts_with_the_two_commands():
    blocks = README.split("```sh\n")[1:3]
    assert blocks[0].startswith("python3 -m venv .venv && .venv/bin/pip install -e . && ")
    assert blocks[1].startswith("bash .ci/run")
