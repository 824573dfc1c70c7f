"""The earliest and latest ``WARC-Date`` of a file on disk, for a file the writer did not
close itself (one a crash left, repaired): the writer tracks them as it writes."""

from __future__ import annotations

from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


def warc_date_range(path: Path) -> tuple[str | None, str | None]:
    dates = []
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            date = record.rec_headers.get_header("WARC-Date")
            if date:
                dates.append(date)
    return (min(dates), max(dates)) if dates else (None, None)
