"""Researcher commands on captures: ``captures``, ``get`` and ``verify``. They never
import Scrapy."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import click

from archiver.catalog.captures import find_captures, get_capture
from archiver.catalog.db import iso_ms
from archiver.catalog.jobs import get_job
from archiver.catalog.seeds import get_seed
from archiver.cli.jsonout import capture_json, echo_json
from archiver.cli.outputs import check_output
from archiver.errors import ArchiverError, IntegrityError
from archiver.jobs.stores import job_s3_options
from archiver.research.dates import parse_when
from archiver.research.fixity import audit
from archiver.research.retrieval import read_capture, with_payload_records
from archiver.urls import display_iri, normalize_url, surt_key

_STATUS = re.compile(r"([1-5])(\d\d|xx)", re.IGNORECASE)


def _http_statuses(ctx, param, values: tuple[str, ...]) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """``--status 404``, ``--status 4xx``, ``--status 404,410``: (low, high) ranges."""
    ranges = []
    for value in (part.strip() for given in values for part in given.split(",")):
        match = _STATUS.fullmatch(value)
        if match is None:
            raise click.BadParameter(
                f"{value!r} is not an HTTP status: write a code (404), a class (4xx),"
                " or several (404,410)"
            )
        if match.group(2).lower() == "xx":
            low = int(match.group(1)) * 100
            ranges.append((low, low + 99))
        else:
            ranges.append((int(value), int(value)))
    return ranges


@click.command()
@click.option("--url", help="Captures of this URL.")
@click.option("--prefix", help="Captures of URLs starting with this one (either scheme).")
@click.option("--seed", "seed_id", help="Captures made for this seed id.")
@click.option("--job", help="Captures made in this job.")
@click.option("--from", "since", metavar="DATE", help="Captured at or after this time.")
@click.option("--to", "until", metavar="DATE",
              help="Captured at or before this time (a day alone: to its end).")  # fmt: skip
@click.option("--status", "statuses", multiple=True, callback=_http_statuses,
              help="HTTP status: 200, 4xx, or several: 404,410 (repeatable).")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), help="At most N captures (the oldest).")
@click.option(
    "--suspect", is_flag=True, help="Only browser captures found suspect (login wall, ...)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def captures(  # type: ignore[no-untyped-def]
    obj, url, prefix, seed_id, job, since, until, statuses, limit, suspect, as_json: bool
) -> None:
    """List captures, oldest first. Browser captures show their quality and the
    screenshot and DOM records made of them. Dates are read as by 'archiver lookup'.

    Example: archiver captures --prefix https://example.org/news/ --from 2026-11-01 --status 4xx
    """
    catalog = obj.catalog()
    seed = get_seed(catalog, seed_id).id if seed_id is not None else None
    if job is not None:
        get_job(catalog, job)  # an unknown job is an error, not an empty list
    start = parse_when(since) if since else None
    end = parse_when(until, end=True) if until else None
    if start and end and start > end:
        raise ArchiverError(f"--from {since!r} is after --to {until!r}: swap them")
    found = find_captures(
        catalog,
        url=normalize_url(url) if url else None,
        surt_prefix=surt_key(normalize_url(prefix)) if prefix else None,
        seed_id=seed,
        job=job,
        since=iso_ms(start) if start else None,
        until=iso_ms(end) if end else None,
        http_statuses=statuses,
        limit=None if suspect else limit,
    )
    if suspect:
        found = [c for c in found if c.quality == "suspect"][:limit]
    if as_json:
        echo_json([capture_json(c) for c in found])
        return
    if not found:
        click.echo("no captures")
        return
    for c in found:
        status = str(c.http_status or "-")
        state = "" if c.state == "ok" else f" [{c.state}: {c.truncated or c.error}]"
        if c.quality == "suspect":
            state += f" [suspect: {c.quality_reason}]"
        elif c.quality:
            state += f" [browser: {', '.join(r.kind for r in c.resources) or 'no evidence'}]"
        if c.revisit_of:
            state += f" [revisit of {c.revisit_of}]"
        shown = display_iri(c.url)
        click.echo(f"{c.id}  {c.captured_at}  {status:>3}  {c.size or 0:>9}  {shown}{state}")


def _writable(target: Path, force: bool) -> None:
    check_output(target, force)


def _write_file(target: Path, data: bytes, force: bool) -> None:
    """Write through a temporary file in the same folder, so nothing half-written is left."""
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    except OSError as exc:
        raise ArchiverError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if not force and target.exists():  # appeared while the records were read
            raise ArchiverError(f"{target} already exists: add --force to overwrite it")
        os.replace(tmp, target)
    except OSError as exc:
        raise ArchiverError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)


@click.command()
@click.argument("capture_id")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
    help="Output file (default ID.warc.gz); - writes to stdout.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option(
    "--resource",
    type=click.Choice(["screenshot", "dom", "text"]),
    help="Write only this record's content: the browser's screenshot (PNG), rendered DOM"
    " or visible text.",
)
@click.pass_obj
def get(obj, capture_id: str, output: str | None, force: bool, resource: str | None) -> None:  # type: ignore[no-untyped-def]
    """Write a capture's WARC records (warcinfo, request, response, metadata, the server's
    certificate chain for an HTTPS capture, and a browser capture's screenshot, DOM and
    text) as a standalone .warc.gz, read by byte range and digest-checked first. A
    revisit comes with the records of the capture holding its payload, so the file
    replays on its own.

    Example: archiver get K7QD-3XMA -o evidence.warc.gz
    """
    catalog = obj.catalog()
    capture = get_capture(catalog, capture_id)
    suffix = {"screenshot": ".png", "dom": ".html", "text": ".txt", None: ".warc.gz"}[resource]
    default = f"{capture.id}-{resource}{suffix}" if resource else f"{capture.id}{suffix}"
    target = None if output == "-" else Path(output or default)
    if target is not None:
        _writable(target, force)
    elif sys.stdout.isatty():
        raise ArchiverError(
            "refusing to write binary data to a terminal: redirect it (> FILE) or pipe it"
        )
    records = read_capture(capture, job_s3_options(catalog, capture.job))  # checked first
    original = None
    if resource is not None:
        kinds = [r.kind for r in capture.resources]
        if resource not in kinds:
            raise ArchiverError(
                f"capture {capture.id} has no {resource} record: only browser captures"
                f" have them (this one has: {', '.join(kinds) or 'none'})"
            )
        data = records.resource_payload(kinds.index(resource))
    else:
        data, original = with_payload_records(catalog, capture, records)
    if target is None:
        stream = click.get_binary_stream("stdout")
        stream.write(data)
        stream.flush()
    else:
        _write_file(target, data, force)
    held = (
        f"; a revisit: with the records of capture {original.id}, which holds its payload"
        if original
        else ""
    )
    where = "stdout" if target is None else str(target)
    click.echo(f"wrote {where} ({len(data)} bytes; digests verified{held})", err=target is None)


@click.command()
@click.argument("capture_id", required=False)
@click.option("--job", help="Captures of this job.")
@click.option("--seed", "seed_id", help="Captures made for this seed id.")
@click.option("--all", "everything", is_flag=True, help="Every capture.")
@click.option("--sample", type=click.IntRange(min=1), help="Check a random sample of N captures.")
@click.option("--proof", is_flag=True,
              help="One capture: walk from its records to the timestamps over it.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="The audit's result as JSON.")
@click.pass_obj
def verify(obj, capture_id, job, seed_id, everything: bool, sample: int | None, proof: bool,  # type: ignore[no-untyped-def]
           as_json: bool) -> None:  # fmt: skip
    """Fixity audit: re-read captures' records by byte range, recompute their digests,
    compare with the catalog, and record the audit. Exit 3 on any mismatch.

    With a capture id and --proof, offline: the capture's record digests, its WARC file's
    SHA-256, its line in the job's evidence manifest, and each RFC 3161 timestamp over that
    manifest (signed by a timestamping certificate that chains to the recorded root and
    was valid at its genTime). Exit 3 at the first broken link.

    Example: archiver verify --job china-2020-02

    Example: archiver verify K7QD-3XMA --proof
    """
    chosen = [
        name
        for name, on in (
            ("ID", capture_id), ("--job", job), ("--seed", seed_id), ("--all", everything)
        )
        if on
    ]  # fmt: skip
    if len(chosen) != 1:
        raise ArchiverError(
            "choose what to verify: one of a capture ID, --job NAME, --seed ID or --all"
        )
    if proof and capture_id is None:
        raise ArchiverError("--proof checks one capture: give its id (archiver verify ID --proof)")
    catalog = obj.catalog()
    if proof:
        from archiver.cli.proof import show_proof

        show_proof(obj, get_capture(catalog, capture_id), as_json)
        return
    seed = get_seed(catalog, seed_id).id if seed_id is not None else None
    if job is not None:
        get_job(catalog, job)  # an unknown job is an error, an empty one is not
    if capture_id is not None:
        captures = [get_capture(catalog, capture_id)]
    else:
        captures = find_captures(catalog, job=job, seed_id=seed)
    scope = (
        f"capture {capture_id}" if capture_id else f"job {job}" if job
        else f"seed {seed}" if seed else "all"
    )  # fmt: skip
    urls = {c.id: c.url for c in captures}

    def show(capture, problem):  # type: ignore[no-untyped-def]
        if problem:
            click.echo(f"FAILED {capture.id}  {display_iri(capture.url)}: {problem}", err=True)

    report = audit(catalog, captures, scope, sample=sample, progress=show)
    if as_json:
        echo_json({
            "scope": scope, "job": job, "seed_id": seed, "checked": report.checked,
            "ok": report.ok, "failed": report.failed,
            "failures": [{"capture_id": capture_id, "url": urls[capture_id], "problem": problem}
                         for capture_id, problem in report.failures],
        })  # fmt: skip
    else:
        click.echo(
            f"verified {report.checked} capture(s) of {scope}: {report.ok} ok,"
            f" {report.failed} failed"
        )
    if report.failed:
        raise IntegrityError(
            f"{report.failed} capture(s) do not match their digests"
            + (
                ' (each named in "failures" in the JSON on stdout)'
                if as_json
                else " (listed above)"
            )
        )
