"""A capture's record page, ``/c/ID``: what it shows, where it came from, how to cite it,
its downloads and its fixity check."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, abort, render_template, send_file

from archiver.catalog import exports
from archiver.catalog.browse import neighbours, previous_different
from archiver.catalog.captures import get_capture
from archiver.catalog.seeds import get_seeds
from archiver.catalog.statuses import observation_of
from archiver.cli import CliState
from archiver.cli.cite import citations
from archiver.errors import ArchiverError
from archiver.jobs.stores import job_s3_options
from archiver.proof.statement import NONE, earliest_stamp
from archiver.research import replay
from archiver.research.citation import FORMATS, render
from archiver.research.export.package import export_wacz
from archiver.research.export.selection import Selection
from archiver.research.fixity import audit
from archiver.research.retrieval import read_capture, with_payload_records
from archiver.research.servedby import tls_statement
from archiver.web.content import show
from archiver.web.requestctx import catalog, g_home, writable_catalog


def register(app: Flask) -> None:
    app.add_url_rule("/c/<capture_id>", "capture", capture_page)
    app.add_url_rule("/c/<capture_id>/records.warc.gz", "records", records_download)
    app.add_url_rule("/c/<capture_id>/screenshot.png", "screenshot", screenshot)
    app.add_url_rule("/c/<capture_id>/verify", "verify", verify, methods=["POST"])
    app.add_url_rule("/c/<capture_id>/export", "export", export, methods=["POST"])


def cited(capture_ids: list[str]) -> list[dict[str, str]]:
    """Each capture's citation in every format, exactly as ``archiver cite`` prints it."""
    state = CliState(g_home(), _catalog=catalog())
    found = citations(state, capture_ids, replay.replay_base(None))
    return [{fmt: render(c, fmt) for fmt in FORMATS} for c in found]


def capture_page(capture_id: str):  # type: ignore[no-untyped-def]
    cat = catalog()
    capture = get_capture(cat, capture_id)
    seed = get_seeds(cat, [capture.seed_id])[0] if capture.seed_id else None
    shown, problem = None, None
    if capture.state != "failed":
        try:
            shown = show(cat, capture)
        except ArchiverError as exc:
            problem = str(exc)
    stamp = earliest_stamp(cat, capture)
    [citation] = citations(CliState(g_home(), _catalog=cat), [capture.id], replay.replay_base(None))
    return render_template(
        "capture.html",
        c=capture,
        seed=seed,
        shown=shown,
        problem=problem,
        observation=observation_of(cat, capture.id),
        stamp=stamp.sentence if stamp else NONE,
        served_by=tls_statement(capture),
        formats={fmt: render(citation, fmt) for fmt in FORMATS},
        citation=citation,
        previous=previous_different(cat, capture),
        neighbours=neighbours(cat, capture),
        replay_origin=_replay_frame(capture.id),
    )


def _replay_frame(capture_id: str) -> str | None:
    from flask import current_app

    origin = current_app.config.get("REPLAY_ORIGIN")
    return f"{origin}/embed/{quote(capture_id)}" if origin else None


def records_download(capture_id: str):  # type: ignore[no-untyped-def]
    """The records ``archiver get ID`` writes, byte for byte."""
    cat = catalog()
    capture = get_capture(cat, capture_id)
    records = read_capture(capture, job_s3_options(cat, capture.job))
    data, _ = with_payload_records(cat, capture, records)
    return Response(
        data,
        mimetype="application/warc",
        headers={"Content-Disposition": f'attachment; filename="{capture.id}.warc.gz"'},
    )


def screenshot(capture_id: str):  # type: ignore[no-untyped-def]
    cat = catalog()
    capture = get_capture(cat, capture_id)
    shown = show(cat, capture)
    if shown.screenshot is None:
        abort(404, f"capture {capture.id} has no screenshot: only browser captures have one")
    return Response(shown.screenshot, mimetype="image/png")


def verify(capture_id: str):  # type: ignore[no-untyped-def]
    """The fixity check of ``archiver verify ID``, recorded in the audits as it is."""
    cat = writable_catalog()
    capture = get_capture(cat, capture_id)
    report = audit(cat, [capture], f"capture {capture.id}")
    return render_template("verified.html", c=capture, report=report), (
        200 if report.failed == 0 else 409
    )


def export(capture_id: str):  # type: ignore[no-untyped-def]
    """A WACZ of the capture and what it needs to replay, as ``archiver export --capture``."""
    cat = writable_catalog()
    ids = sorted({get_capture(cat, cid).id for cid in capture_id.split("+")})
    return send_wacz(ids, f"{'-'.join(ids)}.wacz")


def send_wacz(ids: list[str], name: str):  # type: ignore[no-untyped-def]
    cat = writable_catalog()
    described = f"capture {ids[0]}" if len(ids) == 1 else f"{len(ids)} captures"
    folder = Path(tempfile.mkdtemp(prefix="archiver-serve-"))
    target = folder / name
    export_wacz(
        cat,
        Selection(*exports.where_ids(ids), described),
        target,
        s3_for_job=lambda job: job_s3_options(cat, job),
        title=described,
    )
    answer = send_file(target, mimetype="application/wacz", as_attachment=True, download_name=name)
    answer.call_on_close(lambda: (target.unlink(missing_ok=True), folder.rmdir()))
    return answer
