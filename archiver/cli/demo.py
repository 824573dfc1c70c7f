"""``archiver demo``: the whole path on a bundled sample site, in one command."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from archiver.catalog import open_catalog
from archiver.catalog.captures import find_captures
from archiver.catalog.seeds import add_seeds
from archiver.errors import ArchiverError
from archiver.home import ArchiveHome
from archiver.joblock import JobLock
from archiver.research.citation import cite_text
from archiver.research.replay import archive_name
from archiver.seedspec import SeedSpec


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Serve a small sample site (an NGO report, a news article, a social post) on
    127.0.0.1, archive it, then print the captures and a citation.

    The archive goes to a new temporary home, kept so you can explore it, unless
    --home is given on the command line (ARCHIVER_HOME is not used, so the demo
    never mixes sample captures into a real archive).

    Example: archiver demo
    """
    from archiver.catalog.db import iso_ms, utc_now
    from archiver.catalog.jobs import get_job, new_job_name
    from archiver.cli.crawlreport import RunFacts, Summary
    from archiver.crawl.runner import build_settings, run_job
    from archiver.demo.server import serve_demo_site

    given = ctx.parent is not None and (
        ctx.parent.get_parameter_source("home") == click.core.ParameterSource.COMMANDLINE
    )
    root = ctx.obj.home.root if given else Path(tempfile.mkdtemp(prefix="archiver-demo-"))
    home = ArchiveHome(root.absolute()).ensure()
    catalog = open_catalog(home.catalog_location)
    with serve_demo_site() as base_url:
        click.echo(f"demo site at {base_url}; archive home {home.root}")
        [result] = add_seeds(
            catalog,
            [SeedSpec.build(base_url, tags=["demo"], category="ngo", scope="host", robots="ignore",
                            note="bundled demo site", nominated_by="archiver demo")],
        )  # fmt: skip
        seed = result.seed
        name = new_job_name().replace("job-", "demo-", 1)
        # The sample site is on loopback, which crawls refuse by default: allow that one.
        overrides = {"ARCHIVER_PROGRESS_INTERVAL": "0", "ARCHIVER_ALLOW_NETWORKS": "127.0.0.1/32"}
        settings = build_settings("test", home.root, name, overrides, None)
        lock = JobLock(home.job_dir(name)).acquire_or_fail(name)  # no other process repairs it
        started_at = iso_ms(utc_now())
        try:
            run = run_job(catalog, settings, [seed], profile="test", overrides=overrides)
        finally:
            lock.release()
        for line in Summary(catalog, home, name, RunFacts(run.seconds, started_at, False)).lines():
            click.echo(line)
        job = get_job(catalog, name)
        if job.status != "finished":
            raise ArchiverError(f"the demo job {job.status}: {job.finish_reason}")
    click.echo("\ncaptures:")
    found = find_captures(catalog, job=name)
    for c in found:
        click.echo(f"  {c.id}  {c.captured_at}  {c.http_status}  {c.size or 0:>7}  {c.url}")
    report = next(
        (c for c in found if c.url.endswith("2019-defenders.html") and c.http_status == 200), None
    )
    if report:
        click.echo("\ncitation:\n" + cite_text(report, archive_name(home.root)))
    click.echo(
        f"\nexplore it: archiver --home {home.root} captures"
        f"\n            archiver --home {home.root} get {report.id if report else 'ID'}"
    )
