"""``/timeline?url=URL``: the calendar of a URL's captures (year, then a day's captures),
and ``/diff``: what changed between two captures."""

from __future__ import annotations

import calendar as cal
import re

from flask import Flask, abort, redirect, render_template, request, url_for

from archiver.catalog.browse import (
    capture_months,
    day_with_captures,
    payload_before,
    previous_different,
    url_history,
)
from archiver.catalog.captures import get_capture
from archiver.catalog.db import Catalog
from archiver.urls import normalize_url, surt_key
from archiver.web.calendar import STATES, Day, by_day, month_grid, neighbours
from archiver.web.capturepage import cited
from archiver.web.content import show
from archiver.web.requestctx import catalog
from archiver.web.textdiff import compare


def register(app: Flask) -> None:
    app.add_url_rule("/timeline", "timeline", timeline)
    app.add_url_rule("/diff", "diff", diff)


def timeline():  # type: ignore[no-untyped-def]
    """A year of months (``year``), a month of days (``month=YYYY-MM``) or a day's
    captures within its month (``day=YYYY-MM-DD``); the latest year by default. Only
    the captures of the year or month shown are read, with the payload before them."""
    typed = request.args.get("url", "").strip()
    if not typed:
        abort(400, "give a URL: /timeline?url=https://example.org/page")
    url = normalize_url(typed)
    surt = surt_key(url)
    cat = catalog()
    months = capture_months(cat, surt)
    by_year: dict[int, int] = {}
    for key, count in months:
        by_year[int(key[:4])] = by_year.get(int(key[:4]), 0) + count
    years = sorted(by_year)
    common = {
        "url": url, "years": years, "by_year": by_year, "total": sum(by_year.values()),
        "states": STATES, "legend": {k: v for k, v in STATES.items() if k != "captured"},
        # Each day's link, built once: url_for for each of hundreds of days costs more
        # than reading their captures.
        "day_link": url_for("timeline", url=url) + "&day=",
    }  # fmt: skip
    if not years:
        return render_template("timeline.html", view=None, **common)
    day = _checked(request.args.get("day", ""), _DAY, "day", "2024-03-07")
    month = day[:7] if day else _checked(request.args.get("month", ""), _MONTH, "month", "2024-03")
    if month:
        y, m = int(month[:4]), int(month[5:7])
        start, end = f"{month}-01", f"{y + m // 12:04d}-{m % 12 + 1:02d}-01"
        days = _days(cat, surt, start, end)
        before, after = neighbours([key for key, _ in months], month)
        return render_template(
            "timeline.html", view="month", **common, year=y, month=month,
            month_name=f"{cal.month_name[m]} {y}", weeks=month_grid(y, m), days=days,
            count=dict(months).get(month, 0), previous_month=before, next_month=after,
            chosen=days.get(day), chosen_day=day,
            around=_around(cat, surt, day, days) if day else (None, None),
        )  # fmt: skip
    year = int(_checked(request.args.get("year", ""), _YEAR, "year", "2024") or years[-1])
    before, after = neighbours([str(y) for y in years], str(year))
    counts = {int(key[5:7]): count for key, count in months if key.startswith(f"{year}-")}
    return render_template(
        "timeline.html", view="year", **common, year=year,
        days=_days(cat, surt, f"{year:04d}-01-01", f"{year + 1:04d}-01-01"),
        months=[(m, cal.month_name[m], month_grid(year, m)) for m in range(1, 13)],
        counts=counts, previous_year=before, next_year=after,
    )  # fmt: skip


def _days(cat: Catalog, surt: str, start: str, end: str) -> dict[str, Day]:
    history = url_history(cat, surt, since=start, until=end)
    return by_day(history, payload_before(cat, surt, start))


def _around(
    cat: Catalog, surt: str, day: str, days: dict[str, Day]
) -> tuple[str | None, str | None]:
    """The days with captures just before and just after ``day``, which may be in
    another month."""
    earlier, later = neighbours(sorted(days), day)
    if earlier is None:
        found = day_with_captures(cat, surt, before=day)
        earlier = found[:10] if found else None
    if later is None:
        found = day_with_captures(cat, surt, after=f"{day}T99")
        later = found[:10] if found else None
    return earlier, later


_YEAR = re.compile(r"\d{4}")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DAY = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


def _checked(value: str, form: re.Pattern[str], name: str, example: str) -> str:
    value = value.strip()
    if value and not form.fullmatch(value):
        abort(400, f"{name}={value!r} is not a {name}: write it as {example}")
    return value


def diff():  # type: ignore[no-untyped-def]
    cat = catalog()
    b_id = request.args.get("b", "").strip()
    if not b_id:
        abort(400, "give the capture to compare: /diff?b=ID (and a=ID for the earlier one)")
    b = get_capture(cat, b_id)
    a_id = request.args.get("a", "").strip() or previous_different(cat, b)
    if not a_id:
        abort(404, f"capture {b.id} has no earlier capture of its URL with another payload")
    if a_id != request.args.get("a"):
        return redirect(url_for("diff", a=a_id, b=b.id))
    a = get_capture(cat, a_id)
    shown_a, shown_b = show(cat, a), show(cat, b)
    return render_template(
        "diff.html",
        a=a,
        b=b,
        lines=compare(shown_a.text, shown_b.text),
        shots=(shown_a.screenshot is not None, shown_b.screenshot is not None),
        citations=cited([a.id, b.id]),
    )
