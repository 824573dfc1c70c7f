"""``/timeline?url=URL``: the calendar of a URL's captures (year, then a day's captures),
and ``/diff``: what changed between two captures."""

from __future__ import annotations

import calendar as cal

from flask import Flask, abort, redirect, render_template, request, url_for

from archiver.catalog.browse import previous_different, url_history
from archiver.catalog.captures import get_capture
from archiver.urls import normalize_url, surt_key
from archiver.web.calendar import STATES, by_day, counts_by_month, month_grid, years_of
from archiver.web.capturepage import cited
from archiver.web.content import show
from archiver.web.requestctx import catalog
from archiver.web.textdiff import compare


def register(app: Flask) -> None:
    app.add_url_rule("/timeline", "timeline", timeline)
    app.add_url_rule("/diff", "diff", diff)


def timeline():  # type: ignore[no-untyped-def]
    typed = request.args.get("url", "").strip()
    if not typed:
        abort(400, "give a URL: /timeline?url=https://example.org/page")
    url = normalize_url(typed)
    history = url_history(catalog(), surt_key(url))
    days = by_day(history)
    years = years_of(days)
    if not years:
        return render_template("timeline.html", url=url, years=[], legend=STATES)
    year = int(request.args.get("year") or years[-1])
    chosen_day = request.args.get("day")
    months = [(m, cal.month_name[m], month_grid(year, m)) for m in range(1, 13)]
    earlier = [y for y in years if y < year]
    later = [y for y in years if y > year]
    return render_template(
        "timeline.html",
        url=url,
        years=years,
        year=year,
        months=months,
        days=days,
        counts=counts_by_month(days, year),
        legend={k: v for k, v in STATES.items() if k != "captured"},
        previous_year=earlier[-1] if earlier else None,
        next_year=later[0] if later else None,
        chosen=days.get(chosen_day or ""),
        chosen_day=chosen_day,
        around=_around(sorted(days), chosen_day),
        total=len(history),
    )


def _around(keys: list[str], day: str | None) -> tuple[str | None, str | None]:
    """The days with captures just before and just after ``day``."""
    if not day:
        return None, None
    earlier = [k for k in keys if k < day]
    later = [k for k in keys if k > day]
    return (earlier[-1] if earlier else None, later[0] if later else None)


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
