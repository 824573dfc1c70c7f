"""``archiver lookup`` and ``archiver timemap``: captures by time, and Memento TimeMaps.
They never import Scrapy."""

from __future__ import annotations

import click

from archiver.catalog.db import iso_ms
from archiver.cli.jsonout import capture_json, echo_json
from archiver.errors import ArchiverError
from archiver.research import replay
from archiver.research.dates import parse_when
from archiver.research.timetravel import lookup as find_nearest
from archiver.research.timetravel import memento_url, mementos, timemap_json, timemap_link
from archiver.urls import display_iri, normalize_url


@click.command()
@click.argument("url")
@click.option("--at", "when", required=True, help="A date or time, as you would type it.")
@click.option("--closest", is_flag=True, help="Nearest capture (the default).")
@click.option("--before", is_flag=True, help="Last capture at or before the time.")
@click.option("--after", is_flag=True, help="First capture at or after the time.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def lookup(
    obj, url: str, when: str, closest: bool, before: bool, after: bool, as_json: bool
) -> None:  # type: ignore[no-untyped-def]
    """Find the capture of URL nearest a time, and say how far off it is.

    DATE as people type it: 2020-02-12, '12 Feb 2020 14:00 +0800', '2026-11-29 14:00
    Asia/Shanghai', now, a Wayback timestamp (20261129060000), 2026年11月29日. A time
    without a zone is UTC; zone abbreviations (CST) and dates that read both ways
    (03/04/2026) are refused.

    Example: archiver lookup https://example.org/post/1 --at "12 Feb 2020 14:00 +0800" --before
    """
    chosen = [name for name, on in (("--closest", closest), ("--before", before),
                                    ("--after", after)) if on]  # fmt: skip
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be used together: choose one")
    mode = chosen[0].removeprefix("--") if chosen else "closest"
    at = parse_when(when)
    found = find_nearest(obj.catalog(), normalize_url(url), at, mode)
    if found is None:
        where = {"closest": "", "before": " before that time", "after": " after that time"}[mode]
        raise ArchiverError(
            f"no capture of {url}{where} (list them with 'archiver captures --url')"
        )
    c = found.capture
    base = replay.replay_base()
    replayed = memento_url(base, c) if base else None
    if as_json:
        echo_json({
            **capture_json(c), "replay_url": replayed, "requested": iso_ms(at),
            "offset_seconds": found.seconds,
        })  # fmt: skip
        return
    click.echo(f"{c.id}  {c.captured_at}  {c.http_status}  {display_iri(c.url)}")
    click.echo(f"captured {found.distance()} ({at.strftime('%Y-%m-%d %H:%M:%S UTC')})")
    if replayed:
        click.echo(f"replay: {replayed}")


@click.command()
@click.argument("url")
@click.option("--format", "fmt", type=click.Choice(["link", "json"]), default="link",
              show_default=True, help="application/link-format (RFC 7089) or JSON.")  # fmt: skip
@click.option(
    "--replay-base",
    help=f"Replay base URL (default ${replay.REPLAY_ENV}, or replay_base in archiver.toml).",
)
@click.pass_obj
def timemap(obj, url: str, fmt: str, replay_base: str | None) -> None:  # type: ignore[no-untyped-def]
    """Print the Memento TimeMap (RFC 7089) of URL: every capture with its datetime and
    its memento URL on the replay service (--replay-base, ARCHIVER_REPLAY_BASE or
    'archiver config set replay_base URL'); with none set, a clear error.

    Example: archiver timemap https://example.org/post/1 --format json
    """
    target = normalize_url(url)
    catalog = obj.catalog()  # a home with no archive says so first
    base = replay.replay_base(replay_base)
    if base is None:
        # A TimeMap is read by Memento clients, which follow each memento's URL: without a
        # replay service there is none to give, and a made-up one would lead nowhere.
        raise ArchiverError(
            "no replay base is set, so a TimeMap has no memento URLs to give: set one once"
            " for this home with 'archiver config set replay_base URL' (or give --replay-base"
            f" URL, or {replay.REPLAY_ENV}); offline, 'archiver captures --url {target}' lists"
            " the captures, and 'archiver get ID' writes one's WARC records"
        )
    captures = mementos(catalog, target)
    render = timemap_link if fmt == "link" else timemap_json
    click.echo(render(target, captures, base), nl=fmt == "json")
