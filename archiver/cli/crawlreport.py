"""What ``archiver crawl`` and ``archiver run-due`` say when a job's run ends: a summary
for people, the same facts as JSON for machines (``--json``), and the exit code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from archiver.catalog import Catalog, summaries
from archiver.catalog.frontier import open_count, rejected_counts
from archiver.catalog.jobs import Job, SeedOutcome, get_job, is_shared, job_outcomes
from archiver.errors import ArchiverError
from archiver.home import ArchiveHome
from archiver.jobs.files import job_files
from archiver.netpolicy import ENV_VAR as ALLOW_PRIVATE
from archiver.uploads import UploadsPending, pending_files

SHOWN_SUSPECTS = 20  # suspect pages listed in the summary
SHOWN_RULES = 10  # rules listed in the summary; every rejected link is in the catalog
PRIVATE_NETWORK = "private-network"


class SeedsFailed(ArchiverError):
    """Some seeds could not be captured at all (refused, DNS, TLS, robots...); the
    others were."""

    exit_code = 5


@dataclass(frozen=True)
class RunFacts:
    """One run of a job in this process."""

    seconds: float
    started_at: str  # when it began, as captured_at is written (catalog.db.iso_ms)
    resumed: bool  # the job existed: this run carries on from its frontier
    forced: bool = False  # a second signal stopped it with nothing closed
    shared: bool = False  # a worker on a shared frontier
    failure: str | None = None  # why this worker failed (a full disk, say)


def size_text(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def job_logs(home: ArchiveHome, job_name: str) -> dict[str, str]:
    folder = home.job_dir(job_name)
    return {"crawl_log": str(folder / "crawl.log"), "scrapy_log": str(folder / "scrapy.log")}


def failed_seeds(outcomes: list[SeedOutcome]) -> list[SeedOutcome]:
    """Seeds of which nothing could be captured: every fetch failed (a 404 is a capture:
    evidence of what the server said)."""
    return [o for o in outcomes if o.seed_id is not None and o.ok + o.truncated == 0 and o.failed]


def _reasons(outcome: SeedOutcome) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(outcome.failures.items()))


class Summary:
    """The facts of a job after a run, read once from the catalog."""

    def __init__(self, catalog: Catalog, home: ArchiveHome, job_name: str, run: RunFacts):
        self.catalog, self.home, self.run = catalog, home, run
        self.job: Job = get_job(catalog, job_name)
        self.outcomes = job_outcomes(catalog, self.job.id)
        self.total = summaries.CaptureCounts(  # as capture_counts would count them
            captured=sum(o.ok + o.truncated for o in self.outcomes if o.seed_id is not None),
            truncated=sum(o.truncated for o in self.outcomes),
            failed=sum(o.failed for o in self.outcomes),
        )
        self.this_run = summaries.capture_counts(catalog, self.job.id, since=run.started_at)
        self.files = job_files(catalog, self.job)
        self.queued = open_count(catalog, self.job.id)
        self.failed_seeds = failed_seeds(self.outcomes)
        self.private_refusals = sum(o.failures.get(PRIVATE_NETWORK, 0) for o in self.outcomes)

    @property
    def rate(self) -> float:
        return self.this_run.captured / self.run.seconds if self.run.seconds > 0 else 0.0

    def headline(self) -> str:
        job, total = self.job, self.total
        files = f"{self.files.files} WARC file(s), {size_text(self.files.bytes)}"
        if not self.run.resumed:
            return (
                f"job {job.name} {job.status}: {total.captured} captured ({total.truncated}"
                f" truncated), {total.failed} failed; {files};"
                f" {self.run.seconds:.1f} s, {self.rate:.1f} URLs/s"
            )
        return (
            f"job {job.name} {job.status}: this run {self.this_run.captured} captured,"
            f" {self.this_run.failed} failed in {self.run.seconds:.1f} s ({self.rate:.1f} URLs/s);"
            f" total {total.captured} captured ({total.truncated} truncated), {total.failed}"
            f" failed; {files}"
        )

    def lines(self) -> list[str]:
        lines = [self.headline()]
        for o in self.outcomes:
            label = (
                f"seed {o.seed_id} {o.seed_url}" if o.seed_id is not None
                else "no seed (robots.txt)"
            )  # fmt: skip
            reasons = _reasons(o)
            lines.append(
                f"  {label}: {o.ok} ok, {o.truncated} truncated, {o.failed} failed,"
                f" {size_text(o.bytes)}" + (f" [{reasons}]" if reasons else "")
            )
        if self.private_refusals:
            lines.append(
                f"  {PRIVATE_NETWORK}: {self.private_refusals} URL(s) refused: loopback,"
                " private and link-local addresses are not crawled unless allowed; set"
                f" {ALLOW_PRIVATE}=1, or -s ARCHIVER_ALLOW_NETWORKS=10.1.2.0/24 for chosen"
                " networks (README: Private networks)"
            )
        if self.run.forced:
            lines += [
                f"  left open: {f.name}, {size_text(f.size or 0)} written; cut to its last"
                " whole record and closed when the job resumes"
                for f in self.files.open
                if f.size is not None
            ]
        lines += self._not_followed()
        lines += self._watch_lines()
        logs = job_logs(self.home, self.job.name)
        lines.append(f"  log: {logs['crawl_log']} (one line per URL); {logs['scrapy_log']}")
        return lines

    def _not_followed(self) -> list[str]:
        """Links a seed's scope took but an exclusion or a trap guard stopped, by reason."""
        counts = rejected_counts(self.catalog, self.job.id)
        if not counts:
            return []
        by_reason: dict[str, int] = {}
        for count in counts:
            by_reason[count.reason] = by_reason.get(count.reason, 0) + count.count
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(by_reason.items()))
        lines = [f"  not followed: {sum(by_reason.values())} link(s) [{reasons}]"]
        for count in counts[:SHOWN_RULES]:
            lines.append(f"    {count.reason} ({count.rule}): {count.count}, e.g. {count.sample}")
        if len(counts) > SHOWN_RULES:
            lines.append(f"    ... and {len(counts) - SHOWN_RULES} more rule(s)")
        return lines

    def seed_states(self) -> dict[int, str]:
        latest: dict[int, str] = {}
        for row in summaries.seed_statuses(self.catalog, self.job.id):
            confirmed = row.confirmed or row.status == "error"
            latest[row.seed_id] = row.status if confirmed else f"{row.status} (unconfirmed)"
        return latest

    def _watch_lines(self) -> list[str]:
        lines = []
        latest = self.seed_states()
        if latest:
            counted: dict[str, int] = {}
            for status in latest.values():
                counted[status] = counted.get(status, 0) + 1
            lines.append(
                "  seed status: " + ", ".join(f"{n} {s}" for s, n in sorted(counted.items()))
            )
        browser = summaries.browser_pages(self.catalog, self.job.id)
        if browser.pages:
            lines.append(f"  browser pages: {browser.pages}, {browser.suspect} suspect")
        for page in summaries.suspect_pages(self.catalog, self.job.id, limit=SHOWN_SUSPECTS):
            lines.append(f"  SUSPECT: {page.capture_id} {page.url}: {page.reason}")
        for event in summaries.confirmed_events(self.catalog, self.job.id):
            lines.append(
                f"  EVENT: seed {event.seed_id} {event.url} is {event.kind} (see 'archiver events')"
            )
        return lines

    def problem(self) -> tuple[ArchiverError | None, str | None]:
        """The error the command ends with (None: exit 0), and a note for stderr."""
        job, name = self.job, self.job.name
        resume = (
            f"resume it with 'archiver crawl --job {name}' (or with the same command again,"
            " if it named the job with --job)"
        )
        if self.run.failure:
            return ArchiverError(self.run.failure), None
        if self.run.forced:
            if job.status == "running":  # other workers carry the job on
                return ArchiverError(
                    f"this worker of job {name} was stopped by force: the URLs it held go"
                    " back to the queue for the job's other workers"
                ), None
            return ArchiverError(
                f"job {name} was stopped by force before it finished: the requests in flight"
                f" were dropped and are fetched again, and its open WARC file is repaired,"
                f" when it resumes; {resume}"
            ), None
        if job.status == "running" and is_shared(job):
            left = self.queued
            return None, (
                f"job {name}: this worker stopped; {left} URL(s) of the job are still queued or"
                f" leased, for other workers ('archiver worker --job {name}' carries on)"
            )
        if job.status == "failed":
            return ArchiverError(job.finish_reason or f"job {name} failed"), None
        if job.status == "stopped":
            return ArchiverError(
                f"job {name} stopped before it finished ({job.finish_reason}): {resume}"
            ), None
        unstored = pending_files(self.catalog, name)
        if self.run.shared:  # a worker answers for the files of its own home's spool only
            spool = self.home.spool_dir.resolve()
            unstored = [f for f in unstored if spool in f.path.resolve().parents]
        if unstored:
            return UploadsPending(
                f"uploads pending: {len(unstored)} WARC file(s) of job {name} could not be put"
                f" in the store and wait in the spool ({unstored[0].path.parent}); captures are"
                " safe and readable there. Run 'archiver upload' once the store is reachable"
            ), None
        if self.total.captured == 0:
            return ArchiverError(
                f"nothing could be captured in job {name}: see the failures above "
                f"('archiver captures --job {name}' lists them)"
            ), None
        if self.failed_seeds:
            listed = "; ".join(
                f"seed {o.seed_id} {o.seed_url} ({_reasons(o)})" for o in self.failed_seeds[:5]
            )
            more = f"; and {len(self.failed_seeds) - 5} more" if len(self.failed_seeds) > 5 else ""
            seeds = sum(1 for o in self.outcomes if o.seed_id is not None)
            again = " ".join(f"--seed {o.seed_id}" for o in self.failed_seeds)
            return SeedsFailed(
                f"{len(self.failed_seeds)} of {seeds} seed(s) could not be captured:"
                f" {listed}{more}; the others were. Crawl them again with"
                f" 'archiver crawl {again}' once the cause is fixed"
            ), None
        return None, None

    def to_json(self, problem: ArchiverError | None) -> dict[str, Any]:
        job = self.job
        states = self.seed_states()
        return {
            "job": job.name,
            "status": job.status,
            "exit_code": problem.exit_code if problem else 0,
            "error": str(problem) if problem else None,
            "started_at": job.started_at,
            "ended_at": job.ended_at,
            "resumed": self.run.resumed,
            "run": {
                "started_at": self.run.started_at,
                "seconds": round(self.run.seconds, 3),
                "captured": self.this_run.captured,
                "failed": self.this_run.failed,
                "urls_per_second": round(self.rate, 2),
            },
            "counts": {
                "captured": self.total.captured,
                "truncated": self.total.truncated,
                "failed": self.total.failed,
                "queued": self.queued,
                "warc_files": self.files.files,
                "warc_bytes": self.files.bytes,
            },
            "seeds": [
                {
                    "seed_id": o.seed_id,
                    "url": o.seed_url,
                    "ok": o.ok,
                    "truncated": o.truncated,
                    "failed": o.failed,
                    "bytes": o.bytes,
                    "failures": dict(sorted(o.failures.items())),
                    "status": states.get(o.seed_id) if o.seed_id is not None else None,
                }
                for o in self.outcomes
            ],
            "failed_seeds": [o.seed_id for o in self.failed_seeds],
            "not_followed": [
                {"reason": c.reason, "rule": c.rule, "count": c.count, "url": c.sample}
                for c in rejected_counts(self.catalog, job.id)
            ],
            "events": [
                {"seed_id": e.seed_id, "url": e.url, "kind": e.kind}
                for e in summaries.confirmed_events(self.catalog, job.id)
            ],
            "suspect": [
                {"capture_id": p.capture_id, "url": p.url, "reason": p.reason}
                for p in summaries.suspect_pages(self.catalog, job.id, limit=SHOWN_SUSPECTS)
            ],
            **job_logs(self.home, job.name),
        }


def report(
    catalog: Catalog, home: ArchiveHome, job_name: str, run: RunFacts, as_json: bool = False
) -> None:
    """Print the job's summary (on stderr under ``--json``, the JSON going to stdout),
    then end the command with the job's error, if it has one."""
    summary = Summary(catalog, home, job_name, run)
    problem, note = summary.problem()
    for line in summary.lines():
        click.echo(line, err=as_json)
    if note:
        click.echo(note, err=True)
    if as_json:
        click.echo(json.dumps(summary.to_json(problem), indent=2, ensure_ascii=False))
    if problem is not None:
        raise problem
