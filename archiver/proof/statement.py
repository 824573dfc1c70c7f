"""What a citation says of a capture's trusted timestamp: "timestamped by freetsa.org at
2026-11-30T06:43:41Z, 12 s after capture", from the earliest token (verified when it came)
over a manifest of the capture's job that lists its WARC file. A capture with none has
"no trusted timestamp": nothing is claimed that a token does not prove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from archiver.catalog import Catalog, proofs
from archiver.catalog.captures import Capture
from archiver.proof.manifest import lines_of

NONE = "no trusted timestamp"


@dataclass(frozen=True)
class Stamped:
    authority: str
    gen_time: str
    seconds_after_capture: float

    @property
    def sentence(self) -> str:
        """Lower-case, no final stop."""
        host = urlsplit(self.authority).hostname or self.authority
        gap = self.seconds_after_capture
        if gap >= 0:
            when = f"{_duration(gap)} after capture"
        elif gap >= -1:  # genTime given to the second
            when = "within a second of capture"
        else:
            when = (
                f"{_duration(-gap)} before the capture's own time (the crawler's clock was ahead)"
            )
        return f"timestamped by {host} at {self.gen_time}, {when}"


def earliest_stamp(catalog: Catalog, capture: Capture) -> Stamped | None:
    line = proofs.file_line(catalog, capture.warc_file or "")
    if line is None:
        return None
    found: list[proofs.Timestamp] = []
    for manifest in proofs.job_manifests(catalog, line.job):
        if line.line in lines_of(manifest.body):
            found += [
                t
                for t in proofs.manifest_timestamps(catalog, manifest.id)
                if t.state == "stamped" and t.gen_time
            ]
    if not found:
        return None
    first = min(found, key=lambda t: t.gen_time or "")
    gap = (_parse(first.gen_time or "") - _parse(capture.captured_at)).total_seconds()
    return Stamped(first.authority, first.gen_time or "", round(gap, 3))


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
