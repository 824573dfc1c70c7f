"""Proof of time in the catalog: each stored WARC file's line in its job's evidence
manifest, the manifests made from those lines, and the RFC 3161 timestamps over them.

A manifest is a snapshot: every line of its job at the time it was made, numbered 1, 2,
… per job, never changed afterwards (its bytes are what the authorities stamped). A
timestamp is ``pending`` until an authority's token is verified and kept, then
``stamped``; a pending one is retried by the next command that stamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archiver.catalog.db import Catalog, iso_ms, utc_now
from archiver.proof.manifest import manifest_body, manifest_line


def add_line(conn: Any, filename: str, storage_uri: str, version_id: str | None) -> None:
    """A stored file's manifest line (in the transaction that records it stored); a file
    stored again (the same bytes) keeps its first line."""
    row = conn.execute(
        "SELECT job_id, sha256, size, first_date, last_date FROM warc_files WHERE name = ?",
        (filename,),
    ).fetchone()
    if row is None or row["sha256"] is None:
        return
    line = manifest_line(
        sha256=row["sha256"], size=row["size"], name=filename, storage_uri=storage_uri,
        version_id=version_id, first_date=row["first_date"], last_date=row["last_date"],
    )  # fmt: skip
    conn.execute(
        "INSERT OR IGNORE INTO manifest_lines (job_id, warc_file, line, created_at)"
        " VALUES (?, ?, ?, ?)",
        (row["job_id"], filename, line, iso_ms(utc_now())),
    )


def add_missing_lines(catalog: Catalog) -> int:
    """Lines for stored files that have none (stored before manifests were kept; their
    WARC-Date range is unknown, written ``-``). Returns how many were added."""
    rows = catalog.conn.execute(
        "SELECT w.name, w.storage_uri, w.version_id FROM warc_files w WHERE w.state = 'stored'"
        " AND NOT EXISTS (SELECT 1 FROM manifest_lines l WHERE l.warc_file = w.name)"
        " ORDER BY w.stored_at"
    ).fetchall()
    with catalog.transaction() as conn:
        for name, uri, version in rows:
            add_line(conn, name, uri, version)
    return len(rows)


@dataclass(frozen=True)
class Manifest:
    id: int
    job: str
    number: int
    body: str
    sha256: str
    lines: int
    created_at: str
    storage_uri: str | None


_MANIFEST = (
    "SELECT m.id, j.name AS job, m.number, m.body, m.sha256, m.lines, m.created_at,"
    " m.storage_uri FROM manifests m JOIN jobs j ON j.id = m.job_id"
)


def _manifest(row: Any) -> Manifest:
    return Manifest(
        row["id"], row["job"], row["number"], row["body"], row["sha256"], row["lines"],
        row["created_at"], row["storage_uri"],
    )  # fmt: skip


def lines_without_manifest(catalog: Catalog, job: str | None = None) -> dict[str, int]:
    """Per job, how many stored files no manifest lists yet."""
    sql = (
        "SELECT j.name, (SELECT count(*) FROM manifest_lines l WHERE l.job_id = j.id)"
        " - COALESCE((SELECT max(m.lines) FROM manifests m WHERE m.job_id = j.id), 0)"
        " FROM jobs j"
    )
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " WHERE j.name = ?"
        params = (job,)
    return {row[0]: row[1] for row in catalog.conn.execute(sql, params) if row[1] > 0}


def jobs_with_new_lines(catalog: Catalog, job: str | None = None) -> list[str]:
    """Jobs with manifest lines that no manifest holds yet."""
    sql = (
        "SELECT j.name FROM jobs j WHERE (SELECT count(*) FROM manifest_lines l"
        " WHERE l.job_id = j.id) > COALESCE((SELECT max(m.lines) FROM manifests m"
        " WHERE m.job_id = j.id), 0)"
    )
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " AND j.name = ?"
        params = (job,)
    return [row[0] for row in catalog.conn.execute(sql + " ORDER BY j.id", params)]


def new_manifest(catalog: Catalog, job: str, sha256_of: Any) -> Manifest | None:
    """A new manifest of every line of ``job`` so far, if any line is new since the last
    one; None when there is nothing new (or another process made it meanwhile)."""
    from archiver.catalog.errors import DATABASE_ERRORS  # imports psycopg: not at start-up

    try:
        with catalog.transaction() as conn:
            job_row = conn.execute("SELECT id FROM jobs WHERE name = ?", (job,)).fetchone()
            if job_row is None:
                return None
            job_id = job_row[0]
            lines = [
                row[0]
                for row in conn.execute(
                    "SELECT line FROM manifest_lines WHERE job_id = ? ORDER BY id", (job_id,)
                )
            ]
            last = conn.execute(
                "SELECT max(number), COALESCE(max(lines), 0) FROM manifests WHERE job_id = ?",
                (job_id,),
            ).fetchone()
            if len(lines) <= last[1]:
                return None
            number = (last[0] or 0) + 1
            body = manifest_body(job, number, lines)
            digest = sha256_of(body.encode("utf-8"))
            created = iso_ms(utc_now())
            conn.execute(
                "INSERT INTO manifests (job_id, number, body, sha256, lines, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, number, body, digest, len(lines), created),
            )
            made = conn.execute(
                _MANIFEST + " WHERE m.job_id = ? AND m.number = ?", (job_id, number)
            ).fetchone()
            return _manifest(made)
    except DATABASE_ERRORS as exc:
        if "unique" in str(exc).lower():  # another process made this number first
            return None
        raise


def manifest_stored(catalog: Catalog, manifest_id: int, uri: str) -> None:
    with catalog.transaction() as conn:
        conn.execute("UPDATE manifests SET storage_uri = ? WHERE id = ?", (uri, manifest_id))


def unstored_manifests(catalog: Catalog, job: str | None = None) -> list[Manifest]:
    sql = _MANIFEST + " WHERE m.storage_uri IS NULL"
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " AND j.name = ?"
        params = (job,)
    return [_manifest(row) for row in catalog.conn.execute(sql + " ORDER BY m.id", params)]


def job_manifests(catalog: Catalog, job: str) -> list[Manifest]:
    rows = catalog.conn.execute(_MANIFEST + " WHERE j.name = ? ORDER BY m.number", (job,))
    return [_manifest(row) for row in rows]


def latest_manifests(catalog: Catalog, job: str | None = None) -> list[Manifest]:
    """Each job's newest manifest (it lists every file the job had stored when made)."""
    sql = (
        _MANIFEST + " WHERE m.number = (SELECT max(n.number) FROM manifests n"
        " WHERE n.job_id = m.job_id)"
    )
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " AND j.name = ?"
        params = (job,)
    return [_manifest(row) for row in catalog.conn.execute(sql + " ORDER BY m.id", params)]


def add_pending(catalog: Catalog, manifest_id: int, authorities: Sequence[str]) -> None:
    """Each authority owes the manifest a timestamp (kept once per authority)."""
    now = iso_ms(utc_now())
    with catalog.transaction() as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO timestamps (manifest_id, authority, state, created_at)"
            " VALUES (?, ?, 'pending', ?)",
            [(manifest_id, authority, now) for authority in authorities],
        )


@dataclass(frozen=True)
class Timestamp:
    id: int
    manifest_id: int
    job: str
    manifest_number: int
    authority: str
    state: str  # pending, stamped
    attempts: int
    last_error: str | None
    gen_time: str | None
    serial: str | None
    policy: str | None
    nonce: str | None
    token: str | None  # base64 of the TimeStampResp, as the authority sent it
    chain: str | None  # PEM: the TSA's certificate first, its root last
    token_uri: str | None
    chain_uri: str | None


_TIMESTAMP = (
    "SELECT t.id, t.manifest_id, j.name AS job, m.number, t.authority, t.state, t.attempts,"
    " t.last_error, t.gen_time, t.serial, t.policy, t.nonce, t.token, t.chain, t.token_uri,"
    " t.chain_uri FROM timestamps t JOIN manifests m ON m.id = t.manifest_id"
    " JOIN jobs j ON j.id = m.job_id"
)


def _timestamp(row: Any) -> Timestamp:
    return Timestamp(
        row["id"], row["manifest_id"], row["job"], row["number"], row["authority"],
        row["state"], row["attempts"], row["last_error"], row["gen_time"], row["serial"],
        row["policy"], row["nonce"], row["token"], row["chain"], row["token_uri"],
        row["chain_uri"],
    )  # fmt: skip


def pending_timestamps(
    catalog: Catalog, job: str | None = None, *, with_rejected: bool = False
) -> list[Timestamp]:
    """Timestamps still owed (and, ``with_rejected``, those whose last answer failed)."""
    states = "('pending', 'rejected')" if with_rejected else "('pending')"
    sql = _TIMESTAMP + f" WHERE t.state IN {states}"
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " AND j.name = ?"
        params = (job,)
    return [_timestamp(row) for row in catalog.conn.execute(sql + " ORDER BY t.id", params)]


def unstored_timestamps(catalog: Catalog, job: str | None = None) -> list[Timestamp]:
    sql = _TIMESTAMP + " WHERE t.state = 'stamped' AND t.token_uri IS NULL"
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " AND j.name = ?"
        params = (job,)
    return [_timestamp(row) for row in catalog.conn.execute(sql + " ORDER BY t.id", params)]


def manifest_timestamps(catalog: Catalog, manifest_id: int) -> list[Timestamp]:
    rows = catalog.conn.execute(
        _TIMESTAMP + " WHERE t.manifest_id = ? ORDER BY t.id", (manifest_id,)
    )
    return [_timestamp(row) for row in rows]


def stamp_failed(catalog: Catalog, timestamp_id: int, error: str) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE timestamps SET attempts = attempts + 1, last_error = ?"
            " WHERE id = ? AND state != 'stamped'",
            (error, timestamp_id),
        )


def stamp_rejected(catalog: Catalog, timestamp_id: int, error: str) -> None:
    """The authority's token did not verify: never trusted, not asked again."""
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE timestamps SET state = 'rejected', attempts = attempts + 1, last_error = ?"
            " WHERE id = ? AND state != 'stamped'",
            (error, timestamp_id),
        )


def stamped(
    catalog: Catalog, timestamp_id: int, *, gen_time: str, serial: str, policy: str,
    nonce: str | None, token: str, chain: str,
) -> bool:  # fmt: skip
    """Keep a verified token; False if one was kept for this timestamp already (two
    workers asked at once: the first kept stays, the one stored beside the WARCs)."""
    with catalog.transaction() as conn:
        cur = conn.execute(
            "UPDATE timestamps SET state = 'stamped', attempts = attempts + 1,"
            " last_error = NULL, gen_time = ?, serial = ?, policy = ?, nonce = ?, token = ?,"
            " chain = ?, stamped_at = ? WHERE id = ? AND state != 'stamped'",
            (gen_time, serial, policy, nonce, token, chain, iso_ms(utc_now()), timestamp_id),
        )
        return bool(cur.rowcount)


def timestamp_stored(catalog: Catalog, timestamp_id: int, token_uri: str, chain_uri: str) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE timestamps SET token_uri = ?, chain_uri = ? WHERE id = ?",
            (token_uri, chain_uri, timestamp_id),
        )


@dataclass(frozen=True)
class FileLine:
    """A WARC file's line in its job's manifest, with what the catalog holds of the file."""

    job: str
    warc_file: str
    line: str
    sha256: str | None
    size: int | None
    storage_key: str | None
    store_uri: str | None


def file_line(catalog: Catalog, filename: str) -> FileLine | None:
    row = catalog.conn.execute(
        "SELECT j.name, w.name, l.line, w.sha256, w.size, w.storage_key, w.store_uri"
        " FROM warc_files w JOIN jobs j ON j.id = w.job_id"
        " LEFT JOIN manifest_lines l ON l.warc_file = w.name WHERE w.name = ?",
        (filename,),
    ).fetchone()
    if row is None or row[2] is None:
        return None
    return FileLine(row[0], row[1], row[2], row[3], row[4], row[5], row[6])
