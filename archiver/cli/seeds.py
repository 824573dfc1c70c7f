"""``archiver seeds``: the seed registry."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import click

from archiver.catalog.captures import count_for_seed
from archiver.catalog.seeds import (
    Seed,
    add_seeds,
    edit_seed,
    get_seed,
    list_seeds,
    remove_seed,
)
from archiver.cli.seedoutcomes import changes_json, changes_text, outcome_text, outcomes_json
from archiver.errors import ArchiverError, NotFound
from archiver.profiles.store import find as find_profile
from archiver.profiles.store import require as require_profiles
from archiver.seedfiles import FORMATS, ParsedSeedFile, RowError, parse_seed_data, parse_seed_file
from archiver.seedspec import (
    CATEGORIES,
    RISKS,
    ROBOTS,
    SCOPES,
    SeedFields,
    SeedSpec,
    split_tag_options,
)
from archiver.urls import display_iri
from archiver.vantage.points import check_known
from archiver.watch.geo import shown, vantage_states
from archiver.watch.status import last_comparison, timeline


def _describe(seed: Seed) -> str:
    tags = ", ".join(seed.tags) or "-"
    depth = "unlimited" if seed.depth is None and seed.scope != "page" else seed.depth or 0
    return (
        f"{seed.id:>4}  {display_iri(seed.url)}\n"
        f"      scope {seed.scope}, depth {depth}, robots {seed.robots},"
        f" {seed.category}, risk {seed.risk}, tags: {tags}"
        + (", browser" if seed.browser else "")
        + (f", as profile {seed.profile}" if seed.profile else "")
        + (f", via {seed.via}" if seed.via else "")
        + "".join(f"\n      include {pattern}" for pattern in seed.include)
        + "".join(f"\n      exclude {pattern}" for pattern in seed.exclude)
    )


def setting_options(command):  # type: ignore[no-untyped-def]
    """The options of a seed's settings that add, import and edit share."""
    for option in reversed((
        click.option("--category", type=click.Choice(CATEGORIES),
                     help="Kind of source (default other)."),
        click.option("--scope", type=click.Choice(SCOPES),
                     help="What to follow from the seed (default page)."),
        click.option("--robots", type=click.Choice(ROBOTS),
                     help="robots.txt policy (default obey)."),
        click.option("--risk", type=click.Choice(RISKS), help="Risk of deletion (default medium)."),
        click.option("--note", help="Why this was nominated."),
        click.option("--nominated-by", help="Who nominated it."),
        click.option("--profile", metavar="NAME",
                     help="Crawl it signed in, as this login profile ('archiver profile';"
                     " none: signed out)."),
        click.option("--via", metavar="NAME[,NAME]",
                     help="Fetch it through this vantage point (archiver vantage list);"
                     " direct: no proxy (the default); several (hk-1,cn-1): from each, and"
                     " compared."),
    )):  # fmt: skip
        command = option(command)
    return command


def new_seed_options(command):  # type: ignore[no-untyped-def]
    """The options add and import share besides the settings: tags, depth, browser, regexes."""
    for option in reversed((
        click.option("--tag", "tags", multiple=True,
                     help="Tag (repeatable; ',' and ';' split too, and '，' '、')."),
        click.option("--depth", type=click.IntRange(min=0), help="Link hops from the seed."),
        click.option("--browser", is_flag=True, default=None,
                     help="Capture with a headless browser (pages rendered by JavaScript,"
                     " social posts)."),
        click.option("--include", "include", multiple=True, metavar="REGEX",
                     help="Also follow links matching this regex, beyond the scope (repeatable)."),
        click.option("--exclude", "exclude", multiple=True, metavar="REGEX",
                     help="Never follow links matching this regex (repeatable; wins over scope"
                     " and --include)."),
        click.option("--json", "as_json", is_flag=True,
                     help="JSON output: each seed's outcome, what changed, what was not applied."),
    )):  # fmt: skip
        command = option(command)
    return command


@click.group()
def seeds() -> None:
    """Manage the seed list: what to capture, with tags, scope and why."""


@seeds.command("add")
@click.argument("urls", nargs=-1, required=True)
@setting_options
@new_seed_options
@click.pass_obj
def seeds_add(obj, urls, tags, include, exclude, as_json, **settings) -> None:  # type: ignore[no-untyped-def]
    """Add seeds. A URL that is already a seed gets the new tags and --include/--exclude
    regexes merged in (and --browser turned on), and comes back if it had been removed;
    other settings that differ are listed as not applied: change them with 'seeds edit'.

    Example: archiver seeds add https://weibo.com/123/abc --tag weibo --risk high --browser

    Example: archiver seeds add https://example.org/ --scope host --exclude '[?&]replytocom='
    """
    settings["browser"] = settings["browser"] or None  # not given: nothing to report
    specs = [
        SeedSpec.build(
            url, tags=split_tag_options(tags), include=include, exclude=exclude, **settings
        )
        for url in urls
    ]
    # A vantage point or profile is in an archive already: naming one never creates one.
    catalog = obj.catalog(create=not any(spec.via or spec.profile for spec in specs))
    require_profiles(catalog, [spec.profile for spec in specs])
    check_known(catalog, [spec.via for spec in specs], "--via")
    results = add_seeds(catalog, specs)
    obj.wake_watch()
    if as_json:
        click.echo(outcomes_json([(result, {}) for result in results]))
        return
    for result in results:
        click.echo(outcome_text(result))


@seeds.command("import")
@click.argument("file", type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="The file's format (default: its extension; txt for '-').")  # fmt: skip
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and report the bad ones.")
@setting_options
@new_seed_options
@click.pass_obj
def seeds_import(obj, file, fmt, skip_invalid, tags, include, exclude, as_json, **settings) -> None:  # type: ignore[no-untyped-def]
    """Import seeds from a .txt, .csv, .json or .jsonl file, or '-' for standard input.
    The options are given to every row: a row's own value wins, and tags and regexes are
    added to the row's.

    All or nothing by default: every bad row is reported with its line number and
    nothing is imported. Example: archiver seeds import nominations.csv

    Example: grep weibo.com urls.txt | archiver seeds import - --tag weibo --browser
    """
    settings["browser"] = settings["browser"] or None  # not given: each row's own
    defaults = SeedFields.build(
        settings, add_tags=split_tag_options(tags), add_include=include, add_exclude=exclude
    )
    shown = "stdin" if file == "-" else file
    if file == "-":
        data = click.get_binary_stream("stdin").read()
        parsed = parse_seed_data(data, "stdin", fmt or "txt", defaults)
    else:
        parsed = parse_seed_file(file, defaults, fmt)
    parsed = _known_profiles(obj, parsed)
    for problem in parsed.errors:
        click.echo(f"{shown}: {problem}", err=True)
    if parsed.errors and not skip_invalid:
        raise ArchiverError(
            f"{len(parsed.errors)} invalid row(s) in {shown}; nothing imported "
            "(fix them, or use --skip-invalid to import the valid rows)"
        )
    if not parsed.rows:
        raise ArchiverError(f"no seeds found in {shown}")
    catalog = obj.catalog(create=not any(spec.via for _, spec in parsed.rows))
    for num, spec in parsed.rows:
        check_known(catalog, [spec.via], f"{shown}: {parsed.unit} {num}")
    results = add_seeds(catalog, [spec for _, spec in parsed.rows])
    obj.wake_watch()
    rows = [
        (result, {parsed.unit: num}) for (num, _), result in zip(parsed.rows, results, strict=True)
    ]
    if as_json:
        invalid = [
            {problem.where: problem.line, "error": problem.reason} for problem in parsed.errors
        ]
        click.echo(outcomes_json(rows, invalid=invalid))
        return
    for result, where in rows:
        if result.outcome == "reactivated" or result.not_applied:
            [(unit, num)] = where.items()
            click.echo(f"{unit} {num}: {outcome_text(result)}")
    counts = Counter(result.outcome for result in results)
    skipped = f", skipped {len(parsed.errors)} invalid row(s)" if parsed.errors else ""
    click.echo(
        f"imported {len(results)} seed(s): {counts['added']} new, {counts['updated']} updated,"
        f" {counts['reactivated']} reactivated, {counts['unchanged']} unchanged{skipped}"
    )


def _known_profiles(obj, parsed: ParsedSeedFile) -> ParsedSeedFile:  # type: ignore[no-untyped-def]
    """Rows that name a login profile there is none of are invalid rows, each reported
    with its line like any other (and left out under --skip-invalid)."""
    names = {spec.profile for _, spec in parsed.rows if spec.profile}
    if not names:
        return parsed
    try:
        catalog = obj.catalog()
    except ArchiverError:
        catalog = None  # no archive yet, so no profile either
    unknown: dict[str, str] = {}
    for name in sorted(names):
        try:
            find_profile(catalog, name)
        except NotFound as exc:
            unknown[name] = str(exc)
    if not unknown:
        return parsed
    errors = parsed.errors + tuple(
        RowError(num, unknown[spec.profile], parsed.unit)
        for num, spec in parsed.rows
        if spec.profile in unknown
    )
    return replace(
        parsed,
        rows=tuple((num, spec) for num, spec in parsed.rows if spec.profile not in unknown),
        errors=tuple(sorted(errors, key=lambda error: error.line)),
    )


@seeds.command("edit")
@click.argument("seed", metavar="ID|URL")
@setting_options
@click.option(
    "--depth", metavar="N|none", help="Link hops from the seed; none: the scope's default."
)
@click.option(
    "--browser/--no-browser", default=None, help="Capture with a headless browser, or not."
)
@click.option("--add-tag", "add_tags", multiple=True, help="Add a tag (repeatable; commas split).")
@click.option("--remove-tag", "remove_tags", multiple=True, help="Remove a tag (repeatable).")
@click.option("--add-include", multiple=True, metavar="REGEX", help="Add an include regex.")
@click.option("--remove-include", multiple=True, metavar="REGEX", help="Remove an include regex.")
@click.option("--add-exclude", multiple=True, metavar="REGEX", help="Add an exclude regex.")
@click.option("--remove-exclude", multiple=True, metavar="REGEX", help="Remove an exclude regex.")
@click.option("--json", "as_json", is_flag=True, help="JSON output: what changed.")
@click.pass_obj
def seeds_edit(
    obj, seed, add_tags, remove_tags, add_include, remove_include, add_exclude, remove_exclude,
    as_json, **settings,
) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """Change a seed, named by its id or its URL. Its captures keep the settings they
    were made with; the next crawl uses the new ones.

    Example: archiver seeds edit 3 --risk high --scope host --depth 2

    Example: archiver seeds edit https://example.org/ --add-tag china --remove-tag draft
    """
    fields = SeedFields.build(
        settings,
        add_tags=split_tag_options(add_tags),
        remove_tags=split_tag_options(remove_tags),
        add_include=add_include,
        remove_include=remove_include,
        add_exclude=add_exclude,
        remove_exclude=remove_exclude,
    )
    if fields.empty:
        raise click.UsageError(
            "nothing to change: give at least one option, such as --risk high or --add-tag T"
            " (see 'archiver seeds edit --help')"
        )
    catalog = obj.catalog()
    require_profiles(catalog, [fields.settings.get("profile")])  # type: ignore[list-item]
    check_known(catalog, [fields.settings.get("via")], "--via")  # type: ignore[list-item]
    edited, changes = edit_seed(catalog, seed, fields)
    obj.wake_watch()
    if as_json:
        outcome = "edited" if changes else "unchanged"
        data = {"seed_id": edited.id, "url": edited.url, "outcome": outcome,
                "changes": changes_json(changes)}  # fmt: skip
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if changes:
        click.echo(f"edited {edited.id} {edited.url}: {changes_text(changes)}")
    else:
        click.echo(f"unchanged {edited.id} {edited.url}: it already has these values")
    if not edited.active:
        click.echo(
            f"  seed {edited.id} is removed: 'archiver seeds add {edited.url}' brings it back"
        )


@seeds.command("list")
@click.option("--tag", "tags", multiple=True, help="Only seeds with this tag (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def seeds_list(obj, tags: tuple[str, ...], as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List active seeds. Example: archiver seeds list --tag weibo --json"""
    found = list_seeds(obj.catalog(), tags=split_tag_options(tags))
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
@click.argument("seed_id", metavar="ID|URL")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def seeds_show(obj, seed_id: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show one seed, named by its id or its URL. Example: archiver seeds show 3"""
    catalog = obj.catalog()
    seed = get_seed(catalog, seed_id)
    count = count_for_seed(catalog, seed.id)
    history = timeline(catalog.conn, seed.id)
    per_vantage = vantage_states(catalog.conn, seed.id, [row.vantage for row, _ in history])
    compared = last_comparison(catalog.conn, seed.id)
    if as_json:
        statuses = [
            {"capture_id": row.capture_id, "captured_at": at, "status": row.status,
             "reason": row.reason, "confirmed": bool(row.confirmed),
             "vantage": shown(row.vantage)}
            for row, at in history
        ]  # fmt: skip
        data = {**seed.to_json(), "captures": count, "timeline": statuses}
        data["vantages"] = per_vantage
        data["geo"] = (
            {"verdict": compared.verdict, "compared_at": compared.compared_at,
             "states": compared.states} if compared else None
        )  # fmt: skip
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
    several = len(per_vantage) > 1 or any(row.vantage for row, _ in history)
    if several:
        states = ", ".join(f"{name} {state}" for name, state in per_vantage.items())
        click.echo(f"      state per vantage: {states}")
    if compared:
        click.echo(f"      vantages compared: {compared.verdict} at {compared.compared_at}")
    if history:
        click.echo("      status timeline:")
    for row, at in history:
        mark = "" if row.confirmed or row.status == "error" else " (pending confirmation)"
        via = f" via {shown(row.vantage)}" if several else ""
        click.echo(f"        {at}  {row.status:<9} {row.capture_id}{via}  {row.reason}{mark}")


@seeds.command("remove")
@click.argument("seed_id", metavar="ID|URL")
@click.pass_obj
def seeds_remove(obj, seed_id: str) -> None:  # type: ignore[no-untyped-def]
    """Stop crawling a seed (by id or URL). Its captures keep their lineage.
    Example: archiver seeds remove 3"""
    seed = remove_seed(obj.catalog(), seed_id)
    click.echo(f"removed {seed.id} {display_iri(seed.url)} (its captures are kept)")
