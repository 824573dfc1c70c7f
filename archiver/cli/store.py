"""``archiver upload`` and ``archiver store check``: the store, outside a crawl."""

from __future__ import annotations

import os

import click

from archiver.catalog.jobs import get_job
from archiver.cli.jsonout import echo_json
from archiver.errors import StorageError
from archiver.joblock import JobLock
from archiver.jobs.stores import job_store
from archiver.storage import LocalStore, S3Options, open_store
from archiver.uploads import Outcome, PendingFile, UploadsPending, pending_files, upload_pending


def s3_options_from_env() -> S3Options:
    """Outside a crawl, S3 settings come from the environment (boto3's own chain does the
    credentials); the Object Lock settings may be given as environment variables too."""
    days = os.environ.get("ARCHIVER_S3_OBJECT_LOCK_DAYS", "0")
    return S3Options(
        lock_mode=(os.environ.get("ARCHIVER_S3_OBJECT_LOCK_MODE") or "").upper() or None,
        lock_days=int(days) if days.isdigit() else 0,
        legal_hold=os.environ.get("ARCHIVER_S3_LEGAL_HOLD", "").lower() in ("1", "true", "yes"),
    )


def _file_json(outcome: Outcome | PendingFile) -> dict[str, object]:
    pending = outcome.file if isinstance(outcome, Outcome) else outcome
    data: dict[str, object] = {
        "job": pending.job, "warc_file": pending.name, "warc_sha256": pending.sha256,
    }  # fmt: skip
    if isinstance(outcome, Outcome) and outcome.uri is not None:
        data["storage_uri"] = outcome.uri
    else:
        data["spool_path"] = str(pending.path)
        data["problem"] = outcome.problem if isinstance(outcome, Outcome) else None
    return data


@click.command()
@click.option("--job", help="Only this job's files.")
@click.option("--keep-local", is_flag=True, help="Keep the spool copies once stored.")
@click.option("--list", "list_only", is_flag=True, help="Only list the pending files.")
@click.option("--json", "as_json", is_flag=True, help="The files stored and pending, as JSON.")
@click.pass_obj
def upload(obj, job: str | None, keep_local: bool, list_only: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Send every WARC file still waiting in the spool to its job's store, verified
    (--list: only show them).

    Safe to run from cron and to run twice: a file already in the store with the same
    SHA-256 is only marked stored. Exit code 4 while files remain pending.

    Example: archiver upload
    """
    catalog = obj.catalog()
    if job is not None:
        get_job(catalog, job)  # a clear error for an unknown job
    if list_only:
        waiting = pending_files(catalog, job)
        if as_json:
            echo_json({"pending": [_file_json(pending) for pending in waiting]})
            return
        for pending in waiting:
            click.echo(f"pending {pending.job}/{pending.name}  {pending.path}")
        click.echo(f"{len(waiting)} WARC file(s) pending")
        return
    done: list[Outcome] = []
    failed: list[Outcome] = []
    skipped: list[str] = []
    for name in sorted({p.job for p in pending_files(catalog, job)}):
        lock = JobLock(obj.home.job_dir(name))
        if not lock.acquire():  # a crawl of it is running: its own uploader sends them
            skipped.append(name)
            if not as_json:
                click.echo(f"skipped job {name}: it is being crawled, and uploads its own files")
            continue
        try:
            sent, left = upload_pending(
                catalog, lambda n: job_store(catalog, obj.home.warcs_dir, n), job=name,
                keep_local=keep_local,
            )  # fmt: skip
        finally:
            lock.release()
        done += sent
        failed += left
    if as_json:
        echo_json({
            "stored": [_file_json(o) for o in done], "pending": [_file_json(o) for o in failed],
            "skipped_jobs": skipped,
        })  # fmt: skip
    else:
        for outcome in done:
            click.echo(f"stored {outcome.line}")
        for outcome in failed:
            click.echo(f"pending {outcome.line}", err=True)
    if failed:
        raise UploadsPending(f"{len(failed)} WARC file(s) still pending: see the reasons above")
    if not done and not as_json:
        click.echo("nothing to upload")


@click.group()
def store() -> None:
    """The store WARC files go to."""


@store.command("check")
@click.option(
    "--store", "store_uri", envvar="ARCHIVER_STORE", help="Store URI (default HOME/warcs)."
)
@click.option("--json", "as_json", is_flag=True, help="The store and each check, as JSON.")
@click.pass_obj
def store_check(obj, store_uri: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show the configured store and check access, write permission and Object Lock.

    Example: archiver store check --store s3://evidence-bucket/archiver
    """
    target = open_store(store_uri or obj.home.warcs_dir, s3=s3_options_from_env())
    if not as_json:
        click.echo(f"store: {target.uri}")
    if isinstance(target, LocalStore):
        try:
            target.check(create=False)  # a check makes nothing
            lines = [f"ok: can write to {target.root}"]
        except StorageError as exc:
            if not as_json:
                raise
            lines = [f"problem: {exc}"]
    else:
        lines = target.report()  # type: ignore[attr-defined]
    problems = [line for line in lines if line.startswith("problem:")]
    if as_json:
        echo_json({
            "store": target.uri, "ok": not problems,
            "checks": [{"ok": line.startswith("ok:"), "message": line.partition(": ")[2]}
                       for line in lines],
        })  # fmt: skip
    else:
        for line in lines:
            click.echo(line)
    if problems:
        where = 'see "checks" in the JSON on stdout' if as_json else "listed above"
        raise click.ClickException(f"{len(problems)} problem(s) with the store: {where}")


@click.command()
@click.option("--job", help="Only this job's files.")
@click.option(
    "--search", is_flag=True,
    help="Instead: rebuild the full-text search index of 'archiver serve' (HOME/search.sqlite).",
)  # fmt: skip
@click.pass_obj
def index(obj, job: str | None, search: bool) -> None:  # type: ignore[no-untyped-def]
    """Build the CDXJ index of every WARC file that has none, and store it beside the file
    (``JOB/FILENAME.cdxj``, pywb's format). With --search, rebuild the search index
    instead, from every capture's text.

    Example: archiver index --job china-2020-02
    """
    if search:
        from archiver.web.searchfeed import catch_up, index_path

        if job is not None:
            raise click.UsageError("--search indexes every capture: leave out --job")
        path = index_path(obj.home.root)
        added = catch_up(obj.catalog(), path, rebuild=True)
        click.echo(f"search index rebuilt: {added} capture(s) in {path}")
        return
    from archiver.research.indexes import build_missing_indexes

    catalog = obj.catalog()
    if job is not None:
        get_job(catalog, job)
    notes = build_missing_indexes(catalog, obj.home.warcs_dir, job)
    for note in notes:
        click.echo(note)
    if not notes:
        click.echo("every WARC file has its index")
