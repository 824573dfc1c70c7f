"""The job's crawl log, ``HOME/jobs/JOB/crawl.log``: one line per URL fetched or failed,
as Heritrix's crawl.log has, to read or ``tail -f`` while a crawl runs.

    2026-11-30T04:18:04.096Z 200 5120 http://example.org/a.html L http://example.org/
        text/html 35ms sha256:KF3R... -

(one line). Fields, separated by spaces, ``-`` when empty: when the line was written
(UTC, ms); the HTTP status, or why the fetch failed (``dns``, ``refused``, ``tls``,
``timeout``, ``robots``, ``private-network``, ...); the body's size in bytes; the URL; its
hop path from the seed (``L`` link, ``E`` embed, ``R`` redirect, ``P`` robots.txt; ``-``
the seed itself); the URL it was found on; the MIME type; how long the fetch took; the
payload digest; annotations (``revisit``, ``truncated:length``, ...). Scrapy's own log
goes to ``scrapy.log`` beside it.
"""

from __future__ import annotations

from pathlib import Path

from archiver.catalog.captures import CaptureRow
from archiver.catalog.db import iso_ms, utc_now


def _field(value: object) -> str:
    text = "" if value is None else str(value)
    return "".join(text.split()) or "-"  # a field never holds a space


def crawl_log_line(row: CaptureRow, duration_ms: int | None) -> str:
    if row.state == "failed":
        status = (row.error or "error").split(":", 1)[0]
    else:
        status = str(row.http_status)
    hop_path = row.hop_path or ("P" if row.kind == "robots" else None)
    notes = []
    if row.record_type == "revisit":
        notes.append("revisit")
    if row.truncated:
        notes.append(f"truncated:{row.truncated}")
    duration = f"{duration_ms}ms" if duration_ms is not None else None
    fields = (
        iso_ms(utc_now()), status, row.size, row.url, hop_path, row.via, row.mime, duration,
        row.payload_digest, ",".join(notes),
    )  # fmt: skip
    return " ".join(_field(value) for value in fields)


class CrawlLog:
    """Appends a job's crawl log lines; line-buffered, so each line is on disk as it is
    written (several workers sharing a home append to the same file)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, row: CaptureRow, duration_ms: int | None = None) -> None:
        self._file.write(crawl_log_line(row, duration_ms) + "\n")

    def close(self) -> None:
        self._file.close()
