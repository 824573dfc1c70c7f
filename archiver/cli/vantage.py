"""``archiver vantage``: the named proxies (vantage points) captures can be fetched through."""

from __future__ import annotations

import os
from dataclasses import asdict

import click

from archiver.catalog.vantages import VantageRow
from archiver.cli.jsonout import echo_json
from archiver.vantage.proxyurl import parse_proxy
from archiver.vantage.route import Route


@click.group()
def vantage() -> None:
    """Vantage points: where captures are fetched from. A vantage point is a named proxy
    (http, https, socks5, socks5h) or a local Tor, with the country it exits in.
    Crawl through one with 'archiver crawl --via NAME' or 'archiver seeds add --via NAME'.

    Example: archiver vantage add hk-1 --proxy socks5h://127.0.0.1:1080 --country HK
    """


def _json(row: VantageRow) -> dict[str, object]:
    data = asdict(row)
    return {"vantage": data.pop("name"), **data}


def _password_line(row: VantageRow) -> str | None:
    variable = parse_proxy(row.proxy).password_env
    if variable is None:
        return None
    state = "set" if os.environ.get(variable) else "not set"
    return f"password:   from ${variable} ({state} in this environment)"


@vantage.command()
@click.argument("name")
@click.option(
    "--proxy",
    required=True,
    metavar="URL",
    help="scheme://[user[:env:VARIABLE]@]host:port (http, https, socks5, socks5h), or tor"
    " for a local Tor. A password only as env:VARIABLE, never in clear.",
)
@click.option("--country", metavar="CC", help="Where the proxy exits: ISO 3166-1 alpha-2 (HK).")
@click.option("--note", default="", help="What this vantage point is, for the operator.")
@click.option("--json", "as_json", is_flag=True, help="The new vantage point, as JSON.")
@click.pass_obj
def add(obj, name: str, proxy: str, country: str | None, note: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Name a proxy as a vantage point. A proxy password is given by reference to an
    environment variable and read when the proxy is used; it is never stored.

    \b
    Example:
      archiver vantage add hk-1 --country HK \\
        --proxy 'socks5h://alice:env:HK1_PASSWORD@203.0.113.5:1080'
    """
    from archiver.vantage import points

    checked = points.new(name, proxy, country, note)  # before an archive is made for it
    row = points.add(obj.catalog(create=True), checked)
    if as_json:
        echo_json(_json(row))
    else:
        where = f" ({row.country})" if row.country else ""
        click.echo(f"added vantage point {row.name}: {row.kind} {row.proxy}{where}")
    route = Route.of(row)
    if route.username and route.password_env is None:
        click.echo(
            f"archiver: note: no password for {route.username}: a crawl at a terminal asks"
            " for it and keeps it for that run only (never stored); for unattended crawls"
            f" (run-due, workers) give it as {route.username}:env:VARIABLE instead",
            err=True,
        )


@vantage.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Every vantage point, as a JSON array.")
@click.pass_obj
def list_command(obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Every vantage point, by name: its kind, country and proxy.

    Example: archiver vantage list
    """
    from archiver.catalog.vantages import list_vantages

    found = list_vantages(obj.catalog())
    if as_json:
        echo_json([_json(row) for row in found])
        return
    if not found:
        click.echo("no vantage points: add one with archiver vantage add NAME --proxy URL")
        return
    width = max(len(row.name) for row in found)
    for row in found:
        line = f"{row.name:<{width}}  {row.kind:<7}  {row.country or '--'}  {row.proxy}"
        click.echo(f"{line}  {row.note}" if row.note else line)


@vantage.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The vantage point, as JSON.")
@click.pass_obj
def show(obj, name: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One vantage point: its proxy, kind, country and note.

    Example: archiver vantage show hk-1
    """
    from archiver.vantage import points

    row = points.find(obj.catalog(), name)
    if as_json:
        echo_json(_json(row))
        return
    click.echo(f"vantage:    {row.name}")
    click.echo(f"kind:       {row.kind}")
    click.echo(f"proxy:      {row.proxy}")
    if (password := _password_line(row)) is not None:
        click.echo(password)
    click.echo(f"country:    {row.country or '(not given)'}")
    if row.note:
        click.echo(f"note:       {row.note}")
    click.echo(f"added:      {row.created_at}")


@vantage.command()
@click.argument("name")
@click.option(
    "--force", is_flag=True,
    help="Remove it even though seeds or schedules still name it (their crawls then fail"
    " until they name another).",
)  # fmt: skip
@click.pass_obj
def remove(obj, name: str, force: bool) -> None:  # type: ignore[no-untyped-def]
    """Remove a vantage point. Captures already made through it keep their record of it.
    One that seeds or schedules still name is kept, unless --force: a crawl never goes
    direct instead, so their captures would fail until they name another.

    Example: archiver vantage remove hk-1
    """
    from archiver.catalog.vantages import users_of
    from archiver.errors import ArchiverError
    from archiver.vantage import points

    catalog = obj.catalog()
    row = points.find(catalog, name)
    users = users_of(catalog, row.name)
    named_by = [f"seed {seed_id}" for seed_id in users.seeds]
    named_by += [f"the schedule of {what}" for what in users.schedules]
    if named_by and not force:
        fix = (
            f"archiver seeds edit {users.seeds[0]} --via direct" if users.seeds
            else "archiver schedule set ... --via direct"
        )  # fmt: skip
        raise ArchiverError(
            f"vantage point {row.name!r} is still named by {', '.join(named_by)}, whose"
            f" crawls would fail without it: give them another first ({fix}), or remove it"
            " anyway with --force"
        )
    points.remove(catalog, row.name)
    click.echo(f"removed vantage point {row.name}")
    if named_by:
        click.echo(
            f"archiver: warning: {', '.join(named_by)} still name {row.name!r}: their crawls"
            " fail (no vantage point of that name) until they name another",
            err=True,
        )


@vantage.command()
@click.argument("name")
@click.option(
    "--url", metavar="URL",
    help="Open a tunnel to this URL's host through the proxy (default: the egress probe URL,"
    " $ARCHIVER_EGRESS_PROBE_URL, fetched to show the address requests come from).",
)  # fmt: skip
@click.pass_obj
def test(obj, name: str, url: str | None) -> None:  # type: ignore[no-untyped-def]
    """Try a vantage point: connect through its proxy and say whether it works, and why
    not. With ARCHIVER_EGRESS_PROBE_URL set, fetches it through the proxy and prints the
    address the requests come from; else opens a tunnel to --url's host. Exit status 0
    when it works, 1 when not.

    Example: archiver vantage test hk-1 --url https://www.example.org/
    """
    from archiver.cli.proxypasswords import ask_passwords
    from archiver.errors import ArchiverError
    from archiver.vantage import points, probe

    catalog = obj.catalog()
    route = Route.of(points.find(catalog, name))
    ask_passwords(catalog, [route.name])  # at a terminal, when its variable is not set
    probe_url = os.environ.get(probe.PROBE_ENV, "").strip()
    if url is None and not probe_url:
        raise ArchiverError(
            f"nothing to test {name} against: give --url URL (a site to open a tunnel to),"
            f" or set {probe.PROBE_ENV} to a URL that answers with the caller's address"
        )
    if url is not None:
        outcome = probe.check(route, url)
    else:
        outcome = probe.egress(route, probe_url)
        if outcome.ok:
            outcome = probe.Outcome(True, f"requests come from {outcome.detail}")
    if not outcome.ok:
        click.echo(f"vantage point {name}: failed: {outcome.detail}")
        raise SystemExit(1)
    click.echo(f"vantage point {name}: ok: {outcome.detail}")
