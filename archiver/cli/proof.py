"""``archiver stamp``: evidence manifests and their RFC 3161 timestamps, outside a crawl
(a crawl stamps on its own while it runs and when it ends)."""

from __future__ import annotations

import click

from archiver.catalog import proofs
from archiver.catalog.captures import Capture
from archiver.catalog.db import iso_ms
from archiver.catalog.jobs import get_job
from archiver.cli.jsonout import echo_json
from archiver.errors import ArchiverError, IntegrityError
from archiver.jobs.stores import job_s3_options, job_store
from archiver.urls import display_iri


class StampsPending(ArchiverError):
    """Timestamps an authority could not give yet: the next ``archiver stamp`` asks again."""

    exit_code = 4


def _timestamp_json(stamp: proofs.Timestamp) -> dict[str, object]:
    return {
        "job": stamp.job, "manifest": stamp.manifest_number, "authority": stamp.authority,
        "state": stamp.state, "attempts": stamp.attempts, "problem": stamp.last_error,
        "gen_time": stamp.gen_time, "token_uri": stamp.token_uri,
    }  # fmt: skip


@click.command()
@click.option("--job", help="Only this job's manifests.")
@click.option("--pending", "list_only", is_flag=True,
              help="Only list the timestamps still owed (asks no authority).")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for each authority.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="What was made, stamped and left, as JSON.")
@click.pass_obj
def stamp(obj, job: str | None, list_only: bool, timeout: float, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Make each job's next evidence manifest (a line per stored WARC file: SHA-256, size,
    name, storage URI, version id, first and last WARC-Date), have every authority in
    ARCHIVER_TSA_URLS timestamp it (RFC 3161), and store the manifest, tokens and chains
    beside the WARC files. Timestamps an authority could not give are asked for again.
    Exit code 4 while any is pending.

    Example: archiver stamp --job china-2020-02
    """
    from archiver.proof.stamping import authorities
    from archiver.proof.stamping import stamp as run_stamp

    catalog = obj.catalog()
    if job is not None:
        get_job(catalog, job)
    if list_only:
        owed = proofs.pending_timestamps(catalog, job, with_rejected=True)
        unlisted = proofs.lines_without_manifest(catalog, job)
        if as_json:
            echo_json({
                "pending": [_timestamp_json(t) for t in owed],
                "files_in_no_manifest": [{"job": name, "warc_files": count}
                                         for name, count in unlisted.items()],
            })  # fmt: skip
            return
        for t in owed:
            click.echo(
                f"{t.state}: manifest {t.manifest_number} of job {t.job} by {t.authority}"
                f" ({t.attempts} attempt(s){': ' + t.last_error if t.last_error else ''})"
            )
        for name, count in unlisted.items():
            click.echo(f"job {name}: {count} stored WARC file(s) in no manifest yet")
        click.echo(
            f"{len(owed)} timestamp(s) pending; {sum(unlisted.values())} WARC file(s) in no"
            " manifest ('archiver stamp' does both)"
        )
        return
    report = run_stamp(
        catalog, lambda name: job_store(catalog, obj.home.warcs_dir, name), job=job,
        timeout=timeout,
    )  # fmt: skip
    if as_json:
        echo_json({
            "manifests": [{"job": m.job, "manifest": m.number, "files": m.lines,
                           "sha256": m.sha256} for m in report.manifests],
            "stamped": [{**_timestamp_json(t), "state": "stamped",
                         "gen_time": iso_ms(token.gen_time)}
                        for t, token in report.stamped],
            "pending": [{**_timestamp_json(t), "problem": why} for t, why in report.pending],
            "rejected": [{**_timestamp_json(t), "state": "rejected", "problem": why}
                         for t, why in report.rejected],
            "not_stored": report.unstored,
        })  # fmt: skip
    else:
        if not authorities():
            click.echo(
                "no timestamp authority is set (ARCHIVER_TSA_URLS): manifests are made and"
                " stored, but they prove nothing on their own"
            )
        for line in report.lines:
            click.echo(line)
        if not report.lines:
            click.echo("nothing to stamp: every stored WARC file is in a timestamped manifest")
    if report.pending or report.unstored or report.rejected:
        raise StampsPending(
            f"{len(report.pending)} timestamp(s) pending, {len(report.rejected)} rejected"
            f" (the authority's token failed verification) and {len(report.unstored)} object(s)"
            " not stored: run 'archiver stamp' again later"
        )


def show_proof(obj, capture: Capture, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """``archiver verify ID --proof``: each link, then exit 3 at a broken one."""
    from archiver.proof.check import prove
    from archiver.research.servedby import tls_statement

    catalog = obj.catalog()
    store = job_store(catalog, obj.home.warcs_dir, capture.job)
    proof = prove(catalog, capture, store, job_s3_options(catalog, capture.job))
    served = tls_statement(capture)
    if as_json:
        echo_json({
            "capture_id": capture.id, "url": capture.url, "captured_at": capture.captured_at,
            "ok": proof.ok, "manifest": proof.manifest, "served_by": served,
            "steps": [{"step": s.name, "ok": s.ok, "detail": s.detail} for s in proof.steps],
            "timestamps": [
                {"authority": t.authority, "state": t.state, "gen_time": t.gen_time,
                 "seconds_after_capture": t.seconds_after_capture, "detail": t.detail}
                for t in proof.stamps
            ],
        })  # fmt: skip
    else:
        click.echo(f"capture {capture.id}  {display_iri(capture.url)}  at {capture.captured_at}")
        if served:
            click.echo(f"   {served}")
        for number, step in enumerate(proof.steps, 1):
            click.echo(f"{number}. {step.name}: {'ok' if step.ok else 'FAILED'}: {step.detail}")
        for t in proof.stamps:
            if t.state in ("pending", "rejected"):
                click.echo(f"   {t.state}: timestamp by {t.authority}: {t.detail}")
    broken = proof.broken
    if broken is not None:
        raise IntegrityError(
            f"the proof of capture {capture.id} breaks at {broken.name}: {broken.detail}"
        )
    if not as_json:
        click.echo(f"proof of capture {capture.id}: every link holds")
