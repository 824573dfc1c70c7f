"""WARC files: where each one is (spool or store), its size and whole-file SHA-256."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.catalog import proofs
from archiver.catalog.db import Catalog, iso_ms, utc_now
from archiver.storage.base import StoredObject
from archiver.warc.writer import ClosedWarc, OpenedWarc


def file_opened(catalog: Catalog, job_id: int, opened: OpenedWarc) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "INSERT INTO warc_files (name, job_id, state, spool_path, warcinfo_id,"
            " warcinfo_length, created_at) VALUES (?, ?, 'open', ?, ?, ?, ?)",
            (
                opened.filename,
                job_id,
                str(opened.path),
                opened.warcinfo_id,
                opened.warcinfo_length,
                iso_ms(utc_now()),
            ),
        )


def file_closed(catalog: Catalog, closed: ClosedWarc) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE warc_files SET state = 'closed', spool_path = ?, size = ?, sha256 = ?,"
            " closed_at = ?, first_date = ?, last_date = ? WHERE name = ?",
            (
                str(closed.path),
                closed.size,
                closed.sha256,
                iso_ms(utc_now()),
                closed.first_date,
                closed.last_date,
                closed.filename,
            ),
        )


def file_stored(catalog: Catalog, filename: str, stored: StoredObject, store_uri: str) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE warc_files SET state = 'stored', store_uri = ?, storage_key = ?,"
            " storage_uri = ?, stored_at = ?, version_id = ?, etag = ? WHERE name = ?",
            (
                store_uri,
                stored.key,
                stored.uri,
                iso_ms(utc_now()),
                stored.version_id,
                stored.etag,
                filename,
            ),
        )
        proofs.add_line(conn, filename, stored.uri, stored.version_id)


def index_stored(catalog: Catalog, filename: str, index_uri: str) -> None:
    with catalog.transaction() as conn:
        conn.execute("UPDATE warc_files SET index_uri = ? WHERE name = ?", (index_uri, filename))


def file_removed(catalog: Catalog, filename: str) -> None:
    """Forget a file a crash left without one whole record (it is deleted from disk)."""
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM warc_files WHERE name = ?", (filename,))


@dataclass(frozen=True)
class FileOwner:
    job_id: int
    job: str


def owner(catalog: Catalog, filename: str) -> FileOwner | None:
    """The job a WARC file belongs to, if the catalog knows the file."""
    row = catalog.conn.execute(
        "SELECT w.job_id, j.name FROM warc_files w JOIN jobs j ON j.id = w.job_id WHERE w.name = ?",
        (filename,),
    ).fetchone()
    return FileOwner(row[0], row[1]) if row else None


@dataclass(frozen=True)
class OpenFile:
    name: str
    spool_path: str  # with its ``.open`` suffix


def open_files(catalog: Catalog, job: str) -> list[OpenFile]:
    """A job's files the catalog still has as open."""
    rows = catalog.conn.execute(
        "SELECT w.name, w.spool_path FROM warc_files w JOIN jobs j ON j.id = w.job_id"
        " WHERE j.name = ? AND w.state = 'open'",
        (job,),
    ).fetchall()
    return [OpenFile(row[0], row[1]) for row in rows]


def has_closed(catalog: Catalog, job: str) -> bool:
    """Does the job have closed files not yet in the store?"""
    row = catalog.conn.execute(
        "SELECT 1 FROM warc_files w JOIN jobs j ON j.id = w.job_id"
        " WHERE j.name = ? AND w.state = 'closed'",
        (job,),
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class ClosedFile:
    """A closed file waiting in the spool for the store."""

    job: str
    name: str
    spool_path: str
    sha256: str | None


def closed_files(catalog: Catalog, job: str | None = None) -> list[ClosedFile]:
    """Closed files not yet stored (of one job, or all), oldest first."""
    sql = (
        "SELECT j.name, w.name, w.spool_path, w.sha256 FROM warc_files w"
        " JOIN jobs j ON j.id = w.job_id WHERE w.state = 'closed'"
    )
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " AND j.name = ?"
        params = (job,)
    rows = catalog.conn.execute(sql + " ORDER BY w.created_at", params).fetchall()
    return [ClosedFile(row[0], row[1], row[2], row[3]) for row in rows]


@dataclass(frozen=True)
class UnindexedFile:
    """A closed or stored file without a CDXJ index yet."""

    job: str
    name: str
    state: str
    spool_path: str
    storage_key: str | None
    size: int | None


def unindexed_files(catalog: Catalog, job: str | None = None) -> list[UnindexedFile]:
    """Files (of one job, or all) that have no index and are no longer being written."""
    sql = (
        "SELECT j.name, w.name, w.state, w.spool_path, w.storage_key, w.size FROM warc_files w"
        " JOIN jobs j ON j.id = w.job_id WHERE w.index_uri IS NULL AND w.state != 'open'"
    )
    params: tuple[object, ...] = ()
    if job is not None:
        sql += " AND j.name = ?"
        params = (job,)
    return [UnindexedFile(*row) for row in catalog.conn.execute(sql, params).fetchall()]
