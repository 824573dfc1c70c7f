"""What a job's status is now: its catalog row, and whether a process is on it.

A job's row says ``running`` from its start until a process closes it. Killed (``kill -9``,
a reboot, a crash), no process is left to close it: such a job is shown ``resumable``.
A job whose frontier workers share is ``running`` while it is open to workers, whether or
not one is on it now (``archiver worker`` takes it on). ``stopped`` (Ctrl-C, SIGTERM) and
``failed`` (a full disk) jobs can be resumed too; ``finished`` ones cannot, nor
``abandoned`` ones (given up with ``archiver jobs abandon``: their captures stay).
"""

from __future__ import annotations

from dataclasses import dataclass

from archiver.catalog import Catalog
from archiver.catalog import workers as worker_rows
from archiver.catalog.jobs import Job, is_shared, list_jobs
from archiver.home import ArchiveHome
from archiver.joblock import JobLock

UNFINISHED = ("stopped", "failed", "resumable")


@dataclass(frozen=True)
class JobState:
    job: Job
    status: str  # running, finished, stopped, failed, resumable, abandoned
    pid: int | None = None  # the process crawling it on this machine, if any
    workers: int = 0  # live workers on it (a shared frontier)

    @property
    def resumable(self) -> bool:
        return self.status in UNFINISHED

    @property
    def ended(self) -> str | None:
        return self.job.ended_at


def job_state(catalog: Catalog, home: ArchiveHome, job: Job) -> JobState:
    if job.status != "running":
        return JobState(job, job.status)
    if is_shared(job) or catalog.dialect == "postgresql":
        live = [w for w in worker_rows.list_workers(catalog) if w.job == job.name]
        return JobState(job, "running", workers=sum(w.state == "running" for w in live))
    pid = JobLock(home.job_dir(job.name)).holder()
    return JobState(job, "running" if pid else "resumable", pid=pid)


def job_states(catalog: Catalog, home: ArchiveHome, limit: int = 0) -> list[JobState]:
    """Every job (or the ``limit`` newest), newest first."""
    return [job_state(catalog, home, job) for job in list_jobs(catalog, limit=limit)]


def unfinished(catalog: Catalog, home: ArchiveHome) -> list[JobState]:
    """Jobs that stopped before they finished (by a signal, a crash or a failure), newest
    first: each can be resumed with ``archiver crawl --job NAME``."""
    states = (job_state(catalog, home, job) for job in list_jobs(catalog, unfinished=True))
    return [state for state in states if state.resumable]
