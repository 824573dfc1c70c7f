"""``archiver crawl``: run a job over the selected seeds and summarize it."""

from __future__ import annotations

import json

import click

from archiver.catalog import Catalog, summaries
from archiver.catalog.frontier import rejected_counts
from archiver.catalog.jobs import (
    Job,
    check_job_name,
    get_job,
    is_shared,
    job_exists,
    job_outcomes,
    new_job_name,
)
from archiver.catalog.seeds import add_seeds, get_seeds, select_seeds
from archiver.errors import ArchiverError
from archiver.home import ArchiveHome
from archiver.joblock import JobLock
from archiver.jobstores import job_store
from archiver.repair import repair_home
from archiver.secrets import REDACTED
from archiver.seedspec import SeedSpec
from archiver.storage import LocalStore, Store, open_store
from archiver.uploads import UploadsPending, pending_files


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ArchiverError(
                f"bad setting {pair!r}: write it as NAME=VALUE, e.g. -s DOWNLOAD_DELAY=1"
            )
        overrides[name.strip()] = value
    return overrides


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


SHOWN_SUSPECTS = 20  # suspect pages listed in the summary


def print_summary(catalog: Catalog, home: ArchiveHome, job_name: str, seconds: float) -> int:
    """Print the job summary; return how many captures hold a response."""
    job = get_job(catalog, job_name)
    outcomes = job_outcomes(catalog, job.id)
    # robots.txt fetches (no seed) are archived too, but do not count as captured seeds.
    captured = sum(o.ok + o.truncated for o in outcomes if o.seed_id is not None)
    truncated = sum(o.truncated for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    files = summaries.warc_totals(catalog, job.id)
    rate = captured / seconds if seconds > 0 else 0.0
    click.echo(
        f"job {job.name} {job.status}: {captured} captured ({truncated} truncated),"
        f" {failed} failed;"
        f" {files.files} WARC file(s), {_size(files.bytes)}; {seconds:.1f} s, {rate:.1f} URLs/s"
    )
    for o in outcomes:
        label = (
            f"seed {o.seed_id} {o.seed_url}" if o.seed_id is not None else "no seed (robots.txt)"
        )
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(o.failures.items()))
        click.echo(
            f"  {label}: {o.ok} ok, {o.truncated} truncated, {o.failed} failed, {_size(o.bytes)}"
            + (f" [{reasons}]" if reasons else "")
        )
    print_not_followed(catalog, job.id)
    latest: dict[int, str] = {}
    for row in summaries.seed_statuses(catalog, job.id):
        confirmed = row.confirmed or row.status == "error"
        latest[row.seed_id] = row.status if confirmed else f"{row.status} (unconfirmed)"
    if latest:
        counted: dict[str, int] = {}
        for status in latest.values():
            counted[status] = counted.get(status, 0) + 1
        click.echo("  seed status: " + ", ".join(f"{n} {s}" for s, n in sorted(counted.items())))
    browser = summaries.browser_pages(catalog, job.id)
    if browser.pages:
        click.echo(f"  browser pages: {browser.pages}, {browser.suspect} suspect")
    for page in summaries.suspect_pages(catalog, job.id, limit=SHOWN_SUSPECTS):
        click.echo(f"  SUSPECT: {page.capture_id} {page.url}: {page.reason}")
    for event in summaries.confirmed_events(catalog, job.id):
        click.echo(
            f"  EVENT: seed {event.seed_id} {event.url} is {event.kind} (see 'archiver events')"
        )
    log = home.job_dir(job.name) / "crawl.log"
    if log.exists():
        click.echo(f"  log: {log}")
    return captured


SHOWN_RULES = 10  # rules listed in the summary; every rejected link is in the catalog


def print_not_followed(catalog: Catalog, job_id: int) -> None:
    """Links a seed's scope took but an exclusion or a trap guard stopped, by reason."""
    counts = rejected_counts(catalog, job_id)
    if not counts:
        return
    by_reason: dict[str, int] = {}
    for count in counts:
        by_reason[count.reason] = by_reason.get(count.reason, 0) + count.count
    reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(by_reason.items()))
    click.echo(f"  not followed: {sum(by_reason.values())} link(s) [{reasons}]")
    for count in counts[:SHOWN_RULES]:
        click.echo(f"    {count.reason} ({count.rule}): {count.count}, e.g. {count.sample}")
    if len(counts) > SHOWN_RULES:
        click.echo(f"    ... and {len(counts) - SHOWN_RULES} more rule(s)")


def _resume_settings(job: Job, urls, seed_ids, tags, overrides):  # type: ignore[no-untyped-def]
    """A resumed job runs with the profile, overrides and store it started with; new
    ``-s`` values are applied on top."""
    if job.status == "finished":
        raise ArchiverError(f"job {job.name!r} already finished: choose another --job name")
    if urls or seed_ids or tags:
        raise ArchiverError(
            f"job {job.name!r} exists and did not finish: resume it with"
            f" 'archiver crawl --job {job.name}' alone (its seeds are fixed)"
        )
    recorded = job.settings.get("settings", {})
    # Secrets were never stored (archiver/secrets.py): give them again with -s to resume.
    recorded_overrides = job.settings.get("overrides", {})
    kept = {k: v for k, v in recorded_overrides.items() if REDACTED not in json.dumps(v)}
    merged = {**kept, **overrides}
    return job.settings.get("profile", "local"), merged, recorded.get("ARCHIVER_STORE")


def _check_resume_headers(job: Job, given) -> None:  # type: ignore[no-untyped-def]
    """Headers given with --header-for were never stored: a resume must give them again,
    or it would capture the rest of the job without them (login pages, not content)."""
    from archiver.crawl.hostheaders import missing_on_resume

    missing = missing_on_resume(job.settings.get("host_headers") or {}, given)
    if missing:
        raise ArchiverError(
            f"job {job.name!r} was crawled with {', '.join(missing)}; header values are never"
            f" stored: give them again to resume it (archiver crawl --job {job.name}"
            " --header-for HOST 'NAME: VALUE'), or put them in the credentials file"
        )


def _job_store(catalog: Catalog, home: ArchiveHome):  # type: ignore[no-untyped-def]
    return lambda job_name: job_store(catalog, home.warcs_dir, job_name)


def _check_store(target: Store) -> None:
    """A misconfigured store stops the crawl before it starts; an unreachable one does not
    (the crawl goes on into the spool, and the files are uploaded later)."""
    if isinstance(target, LocalStore):
        target.check()
        return
    for line in target.report():  # type: ignore[attr-defined]
        if line.startswith("problem:") and "Object Lock" in line:
            raise ArchiverError(line.removeprefix("problem: "))
        if line.startswith("problem:"):
            click.echo(
                f"archiver: warning: {line.removeprefix('problem: ')}; the crawl goes on and"
                " its WARC files wait in the spool until they can be uploaded",
                err=True,
            )
            return


NO_OPERATOR = (
    "archiver: warning: no operator set, so this crawl's WARC files say 'operator: unspecified'"
    " and its user agent gives no contact; set it once for this home with"
    " 'archiver config set operator \"Name <you@example.org>\"' (or ARCHIVER_OPERATOR)"
)


@click.command()
@click.argument("urls", nargs=-1)
@click.option("--tag", "tags", multiple=True, help="Crawl seeds with this tag (repeatable).")
@click.option("--seed", "seed_ids", multiple=True, help="Crawl this seed id (repeatable).")
@click.option("--job", "job_name", help="Job name (default: generated, job-YYYYMMDD-HHMMSS-xxxx).")
@click.option(
    "-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Override a setting."
)
@click.option(
    "--profile",
    default="local",
    show_default=True,
    envvar="ARCHIVER_PROFILE",
    help="Settings profile: local or test (or ARCHIVER_PROFILE, or profile in archiver.toml).",
)
@click.option(
    "--store", envvar="ARCHIVER_STORE", help="Where closed WARCs go (default: HOME/warcs)."
)
@click.option(
    "--header-for", "header_for", nargs=2, multiple=True, metavar="HOST 'NAME: VALUE'",
    help="Send this header (credentials) to HOST only; never stored (repeatable).",
)  # fmt: skip
@click.option(
    "--submit", is_flag=True,
    help="Record the job and its frontier for workers ('archiver worker'), print its name"
    " and exit without crawling.",
)  # fmt: skip
@click.option("--as-worker", is_flag=True, hidden=True)  # 'archiver worker' runs crawls so
@click.pass_obj
def crawl(obj, urls, tags, seed_ids, job_name, settings, profile, store, header_for=(),  # type: ignore[no-untyped-def]
          submit=False, as_worker=False) -> None:  # fmt: skip
    """Capture seeds into WARC files and record every capture in the catalog.

    With no selection, crawls every active seed. URLs given here are added as
    seeds first (tags merge if they already are). --job NAME of a job that did not
    finish (stopped, killed, crashed) resumes it where it stopped.

    --header-for HOST 'Name: value' sends a header (Authorization, Cookie, an API
    key) to that host only; the credentials file (HOME/credentials or
    $ARCHIVER_CREDENTIALS) gives them to every crawl, scheduled ones too.

    --submit records the job for workers on any machine sharing the catalog
    ('archiver worker') instead of crawling. On a PostgreSQL catalog a crawl is one
    worker on its job's shared frontier, and other workers may join it.

    Example: archiver crawl --tag weibo --job weibo-morning -s DOWNLOAD_DELAY=1
    """
    from archiver.crawl import hostheaders

    # Everything that can be wrong with the command is checked before anything is written.
    overrides = parse_overrides(settings)
    hostheaders.refuse_default_credentials(overrides)
    host_headers = hostheaders.collect(obj.home.root, header_for)
    name = check_job_name(job_name) if job_name else new_job_name()
    specs = [SeedSpec.build(url) for url in urls]
    catalog = obj.catalog(create=bool(urls))  # with no URL to add, the seeds must exist
    resume = get_job(catalog, name) if job_exists(catalog, name) else None
    if submit and resume is not None:  # whatever its state: a submit never resumes
        raise ArchiverError(f"a job named {name!r} already exists: choose another --job name")
    if resume is not None:
        profile, overrides, store = _resume_settings(resume, urls, seed_ids, tags, overrides)
        _check_resume_headers(resume, host_headers)
    from archiver.crawl.config import CrawlConfig
    from archiver.crawl.runner import build_settings, run_job

    scrapy_settings = build_settings(profile, obj.home.root, name, overrides, store, host_headers)
    if not as_worker and not scrapy_settings.get("ARCHIVER_OPERATOR"):
        click.echo(NO_OPERATOR, err=True)
    if store:
        _check_store(open_store(store, s3=CrawlConfig.from_settings(scrapy_settings).s3))
    if resume is not None:
        selected = get_seeds(catalog, resume.seed_ids)
    else:
        # Named seeds and tags are resolved (and may fail) before URLs are added as seeds.
        selected = select_seeds(catalog, seed_ids=seed_ids, tags=tags) if seed_ids or tags else []
        if specs:
            known = {seed.id for seed in selected}
            selected += [r.seed for r in add_seeds(catalog, specs) if r.seed.id not in known]
        elif not seed_ids and not tags:
            selected = select_seeds(catalog)  # every active seed
    if not selected:
        raise ArchiverError("no seeds to crawl: add some with 'archiver seeds add URL'")
    if submit or as_worker or catalog.dialect == "postgresql" or (resume and is_shared(resume)):
        seconds = _crawl_shared(
            obj, catalog, name, resume, selected, scrapy_settings, profile, overrides, submit,
            as_worker,
        )  # fmt: skip
        if seconds is not None:
            _report(catalog, obj.home, name, seconds, shared=True)
        return
    lock = JobLock(obj.home.job_dir(name)).acquire_or_fail(name)
    try:
        for note in repair_home(catalog, obj.home, _job_store(catalog, obj.home), own_job=name):
            click.echo(f"archiver: {note}", err=True)
        verb = "resuming" if resume is not None else "crawling"
        click.echo(f"job {name}: {verb} {len(selected)} seed(s) into {obj.home.root}", err=True)
        seconds = run_job(
            catalog, scrapy_settings, selected, profile=profile, overrides=overrides, resume=resume
        )
    finally:
        lock.release()
    _report(catalog, obj.home, name, seconds)


def _crawl_shared(  # type: ignore[no-untyped-def]
    obj, catalog, name, resume, selected, scrapy_settings, profile, overrides, submit,
    as_worker,
) -> float | None:  # fmt: skip
    """A job whose frontier workers share: submit it, or work it as one worker. Returns
    the seconds worked, or None when only submitted. A crawl stopped before its job is
    done stops the job as well when no other worker is on it, unless it was started by
    'archiver worker' (whose jobs stay running for the workers to come)."""
    from archiver.catalog.jobs import resume_job
    from archiver.crawl.runner import run_worker, submit_job
    from archiver.crawl.shared import new_worker_id

    if resume is None:
        submit_job(catalog, scrapy_settings, selected, profile=profile, overrides=overrides)
        if submit:
            click.echo(name)
            click.echo(
                f"job {name}: submitted {len(selected)} seed(s); workers take it on with"
                f" 'archiver worker' (or 'archiver worker --job {name}')",
                err=True,
            )
            return None
    else:
        if resume.status != "running":
            resume_job(catalog, resume.id, {**resume.settings, "frontier": "shared"})
        if not as_worker:  # resumed by hand: its URLs are tried again, failed ones too
            from archiver.catalog.leases import retry

            again = retry(catalog, resume.id)
            if again:
                click.echo(f"job {name}: {again} failed URL(s) queued again", err=True)
    worker_id = new_worker_id()
    scrapy_settings.set("ARCHIVER_WORKER", worker_id, priority="cmdline")
    lock = JobLock(obj.home.spool_dir / name / worker_id).acquire_or_fail(name)
    try:
        for note in repair_home(catalog, obj.home, _job_store(catalog, obj.home), own_job=""):
            click.echo(f"archiver: {note}", err=True)
        verb = "resuming" if resume is not None else "crawling"
        click.echo(
            f"job {name}: {verb} {len(selected)} seed(s) into {obj.home.root}"
            f" (worker {worker_id}; other workers may join)",
            err=True,
        )
        seconds = run_worker(scrapy_settings, selected)
    finally:
        lock.release()
    from archiver.catalog import workers
    from archiver.catalog.jobs import finish_job

    state, reason = workers.ending(catalog, worker_id)
    failed = reason if state == "failed" else None
    job = get_job(catalog, name)
    if (
        not as_worker
        and job.status == "running"
        and not workers.others_on_job(catalog, name, worker_id)
    ):
        finish_job(catalog, job.id, "failed" if failed else "stopped",
                   reason)  # fmt: skip
    if failed:
        print_summary(catalog, obj.home, name, seconds)
        raise ArchiverError(f"{failed} (worker {worker_id} of job {name})")
    return seconds


def _report(
    catalog: Catalog, home: ArchiveHome, name: str, seconds: float, shared: bool = False
) -> None:
    """The job's summary, and an error for a job that did not end well. A worker on a
    shared frontier answers for the files of its own home's spool only."""
    captured = print_summary(catalog, home, name, seconds)
    job = get_job(catalog, name)
    if job.status == "running" and is_shared(job):
        from archiver.catalog.leases import job_counts

        left = sum(c.queued + c.leased for c in job_counts(catalog, job.id))
        click.echo(
            f"job {name}: this worker stopped; {left} URL(s) of the job are still queued or"
            f" leased, for other workers ('archiver worker --job {name}' carries on)",
            err=True,
        )
        return
    if job.status == "failed":
        raise ArchiverError(job.finish_reason or f"job {name} failed")
    if job.status == "stopped":
        raise ArchiverError(
            f"job {name} stopped before it finished ({job.finish_reason}):"
            f" resume it with 'archiver crawl --job {name}'"
        )
    unstored = pending_files(catalog, name)
    if shared:
        spool = home.spool_dir.resolve()
        unstored = [f for f in unstored if spool in f.path.resolve().parents]
    if unstored:
        raise UploadsPending(
            f"uploads pending: {len(unstored)} WARC file(s) of job {name} could not be put in"
            f" the store and wait in the spool ({unstored[0].path.parent}); captures are safe"
            " and readable there. Run 'archiver upload' once the store is reachable"
        )
    if captured == 0:
        raise ArchiverError(
            f"nothing could be captured in job {name}: see the failures above "
            "('archiver captures --job NAME' lists them)"
        )
