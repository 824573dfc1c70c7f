"""``archiver catalog``: the catalog itself (copying it into PostgreSQL)."""

from __future__ import annotations

import click

from archiver.catalog import open_catalog
from archiver.catalog.copy import copy_catalog
from archiver.catalog.db import is_postgres, masked
from archiver.errors import ArchiverError


@click.group()
def catalog() -> None:
    """The catalog itself.

    Example: archiver catalog copy --to postgresql://archiver@db.example.org/archive
    """


@catalog.command("copy")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="An empty PostgreSQL database: postgresql://USER@HOST/DB.")  # fmt: skip
@click.pass_obj
def copy(obj, target_url: str) -> None:  # type: ignore[no-untyped-def]
    """Copy this archive's catalog (the home's SQLite file, or --catalog) into an empty
    PostgreSQL database, and check the copy: every table's row count and every capture's
    id, time, digests and WARC location. The source is not changed; a copy that fails
    leaves the target empty. Then point every machine at it with --catalog or
    ARCHIVER_CATALOG; the WARC files stay where they are.

    Example: archiver catalog copy --to postgresql://archiver@db.example.org/archive
    """
    if not is_postgres(target_url):
        raise ArchiverError(
            f"--to {target_url.split('@')[-1]!r} is not a postgresql:// URL: give the empty"
            " database to copy into, e.g. postgresql://archiver@db.example.org/archive"
        )
    source = obj.catalog()
    if masked(str(source.path)) == masked(target_url):
        raise ArchiverError("--to names the catalog being copied: give another database")
    target = open_catalog(target_url)
    try:
        report = copy_catalog(source, target)
    finally:
        target.close()
    total = sum(report.rows.values())
    click.echo(
        f"copied {total} rows of {len(report.rows)} tables into {masked(target_url)};"
        f" checked: row counts, and {report.captures_checked} captures' digests and locations"
    )
    for name, count in report.rows.items():
        click.echo(f"  {name}: {count}")
