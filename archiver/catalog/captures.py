"""Capture rows: one per fetch of one URL at one time, never edited once written."""

from __future__ import annotations

import json
import sqlite3
import typing
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from operator import attrgetter

from archiver.capture_ids import new_capture_id, parse_capture_id
from archiver.catalog.bulk import json_insert, rows_json
from archiver.catalog.capturetls import TLS_JSON, TlsRow
from archiver.catalog.db import Catalog
from archiver.errors import NotFound
from archiver.urls import surt_key


@dataclass(frozen=True)
class CaptureRow:
    """What the recorder writes. ``id`` is assigned on insert."""

    url: str
    final_url: str | None
    surt: str
    seed_id: int | None
    job_id: int
    kind: str
    hops: int | None
    via: str | None
    captured_at: str
    state: str
    software: str
    truncated: str | None = None
    error: str | None = None
    http_status: int | None = None
    mime: str | None = None
    size: int | None = None
    title: str | None = None
    payload_digest: str | None = None
    record_digest: str | None = None
    record_id: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    request_offset: int | None = None
    request_length: int | None = None
    metadata_offset: int | None = None
    metadata_length: int | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    robots: str | None = None
    site_name: str | None = None
    published: str | None = None
    record_type: str = "response"  # or "revisit" (identical payload, or a 304)
    revisit_of: str | None = None  # the capture whose response record holds the payload
    etag: str | None = None  # validators the server sent, for conditional recapture
    last_modified: str | None = None
    quality: str | None = None  # browser captures: ok or suspect
    quality_reason: str | None = None  # why suspect: login wall, captcha, ...
    hop_path: str | None = None  # L, E, R letters from the seed ("" the seed itself)
    profile: str | None = None  # the login profile it was fetched as, kept if removed since
    # The vantage point it was fetched through, copied (the vantage may be removed later);
    # all None for a direct connection. Never the proxy's address or credentials.
    vantage: str | None = None
    vantage_country: str | None = None
    vantage_kind: str | None = None
    vantage_egress: str | None = None  # the address the egress probe saw, when one was set


@dataclass(frozen=True)
class ResourceRow:
    """A resource record made of a capture's page (a screenshot, the rendered DOM)."""

    kind: str
    target_uri: str
    record_id: str
    content_type: str
    size: int
    payload_digest: str
    record_digest: str
    warc_file: str
    warc_offset: int
    warc_length: int


_RESOURCE_FIELDS = [f.name for f in fields(ResourceRow)]


def insert_resources(conn: sqlite3.Connection, rows: Sequence[tuple[str, ResourceRow]]) -> None:
    """Insert (capture id, resource) pairs inside the caller's transaction."""
    columns = ", ".join(["capture_id", *_RESOURCE_FIELDS])
    marks = ", ".join("?" * (len(_RESOURCE_FIELDS) + 1))
    conn.executemany(
        f"INSERT INTO capture_resources ({columns}) VALUES ({marks})",
        [(capture_id, *(getattr(row, n) for n in _RESOURCE_FIELDS)) for capture_id, row in rows],
    )


@dataclass(frozen=True)
class Capture(CaptureRow):
    """A stored capture, joined with where its WARC file lives now."""

    id: str = ""
    job: str = ""
    seed_url: str | None = None
    storage_uri: str | None = None
    storage_key: str | None = None
    store_uri: str | None = None
    warc_state: str | None = None
    spool_path: str | None = None
    warcinfo_length: int | None = None
    resources_json: str | None = None  # its capture_resources rows, as a JSON array
    tls_json: str | None = None  # its capture_tls row, as a JSON object

    @property
    def resources(self) -> list[ResourceRow]:
        """The screenshot and DOM records of a browser capture, in the order written."""
        if not self.resources_json:
            return []
        rows = [ResourceRow(**item) for item in json.loads(self.resources_json)]
        return sorted(rows, key=lambda r: r.warc_offset)

    @property
    def tls(self) -> TlsRow | None:
        """Who served it, when it came over TLS (archiver/catalog/capturetls.py)."""
        if not self.tls_json:
            return None
        return TlsRow(**json.loads(self.tls_json))

    @property
    def vantage_point(self) -> dict[str, object] | None:
        """The vantage point it was fetched through (name, country, proxy kind, the
        egress address a probe saw); None for a direct connection."""
        if self.vantage is None:
            return None
        return {"name": self.vantage, "country": self.vantage_country, "kind": self.vantage_kind,
                "egress": self.vantage_egress}  # fmt: skip

    def to_json(self) -> dict[str, object]:
        return asdict(self)


_ROW_FIELDS = [f.name for f in fields(CaptureRow)]
_SELECT_TEMPLATE = """
SELECT c.*, j.name AS job, s.url AS seed_url, w.storage_uri, w.storage_key, w.store_uri,
       w.state AS warc_state, w.spool_path, w.warcinfo_length,
       (SELECT json_group_array(json_object({resource_columns}))
          FROM capture_resources r WHERE r.capture_id = c.id HAVING COUNT(*) > 0
       ) AS resources_json,
       {tls_json} AS tls_json
FROM captures c
JOIN jobs j ON j.id = c.job_id
LEFT JOIN seeds s ON s.id = c.seed_id
LEFT JOIN warc_files w ON w.name = c.warc_file
"""
_SELECT = _SELECT_TEMPLATE.format(
    resource_columns=", ".join(f"'{name}', r.{name}" for name in _RESOURCE_FIELDS),
    tls_json=TLS_JSON,
)


# Rows a statement at most on SQLite (its limit on a statement's parameters is 32,766).
INSERT_CHUNK = 8


def insert_captures(conn: sqlite3.Connection, rows: Sequence[CaptureRow]) -> list[str]:
    """Insert rows inside the caller's transaction; returns their new capture ids.

    Many rows a statement: one round trip to PostgreSQL for all of them. An id taken
    already (23^8 of them: a few per million captures) inserts nothing and is not
    returned; those rows draw other ids and go again. An error instead would abort
    PostgreSQL's transaction."""
    ids = [""] * len(rows)
    todo = list(range(len(rows)))
    insert = _insert_json if getattr(conn, "dialect", "sqlite") == "postgresql" else _insert_rows
    while todo:
        drawn = {index: new_capture_id() for index in todo}
        if len(set(drawn.values())) < len(drawn):  # the same id drawn twice: draw again
            continue
        inserted = insert(conn, [(drawn[index], rows[index]) for index in todo])
        for index in todo:
            if drawn[index] in inserted:
                ids[index] = drawn[index]
        todo = [index for index in todo if not ids[index]]
    return ids


_COLUMNS = ", ".join(["id", *_ROW_FIELDS])
_ROW_VALUES = attrgetter(*_ROW_FIELDS)


def _insert_rows(conn: sqlite3.Connection, rows: list[tuple[str, CaptureRow]]) -> set[str]:
    """SQLite: up to INSERT_CHUNK rows a statement; returns the ids inserted."""
    row_marks = "(" + ", ".join("?" * (len(_ROW_FIELDS) + 1)) + ")"
    inserted: set[str] = set()
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        values: list[object] = []
        for capture_id, row in chunk:
            values += [capture_id, *_ROW_VALUES(row)]
        inserted.update(
            found[0]
            for found in conn.execute(
                f"INSERT INTO captures ({_COLUMNS}) VALUES {', '.join([row_marks] * len(chunk))}"
                " ON CONFLICT (id) DO NOTHING RETURNING id",
                values,
            ).fetchall()
        )
    return inserted


def _column_kinds() -> list[tuple[str, str]]:
    """Each column with its PostgreSQL type, from CaptureRow's annotations."""
    hints = typing.get_type_hints(CaptureRow)
    return [(name, "bigint" if int in (hints[name], *typing.get_args(hints[name])) else "text")
            for name in _ROW_FIELDS]  # fmt: skip


# PostgreSQL: all the rows in one statement with one parameter (archiver/catalog/bulk.py).
# A statement with a parameter a value (41 a row) was parsed again by psycopg at every
# call, and cost the crawl's thread three times the CPU.
_INSERT_JSON = (
    json_insert("captures", [("id", "text"), *_column_kinds()])
    + " ON CONFLICT (id) DO NOTHING RETURNING id"
)


def _insert_json(conn: sqlite3.Connection, rows: list[tuple[str, CaptureRow]]) -> set[str]:
    """PostgreSQL: every row in one statement; returns the ids inserted."""
    values = rows_json([(capture_id, *_ROW_VALUES(row)) for capture_id, row in rows])
    return {found[0] for found in conn.execute(_INSERT_JSON, (values,)).fetchall()}


def _from_row(row: sqlite3.Row) -> Capture:
    names = {f.name for f in fields(Capture)}
    return Capture(**{key: value for key, value in dict(row).items() if key in names})


def get_capture(catalog: Catalog, capture_id: str) -> Capture:
    canonical = parse_capture_id(capture_id)
    row = catalog.conn.execute(_SELECT + " WHERE c.id = ?", (canonical,)).fetchone()
    if row is None:
        raise NotFound(f"no capture with id {canonical}: list captures with 'archiver captures'")
    return _from_row(row)


def find_captures(
    catalog: Catalog,
    *,
    url: str | None = None,
    surt_prefix: str | None = None,
    seed_id: int | None = None,
    job: str | None = None,
    since: str | None = None,
    until: str | None = None,
    http_statuses: Sequence[tuple[int, int]] = (),
    limit: int | None = None,
) -> list[Capture]:
    """Captures oldest first: of a URL (by SURT, or by a SURT prefix), a seed, a job,
    captured between ``since`` and ``until`` (catalog times, both included), with an HTTP
    status in one of the ``(low, high)`` ranges."""
    sql = _SELECT + " WHERE 1=1"
    params: list[object] = []
    if url is not None:
        # By SURT as well, as the Wayback Machine and pywb look URLs up: default ports,
        # case and a leading "www." do not split one page's captures.
        sql += " AND (c.surt = ? OR c.url = ?)"
        params += [surt_key(url), url]
    if surt_prefix is not None:
        # substr, not LIKE: LIKE ignores case on SQLite and not on PostgreSQL.
        sql += " AND substr(c.surt, 1, ?) = ?"
        params += [len(surt_prefix), surt_prefix]
    if seed_id is not None:
        sql += " AND c.seed_id = ?"
        params.append(seed_id)
    if job is not None:
        sql += " AND j.name = ?"
        params.append(job)
    if since is not None:
        sql += " AND c.captured_at >= ?"
        params.append(since)
    if until is not None:
        sql += " AND c.captured_at <= ?"
        params.append(until)
    if http_statuses:
        sql += " AND (" + " OR ".join(["c.http_status BETWEEN ? AND ?"] * len(http_statuses)) + ")"
        params += [bound for pair in http_statuses for bound in pair]
    sql += " ORDER BY c.captured_at, c.rowid"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_from_row(row) for row in catalog.conn.execute(sql, params)]


@dataclass(frozen=True)
class Original:
    """The last full capture of a URL whose payload a recapture may refer to."""

    capture_id: str
    record_id: str
    url: str
    captured_at: str
    payload_digest: str
    etag: str | None
    last_modified: str | None


def last_original(conn: sqlite3.Connection, url: str) -> Original | None:
    """The latest successful (2xx) capture of ``url``, resolved to the capture whose
    response record holds the payload (a revisit points at its original)."""
    row = conn.execute(
        "SELECT id, revisit_of, etag, last_modified FROM captures"
        " WHERE url = ? AND state = 'ok' AND http_status BETWEEN 200 AND 299"
        " AND payload_digest IS NOT NULL ORDER BY captured_at DESC, rowid DESC LIMIT 1",
        (url,),
    ).fetchone()
    if row is None:
        return None
    capture_id, revisit_of, etag, last_modified = row
    original = conn.execute(
        "SELECT id, record_id, url, captured_at, payload_digest FROM captures WHERE id = ?",
        (revisit_of or capture_id,),
    ).fetchone()
    if original is None or original[1] is None:
        return None
    return Original(*original, etag=etag, last_modified=last_modified)


def captured_before(conn: sqlite3.Connection, urls: list[str]) -> set[str]:
    """Which of ``urls`` have a successful capture that a revisit could refer to (one
    statement for a batch, where ``last_original`` is one per URL)."""
    import json

    rows = conn.execute(
        "SELECT DISTINCT url FROM captures WHERE url IN (SELECT value FROM json_each(?))"
        " AND state = 'ok' AND http_status BETWEEN 200 AND 299 AND payload_digest IS NOT NULL",
        (json.dumps(urls),),
    )
    return {row[0] for row in rows}


def count_for_seed(catalog: Catalog, seed_id: int) -> int:
    """How many captures (every state) were made for a seed."""
    row = catalog.conn.execute("SELECT COUNT(*) FROM captures WHERE seed_id = ?", (seed_id,))
    return int(row.fetchone()[0])


# A browser capture's visible text (its urn:text: record): what a watched browser seed is
# compared by, as its response is the page's shell. SQL for a capture aliased ``c``.
TEXT_DIGEST = (
    "(SELECT r.payload_digest FROM capture_resources r WHERE r.capture_id = c.id"
    " AND r.kind = 'text')"
)


@dataclass(frozen=True)
class LatestFetch:
    """The last capture a job made of a URL, as a watched seed's status is judged by."""

    capture_id: str
    digest: str | None  # of the visible text for a browser capture, else of the payload
    http_status: int | None
    truncated: str | None
    quality: str | None
    quality_reason: str | None
    vantage: str | None = None  # the vantage point it was fetched through (None: direct)


def latest_in_job(catalog: Catalog, job_id: int, url: str) -> LatestFetch | None:
    """The capture of ``url`` the job wrote last."""
    # dialect: sqlite (rowid: the insertion order of captures, whose key is text)
    row = catalog.conn.execute(
        f"SELECT c.id, COALESCE({TEXT_DIGEST}, c.payload_digest),"
        " c.http_status, c.truncated, c.quality, c.quality_reason, c.vantage FROM captures c"
        " WHERE c.job_id = ? AND c.url = ? ORDER BY c.rowid DESC LIMIT 1",
        (job_id, url),
    ).fetchone()
    return LatestFetch(*row) if row else None
