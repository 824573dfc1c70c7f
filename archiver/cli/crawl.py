"""``archiver crawl``: run a job over the selected seeds and summarize it."""

from __future__ import annotations

import json

import click

from archiver.catalog import Catalog
from archiver.catalog.db import iso_ms, utc_now
from archiver.catalog.jobs import (
    Job,
    check_job_name,
    finish_job,
    get_job,
    is_shared,
    job_exists,
    new_job_name,
)
from archiver.catalog.seeds import add_seeds, get_seeds, select_seeds
from archiver.cli.crawlreport import RunFacts, report
from archiver.errors import ArchiverError
from archiver.home import ArchiveHome
from archiver.joblock import JobLock
from archiver.jobs.selection import PARTS, Selection, check_same, store_uri
from archiver.jobs.stores import job_store
from archiver.profiles.names import check_name
from archiver.profiles.store import find as find_profile
from archiver.proof.stamping import check_stamping
from archiver.repair import repair_home
from archiver.secrets import REDACTED
from archiver.seedspec import SeedSpec
from archiver.storage import LocalStore, Store, open_store

FORCED = "forced stop (a second Ctrl-C or SIGTERM)"


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


def _resume_settings(job: Job, given: Selection, parts, default_store: str, overrides):  # type: ignore[no-untyped-def]
    """A resumed job runs with the profile, overrides and store it started with; new
    ``-s`` values are applied on top. A command that selects seeds, a profile or a store
    (``parts``) resumes it only when those are the job's own (archiver/jobs/selection.py)."""
    if job.status == "finished":
        raise ArchiverError(f"job {job.name!r} already finished: choose another --job name")
    if job.status == "abandoned":
        raise ArchiverError(
            f"job {job.name!r} was abandoned ('archiver jobs abandon'): it is not resumed, and"
            " its captures stay; choose another --job name"
        )
    if parts:
        recorded_selection = Selection.from_json(job.settings.get("selection"))
        check_same(job.name, recorded_selection, given, default_store, parts)
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


def _check_settings_profile(obj, profile: str) -> None:  # type: ignore[no-untyped-def]
    """--profile names a settings profile; someone who meant a login profile is told
    the option that takes one."""
    from archiver.catalog.profiles import get_profile
    from archiver.settings import PROFILES

    if profile in PROFILES:
        return
    try:
        login = get_profile(obj.catalog(), profile)
    except ArchiverError:  # no archive yet: the settings profile's own error follows
        return
    if login is not None:
        raise ArchiverError(
            f"--profile chooses the settings profile ({', '.join(PROFILES)}); to crawl signed"
            f" in as the login profile {profile!r}, use --as {profile}"
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
    "--as", "signed_in_as", metavar="PROFILE",
    help="Crawl every seed signed in as this login profile ('archiver profile'), instead of"
    " each seed's own.",
)  # fmt: skip
@click.option(
    "--header-for", "header_for", nargs=2, multiple=True, metavar="HOST 'NAME: VALUE'",
    help="Send this header (credentials) to HOST only; never stored (repeatable).",
)  # fmt: skip
@click.option(
    "--submit", is_flag=True,
    help="Record the job and its frontier for workers ('archiver worker'), print its name"
    " and exit without crawling.",
)  # fmt: skip
@click.option(
    "--via", metavar="NAME[,NAME]",
    help="Fetch everything through this vantage point (archiver vantage list); direct: no"
    " proxy; several (hk-1,cn-1): a job through each, then compared. Default: each seed's"
    " own (seeds add --via), else direct.",
)  # fmt: skip
@click.option("--as-worker", is_flag=True, hidden=True)  # 'archiver worker' runs crawls so
@click.option(
    "--json", "as_json", is_flag=True,
    help="End with the job's summary as JSON on stdout (the text summary goes to stderr).",
)  # fmt: skip
@click.pass_context
def crawl(ctx, urls, tags, seed_ids, job_name, settings, profile, store, header_for=(),  # type: ignore[no-untyped-def]
          submit=False, as_worker=False, as_json=False, signed_in_as=None,
          via=None) -> None:  # fmt: skip
    """Capture seeds into WARC files and record every capture in the catalog.

    With no selection, crawls every active seed. URLs given here are added as
    seeds first (tags merge if they already are). A job that did not finish
    (stopped, killed, crashed) resumes where it stopped when run again: by
    --job NAME alone, or by the same command (the same URLs, seeds, tags,
    profile and store). Ctrl-C (or SIGTERM) stops it after the requests in
    flight; a second Ctrl-C stops it at once.

    --as PROFILE crawls signed in: the profile's cookies go to its hosts only,
    and each capture records the profile's name (seeds add --profile sets it per seed).

    --header-for HOST 'Name: value' sends a header (Authorization, Cookie, an API
    key) to that host only; the credentials file (HOME/credentials or
    $ARCHIVER_CREDENTIALS) gives them to every crawl, scheduled ones too.

    --via NAME fetches every URL through that vantage point (a proxy; see 'archiver
    vantage'); without it each seed goes through its own, and seeds without one go
    direct. A proxy that is down fails the fetch (reason proxy), never a direct fetch.
    --via hk-1,cn-1 runs a job through each (JOB-hk-1, JOB-cn-1), then compares what
    each saw of every seed: a confirmed difference is a geo-blocked or geo-different
    event ('archiver events').

    --submit records the job for workers on any machine sharing the catalog
    ('archiver worker') instead of crawling. On a PostgreSQL catalog a crawl is one
    worker on its job's shared frontier, and other workers may join it.

    Example: archiver crawl --tag weibo --job weibo-morning -s DOWNLOAD_DELAY=1
    """
    from archiver.crawl import hostheaders

    obj = ctx.obj
    # Everything that can be wrong with the command is checked before anything is written.
    overrides = parse_overrides(settings)
    _check_settings_profile(obj, profile)
    if signed_in_as is not None:
        overrides["ARCHIVER_SIGNED_IN_AS"] = check_name(signed_in_as)
    check_stamping()  # ARCHIVER_TSA_URLS and ARCHIVER_TSA_INTERVAL, if set
    hostheaders.refuse_default_credentials(overrides)
    host_headers = hostheaders.collect(obj.home.root, header_for)
    name = check_job_name(job_name) if job_name else new_job_name()
    specs = [SeedSpec.build(url) for url in urls]
    default_store = store_uri(None, obj.home.warcs_dir)
    selection = Selection.of(
        [spec.url for spec in specs], seed_ids, tags, profile, store_uri(store, obj.home.warcs_dir)
    )
    from archiver.cli.vantagecrawls import vantage_names

    vantages = vantage_names(via) if via is not None else []
    if len(vantages) > 1:
        _check_several_vantages(submit, as_worker, header_for)
    elif vantages:
        via = overrides["ARCHIVER_VIA"] = vantages[0]
    # With no URL to add, the seeds must exist; a vantage point is in an archive already.
    catalog = obj.catalog(create=bool(urls) and set(vantages) <= {"direct"})
    if signed_in_as is not None:
        find_profile(catalog, signed_in_as)  # before a URL is added as a seed
    for vantage in vantages:
        if vantage != "direct":
            from archiver.vantage.points import chosen

            chosen(catalog, vantage, "--via")  # before a seed is added for the URLs
    if len(vantages) > 1:
        selected = _select(catalog, specs, seed_ids, tags)
        _crawl_from_each(ctx, catalog, name, {seed.id: vantages for seed in selected}, selected)
        return
    resume = get_job(catalog, name) if job_exists(catalog, name) else None
    if submit and resume is not None:  # whatever its state: a submit never resumes
        raise ArchiverError(f"a job named {name!r} already exists: choose another --job name")
    if resume is not None:
        parts = _given_parts(ctx, urls, seed_ids, tags)
        profile, overrides, store = _resume_settings(
            resume, selection, parts, default_store, overrides
        )
        _check_resume_headers(resume, host_headers)
        recorded = resume.settings.get("selection")
        selection_json = dict(recorded) if isinstance(recorded, dict) else None
    else:
        selection_json = selection.to_json()
    from archiver.crawl.config import CrawlConfig
    from archiver.crawl.runner import build_settings, run_job, sign_in

    scrapy_settings = build_settings(profile, obj.home.root, name, overrides, store, host_headers)
    if store:
        _check_store(open_store(store, s3=CrawlConfig.from_settings(scrapy_settings).s3))
    if resume is not None:
        selected = get_seeds(catalog, resume.seed_ids)
    else:
        selected = _select(catalog, specs, seed_ids, tags)
        if not vantages:  # each seed's own (or its schedule's): several for some?
            from archiver.crawl.config import seed_vantages
            from archiver.seedspec import vantages_of

            scheduled = seed_vantages(scrapy_settings)
            chosen = {s.id: vantages_of(scheduled.get(s.id) or s.via) for s in selected}
            if any(len(names) > 1 for names in chosen.values()):
                _check_several_vantages(submit, as_worker, header_for)
                _crawl_from_each(ctx, catalog, name, chosen, selected)
                return
    selected = sign_in(scrapy_settings, catalog, obj.home.root, selected)
    _set_routes(catalog, scrapy_settings, selected)
    if not as_worker and not scrapy_settings.get("ARCHIVER_OPERATOR"):
        click.echo(NO_OPERATOR, err=True)  # once the command is known to crawl (or submit)
    started_at = iso_ms(utc_now())
    if submit or as_worker or catalog.dialect == "postgresql" or (resume and is_shared(resume)):
        facts = _crawl_shared(
            obj, catalog, name, resume, selected, scrapy_settings, profile, overrides, submit,
            as_worker, selection_json, started_at,
        )  # fmt: skip
        if facts is None:  # submitted: the name for scripts
            click.echo(json.dumps({"job": name, "status": "submitted"}) if as_json else name)
            return
        report(catalog, obj.home, name, facts, as_json)
        return
    lock = JobLock(obj.home.job_dir(name)).acquire_or_fail(name)
    try:
        for note in repair_home(catalog, obj.home, _job_store(catalog, obj.home), own_job=name):
            click.echo(f"archiver: {note}", err=True)
        verb = "resuming" if resume is not None else "crawling"
        click.echo(f"job {name}: {verb} {len(selected)} seed(s) into {obj.home.root}", err=True)
        run = run_job(
            catalog, scrapy_settings, selected, profile=profile, overrides=overrides,
            resume=resume, selection=selection_json,
        )  # fmt: skip
        if run.forced:  # the session never closed the job: it is stopped, to be resumed
            finish_job(catalog, get_job(catalog, name).id, "stopped", FORCED)
    finally:
        lock.release()
    facts = RunFacts(run.seconds, started_at, resume is not None, run.forced)
    report(catalog, obj.home, name, facts, as_json)


def _select(catalog: Catalog, specs, seed_ids, tags) -> list:  # type: ignore[no-untyped-def]
    """The seeds a new job crawls: named seeds and tags resolved (and may fail) before
    URLs are added as seeds; with none of them, every active seed."""
    selected = select_seeds(catalog, seed_ids=seed_ids, tags=tags) if seed_ids or tags else []
    if specs:
        known = {seed.id for seed in selected}
        selected += [r.seed for r in add_seeds(catalog, specs) if r.seed.id not in known]
    elif not seed_ids and not tags:
        selected = select_seeds(catalog)  # every active seed
    if not selected:
        raise ArchiverError("no seeds to crawl: add some with 'archiver seeds add URL'")
    return selected


def _check_several_vantages(submit: bool, as_worker: bool, header_for) -> None:  # type: ignore[no-untyped-def]
    if submit or as_worker:
        raise ArchiverError(
            "--submit takes one vantage point: submit a job per vantage (--via NAME) instead"
        )
    if header_for:
        raise ArchiverError(
            "--header-for is not passed on to the crawl of each vantage point (header values"
            " are never stored or put on a command line): put them in the credentials file"
            " (HOME/credentials), or crawl one vantage at a time"
        )


def _crawl_from_each(ctx, catalog, name, chosen, selected) -> None:  # type: ignore[no-untyped-def]
    """Seeds captured from several vantage points (``--via a,b``, ``seeds add --via a,b``):
    a job per vantage point, then their comparison (vantagecrawls.py)."""
    from archiver.cli.proxypasswords import ask_passwords
    from archiver.cli.vantagecrawls import crawl_each, plan
    from archiver.crawl.runner import build_settings

    jobs = plan(name, chosen, selected)
    ask_passwords(catalog, [job.vantage for job in jobs])  # once, for every job
    params = ctx.params
    passed = ["--profile", params["profile"]]
    if params["store"]:
        passed += ["--store", params["store"]]
    if params["signed_in_as"]:
        passed += ["--as", params["signed_in_as"]]
    for pair in params["settings"]:
        passed += ["-s", pair]
    settings = build_settings(params["profile"], ctx.obj.home.root, name,
                              parse_overrides(params["settings"]), params["store"])  # fmt: skip
    hooks = (
        settings.get("ARCHIVER_EVENT_COMMAND") or None,
        settings.get("ARCHIVER_EVENT_WEBHOOK") or None,
    )
    code = crawl_each(ctx.obj, catalog, jobs, passed, params["as_json"], hooks)
    ctx.exit(code)


def _set_routes(catalog: Catalog, scrapy_settings, selected) -> None:  # type: ignore[no-untyped-def]
    """Give the crawl the vantage points it goes through (ARCHIVER_VANTAGES), each checked
    now: a crawl never starts toward a proxy it cannot use."""
    from archiver.cli.proxypasswords import ask_passwords
    from archiver.crawl.config import seed_vantages
    from archiver.vantage.points import routes_for

    via = scrapy_settings.get("ARCHIVER_VIA") or None
    scheduled = seed_vantages(scrapy_settings)
    ask_passwords(catalog, [via] if via else [scheduled.get(s.id) or s.via for s in selected])
    routes = routes_for(catalog, via, selected, scheduled)
    probe_url = scrapy_settings.get("ARCHIVER_EGRESS_PROBE_URL")
    if probe_url:
        from dataclasses import replace

        from archiver.vantage.probe import egress

        for name, route in routes.items():
            seen = egress(route, probe_url)
            if seen.ok:
                routes[name] = replace(route, egress=seen.detail)
            else:
                click.echo(f"archiver: warning: egress probe: {seen.detail}", err=True)
    value = {name: route.to_setting() for name, route in routes.items()}
    scrapy_settings.set("ARCHIVER_VANTAGES", json.dumps(value), priority="cmdline")


def _given_parts(ctx: click.Context, urls, seed_ids, tags) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """What the command chose of a job's selection: everything when it names seeds, tags
    or URLs; else the profile or store it gives on the command line; nothing when it
    names the job alone."""
    if urls or seed_ids or tags:
        return PARTS
    given = click.core.ParameterSource.COMMANDLINE
    return tuple(part for part in ("profile", "store") if ctx.get_parameter_source(part) == given)


def _crawl_shared(  # type: ignore[no-untyped-def]
    obj, catalog, name, resume, selected, scrapy_settings, profile, overrides, submit,
    as_worker, selection, started_at,
) -> RunFacts | None:  # fmt: skip
    """A job whose frontier workers share: submit it, or work it as one worker. Returns
    how the run ended, or None when only submitted. A crawl stopped before its job is
    done stops the job as well when no other worker is on it, unless it was started by
    'archiver worker' (whose jobs stay running for the workers to come)."""
    from archiver.catalog.jobs import resume_job
    from archiver.crawl.runner import run_worker, submit_job
    from archiver.crawl.shared import new_worker_id

    if resume is None:
        submit_job(
            catalog, scrapy_settings, selected, profile=profile, overrides=overrides,
            selection=selection,
        )  # fmt: skip
        if submit:
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
        run = run_worker(scrapy_settings, selected)
        if run.forced:  # the session never closed: its URLs go back to the queue now
            from archiver.catalog import workers
            from archiver.repair import expire_leases

            expire_leases(catalog, name, worker_id)
            workers.stopped(catalog, worker_id, None, None, FORCED)
    finally:
        lock.release()
    from archiver.catalog import workers

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
    return RunFacts(
        run.seconds, started_at, resume is not None, run.forced, shared=True,
        failure=f"{failed} (worker {worker_id} of job {name})" if failed else None,
    )  # fmt: skip
