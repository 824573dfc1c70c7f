"""Choosing what an export packages, and reading it from the catalog in file order.

``choose`` fills a temporary table with the selected captures and what their replay
needs; the row queries return them ordered by WARC file and offset, so each file is
read once, front to back, and ``FileRows`` hands them over one file at a time.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from archiver.research.export.warccopy import Member, SourceFile
from archiver.research.retrieval import open_ranges


@dataclass(frozen=True)
class Selection:
    """Which captures to export: a WHERE clause on captures ``c`` joined with jobs ``j``.
    ``expand`` adds what the chosen captures need to replay (whole jobs need nothing)."""

    where: str
    params: tuple[Any, ...]
    description: str
    main_url: str | None = None  # the page a replay tool opens first, when there is one
    expand: bool = True
    job: str | None = None  # a whole job: read in file order, nothing to expand


def _outlinks(member: bytes) -> Iterator[tuple[str, str]]:
    """(url, how) pairs of a metadata record: ``E`` embeds (requisites), ``R`` redirects.
    Lines are ``URL HOP CONTEXT`` (Heritrix's form; the context has no spaces), or
    ``URL HOP`` in records written before contexts were kept."""
    import gzip

    text = gzip.decompress(member).decode("utf-8", "replace")
    for line in text.split("\r\n"):
        if line.startswith("outlink: "):
            rest, _, last = line[len("outlink: ") :].rpartition(" ")
            url, how = (rest, last) if len(last) == 1 else rest.rpartition(" ")[::2]
            if how in ("E", "R") and url:
                yield url, how


def choose(conn: sqlite3.Connection, selection: Selection, s3_for_job: Callable[[str], Any]) -> int:
    """Fill ``temp.export_ids`` with the selected captures and, unless a whole job was
    chosen, what they need to replay: the requisites and redirect targets their metadata
    records list (transitively: a stylesheet's fonts), captured in the same job, and the
    originals their revisit records refer to. Returns how many were chosen directly."""
    conn.execute("DROP TABLE IF EXISTS temp.export_ids")
    conn.execute("CREATE TEMP TABLE export_ids (id TEXT PRIMARY KEY, chosen INTEGER)")
    conn.execute(
        "INSERT OR IGNORE INTO temp.export_ids SELECT c.id, 1 FROM captures c"
        f" JOIN jobs j ON j.id = c.job_id WHERE {selection.where}",
        selection.params,
    )
    chosen = int(conn.execute("SELECT COUNT(*) FROM temp.export_ids").fetchone()[0])
    if not selection.expand:
        return chosen
    todo = [row[0] for row in conn.execute("SELECT id FROM temp.export_ids")]
    while todo:
        found: list[tuple[int, str]] = []
        marks = ",".join("?" * len(todo[:500]))
        for batch in (todo[i : i + 500] for i in range(0, len(todo), 500)):
            marks = ",".join("?" * len(batch))
            rows = conn.execute(
                "SELECT c.job_id, j.name, c.warc_file, c.metadata_offset, c.metadata_length,"
                " w.state, w.store_uri, w.storage_key, w.spool_path FROM captures c"
                " JOIN jobs j ON j.id = c.job_id JOIN warc_files w ON w.name = c.warc_file"
                f" WHERE c.id IN ({marks}) AND c.metadata_length IS NOT NULL"
                " ORDER BY c.warc_file, c.metadata_offset",
                batch,
            ).fetchall()
            for _name, group in itertools.groupby(rows, key=lambda r: r[2]):
                group = list(group)
                job_id, job, _, _, _, state, store_uri, key, spool = group[0]
                with open_ranges(state, store_uri, key, spool, s3_for_job(job)) as read:
                    for row in group:
                        member = read(row[3], row[4])
                        found += [(job_id, url) for url, _how in _outlinks(member)]
        before = {row[0] for row in conn.execute("SELECT id FROM temp.export_ids")}
        for job_id, url in found:
            conn.execute(
                "INSERT OR IGNORE INTO temp.export_ids SELECT id, 0 FROM captures"
                " WHERE job_id = ? AND url = ? ORDER BY captured_at DESC LIMIT 1",
                (job_id, url),
            )
        conn.execute(
            "INSERT OR IGNORE INTO temp.export_ids SELECT p.revisit_of, 0 FROM captures p"
            " JOIN temp.export_ids e ON e.id = p.id WHERE p.revisit_of IS NOT NULL"
        )
        todo = [r[0] for r in conn.execute("SELECT id FROM temp.export_ids") if r[0] not in before]
    return chosen


_COLUMNS = """
SELECT c.id, c.url, c.kind, c.state, c.captured_at, c.title, c.http_status, {chosen},
       c.record_id, c.record_digest, c.payload_digest,
       c.warc_file, c.warc_offset, c.warc_length, c.request_offset, c.request_length,
       c.metadata_offset, c.metadata_length,
       j.name, w.state, w.store_uri, w.storage_key, w.spool_path, w.warcinfo_length,
       (SELECT group_concat(r.warc_offset || ' ' || r.warc_length, ',')
          FROM capture_resources r WHERE r.capture_id = c.id) AS resources
"""
# A whole job: straight from the captures_job_file index, in file and offset order.
JOB_ROWS = (
    _COLUMNS.format(chosen="1")
    + """
FROM captures c
JOIN jobs j ON j.id = c.job_id
LEFT JOIN warc_files w ON w.name = c.warc_file
WHERE j.name = ?
ORDER BY c.job_id, c.warc_file, c.warc_offset
"""
)
CHOSEN_ROWS = (
    _COLUMNS.format(chosen="e.chosen")
    + """
FROM temp.export_ids e
JOIN captures c ON c.id = e.id
JOIN jobs j ON j.id = c.job_id
LEFT JOIN warc_files w ON w.name = c.warc_file
ORDER BY c.warc_file, c.warc_offset
"""
)


def originals_outside(job: str) -> Selection:
    return Selection(
        "c.id IN (SELECT r.revisit_of FROM captures r JOIN jobs rj ON rj.id = r.job_id"
        " WHERE rj.name = ? AND r.revisit_of IS NOT NULL) AND j.name != ?",
        (job, job),
        f"originals of job {job}",
        expand=False,
    )


class FileRows:
    """The selected rows of one WARC file at a time, streamed from the catalog cursor."""

    def __init__(self, cursor: sqlite3.Cursor):
        self._rows = (tuple(row) for row in cursor)
        self._peek = next(self._rows, None)

    def next_file(self) -> tuple[SourceFile, Iterator[tuple]] | None:
        if self._peek is None:
            return None
        row = self._peek
        source = SourceFile(row[11], row[18], row[19], row[20], row[21], row[22], row[23] or 0)

        def rows() -> Iterator[tuple]:
            while self._peek is not None and self._peek[11] == source.name:
                yield self._peek
                self._peek = next(self._rows, None)

        return source, rows()

    def skip_failed(self) -> int:
        """Rows without records (failed fetches) sort first (no file); count and skip them."""
        skipped = 0
        while self._peek is not None and (self._peek[11] is None or self._peek[12] is None):
            skipped += 1
            self._peek = next(self._rows, None)
        return skipped


def entry_sizes(cursor: sqlite3.Cursor) -> dict[str, int]:
    """The bytes each WARC file's entry in the package will hold: its warcinfo record and
    the members ``row_members`` gives for its rows (what ``copy_file`` copies)."""
    files = FileRows(cursor)
    files.skip_failed()
    sizes: dict[str, int] = {}
    while (group := files.next_file()) is not None:
        source, rows = group
        total = sum(member.length for row in rows for member in row_members(row))
        sizes[source.name] = source.warcinfo_length + total
    return sizes


def _resource_ranges(text: str | None) -> list[tuple[int, int, str]]:
    """A browser capture's screenshot and DOM records: 'offset length,offset length'."""
    out = []
    for item in (text or "").split(","):
        if item:
            start, size = item.split()
            out.append((int(start), int(size), "resource"))
    return out


def row_members(row: tuple) -> Iterator[Member]:
    cid, record_id, block, payload = row[0], row[8], row[9], row[10]
    offset, length, req_offset, req_length, meta_offset, meta_length = row[12:18]
    parts = sorted(
        (start, size, kind)
        for start, size, kind in (
            (req_offset, req_length, "request"),
            (offset, length, "response"),
            (meta_offset, meta_length, "metadata"),
            *_resource_ranges(row[24]),
        )
        if start is not None and size
    )
    for start, size, kind in parts:
        yield Member(start, size, kind, cid, record_id, block, payload)
