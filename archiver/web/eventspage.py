"""``/events``: each confirmed deletion or censorship event, its last-present and
first-absent captures side by side with their diff and citations, and its evidence pack;
``/seeds``: the seeds, and a form to add one (the app's one write besides verify and
export)."""

from __future__ import annotations

from flask import Flask, abort, redirect, render_template, request, url_for

from archiver.catalog.captures import get_capture
from archiver.catalog.seeds import add_seeds, list_seeds
from archiver.catalog.statuses import list_events
from archiver.seedspec import SeedSpec
from archiver.watch.wake import poke
from archiver.web.capturepage import cited, send_wacz
from archiver.web.content import show
from archiver.web.requestctx import catalog, home_root, writable_catalog
from archiver.web.textdiff import compare

SHOWN = 50  # the newest events, each read and compared; 'archiver events' lists them all


def register(app: Flask) -> None:
    app.add_url_rule("/events", "events", events)
    app.add_url_rule("/events/<int:event_id>/evidence", "evidence", evidence, methods=["POST"])
    app.add_url_rule("/seeds", "seeds", seeds, methods=["GET"])
    app.add_url_rule("/seeds", "add_seed", add_seed, methods=["POST"])


def events():  # type: ignore[no-untyped-def]
    cat = catalog()
    shown = []
    found = list_events(cat)
    for event in reversed(found[-SHOWN:]):
        pair = [event.last_present, event.first_absent]
        ids = [cid for cid in pair if cid]
        lines = []
        if event.last_present:
            before = show(cat, get_capture(cat, event.last_present))
            after = show(cat, get_capture(cat, event.first_absent))
            lines = compare(before.text, after.text)
        shown.append((event, dict(zip(ids, cited(ids), strict=True)), lines))
    return render_template("events.html", events=shown, total=len(found), limit=SHOWN)


def evidence(event_id: int):  # type: ignore[no-untyped-def]
    """The evidence pack: a WACZ of the event's captures (last present, first absent and
    the one that confirmed it) and what they need to replay."""
    event = next((e for e in list_events(catalog()) if e.id == event_id), None)
    if event is None:
        abort(404, f"no event {event_id}: the events page lists them")
    ids = sorted({c for c in (event.last_present, event.first_absent, event.confirmed_by) if c})
    return send_wacz(ids, f"event-{event.id}-evidence.wacz")


def seeds():  # type: ignore[no-untyped-def]
    return render_template(
        "seeds.html", seeds=list_seeds(catalog()), added=request.args.get("added")
    )


def add_seed():  # type: ignore[no-untyped-def]
    form = request.form
    spec = SeedSpec.build(
        form.get("url", "").strip(),
        tags=[t.strip() for t in form.get("tags", "").split(",") if t.strip()],
        note=form.get("note") or None,
        risk=form.get("risk") or None,
        scope=form.get("scope") or None,
        nominated_by=form.get("nominated_by") or None,
    )
    cat = writable_catalog()
    [result] = add_seeds(cat, [spec])
    poke(home_root(), cat)  # a sleeping 'archiver watch' looks at once, as after 'seeds add'
    return redirect(url_for("seeds", added=f"{result.seed.id}:{result.outcome}"), code=303)
