"""What a request of the web view works with: one catalog connection, read-only unless
the request is one of the actions (verify, export, add a seed), which open their own."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, g
from markupsafe import Markup, escape

from archiver.catalog import open_catalog
from archiver.catalog.browse import make_read_only
from archiver.catalog.db import Catalog
from archiver.home import ArchiveHome
from archiver.web.segment import unsegment


def catalog() -> Catalog:
    """This request's catalog, read-only."""
    if "catalog" not in g:
        home: ArchiveHome = g_home()
        g.catalog = open_catalog(home.catalog_location, create=False)
        make_read_only(g.catalog)
    return g.catalog


def writable_catalog() -> Catalog:
    """A catalog an action may write to (only the actions ask for it)."""
    if "writable" not in g:
        g.writable = open_catalog(g_home().catalog_location, create=False)
    return g.writable


def g_home() -> ArchiveHome:
    return current_app.config["HOME"]


def home_root() -> Path:
    return g_home().root


def close_catalogs(_exc: BaseException | None) -> None:
    for name in ("catalog", "writable"):
        found = g.pop(name, None)
        if found is not None:
            found.close()


def marked(snippet: str) -> Markup:
    """A search snippet with its matches (between \\x02 and \\x03) in <mark>, escaped."""
    text = str(escape(unsegment(snippet)))
    return Markup(text.replace("\x02", "<mark>").replace("\x03", "</mark>"))
