"""Reading what a crawl wrote, for assertions: every WARC in a home, its records, the catalog."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


def archiver(home: Path, *args: str, cwd: Path | None = None, timeout: float = 120):
    """Run the CLI in a subprocess, as a user would."""
    env = {**os.environ, "ARCHIVER_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "archiver", *args],
        cwd=cwd or home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Rec:
    file: Path
    offset: int
    length: int
    type: str
    headers: dict[str, str]
    http_headers: list[tuple[str, str]] | None
    status_line: str | None
    raw_block: bytes  # the record block as stored (HTTP head + body for http records)
    content: bytes  # payload with transfer- and content-encoding removed
    digest_problems: list[str]


def read_warc(path: Path) -> list[Rec]:
    out: list[Rec] = []
    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle, check_digests=True)
        for record in iterator:
            headers = dict(record.rec_headers.headers)
            http = record.http_headers
            content = record.content_stream().read()
            offset = iterator.get_record_offset()
            out.append(
                Rec(
                    file=path,
                    offset=offset,
                    length=0,
                    type=record.rec_type,
                    headers=headers,
                    http_headers=list(http.headers) if http else None,
                    status_line=f"{http.protocol} {http.statusline}" if http else None,
                    raw_block=b"",
                    content=content,
                    digest_problems=list(record.digest_checker.problems),
                )
            )
            iterator.read_to_end()
            out[-1].length = iterator.get_record_length()
    for rec in out:
        rec.raw_block = raw_block(path, rec.offset, rec.length)
    return out


def raw_block(path: Path, offset: int, length: int) -> bytes:
    """The record's block exactly as written (gzip member decompressed, WARC header cut)."""
    import gzip

    with open(path, "rb") as handle:
        handle.seek(offset)
        member = gzip.decompress(handle.read(length))
    head_end = member.index(b"\r\n\r\n") + 4
    content_length = next(
        int(line.split(b":", 1)[1])
        for line in member[:head_end].split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return member[head_end : head_end + content_length]


def warc_files(home: Path) -> list[Path]:
    return sorted(home.glob("warcs/**/*.warc.gz"))


def catalog_rows(home: Path, sql: str = "SELECT * FROM captures", params: tuple = ()) -> list[dict]:
    """Rows of the catalog the tests' commands use: the home's SQLite file, or the
    PostgreSQL database in ARCHIVER_CATALOG (the suite's PostgreSQL run)."""
    if os.environ.get("ARCHIVER_CATALOG"):
        from archiver.catalog import open_catalog

        catalog = open_catalog(os.environ["ARCHIVER_CATALOG"])
        try:
            rows = catalog.conn.execute(sql, params)
            return [dict(zip(row.keys(), row, strict=True)) for row in rows]
        finally:
            catalog.close()
    conn = sqlite3.connect(home / "catalog.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def captures_json(home: Path, *args: str) -> list[dict]:
    result = archiver(home, "captures", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
