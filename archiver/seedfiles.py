"""Seed-list files (.txt, .csv, .json, .jsonl), or the same read from standard input.

``parse_seed_file`` reads a whole file (``parse_seed_data`` bytes already read):
problems with the file itself raise :class:`~archiver.errors.SeedFileError`; problems
with single rows are collected as :class:`RowError` so every bad row can be reported at
once. Each row is checked by :meth:`archiver.seedspec.SeedSpec.build`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import InvalidSeed, InvalidURL, SeedFileError
from archiver.seedspec import FIELDS, SeedFields, SeedSpec, excerpt

SUFFIXES = (".txt", ".csv", ".json", ".jsonl")
_ALIASES = {"tag": "tags", "nominated-by": "nominated_by"}
_ACCEPTED = ", ".join(FIELDS) + " (also 'tag' and 'nominated-by')"
_INLINE_COMMENT_RE = re.compile(r"\s+#")


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line number, or for .json arrays the 1-based entry index
    reason: str
    where: str = "line"  # "line" or "entry"

    def __str__(self) -> str:
        return f"{self.where} {self.line}: {self.reason}"


@dataclass(frozen=True)
class ParsedSeedFile:
    rows: tuple[tuple[int, SeedSpec], ...]  # (line number, spec), in file order
    errors: tuple[RowError, ...]
    unit: str = "line"  # what a row's number counts: "line", or "entry" in a .json array


class _Collector:
    def __init__(self, defaults: SeedFields | None) -> None:
        self.rows: list[tuple[int, SeedSpec]] = []
        self.errors: list[RowError] = []
        self.defaults = defaults

    def error(self, num: int, reason: str, where: str = "line") -> None:
        self.errors.append(RowError(num, reason, where))

    def build(self, num: int, fields: dict[str, Any], where: str = "line") -> None:
        try:
            spec = SeedSpec.build(**fields)
        except (InvalidURL, InvalidSeed) as exc:
            return self.error(num, str(exc), where)
        self.rows.append((num, self.defaults.fill(spec) if self.defaults else spec))

    def entry(self, num: int, value: object, where: str) -> None:
        """One JSON value: a URL string or an object with seed keys."""
        if isinstance(value, str):
            return self.build(num, {"url": value}, where)
        if not isinstance(value, dict):
            kind = {list: "an array", bool: "true/false", type(None): "null"}.get(
                type(value), "a number"
            )
            return self.error(
                num, f"expected an object with a 'url' key or a URL string, not {kind}", where
            )
        fields: dict[str, Any] = {}
        for key, item in value.items():
            name = _ALIASES.get(key.strip().lower(), key.strip().lower())
            if name not in FIELDS or name in fields:
                what = "repeats a field" if name in fields else "is unknown"
                return self.error(num, f"key {key!r} {what}: accepted keys are {_ACCEPTED}", where)
            fields[name] = item
        if fields.get("url") in (None, ""):
            return self.error(num, "missing 'url'", where)
        return self.build(num, fields, where)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    return enumerate(io.StringIO(text, newline=""), 1)


def _parse_txt(text: str, name: str, out: _Collector) -> None:
    for num, line in _lines(text):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        s = _INLINE_COMMENT_RE.split(s, maxsplit=1)[0]
        url, *extra = s.split(None, 1)
        if extra:
            out.error(
                num,
                f"unexpected text {excerpt(extra[0], 60)} after the URL {excerpt(url, 100)}: "
                "write one URL per line, encode spaces as %20, start comments with ' #'",
            )
        else:
            out.build(num, {"url": url})


def _csv_header(header: list[str], name: str) -> list[str | None]:
    columns = [_ALIASES.get(h.strip().lower(), h.strip().lower()) or None for h in header]
    if "url" not in columns and any(h.strip().lower().startswith("http") for h in header):
        raise SeedFileError(
            f"CSV seed file {name} has no header row: the first line must name the columns, "
            "e.g. 'url,tags,category'"
        )
    unknown = [h.strip() for h, c in zip(header, columns, strict=True) if c and c not in FIELDS]
    if unknown:
        raise SeedFileError(
            f"CSV seed file {name} has unknown column(s) {', '.join(map(repr, unknown))}: "
            f"accepted columns are {_ACCEPTED}"
        )
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise SeedFileError(f"CSV seed file {name} has column {repeated[0]!r} more than once")
    if "url" not in columns:
        raise SeedFileError(f"CSV seed file {name} has no 'url' column: add a header cell 'url'")
    return columns


def _parse_csv(text: str, name: str, out: _Collector) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise SeedFileError(f"CSV seed file {name} is empty: add a header row 'url,...'")
        columns = _csv_header(header, name)
        previous = reader.line_num
        for row in reader:
            num, previous = previous + 1, reader.line_num  # a quoted row may span lines
            if not any(cell.strip() for cell in row):
                continue
            if any(cell.strip() for cell in row[len(columns) :]):
                out.error(
                    num,
                    f"row has {len(row)} fields but the header has {len(columns)}: "
                    "put values that contain commas in double quotes",
                )
                continue
            fields = {c: cell for c, cell in zip(columns, row, strict=False) if c}
            if not fields.get("url", "").strip():
                out.error(num, "missing URL in the 'url' column")
                continue
            out.build(num, fields)
    except csv.Error as exc:
        raise SeedFileError(f"CSV seed file {name} line {reader.line_num}: {exc}") from None


def _parse_json(text: str, name: str, out: _Collector) -> None:
    if not text.strip():
        raise SeedFileError(f"JSON seed file {name} is empty: expected an array of seeds")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedFileError(
            f"JSON seed file {name} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}): fix the syntax there"
        ) from None
    except RecursionError:
        raise SeedFileError(
            f"JSON seed file {name} is nested too deeply: expected an array of seed objects"
        ) from None
    entries = data.get("seeds") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SeedFileError(
            f"JSON seed file {name} must hold an array of seeds or an object with a 'seeds' array"
        )
    for num, entry in enumerate(entries, 1):
        out.entry(num, entry, "entry")


def _parse_jsonl(text: str, name: str, out: _Collector) -> None:
    for num, line in _lines(text):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            out.error(num, f"not valid JSON (column {exc.colno}: {exc.msg})")
            continue
        except RecursionError:
            out.error(num, "JSON nested too deeply: expected a seed object or a URL string")
            continue
        out.entry(num, value, "line")


_PARSERS = {".txt": _parse_txt, ".csv": _parse_csv, ".json": _parse_json, ".jsonl": _parse_jsonl}
FORMATS = tuple(suffix.lstrip(".") for suffix in SUFFIXES)


def _decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SeedFileError(f"seed file {name} is UTF-16 encoded: save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        hint = " (an Excel or zip file? export it as CSV UTF-8)" if data[:2] == b"PK" else ""
        raise SeedFileError(
            f"seed file {name} looks binary: it has a NUL byte at byte offset "
            f"{nul}{hint}; seed files must be UTF-8 text"
        )
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + bom
        line = data[:offset].count(b"\n") + 1
        raise SeedFileError(
            f"seed file {name} is not valid UTF-8 (byte 0x{data[offset]:02X} at byte offset "
            f"{offset}, line {line}): save it as UTF-8 and try again"
        ) from None


def parse_seed_data(
    data: bytes, name: str, fmt: str, defaults: SeedFields | None = None
) -> ParsedSeedFile:
    """Parse a seed list held in memory (``fmt``: txt, csv, json or jsonl). ``name`` names
    it in messages; ``defaults`` are given to every row (see :meth:`SeedFields.fill`)."""
    parser = _PARSERS.get("." + fmt.lower())
    if parser is None:
        raise SeedFileError(f"unknown seed list format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = _Collector(defaults)
    parser(_decode(data, name), name, out)
    unit = "entry" if parser is _parse_json else "line"
    return ParsedSeedFile(rows=tuple(out.rows), errors=tuple(out.errors), unit=unit)


def parse_seed_file(
    path: str | os.PathLike[str], defaults: SeedFields | None = None, fmt: str | None = None
) -> ParsedSeedFile:
    """Parse a seed list; the format is ``fmt``, else chosen by the file extension."""
    p = Path(path)
    name = repr(os.fspath(p))
    if p.is_dir():
        raise SeedFileError(f"seed file {name} is a directory: give the path of a file")
    if not p.exists():
        raise SeedFileError(f"seed file {name} not found: check the path")
    if fmt is None and p.suffix.lower() not in _PARSERS:
        raise SeedFileError(
            f"seed file {name} has unsupported extension {p.suffix!r}: "
            f"use one of {', '.join(SUFFIXES)} (or say which with --format)"
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SeedFileError(f"cannot read seed file {name}: {exc.strerror or exc}") from None
    return parse_seed_data(data, name, fmt or p.suffix.lstrip("."), defaults)
