"""Researcher commands: ``captures``, ``get`` and ``cite``. They never import Scrapy."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import click

from archiver.catalog.captures import find_captures, get_capture
from archiver.catalog.jobs import get_job
from archiver.catalog.seeds import get_seed
from archiver.errors import ArchiverError, IntegrityError
from archiver.jobstores import job_s3_options
from archiver.research.citation import FORMATS, Citation, render
from archiver.research.fixity import audit
from archiver.research.retrieval import read_capture
from archiver.research.timetravel import (
    DEFAULT_REPLAY_BASE,
    REPLAY_ENV,
    mementos,
    parse_when,
    timemap_json,
    timemap_link,
)
from archiver.research.timetravel import lookup as tt_lookup
from archiver.research.timetravel import replay_base as tt_replay_base
from archiver.urls import normalize_url

JSON_KEYS = (
    "id", "url", "final_url", "captured_at", "state", "http_status", "mime", "size", "title",
    "payload_digest", "record_digest", "record_id", "warc_file", "offset", "length",
    "storage_uri", "seed_id", "job", "kind", "hops", "hop_path", "via", "truncated", "error",
    "site_name", "published", "record_type", "revisit_of", "quality", "quality_reason",
    "resources",
)  # fmt: skip


def capture_json(capture) -> dict[str, object]:  # type: ignore[no-untyped-def]
    data = capture.to_json()
    data["offset"] = capture.warc_offset
    data["length"] = capture.warc_length
    data["resources"] = [asdict(resource) for resource in capture.resources]
    return {key: data.get(key) for key in JSON_KEYS}


@click.command()
@click.option("--url", help="Captures of this URL.")
@click.option("--seed", "seed_id", help="Captures made for this seed id.")
@click.option("--job", help="Captures made in this job.")
@click.option(
    "--suspect", is_flag=True, help="Only browser captures found suspect (login wall, ...)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def captures(
    obj, url: str | None, seed_id: str | None, job: str | None, suspect: bool, as_json: bool
) -> None:  # type: ignore[no-untyped-def]
    """List captures, oldest first. Browser captures show their quality and the
    screenshot and DOM records made of them.

    Example: archiver captures --url https://example.org/ --json
    """
    catalog = obj.catalog()
    seed = get_seed(catalog, seed_id).id if seed_id is not None else None
    found = find_captures(catalog, url=normalize_url(url) if url else None, seed_id=seed, job=job)
    if suspect:
        found = [c for c in found if c.quality == "suspect"]
    if as_json:
        click.echo(json.dumps([capture_json(c) for c in found], ensure_ascii=False, indent=2))
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
        click.echo(f"{c.id}  {c.captured_at}  {status:>3}  {c.size or 0:>9}  {c.url}{state}")


@click.command()
@click.argument("capture_id")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Output file (default ID.warc.gz)."
)
@click.option(
    "--resource",
    type=click.Choice(["screenshot", "dom", "text"]),
    help="Write only this record's content: the browser's screenshot (PNG), rendered DOM"
    " or visible text.",
)
@click.pass_obj
def get(obj, capture_id: str, output: str | None, resource: str | None) -> None:  # type: ignore[no-untyped-def]
    """Write a capture's WARC records (warcinfo, request, response, metadata, and a
    browser capture's screenshot, DOM and text) as a standalone .warc.gz, read by byte
    range and digest-checked first.

    Example: archiver get K7QD-3XMA -o evidence.warc.gz
    """
    capture = get_capture(obj.catalog(), capture_id)
    s3 = job_s3_options(obj.catalog(), capture.job)  # the endpoint the job stored it at
    records = read_capture(capture, s3)  # raises before anything is written
    if resource is not None:
        kinds = [r.kind for r in capture.resources]
        if resource not in kinds:
            raise ArchiverError(
                f"capture {capture.id} has no {resource} record: only browser captures"
                f" have them (this one has: {', '.join(kinds) or 'none'})"
            )
        data = records.resource_payload(kinds.index(resource))
        suffix = {"screenshot": ".png", "dom": ".html", "text": ".txt"}[resource]
    else:
        data, suffix = records.as_warc(), ".warc.gz"
    target = Path(output or f"{capture.id}{'-' + resource if resource else ''}{suffix}")
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {target} ({len(data)} bytes; digests verified)")


@click.command()
@click.argument("capture_ids", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Citation style or data format.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="JSON: the citation's fields and its text.")
@click.option("--replay-base", help=f"Replay base URL for a replay link (or ${REPLAY_ENV}).")
@click.pass_obj
def cite(obj, capture_ids, fmt: str, as_json: bool, replay_base: str | None) -> None:  # type: ignore[no-untyped-def]
    """Cite captures: URL, title, site, capture time, capture id, SHA-256 and location.

    Formats: text, apa, chicago, bluebook, bibtex (biblatex @online), csl-json (for
    Zotero and other CSL processors), ris, robust-link (an HTML Robust Link).

    Example: archiver cite K7QD-3XMA --format bibtex
    """
    catalog = obj.catalog()
    base = replay_base or os.environ.get(REPLAY_ENV) or None
    citations = [Citation.of(get_capture(catalog, cid), base) for cid in capture_ids]
    if as_json:
        out = [{**c.to_json(), "format": fmt, "citation": render(c, fmt)} for c in citations]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif fmt == "csl-json":  # one CSL-JSON array for all of them
        click.echo(json.dumps([json.loads(render(c, fmt))[0] for c in citations], indent=2,
                              ensure_ascii=False))  # fmt: skip
    else:
        click.echo("\n\n".join(render(c, fmt) for c in citations))


@click.command()
@click.argument("url")
@click.option("--at", "when", required=True, help="A date or time, as you would type it.")
@click.option("--closest", "mode", flag_value="closest", default=True, help="Nearest capture.")
@click.option("--before", "mode", flag_value="before", help="Last capture at or before the time.")
@click.option("--after", "mode", flag_value="after", help="First capture at or after the time.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def lookup(obj, url: str, when: str, mode: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Find the capture of URL nearest a time, and say how far off it is.

    Example: archiver lookup https://example.org/post/1 --at "12 Feb 2020 14:00 +0800" --before
    """
    at = parse_when(when)
    found = tt_lookup(obj.catalog(), normalize_url(url), at, mode)
    if found is None:
        where = {"closest": "", "before": " before that time", "after": " after that time"}[mode]
        raise ArchiverError(
            f"no capture of {url}{where} (list them with 'archiver captures --url')"
        )
    c = found.capture
    if as_json:
        requested = at.isoformat().replace("+00:00", "Z")
        data = {**capture_json(c), "requested": requested, "offset_seconds": found.seconds}
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{c.id}  {c.captured_at}  {c.http_status}  {c.url}")
    click.echo(f"captured {found.distance()} ({at.strftime('%Y-%m-%d %H:%M:%S UTC')})")


@click.command()
@click.argument("url")
@click.option("--format", "fmt", type=click.Choice(["link", "json"]), default="link",
              show_default=True, help="application/link-format (RFC 7089) or JSON.")  # fmt: skip
@click.option(
    "--replay-base", help=f"Replay base URL (default ${REPLAY_ENV}, else {DEFAULT_REPLAY_BASE})."
)
@click.pass_obj
def timemap(obj, url: str, fmt: str, replay_base: str | None) -> None:  # type: ignore[no-untyped-def]
    """Print the Memento TimeMap (RFC 7089) of URL: every capture with its datetime.

    Example: archiver timemap https://example.org/post/1 --format json
    """
    target = normalize_url(url)
    captures = mementos(obj.catalog(), target)
    base = tt_replay_base(replay_base)
    render = timemap_link if fmt == "link" else timemap_json
    click.echo(render(target, captures, base), nl=fmt == "json")


@click.command()
@click.option("--job", help="Captures of this job.")
@click.option("--seed", "seed_id", help="Captures made for this seed id.")
@click.option("--all", "everything", is_flag=True, help="Every capture.")
@click.option("--sample", type=click.IntRange(min=1), help="Check a random sample of N captures.")
@click.pass_obj
def verify(obj, job: str | None, seed_id: str | None, everything: bool, sample: int | None) -> None:  # type: ignore[no-untyped-def]
    """Fixity audit: re-read captures' records by byte range, recompute their digests,
    compare with the catalog, and record the audit. Exit 3 on any mismatch.

    Example: archiver verify --job china-2020-02
    """
    chosen = [
        name for name, on in (("--job", job), ("--seed", seed_id), ("--all", everything)) if on
    ]
    if len(chosen) != 1:
        raise ArchiverError("choose what to verify: one of --job NAME, --seed ID or --all")
    catalog = obj.catalog()
    seed = get_seed(catalog, seed_id).id if seed_id is not None else None
    captures = find_captures(catalog, job=job, seed_id=seed)
    if job is not None and not captures:
        get_job(catalog, job)  # an unknown job is an error, an empty one is not
    scope = f"job {job}" if job else f"seed {seed}" if seed else "all"

    def show(capture, problem):  # type: ignore[no-untyped-def]
        if problem:
            click.echo(f"FAILED {capture.id}  {capture.url}: {problem}", err=True)

    report = audit(catalog, captures, scope, sample=sample, progress=show)
    click.echo(
        f"verified {report.checked} capture(s) of {scope}: {report.ok} ok, {report.failed} failed"
    )
    if report.failed:
        raise IntegrityError(
            f"{report.failed} capture(s) do not match their digests (listed above)"
        )
