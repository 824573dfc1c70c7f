"""Choosing what an export packages, and reading it from the catalog in file order.

``choose`` fills the catalog's export selection (archiver.catalog.exports) with the
selected captures and what their replay needs; the catalog streams their rows ordered
by WARC file and offset, so each file is read once, front to back, and ``FileRows``
hands them over one file at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from archiver.catalog import exports
from archiver.catalog.db import Catalog
from archiver.catalog.exports import ExportRow
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


def choose(catalog: Catalog, selection: Selection, s3_for_job: Callable[[str], Any]) -> int:
    """Fill the catalog's export selection with the selected captures and, unless a whole
    job was chosen, what they need to replay: the requisites and redirect targets their
    metadata records list (transitively: a stylesheet's fonts), captured in the same job,
    and the originals their revisit records refer to. Returns how many were chosen directly."""
    with catalog.transaction() as conn:
        return _choose(conn, selection, s3_for_job)


def _choose(conn: Any, selection: Selection, s3_for_job: Callable[[str], Any]) -> int:
    chosen = exports.start_selection(conn, selection.where, selection.params)
    if not selection.expand:
        return chosen
    todo = exports.selected_ids(conn)
    while todo:
        found: list[tuple[int, str]] = []
        for batch in exports.metadata_records(conn, todo):
            for _name, group in itertools.groupby(batch, key=lambda r: r.warc_file):
                group = list(group)
                first = group[0]
                with open_ranges(
                    first.file_state, first.store_uri, first.storage_key, first.spool_path,
                    s3_for_job(first.job),
                ) as read:  # fmt: skip
                    for record in group:
                        member = read(record.offset, record.length)
                        found += [(record.job_id, url) for url, _how in _outlinks(member)]
        before = set(exports.selected_ids(conn))
        exports.add_needed(conn, found)
        exports.add_revisit_originals(conn)
        todo = [cid for cid in exports.selected_ids(conn) if cid not in before]
    return chosen


class FileRows:
    """The selected rows of one WARC file at a time, streamed from the catalog cursor."""

    def __init__(self, rows: Iterable[ExportRow]):
        self._rows = iter(rows)
        self._peek = next(self._rows, None)

    def next_file(self) -> tuple[SourceFile, Iterator[ExportRow]] | None:
        if self._peek is None:
            return None
        row = self._peek
        source = SourceFile(
            row.warc_file, row.job, row.file_state, row.store_uri, row.storage_key,
            row.spool_path, row.warcinfo_length or 0,
        )  # fmt: skip

        def rows() -> Iterator[ExportRow]:
            while self._peek is not None and self._peek.warc_file == source.name:
                yield self._peek
                self._peek = next(self._rows, None)

        return source, rows()

    def skip_failed(self) -> int:
        """Rows without records (failed fetches) sort first (no file); count and skip them."""
        skipped = 0
        while self._peek is not None and (
            self._peek.warc_file is None or self._peek.warc_offset is None
        ):
            skipped += 1
            self._peek = next(self._rows, None)
        return skipped


def entry_sizes(rows: Iterable[ExportRow]) -> dict[str, int]:
    """The bytes each WARC file's entry in the package will hold: its warcinfo record and
    the members ``row_members`` gives for its rows (what ``copy_file`` copies)."""
    files = FileRows(rows)
    files.skip_failed()
    sizes: dict[str, int] = {}
    while (group := files.next_file()) is not None:
        source, rows = group
        total = sum(member.length for row in rows for member in row_members(row))
        sizes[source.name] = source.warcinfo_length + total
    return sizes


def _ranges(text: str | None, kind: str) -> list[tuple[int, int, str]]:
    """Records listed as 'offset length,offset length': a browser capture's screenshot
    and DOM records, the certificate record of a TLS connection."""
    out = []
    for item in (text or "").split(","):
        if item:
            start, size = item.split()
            out.append((int(start), int(size), kind))
    return out


def row_members(row: ExportRow) -> Iterator[Member]:
    parts = sorted(
        (start, size, kind)
        for start, size, kind in (
            (row.request_offset, row.request_length, "request"),
            (row.warc_offset, row.warc_length, "response"),
            (row.metadata_offset, row.metadata_length, "metadata"),
            *_ranges(row.resources, "resource"),
            *_ranges(row.tls, "metadata"),
        )
        if start is not None and size
    )
    for start, size, kind in parts:
        yield Member(
            start, size, kind, row.id, row.record_id, row.record_digest, row.payload_digest
        )
