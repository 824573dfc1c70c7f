"""``archiver seeds``: the seed registry."""

from __future__ import annotations

import json

import click

from archiver.catalog.captures import count_for_seed
from archiver.catalog.seeds import Seed, add_seeds, get_seed, list_seeds, remove_seed
from archiver.errors import ArchiverError
from archiver.seedspec import CATEGORIES, RISKS, ROBOTS, SCOPES, SeedSpec, parse_seed_file
from archiver.urls import display_iri
from archiver.watch.status import timeline


def _split_tags(values: tuple[str, ...]) -> list[str]:
    return [part for value in values for part in value.replace(";", ",").split(",")]


def _describe(seed: Seed) -> str:
    tags = ", ".join(seed.tags) or "-"
    depth = "unlimited" if seed.depth is None and seed.scope != "page" else seed.depth or 0
    return (
        f"{seed.id:>4}  {display_iri(seed.url)}\n"
        f"      scope {seed.scope}, depth {depth}, robots {seed.robots},"
        f" {seed.category}, risk {seed.risk}, tags: {tags}"
        + (", browser" if seed.browser else "")
        + "".join(f"\n      include {pattern}" for pattern in seed.include)
        + "".join(f"\n      exclude {pattern}" for pattern in seed.exclude)
    )


@click.group()
def seeds() -> None:
    """Manage the seed list: what to capture, with tags, scope and why."""


@seeds.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.option("--tag", "tags", multiple=True, help="Tag (repeatable; commas split too).")
@click.option("--category", type=click.Choice(CATEGORIES), help="Kind of source (default other).")
@click.option(
    "--scope", type=click.Choice(SCOPES), help="What to follow from the seed (default page)."
)
@click.option("--depth", type=click.IntRange(min=0), help="Link hops from the seed.")
@click.option("--robots", type=click.Choice(ROBOTS), help="robots.txt policy (default obey).")
@click.option("--risk", type=click.Choice(RISKS), help="Risk of deletion (default medium).")
@click.option("--note", help="Why this was nominated.")
@click.option("--nominated-by", help="Who nominated it.")
@click.option(
    "--browser",
    is_flag=True,
    help="Capture with a headless browser (pages rendered by JavaScript, social posts).",
)
@click.option(
    "--include",
    "include",
    multiple=True,
    metavar="REGEX",
    help="Also follow links matching this regex, beyond the scope (repeatable).",
)
@click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="REGEX",
    help="Never follow links matching this regex (repeatable; wins over scope and --include).",
)
@click.pass_obj
def seeds_add(
    obj, urls, tags, category, scope, depth, robots, risk, note, nominated_by, browser,
    include, exclude,
) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """Add seeds. A URL that is already a seed gets the new tags merged in
    (and --browser turned on, and new --include/--exclude regexes added).

    Example: archiver seeds add https://weibo.com/123/abc --tag weibo --risk high --browser

    Example: archiver seeds add https://example.org/ --scope host --exclude '[?&]replytocom='
    """
    specs = [
        SeedSpec.build(
            url,
            tags=_split_tags(tags),
            category=category,
            scope=scope,
            depth=depth,
            robots=robots,
            risk=risk,
            note=note,
            nominated_by=nominated_by,
            browser=browser,
            include=include,
            exclude=exclude,
        )
        for url in urls
    ]
    for result in add_seeds(obj.catalog(), specs):
        verb = "added" if result.created else "already a seed, tags merged:"
        click.echo(f"{verb} {result.seed.id} {result.seed.url}")


@seeds.command("import")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and report the bad ones.")
@click.pass_obj
def seeds_import(obj, file: str, skip_invalid: bool) -> None:  # type: ignore[no-untyped-def]
    """Import seeds from a .txt, .csv, .json or .jsonl file.

    All or nothing by default: every bad row is reported with its line number and
    nothing is imported. Example: archiver seeds import nominations.csv
    """
    parsed = parse_seed_file(file)
    for problem in parsed.errors:
        click.echo(f"{file}: {problem}", err=True)
    if parsed.errors and not skip_invalid:
        raise ArchiverError(
            f"{len(parsed.errors)} invalid row(s) in {file}; nothing imported "
            "(fix them, or use --skip-invalid to import the valid rows)"
        )
    if not parsed.rows:
        raise ArchiverError(f"no seeds found in {file}")
    results = add_seeds(obj.catalog(), [spec for _, spec in parsed.rows])
    created = sum(1 for r in results if r.created)
    skipped = f", skipped {len(parsed.errors)} invalid row(s)" if parsed.errors else ""
    click.echo(
        f"imported {len(results)} seed(s): {created} new, {len(results) - created} merged{skipped}"
    )


@seeds.command("list")
@click.option("--tag", "tags", multiple=True, help="Only seeds with this tag (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def seeds_list(obj, tags: tuple[str, ...], as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List active seeds. Example: archiver seeds list --tag weibo --json"""
    found = list_seeds(obj.catalog(), tags=_split_tags(tags))
    if as_json:
        click.echo(json.dumps([seed.to_json() for seed in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo(
            "no seeds" + (" with that tag" if tags else ": add some with 'archiver seeds add URL'")
        )
    for seed in found:
        click.echo(_describe(seed))


@seeds.command("show")
@click.argument("seed_id")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def seeds_show(obj, seed_id: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show one seed. Example: archiver seeds show 3"""
    catalog = obj.catalog()
    seed = get_seed(catalog, seed_id)
    count = count_for_seed(catalog, seed.id)
    history = timeline(catalog.conn, seed.id)
    if as_json:
        statuses = [
            {"capture_id": row.capture_id, "captured_at": at, "status": row.status,
             "reason": row.reason, "confirmed": bool(row.confirmed)}
            for row, at in history
        ]  # fmt: skip
        data = {**seed.to_json(), "captures": count, "timeline": statuses}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(_describe(seed))
    click.echo(f"      added {seed.added_at}, {count} capture(s)")
    if seed.note:
        click.echo(f"      note: {seed.note}")
    if seed.nominated_by:
        click.echo(f"      nominated by: {seed.nominated_by}")
    if seed.removed_at:
        click.echo(f"      removed {seed.removed_at}")
    if history:
        click.echo("      status timeline:")
    for row, at in history:
        mark = "" if row.confirmed or row.status == "error" else " (pending confirmation)"
        click.echo(f"        {at}  {row.status:<9} {row.capture_id}  {row.reason}{mark}")


@seeds.command("remove")
@click.argument("seed_id")
@click.pass_obj
def seeds_remove(obj, seed_id: str) -> None:  # type: ignore[no-untyped-def]
    """Stop crawling a seed. Its captures keep their lineage. Example: archiver seeds remove 3"""
    seed = remove_seed(obj.catalog(), seed_id)
    click.echo(f"removed {seed.id} {seed.url} (its captures are kept)")
