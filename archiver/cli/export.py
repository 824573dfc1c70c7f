"""``archiver export``: selected captures as a WACZ package."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.catalog import exports
from archiver.catalog.captures import get_capture
from archiver.catalog.jobs import get_job
from archiver.catalog.seeds import get_seed
from archiver.cli.jsonout import echo_json
from archiver.cli.outputs import check_folder
from archiver.errors import ArchiverError
from archiver.jobs.stores import job_s3_options
from archiver.research.export import Selection, export_wacz
from archiver.storage.base import file_sha256
from archiver.urls import normalize_url, surt_key


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


@click.command()
@click.option("--job", help="Every capture of this job.")
@click.option("--seed", "seed_id", help="Every capture made for this seed id.")
@click.option("--url", help="Every capture of this URL.")
@click.option("--capture", "capture_ids", multiple=True, help="This capture (repeatable).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The .wacz file to write.")  # fmt: skip
@click.option("--title", help="Title recorded in the package.")
@click.option("--json", "as_json", is_flag=True, help="What was written, as JSON.")
@click.pass_obj
def export(obj, job, seed_id, url, capture_ids, output: str, title, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Package captures as a WACZ 1.1.1 file (WARC records, CDXJ index, page list,
    datapackage with SHA-256s) that ReplayWeb.page and pywb open. Records are read by
    byte range and digest-checked as they are copied; exit 3 on a mismatch.

    Example: archiver export --seed 3 -o post-3.wacz
    """
    target = Path(output)
    check_folder(target)  # before anything is read
    catalog = obj.catalog()
    selection = _selection(catalog, job, seed_id, url, capture_ids)
    summary = export_wacz(
        catalog, selection, target, title=title,
        s3_for_job=lambda name: job_s3_options(catalog, name),
    )  # fmt: skip
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
