"""Fixity audits: re-read captures' records by byte range and check them.

Each capture's records are read from wherever their file is (spool or store), their
gzip CRCs and WARC block and payload digests recomputed, and compared with the catalog
(``retrieval.read_capture``). Every audit is recorded in the catalog: when, what, how
many checked, which failed and why.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from archiver.catalog.audits import record_audit
from archiver.catalog.captures import Capture
from archiver.catalog.db import Catalog, iso_ms, utc_now
from archiver.errors import ArchiverError
from archiver.jobs.stores import job_s3_options
from archiver.research.retrieval import read_capture
from archiver.storage.s3 import S3Options


@dataclass
class AuditReport:
    scope: str
    checked: int = 0
    ok: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (capture id, reason)

    @property
    def failed(self) -> int:
        return len(self.failures)


def audit(
    catalog: Catalog,
    captures: Sequence[Capture],
    scope: str,
    *,
    sample: int | None = None,
    progress: Callable[[Capture, str | None], None] | None = None,
) -> AuditReport:
    """Check the captures (or a random sample of them) and record the audit."""
    started = iso_ms(utc_now())
    chosen = [c for c in captures if c.state != "failed"]
    if sample is not None and sample < len(chosen):
        chosen = random.sample(chosen, sample)
    report = AuditReport(scope)
    options: dict[str, S3Options] = {}
    for capture in chosen:
        problem = None
        try:
            if capture.job not in options:
                options[capture.job] = job_s3_options(catalog, capture.job)
            read_capture(capture, options[capture.job])
        except ArchiverError as exc:
            problem = str(exc)
        report.checked += 1
        if problem:
            report.failures.append((capture.id, problem))
        else:
            report.ok += 1
        if progress:
            progress(capture, problem)
    record_audit(
        catalog,
        started_at=started,
        ended_at=iso_ms(utc_now()),
        scope=scope,
        checked=report.checked,
        ok=report.ok,
        failures=report.failures,
    )
    return report
