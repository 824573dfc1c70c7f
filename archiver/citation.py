"""Citing a capture: what it is, when it was taken, how to verify it, where it lives."""

from __future__ import annotations

from archiver import SOFTWARE
from archiver.catalog.captures import Capture


def _when(iso: str) -> str:
    return iso.replace("T", " ").replace("Z", " UTC")


def cite_text(capture: Capture) -> str:
    """A plain-text citation carrying URL, capture time, capture id and SHA-256."""
    title = f"“{capture.title}”. " if capture.title else ""
    digest = (capture.payload_digest or "").removeprefix("sha256:")
    where = capture.storage_uri or capture.spool_path or "(not stored)"
    lines = [
        f"{title}{capture.url}. Archived {_when(capture.captured_at)}, capture {capture.id}"
        f" ({SOFTWARE}, job {capture.job}).",
        f"  SHA-256 of the content as served: {digest}",
        f"  WARC record: {capture.warc_file}, offset {capture.warc_offset},"
        f" length {capture.warc_length}; record digest {capture.record_digest}",
        f"  Stored at: {where}",
    ]
    if capture.state != "ok":
        lines.append(
            f"  Note: this capture is {capture.state} ({capture.truncated or capture.error})."
        )
    return "\n".join(lines)
