"""``archiver export``: selected captures as a WACZ package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from archiver.catalog import exports
from archiver.catalog.captures import get_capture
from archiver.catalog.jobs import get_job
from archiver.catalog.seeds import get_seed
from archiver.cli.jsonout import echo_json
from archiver.cli.outputs import check_output
from archiver.errors import ArchiverError
from archiver.jobs.stores import job_s3_options
from archiver.proof.stamping import authorities, stamp_bytes
from archiver.research.export import Selection, export_wacz
from archiver.storage.base import file_sha256
from archiver.urls import normalize_url, surt_key

if TYPE_CHECKING:
    from archiver.research.export.operatorkey import OperatorKey


def _signing_key(path: Path, sign: bool | None) -> OperatorKey | None:
    """The key to sign with: ``--sign`` needs one, ``--no-sign`` takes none, and by
    default the home's key signs if there is one."""
    if sign is False:
        return None
    from archiver.research.export import operatorkey

    if sign is None and not path.exists():
        return None
    return operatorkey.load(path)


def _selection(catalog, job, seed_id, url, capture_ids) -> Selection:  # type: ignore[no-untyped-def]
    given = [n for n, v in (("--job", job), ("--seed", seed_id), ("--url", url),
                            ("--capture", capture_ids)) if v]  # fmt: skip
    if len(given) != 1:
        raise ArchiverError(
            "choose what to export: one of --job NAME, --seed ID, --url URL or --capture ID "
            "(--capture may be repeated)"
        )
    if job:
        get_job(catalog, job)
        return Selection(*exports.where_job(job), f"job {job}", expand=False, job=job)
    if seed_id:
        seed = get_seed(catalog, seed_id)
        return Selection(*exports.where_seed(seed.id), f"seed {seed.id}", main_url=seed.url)
    if url:
        target = normalize_url(url)
        return Selection(*exports.where_url(surt_key(target), target), target, main_url=target)
    ids = sorted({get_capture(catalog, cid).id for cid in capture_ids})
    described = f"capture {ids[0]}" if len(ids) == 1 else f"{len(ids)} captures"
    return Selection(*exports.where_ids(ids), described)


def _stamp_signature(data: bytes) -> list[dict[str, str]]:
    """RFC 3161 timestamps over the package's signature; an authority that gives none is
    said on stderr and does not stop the export."""
    stamps, problems = stamp_bytes(data)
    for problem in problems:
        click.echo(f"signature not timestamped: {problem}", err=True)
    return stamps


@click.command()
@click.option("--job", help="Every capture of this job.")
@click.option("--seed", "seed_id", help="Every capture made for this seed id.")
@click.option("--url", help="Every capture of this URL.")
@click.option("--capture", "capture_ids", multiple=True, help="This capture (repeatable).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The .wacz file to write.")  # fmt: skip
@click.option("--title", help="Title recorded in the package.")
@click.option("--force", is_flag=True, help="Replace the file at -o if there is one.")
@click.option("--sign/--no-sign", default=None,
              help="Sign with the operator key (the default when there is one).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="What was written, as JSON.")
@click.pass_obj
def export(
    obj, job, seed_id, url, capture_ids, output: str, title, force: bool, sign, as_json: bool
) -> None:  # type: ignore[no-untyped-def]
    """Package captures as a WACZ 1.1.1 file (WARC records, CDXJ index, page list,
    datapackage with SHA-256s) that ReplayWeb.page and pywb open. Records are read by
    byte range and digest-checked as they are copied; exit 3 on a mismatch. With an
    operator key ('archiver keys init') the package is signed.

    Example: archiver export --seed 3 -o post-3.wacz
    """
    target = Path(output)
    check_output(target, force)  # before anything is read
    catalog = obj.catalog()
    selection = _selection(catalog, job, seed_id, url, capture_ids)
    key = _signing_key(obj.home.operator_key_path, sign)
    summary = export_wacz(
        catalog, selection, target, title=title, key=key,
        s3_for_job=lambda name: job_s3_options(catalog, name),
        stamp_signature=_stamp_signature if authorities() else None,
    )  # fmt: skip
    if key is not None:
        click.echo(f"signed with the operator key {key.fingerprint} ({key.path})", err=True)
        for stamp in summary.signature_stamps:
            click.echo(
                f"signature timestamped by {stamp['authority']} at {stamp['genTime']}", err=True
            )
    elif sign is None:
        click.echo(
            "not signed: this home has no operator key (make one with 'archiver keys init' "
            "to sign exports)",
            err=True,
        )
    if as_json:
        echo_json({
            "path": str(summary.path), "job": job,
            "seed_id": get_seed(catalog, seed_id).id if seed_id else None,
            "url": normalize_url(url) if url else None,
            "capture_ids": sorted({get_capture(catalog, c).id for c in capture_ids}) or None,
            "captures": summary.captures, "pages": summary.pages,
            "warc_files": summary.warc_files, "warc_bytes": summary.bytes,
            "failed_fetches": summary.skipped_failed,
            "wacz_sha256": file_sha256(summary.path),
            "signed_by": key.fingerprint if key is not None else None,
            "signature_timestamps": [
                {"authority": t["authority"], "gen_time": t["genTime"]}
                for t in summary.signature_stamps
            ],
            "proof_files": summary.proof_files,
        })  # fmt: skip
        return
    skipped = (
        f"; {summary.skipped_failed} failed fetch(es) have no records"
        if summary.skipped_failed
        else ""
    )
    click.echo(
        f"wrote {summary.path}: {summary.captures} capture(s), {summary.pages} page(s), "
        f"{summary.warc_files} WARC file(s), {summary.bytes} WARC bytes; digests verified{skipped}"
    )
