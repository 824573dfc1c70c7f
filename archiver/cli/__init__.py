"""The ``archiver`` command line. Each command group lives in its own module and is a
thin layer over library functions; library errors become one-line ``Error:`` messages."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

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


from archiver.cli import (  # noqa: E402
    captures,
    catalog,
    cite,
    config,
    crawl,
    demo,
    export,
    jobs,
    keys,
    proof,
    seeds,
    store,
    timetravel,
    watch,
    workers,
)

cli.add_command(seeds.seeds)
cli.add_command(config.config)
cli.add_command(crawl.crawl)
cli.add_command(captures.captures)
cli.add_command(captures.get)
cli.add_command(cite.cite)
cli.add_command(timetravel.lookup)
cli.add_command(timetravel.timemap)
cli.add_command(captures.verify)
cli.add_command(proof.stamp)
cli.add_command(export.export)
cli.add_command(watch.schedule)
cli.add_command(watch.run_due)
cli.add_command(watch.watch)
cli.add_command(watch.events)
cli.add_command(demo.demo)
cli.add_command(store.upload)
cli.add_command(store.store)
cli.add_command(store.index)
cli.add_command(catalog.catalog)
cli.add_command(workers.worker)
cli.add_command(workers.workers_command)
cli.add_command(jobs.jobs)
cli.add_command(keys.keys)
