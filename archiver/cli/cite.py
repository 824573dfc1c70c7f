"""``archiver cite``: captures as citations a reader can follow. Never imports Scrapy."""

from __future__ import annotations

import json

import click

from archiver.catalog.captures import Capture, get_capture
from archiver.catalog.jobs import get_job
from archiver.catalog.statuses import observation_of
from archiver.cli.jsonout import echo_json
from archiver.proof.statement import earliest_stamp
from archiver.research import replay
from archiver.research.citation import FORMATS, Citation, render


def citations(obj, capture_ids, base: str | None) -> list[Citation]:  # type: ignore[no-untyped-def]
    """The captures as citations, each naming its archive (see ``archive_name``)."""
    catalog = obj.catalog()
    names: dict[str, str] = {}

    def archive(capture: Capture) -> str:
        if capture.job not in names:
            recorded = get_job(catalog, capture.job).settings.get("settings", {})
            names[capture.job] = replay.archive_name(
                obj.home.root, recorded.get(replay.OPERATOR_ENV)
            )
        return names[capture.job]

    found = [get_capture(catalog, cid) for cid in capture_ids]
    return [
        Citation.of(
            c, base, archive=archive(c), observation=observation_of(catalog, c.id),
            stamped=_stamped(catalog, c),
        )
        for c in found
    ]  # fmt: skip


def _stamped(catalog, capture: Capture) -> str | None:  # type: ignore[no-untyped-def]
    stamp = earliest_stamp(catalog, capture)
    return stamp.sentence if stamp else None


@click.command()
@click.argument("capture_ids", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Citation style or data format.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="JSON: the citation's fields and its text.")
@click.option(
    "--replay-base",
    help="Replay base URL (pywb or Wayback style: BASE/TIMESTAMP/URL); default"
    f" ${replay.REPLAY_ENV}.",
)
@click.pass_obj
def cite(obj, capture_ids, fmt: str, as_json: bool, replay_base: str | None) -> None:  # type: ignore[no-untyped-def]
    """Cite captures: URL, title, site, capture time, capture id, SHA-256 and where a
    reader finds the archived copy (a replay URL, else the archive's name and the capture
    id; set ARCHIVER_ARCHIVE_NAME to name it).

    Formats: text, apa, chicago, bluebook, bibtex (biblatex @online), csl-json (for
    Zotero and other CSL processors), ris, robust-link (an HTML Robust Link).

    Example: archiver cite K7QD-3XMA --format bibtex
    """
    base = replay.replay_base(replay_base)
    cited = citations(obj, capture_ids, base)
    if base is None:
        shown = ", ".join(sorted({c.archive for c in cited}))
        click.echo(replay.NO_REPLAY_WARNING.format(env=replay.REPLAY_ENV, name=shown), err=True)
    if as_json:
        echo_json([{**c.to_json(), "format": fmt, "citation": render(c, fmt)} for c in cited])
    elif fmt == "csl-json":  # one CSL-JSON array for all of them
        echo_json([json.loads(render(c, fmt))[0] for c in cited])
    else:
        click.echo("\n\n".join(render(c, fmt) for c in cited))
