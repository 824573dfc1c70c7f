"""WARC files: where each one is (spool or store), its size and whole-file SHA-256."""

from __future__ import annotations

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
            " closed_at = ? WHERE name = ?",
            (str(closed.path), closed.size, closed.sha256, iso_ms(utc_now()), closed.filename),
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


def index_stored(catalog: Catalog, filename: str, index_uri: str) -> None:
    with catalog.transaction() as conn:
        conn.execute("UPDATE warc_files SET index_uri = ? WHERE name = ?", (index_uri, filename))
