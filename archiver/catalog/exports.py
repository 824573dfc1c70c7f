"""What an export reads: the captures it packages, held in a temporary table while it
runs, and their rows in WARC file and offset order.

``start_selection`` fills ``temp.export_ids`` with the chosen captures; the export
adds what their replay needs (``add_needed``, ``add_revisit_originals``), then reads
``job_rows`` or ``chosen_rows`` twice inside one ``read_snapshot``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from archiver.catalog.db import Catalog

BATCH = 500  # ids bound in one statement


class ExportRow(NamedTuple):
    """A capture to package, with its WARC file's whereabouts."""

    id: str
    url: str
    kind: str
    state: str
    captured_at: str
    title: str | None
    http_status: int | None
    chosen: int  # 1: selected; 0: needed by the selected ones to replay
    record_id: str | None
    record_digest: str | None
    payload_digest: str | None
    warc_file: str | None
    warc_offset: int | None
    warc_length: int | None
    request_offset: int | None
    request_length: int | None
    metadata_offset: int | None
    metadata_length: int | None
    job: str
    file_state: str | None
    store_uri: str | None
    storage_key: str | None
    spool_path: str | None
    warcinfo_length: int | None
    resources: str | None  # the capture's resource records: 'offset length,offset length'
    tls: str | None  # 'offset length' of the TLS certificate record written with it


@dataclass(frozen=True)
class MetadataRecord:
    """Where a chosen capture's metadata record is, to read its outlinks."""

    job_id: int
    job: str
    warc_file: str
    offset: int
    length: int
    file_state: str
    store_uri: str | None
    storage_key: str | None
    spool_path: str | None


def captures_in_job(catalog: Catalog, job: str) -> int:
    row = catalog.conn.execute(
        "SELECT COUNT(*) FROM captures c JOIN jobs j ON j.id = c.job_id WHERE j.name = ?",
        (job,),
    ).fetchone()
    return int(row[0])


def start_selection(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> int:
    """A fresh ``temp.export_ids`` holding the captures matching ``where`` (a condition on
    captures ``c`` joined with jobs ``j``), marked chosen. Returns how many."""
    # dialect: sqlite (a temporary table in the temp schema)
    conn.execute("DROP TABLE IF EXISTS temp.export_ids")
    conn.execute("CREATE TEMP TABLE export_ids (id TEXT PRIMARY KEY, chosen INTEGER)")
    conn.execute(
        "INSERT INTO temp.export_ids (id, chosen) SELECT c.id, 1 FROM captures c"
        f" JOIN jobs j ON j.id = c.job_id WHERE {where} ON CONFLICT (id) DO NOTHING",
        tuple(params),
    )
    return int(conn.execute("SELECT COUNT(*) FROM temp.export_ids").fetchone()[0])


def start_originals_outside(conn: sqlite3.Connection, job: str) -> int:
    """A fresh selection of the originals that revisits in ``job`` refer to in earlier jobs."""
    return start_selection(
        conn,
        "c.id IN (SELECT r.revisit_of FROM captures r JOIN jobs rj ON rj.id = r.job_id"
        " WHERE rj.name = ? AND r.revisit_of IS NOT NULL) AND j.name != ?",
        (job, job),
    )


def selected_ids(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT id FROM temp.export_ids")]


def metadata_records(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> Iterator[list[MetadataRecord]]:
    """The metadata records of these captures, a batch of ids at a time, each batch in
    file and offset order."""
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        marks = ",".join("?" * len(batch))
        rows = conn.execute(
            "SELECT c.job_id, j.name, c.warc_file, c.metadata_offset, c.metadata_length,"
            " w.state, w.store_uri, w.storage_key, w.spool_path FROM captures c"
            " JOIN jobs j ON j.id = c.job_id JOIN warc_files w ON w.name = c.warc_file"
            f" WHERE c.id IN ({marks}) AND c.metadata_length IS NOT NULL"
            " ORDER BY c.warc_file, c.metadata_offset",
            batch,
        ).fetchall()
        yield [MetadataRecord(*row) for row in rows]


def add_needed(conn: sqlite3.Connection, found: Iterable[tuple[int, str]]) -> None:
    """Add the latest capture of each (job id, url) to the selection, as needed (not chosen)."""
    for job_id, url in found:
        conn.execute(
            "INSERT INTO temp.export_ids (id, chosen) SELECT id, 0 FROM captures"
            " WHERE job_id = ? AND url = ? ORDER BY captured_at DESC LIMIT 1"
            " ON CONFLICT (id) DO NOTHING",
            (job_id, url),
        )


def add_revisit_originals(conn: sqlite3.Connection) -> None:
    """Add the originals the selection's revisit records refer to."""
    conn.execute(
        "INSERT INTO temp.export_ids (id, chosen) SELECT p.revisit_of, 0 FROM captures p"
        " JOIN temp.export_ids e ON e.id = p.id WHERE p.revisit_of IS NOT NULL"
        " ON CONFLICT (id) DO NOTHING"
    )


def drop_selection(catalog: Catalog) -> None:
    with catalog.transaction() as conn:
        conn.execute("DROP TABLE IF EXISTS temp.export_ids")


@contextmanager
def read_snapshot(catalog: Catalog) -> Iterator[None]:
    """Reads inside see one snapshot: rows a running crawl commits meanwhile are not
    seen (a WAL reader keeps its snapshot until it commits)."""
    conn = catalog.conn
    # PostgreSQL's default (READ COMMITTED) gives each statement a snapshot of its own.
    conn.execute(
        "BEGIN" if catalog.dialect == "sqlite" else "BEGIN ISOLATION LEVEL REPEATABLE READ"
    )
    try:
        yield
    finally:
        conn.commit()


# dialect: sqlite (group_concat; PostgreSQL has string_agg and needs casts for ||)
# A TLS connection's certificate record is copied with the capture it was written with
# (after that capture's request record): once per file, as it is stored.
_COLUMNS = """
SELECT c.id, c.url, c.kind, c.state, c.captured_at, c.title, c.http_status, {chosen},
       c.record_id, c.record_digest, c.payload_digest,
       c.warc_file, c.warc_offset, c.warc_length, c.request_offset, c.request_length,
       c.metadata_offset, c.metadata_length,
       j.name, w.state, w.store_uri, w.storage_key, w.spool_path, w.warcinfo_length,
       (SELECT group_concat(r.warc_offset || ' ' || r.warc_length, ',')
          FROM capture_resources r WHERE r.capture_id = c.id) AS resources,
       (SELECT t.warc_offset || ' ' || t.warc_length FROM capture_tls t
          WHERE t.capture_id = c.id AND t.warc_offset > c.request_offset) AS tls
"""
# A whole job: straight from the captures_job_file index, in file and offset order.
# Failed fetches (no file) first on both engines: NULLs sort first in SQLite, last in
# PostgreSQL, hence NULLS FIRST (SQLite's own order, so its index still serves it).
_JOB_ROWS = (
    _COLUMNS.format(chosen="1")
    + """
FROM captures c
JOIN jobs j ON j.id = c.job_id
LEFT JOIN warc_files w ON w.name = c.warc_file
WHERE j.name = ?
ORDER BY c.job_id, c.warc_file NULLS FIRST, c.warc_offset NULLS FIRST
"""
)
_CHOSEN_ROWS = (
    _COLUMNS.format(chosen="e.chosen")
    + """
FROM temp.export_ids e
JOIN captures c ON c.id = e.id
JOIN jobs j ON j.id = c.job_id
LEFT JOIN warc_files w ON w.name = c.warc_file
ORDER BY c.warc_file NULLS FIRST, c.warc_offset NULLS FIRST
"""
)


def _stream(catalog: Catalog, query: str, params: tuple[Any, ...]) -> Iterator[ExportRow]:
    cursor = catalog.conn.execute(query, params)
    try:
        for row in cursor:
            yield ExportRow(*row)
    finally:
        cursor.close()


def job_rows(catalog: Catalog, job: str) -> Iterator[ExportRow]:
    """Every capture of ``job``, failed fetches (no file) first, then in file and offset order."""
    return _stream(catalog, _JOB_ROWS, (job,))


def chosen_rows(catalog: Catalog) -> Iterator[ExportRow]:
    """The selection's captures, failed fetches (no file) first, then in file and offset order."""
    return _stream(catalog, _CHOSEN_ROWS, ())


# What an export selects: a WHERE clause on captures ``c`` joined with jobs ``j``.


def where_job(job: str) -> tuple[str, tuple[Any, ...]]:
    return "j.name = ?", (job,)


def where_seed(seed_id: int) -> tuple[str, tuple[Any, ...]]:
    return "c.seed_id = ?", (seed_id,)


def where_url(surt: str, url: str) -> tuple[str, tuple[Any, ...]]:
    return "(c.surt = ? OR c.url = ?)", (surt, url)


def where_ids(capture_ids: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    return "c.id IN (SELECT value FROM json_each(?))", (json.dumps(list(capture_ids)),)
