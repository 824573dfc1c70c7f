"""Researcher commands: ``captures``, ``get`` and ``cite``. They never import Scrapy."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from archiver.catalog.captures import find_captures, get_capture
from archiver.catalog.seeds import get_seed
from archiver.citation import cite_text
from archiver.retrieval import read_capture
from archiver.urls import normalize_url

JSON_KEYS = (
    "id", "url", "final_url", "captured_at", "state", "http_status", "mime", "size", "title",
    "payload_digest", "record_digest", "record_id", "warc_file", "offset", "length",
    "storage_uri", "seed_id", "job", "kind", "hops", "via", "truncated", "error",
)  # fmt: skip


def capture_json(capture) -> dict[str, object]:  # type: ignore[no-untyped-def]
    data = capture.to_json()
    data["offset"] = capture.warc_offset
    data["length"] = capture.warc_length
    return {key: data.get(key) for key in JSON_KEYS}


@click.command()
@click.option("--url", help="Captures of this URL.")
@click.option("--seed", "seed_id", help="Captures made for this seed id.")
@click.option("--job", help="Captures made in this job.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_obj
def captures(obj, url: str | None, seed_id: str | None, job: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List captures, oldest first. Example: archiver captures --url https://example.org/ --json"""
    catalog = obj.catalog()
    seed = get_seed(catalog, seed_id).id if seed_id is not None else None
    found = find_captures(catalog, url=normalize_url(url) if url else None, seed_id=seed, job=job)
    if as_json:
        click.echo(json.dumps([capture_json(c) for c in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("no captures")
        return
    for c in found:
        status = str(c.http_status or "-")
        state = "" if c.state == "ok" else f" [{c.state}: {c.truncated or c.error}]"
        click.echo(f"{c.id}  {c.captured_at}  {status:>3}  {c.size or 0:>9}  {c.url}{state}")


@click.command()
@click.argument("capture_id")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Output file (default ID.warc.gz)."
)
@click.pass_obj
def get(obj, capture_id: str, output: str | None) -> None:  # type: ignore[no-untyped-def]
    """Write a capture's WARC records (warcinfo, request, response, metadata) as a
    standalone .warc.gz, read by byte range and digest-checked first.

    Example: archiver get K7QD-3XMA -o evidence.warc.gz
    """
    capture = get_capture(obj.catalog(), capture_id)
    data = read_capture(capture).as_warc()  # raises before anything is written
    target = Path(output or f"{capture.id}.warc.gz")
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
@click.argument("capture_id")
@click.pass_obj
def cite(obj, capture_id: str) -> None:  # type: ignore[no-untyped-def]
    """Print a citation: URL, title, capture time, capture id, SHA-256 and location.

    Example: archiver cite K7QD-3XMA
    """
    click.echo(cite_text(get_capture(obj.catalog(), capture_id)))
