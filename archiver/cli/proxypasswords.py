"""Asking at the terminal for the proxy passwords a crawl needs, never storing them.

The catalog holds a proxy password only as an ``env:VARIABLE`` reference, and a proxy URL
with a user and no password means "ask for it", as curl does. A crawl run at a terminal
asks for each password whose variable is not set (hidden input) and puts the answer in
its own environment, where its crawl and the jobs it starts (``--via a,b``) read it;
nothing is written. Without a terminal (cron, workers) nothing is asked: an unset
``env:VARIABLE`` stops the crawl before it starts, as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

import click

from archiver.catalog import Catalog
from archiver.vantage.points import DIRECT, find
from archiver.vantage.route import Route


def ask_passwords(catalog: Catalog, names: Iterable[str | None]) -> None:
    """Ask for the password of each vantage point named (``a,b``: each) whose variable is
    not set, when stdin is a terminal."""
    if not sys.stdin.isatty():
        return
    wanted = (name for names_ in names if names_ for name in names_.split(","))
    for name in dict.fromkeys(wanted):
        if name == DIRECT:
            continue
        route = Route.of(find(catalog, name))
        variable = route.password_variable
        if variable is None or os.environ.get(variable):
            continue
        where = f"${variable} is not set" if route.password_env else "its URL has none"
        os.environ[variable] = click.prompt(
            f"proxy password for {route.username or '(no user)'} at vantage point {name}"
            f" ({where}; it is not stored)",
            hide_input=True,
            err=True,
        )
