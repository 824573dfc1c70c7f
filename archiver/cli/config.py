"""``archiver config``: the home's configuration file, HOME/archiver.toml."""

from __future__ import annotations

import json
import os

import click

from archiver import config as home_config
from archiver.errors import ArchiverError


def _defaults(obj) -> dict[str, str]:  # type: ignore[no-untyped-def]
    root = obj.home.root
    return {
        "store": str(root / "warcs"),
        "catalog": str(root / "catalog.sqlite"),
        "profile": "local",
    }


def _shown(key: str, value: str) -> str:
    """A URL's password never shown (the environment may hold one)."""
    if key in ("catalog", "store", "replay_base"):
        from archiver.catalog.db import masked

        return masked(value)
    return value


def _effective(obj) -> list[dict[str, str | None]]:  # type: ignore[no-untyped-def]
    defaults = _defaults(obj)
    rows: list[dict[str, str | None]] = []
    for key, spec in home_config.KEYS.items():
        if spec.env in obj.from_config:
            source, value = "archiver.toml", os.environ[spec.env]
        elif os.environ.get(spec.env):
            source, value = f"environment ({spec.env})", os.environ[spec.env]
        elif key in defaults:
            source, value = "default", defaults[key]
        else:
            source, value = "not set", None
        rows.append({
            "key": key, "value": None if value is None else _shown(key, value),
            "source": source, "variable": spec.env, "help": spec.help,
        })  # fmt: skip
    return rows


@click.group()
def config() -> None:
    """Show and set this home's configuration (HOME/archiver.toml).

    Set once what every command should use: the operator named in every WARC file, the
    replay base for citations, the store, the catalog, the settings profile, and crawl
    settings ('settings.NAME', as -s NAME=VALUE gives them). The command line wins over
    the environment, which wins over the file. Never a secret in the file: write
    "env:VARIABLE" and set the variable.

    Example: archiver config set operator "Rights Watch <archive@rights.example>"
    """


@config.command(name="show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_obj
def show(obj, as_json) -> None:  # type: ignore[no-untyped-def]
    """Each key: its value in effect and where it comes from; then the crawl settings.

    Example: archiver config show --json
    """
    loaded = home_config.load(obj.home.root)
    rows = _effective(obj)
    if as_json:
        click.echo(json.dumps({
            "file": str(loaded.path), "exists": loaded.path.exists(), "keys": rows,
            "settings": loaded.written.get(home_config.SETTINGS_TABLE, {}),
        }, indent=2, ensure_ascii=False))  # fmt: skip
        return
    state = "" if loaded.path.exists() else " (no file yet: 'archiver config set' writes it)"
    click.echo(f"file: {loaded.path}{state}")
    for row in rows:
        value = row["value"] if row["value"] is not None else "-"
        click.echo(f"{row['key']:<13} {value}  [{row['source']}]")
    for name, value in loaded.written.get(home_config.SETTINGS_TABLE, {}).items():
        click.echo(f"settings.{name} = {value}")  # as written: a secret only by reference


@config.command(name="get")
@click.argument("key")
@click.pass_obj
def get(obj, key) -> None:  # type: ignore[no-untyped-def]
    """Print one key's value in effect (settings.NAME: the file's crawl setting); exit 1
    when it is not set.

    Example: archiver config get replay_base
    """
    section, _, name = key.partition(".")
    if section == home_config.SETTINGS_TABLE and name:
        settings = home_config.load(obj.home.root).written.get(home_config.SETTINGS_TABLE, {})
        if name not in settings:
            raise ArchiverError(f"{key} is not set in {home_config.config_path(obj.home.root)}")
        click.echo(settings[name])
        return
    rows = {row["key"]: row for row in _effective(obj)}
    if key not in rows:
        raise ArchiverError(f"unknown key {key!r}{home_config._suggest(key, list(rows))}")
    if rows[key]["value"] is None:
        raise ArchiverError(f"{key} is not set: set it with 'archiver config set {key} VALUE'")
    click.echo(rows[key]["value"])


@config.command(name="set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_command(obj, key, value) -> None:  # type: ignore[no-untyped-def]
    """Write KEY = VALUE into the file (checked first; the file is replaced whole).

    Example: archiver config set settings.DOWNLOAD_DELAY 2
    """
    path = home_config.set_value(obj.home.ensure().root, key, value)
    click.echo(f"{key} set in {path}", err=True)


@config.command(name="unset")
@click.argument("key")
@click.pass_obj
def unset(obj, key) -> None:  # type: ignore[no-untyped-def]
    """Remove KEY from the file: its default (or the environment's value) applies again.

    Example: archiver config unset replay_base
    """
    if not home_config.unset_value(obj.home.root, key):
        raise ArchiverError(f"{key} is not in {home_config.config_path(obj.home.root)}")
    click.echo(f"{key} removed from {home_config.config_path(obj.home.root)}", err=True)
