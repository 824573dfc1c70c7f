"""``archiver profile``: login profiles, the cookies of a signed-in browser that
captures are made with (as whom a page was seen)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from archiver.catalog.profiles import ProfileRow
from archiver.cli.jsonout import echo_json


@click.group()
def profile() -> None:
    """Login profiles: crawl as a signed-in person. A profile is the cookies of a
    signed-in browser (a Netscape cookies.txt) and the hosts they may be sent to; a
    seed crawled as it gets the cookies on those hosts only. Cookie values are kept in
    the home, readable by you alone, and never shown, logged or written into a WARC.

    Example: archiver profile add weibo-alice --cookies cookies.txt --hosts weibo.com
    """


def _json(row: ProfileRow) -> dict[str, object]:
    return {
        "profile": row.name,
        "hosts": list(row.hosts),
        "cookies": [asdict(cookie) for cookie in row.cookies],
        "note": row.note,
        "created_at": row.created_at,
    }


def _expiry(row: ProfileRow) -> str:
    """When the first of its cookies expires (they sign in no longer after that)."""
    dated = sorted(cookie.expires for cookie in row.cookies if cookie.expires)
    return f"first expiry {dated[0]}" if dated else "session cookies only"


@profile.command()
@click.argument("name")
@click.option(
    "--cookies", "cookie_file", required=True, type=click.Path(path_type=Path), metavar="FILE",
    help="A Netscape cookies.txt exported from a signed-in browser (or by yt-dlp).",
)  # fmt: skip
@click.option(
    "--hosts", required=True, metavar="HOST,...",
    help="The hosts the cookies may be sent to, separated by commas; each covers its"
    " subdomains. Cookies for other sites in the file are left out.",
)  # fmt: skip
@click.option("--note", default="", help="Whose account this is, for the operator.")
@click.option("--json", "as_json", is_flag=True, help="The new profile, as JSON.")
@click.pass_obj
def add(obj, name: str, cookie_file: Path, hosts: str, note: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Name a signed-in browser's cookies as a profile. Only the cookies for --hosts
    are kept (in HOME/profiles/NAME.cookies, mode 0600); expired ones are left out. The
    file you gave is not needed afterwards: delete it.

    \b
    Example:
      archiver profile add weibo-alice --cookies cookies.txt \\
        --hosts weibo.com,weibo.cn --note 'research account'
    """
    from archiver.profiles import store

    checked = store.new(name, cookie_file, hosts, note)  # before an archive is made for it
    row = store.add(obj.catalog(create=True), obj.home.root, checked, note)
    if as_json:
        echo_json(_json(row))
        return
    click.echo(
        f"added profile {row.name}: {len(row.cookies)} cookie(s) for {', '.join(row.hosts)}"
        f" ({_expiry(row)})"
    )


@profile.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Every profile, as a JSON array.")
@click.pass_obj
def list_command(obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Every profile, by name: its hosts, how many cookies, when they first expire.

    Example: archiver profile list
    """
    from archiver.catalog.profiles import list_profiles

    found = list_profiles(obj.catalog())
    if as_json:
        echo_json([_json(row) for row in found])
        return
    if not found:
        click.echo(
            "no profiles: add one with archiver profile add NAME --cookies cookies.txt --hosts HOST"
        )
        return
    width = max(len(row.name) for row in found)
    for row in found:
        line = (
            f"{row.name:<{width}}  {','.join(row.hosts)}  {len(row.cookies)} cookie(s),"
            f" {_expiry(row)}"
        )
        click.echo(f"{line}  {row.note}" if row.note else line)


@profile.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The profile, as JSON.")
@click.pass_obj
def show(obj, name: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One profile: its hosts and its cookies (name, domain, path, expiry; never the
    values), and the seeds crawled as it.

    Example: archiver profile show weibo-alice
    """
    from archiver.catalog.profiles import seeds_using
    from archiver.profiles import store

    catalog = obj.catalog()
    row = store.find(catalog, name)
    seeds = seeds_using(catalog, row.name)
    if as_json:
        echo_json({**_json(row), "seed_ids": seeds})
        return
    click.echo(f"profile:    {row.name}")
    click.echo(f"hosts:      {', '.join(row.hosts)} (and their subdomains)")
    if row.note:
        click.echo(f"note:       {row.note}")
    click.echo(f"added:      {row.created_at}")
    click.echo(f"seeds:      {', '.join(map(str, seeds)) or '(none)'}")
    click.echo(f"cookies:    {len(row.cookies)} (values kept in the home, never shown)")
    for cookie in row.cookies:
        flags = "".join(
            f", {flag}" for flag, on in (("secure", cookie.secure), ("HttpOnly", cookie.http_only))
            if on
        )  # fmt: skip
        expires = f"expires {cookie.expires}" if cookie.expires else "session"
        click.echo(f"  {cookie.name}  {cookie.domain}{cookie.path}  {expires}{flags}")


@profile.command()
@click.argument("name")
@click.pass_obj
def remove(obj, name: str) -> None:  # type: ignore[no-untyped-def]
    """Remove a profile and the cookies kept for it. Captures made as it keep its name;
    seeds that name it are not crawled until it is added again or they are changed
    (archiver seeds edit ID --profile none).

    Example: archiver profile remove weibo-alice
    """
    from archiver.catalog.profiles import seeds_using
    from archiver.profiles import store

    catalog = obj.catalog()
    row = store.remove(catalog, obj.home.root, name)
    click.echo(f"removed profile {row.name}")
    seeds = seeds_using(catalog, row.name)
    if seeds:
        click.echo(
            f"archiver: seed(s) {', '.join(map(str, seeds))} name profile {row.name}: they are"
            f" not crawled until it is added again, or changed with archiver seeds edit ID"
            " --profile none",
            err=True,
        )
