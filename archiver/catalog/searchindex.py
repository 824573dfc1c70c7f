"""The full-text search index: its own SQLite file (``HOME/search.sqlite``), rebuilt from
the catalog and the WARC records at will, never a source of truth.

An FTS5 table with the ``unicode61`` tokenizer over text in which every CJK character
stands alone (archiver/web/segment.py puts the spaces), so a query of two characters,
such as 删除, is the phrase of those two tokens and finds them side by side."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from archiver.errors import ArchiverError

_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(
    capture_id UNINDEXED, captured_at UNINDEXED, url, title, body,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS progress (id INTEGER PRIMARY KEY CHECK (id = 1), last_rowid INTEGER);
-- Catalog rowids the index passed with no capture there yet: on PostgreSQL a capture
-- numbered before another may be committed after it (by another worker), and is added
-- when it appears; a gap still empty after GAP_SECONDS (a rollback, a deletion) is let go.
CREATE TABLE IF NOT EXISTS gaps (rowid INTEGER PRIMARY KEY, noted REAL NOT NULL);
"""
GAP_SECONDS = 3600.0
GAPS_NOTED = 10_000  # at most this many a batch: a larger hole is deleted captures


RANKED = 1000  # the newest matches ordered by relevance; older ones only by time
_HIT = "capture_id, captured_at, url, title, snippet(docs, 4, char(2), char(3), ' … ', 24)"


@dataclass(frozen=True)
class Hit:
    capture_id: str
    captured_at: str
    url: str
    title: str
    snippet: str  # segmented text, with \x02 and \x03 around the matched tokens


class SearchIndex:
    def __init__(self, path: Path, *, writable: bool = False):
        self.path = path
        try:
            if writable:
                self.conn = sqlite3.connect(path, timeout=30)
                self.conn.executescript(_SCHEMA)
            else:
                self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
                self.conn.execute("SELECT 1 FROM progress LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise damaged(path, exc) from None

    def close(self) -> None:
        self.conn.close()

    def last_rowid(self) -> int:
        row = self.conn.execute("SELECT last_rowid FROM progress WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def add(
        self, docs: list[tuple[str, str, str, str, str]], since: int, last_rowid: int,
        missing: list[int] = (),  # type: ignore[assignment]
    ) -> bool:  # fmt: skip
        """Add (capture id, time, url, title, body) rows, all segmented, read from the
        catalog after ``since``, and note that the index now reaches ``last_rowid``, with
        the rowids it passed and found no capture at (``missing``); one transaction.
        False, and nothing added, when another process (a crawl, ``serve``) moved the
        index on since it was read: those captures are in it already."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")  # the progress read and written under one lock
            if self.last_rowid() != since:
                return False
            self.conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", docs)
            self.conn.executemany(
                "INSERT OR IGNORE INTO gaps (rowid, noted) VALUES (?, ?)",
                [(rowid, time.time()) for rowid in missing[:GAPS_NOTED]],
            )
            self.conn.execute(
                "INSERT INTO progress (id, last_rowid) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET last_rowid = excluded.last_rowid",
                (last_rowid,),
            )
        return True

    def gaps(self) -> list[int]:
        """The rowids passed with no capture, noted less than ``GAP_SECONDS`` ago (older
        ones are let go)."""
        with self.conn:
            self.conn.execute("DELETE FROM gaps WHERE noted < ?", (time.time() - GAP_SECONDS,))
        return [row[0] for row in self.conn.execute("SELECT rowid FROM gaps ORDER BY rowid")]

    def fill(self, found: dict[int, tuple[str, str, str, str, str] | None]) -> int:
        """Add the documents of captures that have appeared at gaps (by rowid; None for
        a failed fetch, which has none), each only if its gap is still open (another
        process may have filled it); how many gaps were filled."""
        if not found:
            return 0
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            marks = ", ".join("?" * len(found))
            still = [row[0] for row in self.conn.execute(
                f"SELECT rowid FROM gaps WHERE rowid IN ({marks})", list(found)
            )]  # fmt: skip
            self.conn.executemany(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?)", [found[r] for r in still if found[r]]
            )
            self.conn.execute(f"DELETE FROM gaps WHERE rowid IN ({marks})", list(found))
        return len(still)

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def search(self, match: str, *, limit: int, offset: int = 0) -> list[Hit]:
        """Documents matching an FTS5 query, the most recently indexed first: FTS5 walks
        its rowids and stops at the limit, however many match."""
        rows = self._rows(
            f"SELECT {_HIT} FROM docs WHERE docs MATCH ?"
            f" ORDER BY rowid DESC LIMIT {int(limit)} OFFSET {int(offset)}",
            (match,),
        )
        return [Hit(*row) for row in rows]

    def ranked(self, match: str, *, limit: int, offset: int = 0) -> list[Hit]:
        """The newest ``RANKED`` matches, those matching in the title first, then in the
        URL, then in the text only; the newest first within each.

        Not bm25: its weights need how many documents hold each word, which FTS5 counts
        over every match (85-175 ms for a common word at a million captures, whatever
        the limit). Which column matched is asked of the newest matches' rowid range
        only, so it costs what those rows cost."""
        newest = [r[0] for r in self._rows(
            f"SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rowid DESC LIMIT {RANKED}",
            (match,),
        )]  # fmt: skip
        if not newest:
            return []
        points = dict.fromkeys(newest, 0)
        for column, weight in (("title", 2), ("url", 1)):
            for (rowid,) in self._rows(
                "SELECT rowid FROM docs WHERE docs MATCH ? AND rowid >= ?",
                (f"{{{column}}} : ({match})", newest[-1]),
            ):
                if rowid in points:
                    points[rowid] += weight
        page = sorted(newest, key=lambda r: (-points[r], -r))[offset : offset + limit]
        if not page:
            return []
        found = {
            row[0]: Hit(*row[1:])
            for row in self._rows(
                f"SELECT rowid, {_HIT} FROM docs WHERE docs MATCH ?"
                f" AND rowid IN ({', '.join('?' * len(page))})",
                (match, *page),
            )
        }
        return [found[rowid] for rowid in page]

    def _rows(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "fts5" in str(exc):
                raise  # a query FTS5 cannot read, not a damaged file
            raise damaged(self.path, exc) from None


def damaged(path: Path, exc: Exception) -> ArchiverError:
    return ArchiverError(
        f"the search index {path} cannot be read ({exc}): rebuild it with"
        " 'archiver index --search' (it is made from the catalog and the WARC files)"
    )
