"""The ``archiver`` command line. Each command group lives in its own module and is a
thin layer over library functions; library errors become one-line ``Error:`` messages."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import click

from archiver import __version__
from archiver.catalog import Catalog, open_catalog
from archiver.errors import ArchiverError
from archiver.home import ArchiveHome


class UserFacingError(click.ClickException):
    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class ArchiverGroup(click.Group):
    """The top command. Its subcommands' modules are imported when one is run (or listed
    for help), not all at every start: a crawl process starts faster for it."""

    lazy: ClassVar[dict[str, str]] = {}  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            import importlib

            module, attribute = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return self.commands.get(name)

    def load_all(self) -> dict[str, click.Command]:
        """Every subcommand, imported (for tools that walk the command tree)."""
        for name in self.lazy:
            self.get_command(click.Context(self), name)
        return self.commands

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiverError as exc:
            raise UserFacingError(str(exc), exc.exit_code) from exc


@dataclass
class CliState:
    home: ArchiveHome
    _catalog: Catalog | None = field(default=None, repr=False)
    # Environment variables given their value by HOME/archiver.toml (none set them).
    from_config: set[str] = field(default_factory=set)

    def catalog(self, *, create: bool = False) -> Catalog:
        """The archive's catalog. Commands that start an archive (``seeds add``, ``crawl``)
        pass ``create``; for the others a home or catalog with no archive is an error,
        and nothing is created."""
        if self._catalog is None:
            if create:
                self.home.ensure()
            self._catalog = open_catalog(self.home.catalog_location, create=create)
        return self._catalog

    def wake_watch(self) -> None:
        """Seeds or schedules changed: a running ``archiver watch`` looks again now."""
        from archiver.watch.wake import poke

        poke(self.home.root, self.catalog())


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="ARCHIVER_HOME",
    help="Archive home folder (catalog, WARCs, job state). Default: ARCHIVER_HOME, "
    "else ~/.local/share/archiver.",
)
@click.option(
    "--catalog",
    metavar="URL",
    envvar="ARCHIVER_CATALOG",
    help="The catalog: a postgresql://user@host/db URL shared by several workers. Default:"
    " ARCHIVER_CATALOG, else catalog.sqlite in the home. Give a password with PGPASSWORD"
    " or ~/.pgpass, not in the URL.",
)
@click.version_option(__version__, prog_name="archiver")
@click.pass_context
def cli(ctx: click.Context, home: str | None, catalog: str | None) -> None:
    """archiver: capture web pages at risk of deletion as citable WARC evidence.

    Example: archiver seeds add https://example.org/report --tag ngo && archiver crawl
    """
    resolved = ArchiveHome.resolve(home)
    # HOME/archiver.toml, below the command line and the environment: its values stand
    # in for the variables the environment does not set, before any command reads them.
    from archiver.config import load as load_config

    from_config = load_config(resolved.root).apply_to_environment(os.environ)
    if catalog:
        from archiver.catalog.db import is_postgres

        if not is_postgres(catalog):
            raise UserFacingError(
                f"--catalog {catalog.split('@')[-1]!r} is not a postgresql:// URL: give one"
                " such as postgresql://archiver@db.example.org/archive, or leave it out to"
                " use catalog.sqlite in the home"
            )
        os.environ["ARCHIVER_CATALOG"] = catalog  # the crawl processes started open it too
    ctx.obj = CliState(resolved, from_config=from_config)


def main() -> None:
    cli(prog_name="archiver")


ArchiverGroup.lazy = {
    name: f"archiver.cli.{target}"
    for name, target in {
        "seeds": "seeds:seeds",
        "config": "config:config",
        "crawl": "crawl:crawl",
        "captures": "captures:captures",
        "get": "captures:get",
        "cite": "cite:cite",
        "lookup": "timetravel:lookup",
        "timemap": "timetravel:timemap",
        "verify": "captures:verify",
        "stamp": "proof:stamp",
        "export": "export:export",
        "schedule": "watch:schedule",
        "run-due": "watch:run_due",
        "watch": "watch:watch",
        "events": "watch:events",
        "demo": "demo:demo",
        "upload": "store:upload",
        "store": "store:store",
        "index": "store:index",
        "catalog": "catalog:catalog",
        "worker": "workers:worker",
        "workers": "workers:workers_command",
        "jobs": "jobs:jobs",
        "keys": "keys:keys",
        "serve": "serve:serve",
        "vantage": "vantage:vantage",
        "profile": "profile:profile",
    }.items()
}
