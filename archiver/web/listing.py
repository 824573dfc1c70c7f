"""The captures list (filters, keyset paging) and search (URL prefix, title, full text)."""

from __future__ import annotations

import re

from flask import Flask, render_template, request

from archiver.catalog.browse import Filters, page_of_captures
from archiver.catalog.db import iso_ms
from archiver.catalog.searchindex import RANKED, SearchIndex
from archiver.errors import ArchiverError
from archiver.research.dates import parse_when
from archiver.urls import normalize_url, surt_key
from archiver.web.requestctx import catalog, home_root
from archiver.web.searchfeed import exists, index_path
from archiver.web.segment import fts_query

PAGE = 50
_STATUS = re.compile(r"([1-5])(\d\d|xx)", re.IGNORECASE)


def register(app: Flask) -> None:
    app.add_url_rule("/", "home", captures_page)
    app.add_url_rule("/captures", "captures", captures_page)
    app.add_url_rule("/search", "search", search_page)


def _filters() -> Filters:
    args = request.args
    statuses, failed = [], False
    for part in filter(None, (p.strip() for p in args.get("status", "").split(","))):
        match = _STATUS.fullmatch(part)
        if part == "failed":
            failed = True
        elif match is None:
            raise ArchiverError(f"{part!r} is not an HTTP status: write 404, 4xx or 404,410")
        elif match.group(2).lower() == "xx":
            low = int(match.group(1)) * 100
            statuses.append((low, low + 99))
        else:
            statuses.append((int(part), int(part)))
    seed = args.get("seed", "").strip()
    if seed and not seed.isdigit():
        raise ArchiverError(f"seed {seed!r} is not a seed id (a number)")
    since = args.get("from", "").strip()
    until = args.get("to", "").strip()
    return Filters(
        seed_id=int(seed) if seed else None,
        tag=args.get("tag", "").strip() or None,
        job=args.get("job", "").strip() or None,
        http_statuses=statuses,
        failed=failed,
        since=iso_ms(parse_when(since)) if since else None,
        until=iso_ms(parse_when(until, end=True)) if until else None,
    )


def captures_page():  # type: ignore[no-untyped-def]
    filters = _filters()
    after = None
    if request.args.get("after"):
        at, _, cid = request.args["after"].partition("~")
        after = (at, cid)
    rows = page_of_captures(catalog(), filters, after=after, size=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    following = None
    if more:
        args = {k: v for k, v in request.args.items() if k != "after"}
        following = {**args, "after": f"{rows[-1].captured_at}~{rows[-1].id}"}
    return render_template(
        "captures.html", rows=rows, following=following, args=request.args, page_size=PAGE
    )


def _looks_like_url(text: str) -> bool:
    return bool(re.match(r"(?i)^(https?://|www\.)", text)) or (
        " " not in text and "/" in text and "." in text.split("/")[0]
    )


def search_page():  # type: ignore[no-untyped-def]
    typed = request.args.get("q", "").strip()
    page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 0
    order = request.args.get("sort", "relevance")
    if order not in ("relevance", "newest"):
        raise ArchiverError(f"sort={order!r} is not an order: write sort=relevance or sort=newest")
    hits, prefix_rows, error = [], [], None
    if typed and _looks_like_url(typed):
        url = typed if "://" in typed else "http://" + typed
        prefix = surt_key(normalize_url(url))
        prefix = prefix[:-1] if prefix.endswith(")/") else prefix  # the whole host
        filters = Filters(surt_prefix=prefix)
        prefix_rows = page_of_captures(catalog(), filters, after=None, size=PAGE)
    elif typed:
        match = fts_query(typed)
        if match is None:
            error = "type a word, a phrase in quotes, or a URL"
        else:
            # Not caught up here: a search never waits for captures to be read (crawls
            # and serve's own thread keep the index up to date).
            path = index_path(home_root())
            if not exists(path):
                raise ArchiverError(
                    f"there is no search index ({path}): make it with 'archiver index --search'"
                )
            index = SearchIndex(path)
            try:
                find = index.search if order == "newest" else index.ranked
                hits = find(match, limit=PAGE + 1, offset=page * PAGE)
            finally:
                index.close()
    more = len(hits) > PAGE
    return render_template(
        "search.html", q=typed, hits=hits[:PAGE], prefix_rows=prefix_rows, error=error,
        next_page=page + 1 if more else None, order=order, ranked=RANKED,
    )  # fmt: skip
