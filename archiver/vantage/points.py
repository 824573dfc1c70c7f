"""Adding, finding and removing vantage points: the checks around the catalog's rows."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence

from archiver.catalog import Catalog
from archiver.catalog import vantages as rows
from archiver.catalog.db import iso_ms, utc_now
from archiver.catalog.seeds import Seed
from archiver.catalog.vantages import VantageRow
from archiver.errors import InvalidVantage, NotFound
from archiver.vantage.countries import country_code
from archiver.vantage.proxyurl import parse_proxy
from archiver.vantage.route import Route

DIRECT = "direct"  # no proxy: the name a crawl's default connection goes by
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidVantage(
            f"vantage name {name!r} is not allowed: use letters, digits, '.', '_' and '-'"
            " (up to 64, starting with a letter or digit), such as hk-residential"
        )
    if name.lower() == DIRECT:
        raise InvalidVantage(
            f"vantage name {name!r} is reserved for a direct connection: choose another name"
        )
    return name


def new(name: str, proxy: str, country: str | None = None, note: str = "") -> VantageRow:
    """A vantage point checked and ready to add, or InvalidVantage saying what to fix."""
    parsed = parse_proxy(proxy)
    return VantageRow(
        name=check_name(name),
        kind=parsed.kind,
        proxy=parsed.url,
        country=country_code(country) if country is not None else None,
        note=note,
        created_at=iso_ms(utc_now()),
    )


def add(catalog: Catalog, row: VantageRow) -> VantageRow:
    """Add a checked vantage point (see :func:`new`), unless its name is taken."""
    if not rows.add_vantage(catalog, row):
        raise InvalidVantage(
            f"a vantage point named {row.name!r} already exists: choose another name, or"
            f" remove it first with archiver vantage remove {row.name}"
        )
    return row


def find(catalog: Catalog, name: str) -> VantageRow:
    """The vantage point of this name, or NotFound with the closest names."""
    found = rows.get_vantage(catalog, name)
    if found is not None:
        return found
    known = [row.name for row in rows.list_vantages(catalog)]
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif known:
        hint = f"the vantage points are {', '.join(known)}"
    else:
        hint = "there are none yet: add one with archiver vantage add NAME --proxy URL"
    raise NotFound(f"no vantage point named {name!r}: {hint}")


def chosen(catalog: Catalog, name: str, what: str) -> VantageRow:
    """The vantage point ``what`` (``--via``, ``seed 3``) names, or NotFound saying where
    the names are: nothing is crawled or written for a name that is not there."""
    found = rows.get_vantage(catalog, name)
    if found is not None:
        return found
    known = [row.name for row in rows.list_vantages(catalog)]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise NotFound(
        f"{what}: no vantage point named {name!r}{hint}; see them with 'archiver vantage"
        " list', add one with 'archiver vantage add NAME --proxy URL', or give --via direct"
    )


def check_known(catalog: Catalog, names: Iterable[str | None], what: str) -> None:
    """Every name given is a vantage point (None: a direct connection; ``a,b``: each)."""
    for name in dict.fromkeys(name for names_ in names if names_ for name in names_.split(",")):
        if name != DIRECT:
            chosen(catalog, name, what)


def routes_for(
    catalog: Catalog, via: str | None, seeds: Sequence[Seed], seed_via: Mapping[int, str]
) -> dict[str, Route]:
    """The vantage points a crawl of ``seeds`` goes through, checked before anything is
    crawled: ``via`` (``crawl --via``) for all of them, else each seed's from its schedule
    (``seed_via``), else its own. Every one must exist, be a kind the crawler speaks, and
    have its password variable set."""
    if via is not None and via.lower() == DIRECT:
        return {}
    chosen_for = {seed.id: seed_via.get(seed.id) or seed.via for seed in seeds}
    chosen_for = {seed_id: name for seed_id, name in chosen_for.items() if name != DIRECT}
    wanted = (
        [(via, "--via")] if via else [(chosen_for[seed.id], f"seed {seed.id}") for seed in seeds]
    )
    routes: dict[str, Route] = {}
    for name, what in wanted:
        if name and name not in routes:
            route = Route.of(chosen(catalog, name, what))
            if route.kind == "https":
                raise InvalidVantage(
                    f"vantage point {name!r} is an https:// proxy (TLS to the proxy), which"
                    " crawls cannot go through yet: run a local TLS client in front of it,"
                    " or use its http:// or socks5h:// port"
                )
            route.credentials()  # its password variable must be set now, not mid-crawl
            routes[name] = route
    return routes


def remove(catalog: Catalog, name: str) -> VantageRow:
    row = find(catalog, name)
    rows.delete_vantage(catalog, row.name)
    return row
