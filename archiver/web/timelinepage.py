"""``/timeline?url=URL``: the calendar of a URL's captures (year, then a day's captures),
and ``/diff``: what changed between two captures."""

from __future__ import annotations

import calendar as cal
import re

from flask import Flask, abort, redirect, render_template, request, url_for

from archiver.catalog.browse import previous_different, url_history
from archiver.catalog.captures import get_capture
from archiver.urls import normalize_url, surt_key
from archiver.web.calendar import (
    STATES,
    by_day,
    counts_by_month,
    counts_by_year,
    month_grid,
    months_of,
    neighbours,
    years_of,
)
from archiver.web.capturepage import cited
from archiver.web.content import show
from archiver.web.requestctx import catalog
from archiver.web.textdiff import compare


def register(app: Flask) -> None:
    app.add_url_rule("/timeline", "timeline", timeline)
    app.add_url_rule("/diff", "diff", diff)


def timeline():  # type: ignore[no-untyped-def]
    """A year of months (``year``), a month of days (``month=YYYY-MM``) or a day's
    captures within its month (``day=YYYY-MM-DD``); the latest year by default."""
    typed = request.args.get("url", "").strip()
    if not typed:
        abort(400, "give a URL: /timeline?url=https://example.org/page")
    url = normalize_url(typed)
    history = url_history(catalog(), surt_key(url))
    days = by_day(history)
    years = years_of(days)
    common = {
        "url": url, "years": years, "by_year": counts_by_year(days), "total": len(history),
        "states": STATES, "legend": {k: v for k, v in STATES.items() if k != "captured"},
    }  # fmt: skip
    if not years:
        return render_template("timeline.html", view=None, **common)
    day = _checked(request.args.get("day", ""), _DAY, "day", "2024-03-07")
    month = day[:7] if day else _checked(request.args.get("month", ""), _MONTH, "month", "2024-03")
    if month:
        y, m = int(month[:4]), int(month[5:7])
        before, after = neighbours(months_of(days), month)
        return render_template(
            "timeline.html", view="month", **common, year=y, month=month,
            month_name=f"{cal.month_name[m]} {y}", weeks=month_grid(y, m), days=days,
            count=counts_by_month(days, y).get(m, 0), previous_month=before, next_month=after,
            chosen=days.get(day), chosen_day=day,
            around=neighbours(sorted(days), day) if day else (None, None),
        )  # fmt: skip
    year = int(_checked(request.args.get("year", ""), _YEAR, "year", "2024") or years[-1])
    before, after = neighbours([str(y) for y in years], str(year))
    return render_template(
        "timeline.html", view="year", **common, year=year, days=days,
        months=[(m, cal.month_name[m], month_grid(year, m)) for m in range(1, 13)],
        counts=counts_by_month(days, year), previous_year=before, next_year=after,
    )  # fmt: skip


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
