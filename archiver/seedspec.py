"""Seed specifications and seed-list files (.txt, .csv, .json, .jsonl).

``SeedSpec.build`` validates one seed. ``parse_seed_file`` reads a whole file: problems
with the file itself raise :class:`~archiver.errors.SeedFileError`; problems with single
rows are collected as :class:`RowError` so every bad row can be reported at once.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import InvalidSeed, InvalidURL, SeedFileError
from archiver.urls import normalize_url

CATEGORIES = ("social", "news", "ngo", "other")
SCOPES = ("page", "prefix", "host", "site", "domain")
ROBOTS = ("obey", "ignore")
RISKS = ("low", "medium", "high")
FIELDS = (
    "url", "tags", "category", "scope", "depth", "robots", "risk", "note", "nominated_by",
    "browser", "include", "exclude",
)  # fmt: skip
SUFFIXES = (".txt", ".csv", ".json", ".jsonl")
MAX_TAG, MAX_NOTE, MAX_NOMINATED_BY = 100, 2000, 200
MAX_PATTERN, MAX_PATTERNS = 1000, 100

_ALIASES = {"tag": "tags", "nominated-by": "nominated_by"}
_ACCEPTED = ", ".join(FIELDS) + " (also 'tag' and 'nominated-by')"
_TAG_SEP_RE = re.compile(r"[;,|]")
_INLINE_COMMENT_RE = re.compile(r"\s+#")


def _show(value: object, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:limit] + "..." if len(text) > limit else text)


def _choice(field: str, value: object, allowed: tuple[str, ...], default: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    choice = value.strip().lower() if isinstance(value, str) else None
    if choice not in allowed:
        raise InvalidSeed(f"invalid {field} {_show(value)}: choose one of {', '.join(allowed)}")
    return choice


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = _TAG_SEP_RE.split(value)
    elif isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        items = value
    else:
        raise InvalidSeed(f"invalid tags {_show(value)}: give a list of tags or 'a;b;c'")
    tags: list[str] = []
    seen: set[str] = set()
    for item in items:
        tag = item.strip() if isinstance(item, str) else None
        if tag is None or _TAG_SEP_RE.search(tag) or not tag.isprintable() or len(tag) > MAX_TAG:
            raise InvalidSeed(
                f"invalid tag {_show(item, 60)}: a tag is text of at most {MAX_TAG} printable "
                "characters without ',', ';' or '|' (they separate tags)"
            )
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tuple(tags)


def compile_pattern(field: str, pattern: str) -> re.Pattern[str]:
    """One URL regex, checked now so a bad one is named before anything is crawled."""
    if not pattern or len(pattern) > MAX_PATTERN or not pattern.isprintable():
        raise InvalidSeed(
            f"invalid {field} regex {_show(pattern, 60)}: give a regular expression of 1 to"
            f" {MAX_PATTERN} printable characters"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidSeed(
            f"invalid {field} regex {_show(pattern, 100)}: {exc} (Python regular expression"
            " syntax; escape a literal '.', '?', '+' or '(' with a backslash)"
        ) from None


def patterns(field: str, value: object) -> tuple[str, ...]:
    """URL regexes: a list (each item one regex), or a text holding several separated by
    whitespace (a URL has no spaces; match one with ``\\s`` or ``%20``)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.split())
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise InvalidSeed(
            f"invalid {field} {_show(value)}: give a list of regexes or several separated by spaces"
        )
    found: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidSeed(f"invalid {field} regex {_show(item, 60)}: must be text")
        pattern = item.strip()
        if not pattern:
            continue
        compile_pattern(field, pattern)
        if pattern not in found:
            found.append(pattern)
    if len(found) > MAX_PATTERNS:
        raise InvalidSeed(f"too many {field} regexes ({len(found)}): at most {MAX_PATTERNS}")
    return tuple(found)


MAX_DEPTH = 10_000  # beyond any real site; keeps values inside SQLite's integer range


def _depth(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        number = -1
    if number < 0 or number > MAX_DEPTH:
        raise InvalidSeed(
            f"invalid depth {_show(value)}: use a whole number from 0 to {MAX_DEPTH}, "
            "or leave it empty for the scope's default"
        )
    return number


_TRUE = ("1", "true", "yes", "y", "browser")
_FALSE = ("", "0", "false", "no", "n", "http")


def _flag(field: str, value: object) -> bool:
    """A yes/no column: true/false, yes/no, 1/0 (empty: no)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidSeed(f"invalid {field} {_show(value)}: use yes or no (true/false, 1/0)")


def _text(field: str, value: object, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidSeed(f"invalid {field} {_show(value)}: must be text")
    text = value.strip()
    if len(text) > limit:
        raise InvalidSeed(
            f"{field} too long ({len(text)} characters, starting {_show(text, 40)}): "
            f"keep it to at most {limit} characters"
        )
    return text


@dataclass(frozen=True)
class SeedSpec:
    url: str  # normalized
    tags: tuple[str, ...] = ()
    category: str = "other"
    scope: str = "page"
    depth: int | None = None
    robots: str = "obey"
    risk: str = "medium"
    note: str = ""
    nominated_by: str = ""
    browser: bool = False  # captured with a headless browser (JavaScript-rendered pages)
    include: tuple[str, ...] = ()  # URL regexes followed besides the scope (spiders/scope.py)
    exclude: tuple[str, ...] = ()  # URL regexes never followed as links

    @classmethod
    def build(
        cls,
        url: str,
        *,
        tags: str | Iterable[str] | None = (),
        category: str | None = None,
        scope: str | None = None,
        depth: int | str | None = None,
        robots: str | None = None,
        risk: str | None = None,
        note: str | None = None,
        nominated_by: str | None = None,
        browser: bool | str | None = None,
        include: str | Iterable[str] | None = (),
        exclude: str | Iterable[str] | None = (),
    ) -> SeedSpec:
        """Validate every field (None or "" means default); raise InvalidURL / InvalidSeed."""
        return cls(
            url=normalize_url(url),
            tags=_tags(tags),
            category=_choice("category", category, CATEGORIES, "other"),
            scope=_choice("scope", scope, SCOPES, "page"),
            depth=_depth(depth),
            robots=_choice("robots", robots, ROBOTS, "obey"),
            risk=_choice("risk", risk, RISKS, "medium"),
            note=_text("note", note, MAX_NOTE),
            nominated_by=_text("nominated_by", nominated_by, MAX_NOMINATED_BY),
            browser=_flag("browser", browser),
            include=patterns("include", include),
            exclude=patterns("exclude", exclude),
        )


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


class _Collector:
    def __init__(self) -> None:
        self.rows: list[tuple[int, SeedSpec]] = []
        self.errors: list[RowError] = []

    def error(self, num: int, reason: str, where: str = "line") -> None:
        self.errors.append(RowError(num, reason, where))

    def build(self, num: int, fields: dict[str, Any], where: str = "line") -> None:
        try:
            self.rows.append((num, SeedSpec.build(**fields)))
        except (InvalidURL, InvalidSeed) as exc:
            self.error(num, str(exc), where)

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
                f"unexpected text {_show(extra[0], 60)} after the URL {_show(url, 100)}: "
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


def _read_text(path: Path, name: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SeedFileError(f"cannot read seed file {name}: {exc.strerror or exc}") from None
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


def parse_seed_file(path: str | os.PathLike[str]) -> ParsedSeedFile:
    """Parse a seed list; the format is chosen by the file extension."""
    p = Path(path)
    name = repr(os.fspath(p))
    if p.is_dir():
        raise SeedFileError(f"seed file {name} is a directory: give the path of a file")
    if not p.exists():
        raise SeedFileError(f"seed file {name} not found: check the path")
    parser = _PARSERS.get(p.suffix.lower())
    if parser is None:
        raise SeedFileError(
            f"seed file {name} has unsupported extension {p.suffix!r}: "
            f"use one of {', '.join(SUFFIXES)}"
        )
    out = _Collector()
    parser(_read_text(p, name), name, out)
    return ParsedSeedFile(rows=tuple(out.rows), errors=tuple(out.errors))
