"""Who served each capture: the TLS connection its exchange went over (version, cipher
suite), the certificate the server held (the host it names, its issuer, its SHA-256),
what checking it found, and where the record holding the whole chain is. One row per
capture made over TLS; a capture over plain HTTP has none."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class TlsRow:
    protocol: str | None  # the WARC-Protocol identifier: tls/1.3
    cipher_suite: str | None  # the IANA name: TLS_AES_256_GCM_SHA384
    subject_host: str | None  # the certificate's name covering the host (else its first)
    issuer: str | None  # "Let's Encrypt (R10)"
    verification: str  # ok, expired, name mismatch, self-signed, untrusted: <reason>
    leaf_sha256: str | None  # sha256:<hex> of the server certificate's DER bytes
    record_id: str  # the metadata record holding the chain (PEM) and fingerprints
    warc_file: str
    warc_offset: int
    warc_length: int


TLS_FIELDS = [f.name for f in fields(TlsRow)]


def insert_tls(conn: sqlite3.Connection, rows: Sequence[tuple[str, TlsRow]]) -> None:
    """Insert (capture id, TLS row) pairs inside the caller's transaction."""
    columns = ", ".join(["capture_id", *TLS_FIELDS])
    marks = ", ".join("?" * (len(TLS_FIELDS) + 1))
    conn.executemany(
        f"INSERT INTO capture_tls ({columns}) VALUES ({marks})",
        [(capture_id, *(getattr(row, n) for n in TLS_FIELDS)) for capture_id, row in rows],
    )


# A capture's TLS row as one JSON object (NULL when it has none), for a capture aliased ``c``.
TLS_JSON = "(SELECT json_object({columns}) FROM capture_tls t WHERE t.capture_id = c.id)".format(
    columns=", ".join(f"'{name}', t.{name}" for name in TLS_FIELDS)
)
