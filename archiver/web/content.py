"""What a capture shows a reader: the response's headers and body, its visible text and,
for a browser capture, its screenshot; read from the capture's own WARC records (a
revisit's body from the capture holding its payload), digest-checked."""

from __future__ import annotations

import io
from dataclasses import dataclass

from warcio.archiveiterator import ArchiveIterator

from archiver.catalog.captures import Capture, get_capture
from archiver.catalog.db import Catalog
from archiver.errors import ArchiverError
from archiver.jobs.stores import job_s3_options
from archiver.research.retrieval import CaptureRecords, read_capture, read_original
from archiver.watch.notices import PageText

TEXT_LIMIT = 2_000_000  # bytes of a body read as text
SHOW_LIMIT = 50_000_000  # a larger response is not read for a page: download its records


@dataclass(frozen=True)
class Shown:
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes
    text: str  # the browser's visible text, else the HTML's, else a text body
    title: str
    screenshot: bytes | None
    records: CaptureRecords


def _response(member: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    record = next(iter(ArchiveIterator(io.BytesIO(member))))
    http = record.http_headers
    status = http.statusline if http else ""
    headers = list(http.headers) if http else []
    return status, headers, record.content_stream().read()


def show(catalog: Catalog, capture: Capture) -> Shown:
    if (capture.warc_length or 0) > SHOW_LIMIT:
        raise ArchiverError(
            f"capture {capture.id} is {capture.warc_length:,} bytes compressed, too large to"
            f" show in a page: download its records ('archiver get {capture.id}')"
        )
    records = read_capture(capture, job_s3_options(catalog, capture.job))
    status, headers, body = _response(records.response)
    if capture.revisit_of:
        original = get_capture(catalog, capture.revisit_of)
        held = read_original(capture, records, original, job_s3_options(catalog, original.job))
        body = _response(held.response)[2]
    kinds = [r.kind for r in capture.resources]
    screenshot = None
    if "screenshot" in kinds:
        screenshot = records.resource_payload(kinds.index("screenshot"))
    title = capture.title or ""
    if "text" in kinds:
        text = records.resource_payload(kinds.index("text")).decode("utf-8", "replace")
    elif "html" in (capture.mime or ""):
        page = PageText.of(_decode(body[:TEXT_LIMIT], headers))
        text, title = page.text, title or page.title
    elif (capture.mime or "").startswith("text/"):
        text = _decode(body[:TEXT_LIMIT], headers)
    else:
        text = ""
    return Shown(status, headers, body, text, title, screenshot, records)


def _decode(body: bytes, headers: list[tuple[str, str]]) -> str:
    charset = "utf-8"
    for name, value in headers:
        if name.lower() == "content-type" and "charset=" in value.lower():
            charset = value.lower().split("charset=")[1].split(";")[0].strip().strip('"')
    try:
        return body.decode(charset, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")
