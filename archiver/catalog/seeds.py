"""The seed registry: what archivists nominated, with tags, scope and why."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from archiver.catalog.db import Catalog, iso_ms, utc_now
from archiver.errors import InvalidSeed, NotFound
from archiver.seedspec import LISTS, SETTINGS, SeedFields, SeedSpec
from archiver.urls import normalize_url


@dataclass(frozen=True)
class Seed:
    id: int
    url: str
    tags: tuple[str, ...]
    category: str
    scope: str
    depth: int | None
    robots: str
    risk: str
    note: str
    nominated_by: str
    added_at: str
    updated_at: str
    removed_at: str | None
    browser: bool = False
    include: tuple[str, ...] = ()  # URL regexes followed besides the scope
    exclude: tuple[str, ...] = ()  # URL regexes never followed as links
    profile: str | None = None  # the login profile it is crawled as
    via: str | None = None  # the vantage point it is fetched through (None: direct)

    @property
    def active(self) -> bool:
        return self.removed_at is None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"seed_id": self.id, **asdict(self)}  # "id": deprecated
        data["tags"] = list(self.tags)
        data["include"] = list(self.include)
        data["exclude"] = list(self.exclude)
        return data


@dataclass(frozen=True)
class Change:
    """One field of a seed: its value before and the value given (for a setting an add
    did not apply, ``old`` is the value the seed keeps)."""

    field: str
    old: object
    new: object


@dataclass(frozen=True)
class AddResult:
    seed: Seed
    outcome: str  # "added", "reactivated" (it had been removed), "updated" or "unchanged"
    changes: tuple[Change, ...] = ()  # what the add changed: tags, regexes, browser on
    not_applied: tuple[Change, ...] = ()  # settings given that differ from the seed's own

    @property
    def created(self) -> bool:
        return self.outcome == "added"


def _tags_of(catalog: Catalog, seed_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    tags: dict[int, list[str]] = {seed_id: [] for seed_id in seed_ids}
    if not seed_ids:
        return {}
    marks = ",".join("?" * len(seed_ids))
    rows = catalog.conn.execute(
        f"SELECT seed_id, tag FROM seed_tags WHERE seed_id IN ({marks}) ORDER BY rowid",
        list(seed_ids),
    )
    for row in rows:
        tags[row["seed_id"]].append(row["tag"])
    return {seed_id: tuple(values) for seed_id, values in tags.items()}


def _seeds_from_rows(catalog: Catalog, rows: Iterable[sqlite3.Row]) -> list[Seed]:
    found = [dict(row) for row in rows]
    tags = _tags_of(catalog, [row["id"] for row in found])
    for row in found:
        row["browser"] = bool(row.get("browser"))
        row["include"] = tuple(json.loads(row.get("include") or "[]"))
        row["exclude"] = tuple(json.loads(row.get("exclude") or "[]"))
    return [Seed(tags=tags.get(row["id"], ()), **row) for row in found]


def _list_changes(seed: Seed, fields: SeedFields) -> list[Change]:
    changes = []
    for name in LISTS:
        old = getattr(seed, name)
        new = fields.list_after(name, old)
        if new != old:
            changes.append(Change(name, old, new))
    return changes


def _merged(seed: Seed, spec: SeedSpec) -> tuple[Change, ...]:
    """What adding ``spec`` to the existing ``seed`` changes: its tags and regexes join
    the seed's own, and ``--browser`` turns the seed's browser on (never off)."""
    changes = _list_changes(seed, SeedFields.adding(spec))
    if spec.browser and not seed.browser:
        changes.append(Change("browser", False, True))
    return tuple(changes)


def _not_applied(seed: Seed, spec: SeedSpec) -> tuple[Change, ...]:
    """The settings ``spec`` gave that differ from the existing seed's, which it keeps."""
    return tuple(
        Change(name, getattr(seed, name), getattr(spec, name))
        for name in SETTINGS
        if name in spec.given
        and getattr(spec, name) != getattr(seed, name)
        and not (name == "browser" and spec.browser)  # applied: see _merged
    )


def add_seeds(catalog: Catalog, specs: Iterable[SeedSpec]) -> list[AddResult]:
    """Add seeds in one transaction. A URL already present gets the new tags and
    include/exclude regexes merged in (and --browser turned on), and is reactivated if it
    had been removed; its other settings are kept, and those given that differ are
    reported as ``not_applied`` (``edit_seed`` changes them)."""
    now = iso_ms(utc_now())
    done: list[tuple[int, str, tuple[Change, ...], tuple[Change, ...]]] = []
    with catalog.transaction() as conn:
        for spec in specs:
            row = conn.execute("SELECT * FROM seeds WHERE url = ?", (spec.url,)).fetchone()
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO seeds (url, category, scope, depth, robots, risk, note,"
                    " nominated_by, added_at, updated_at, browser, include, exclude, profile,"
                    " via)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        spec.url,
                        spec.category,
                        spec.scope,
                        spec.depth,
                        spec.robots,
                        spec.risk,
                        spec.note,
                        spec.nominated_by,
                        now,
                        now,
                        int(spec.browser),
                        json.dumps(list(spec.include)),
                        json.dumps(list(spec.exclude)),
                        spec.profile,
                        spec.via,
                    ),
                )
                seed_id = int(cursor.lastrowid or 0)
                _insert_tags(conn, seed_id, spec.tags)
                done.append((seed_id, "added", (), ()))
                continue
            [seed] = _seeds_from_rows(catalog, [row])
            changes = _merged(seed, spec)
            _write(conn, seed, changes, now, reactivate=not seed.active)
            outcome = "reactivated" if not seed.active else "updated" if changes else "unchanged"
            done.append((seed.id, outcome, changes, _not_applied(seed, spec)))
    seeds = {seed.id: seed for seed in get_seeds(catalog, [seed_id for seed_id, *_ in done])}
    return [AddResult(seeds[seed_id], *rest) for seed_id, *rest in done]


def _insert_tags(conn: sqlite3.Connection, seed_id: int, tags: Iterable[str]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO seed_tags (seed_id, tag) VALUES (?, ?)",
        [(seed_id, tag) for tag in tags],
    )


def _write(
    conn: sqlite3.Connection,
    seed: Seed,
    changes: Sequence[Change],
    now: str,
    *,
    reactivate: bool = False,
) -> None:
    """Store ``changes`` to ``seed``, and bring it back if ``reactivate``."""
    if not changes and not reactivate:
        return
    columns: dict[str, object] = {"updated_at": now}
    if reactivate:
        columns["removed_at"] = None
    for change in changes:
        old, new = change.old, change.new
        if change.field == "tags":
            assert isinstance(old, tuple) and isinstance(new, tuple)
            kept = {tag.casefold() for tag in new}
            conn.executemany(
                "DELETE FROM seed_tags WHERE seed_id = ? AND tag = ?",
                [(seed.id, tag) for tag in old if tag.casefold() not in kept],
            )
            held = {tag.casefold() for tag in old}
            _insert_tags(conn, seed.id, [tag for tag in new if tag.casefold() not in held])
        elif change.field in ("include", "exclude"):
            columns[change.field] = json.dumps(list(new))  # type: ignore[call-overload]
        elif change.field == "browser":
            columns["browser"] = int(bool(new))
        else:
            columns[change.field] = new
    assignments = ", ".join(f"{column} = ?" for column in columns)
    conn.execute(f"UPDATE seeds SET {assignments} WHERE id = ?", (*columns.values(), seed.id))


_ITEM = {"tags": "tag", "include": "include regex", "exclude": "exclude regex"}


def edit_seed(
    catalog: Catalog, ref: int | str, fields: SeedFields
) -> tuple[Seed, tuple[Change, ...]]:
    """Change a seed's settings, tags and regexes (a removed seed stays removed); return
    the seed as it now is and what changed. Removing a tag or regex the seed does not
    have is an error, and then nothing is changed."""
    seed = get_seed(catalog, ref)
    for name in LISTS:
        missing = fields.not_held(name, getattr(seed, name))
        if missing:
            held = ", ".join(repr(item) for item in getattr(seed, name)) or "none"
            raise InvalidSeed(
                f"seed {seed.id} has no {_ITEM[name]} {missing[0]!r} to remove"
                f" (it has: {held}); nothing was changed"
            )
    changes = [
        Change(name, getattr(seed, name), fields.settings[name])
        for name in SETTINGS
        if name in fields.settings and getattr(seed, name) != fields.settings[name]
    ]
    changes += _list_changes(seed, fields)
    if changes:
        with catalog.transaction() as conn:
            _write(conn, seed, changes, iso_ms(utc_now()))
    return get_seed(catalog, seed.id), tuple(changes)


def get_seeds(catalog: Catalog, seed_ids: Sequence[int]) -> list[Seed]:
    if not seed_ids:
        return []
    marks = ",".join("?" * len(seed_ids))
    rows = catalog.conn.execute(f"SELECT * FROM seeds WHERE id IN ({marks})", list(seed_ids))
    return _seeds_from_rows(catalog, rows)


def _looks_like_url(text: str) -> bool:
    scheme, sep, _ = text.partition(":")
    return bool(sep) and scheme.isascii() and scheme.isalpha()


def get_seed(catalog: Catalog, ref: int | str) -> Seed:
    """A seed by its id, or by its URL (in any spelling that normalizes to it)."""
    text = str(ref).strip()
    if _looks_like_url(text):
        url = normalize_url(text)
        rows = catalog.conn.execute("SELECT * FROM seeds WHERE url = ?", (url,))
        found = _seeds_from_rows(catalog, rows)
        if not found:
            raise NotFound(
                f"no seed with URL {url!r}: add it with 'archiver seeds add {url}', or list"
                " the seeds with 'archiver seeds list'"
            )
        return found[0]
    number = int(text) if text.isascii() and text.isdigit() else -1
    found = get_seeds(catalog, [number]) if 0 < number < 2**63 else []
    if not found:
        raise NotFound(
            f"no seed with id {text!r}: give a seed's id or URL (list them with"
            " 'archiver seeds list')"
        )
    return found[0]


def list_seeds(
    catalog: Catalog, *, tags: Sequence[str] = (), include_removed: bool = False
) -> list[Seed]:
    """Seeds in id order; with tags, those carrying any of them."""
    sql = "SELECT * FROM seeds WHERE 1=1"
    params: list[object] = []
    if not include_removed:
        sql += " AND removed_at IS NULL"
    if tags:
        marks = ",".join("?" * len(tags))
        sql += f" AND id IN (SELECT seed_id FROM seed_tags WHERE tag IN ({marks}))"
        params.extend(tags)
    return _seeds_from_rows(catalog, catalog.conn.execute(sql + " ORDER BY id", params))


def remove_seed(catalog: Catalog, seed_id: int | str) -> Seed:
    """Deactivate a seed. The row stays, so captures keep their lineage."""
    seed = get_seed(catalog, seed_id)
    if seed.active:
        with catalog.transaction() as conn:
            conn.execute(
                "UPDATE seeds SET removed_at = ? WHERE id = ?", (iso_ms(utc_now()), seed.id)
            )
    return get_seed(catalog, seed.id)


def select_seeds(
    catalog: Catalog, *, seed_ids: Sequence[str] = (), tags: Sequence[str] = ()
) -> list[Seed]:
    """The seeds a crawl runs over: those named by id or tag, else all active seeds."""
    chosen: dict[int, Seed] = {}
    for seed_id in seed_ids:
        seed = get_seed(catalog, seed_id)
        if not seed.active:
            raise NotFound(f"seed {seed.id} was removed: add its URL again to crawl it")
        chosen[seed.id] = seed
    if tags:
        tagged = list_seeds(catalog, tags=tags)
        if not tagged:
            raise NotFound(f"no active seed has the tag(s) {', '.join(tags)}")
        chosen.update((seed.id, seed) for seed in tagged)
    if not seed_ids and not tags:
        chosen = {seed.id: seed for seed in list_seeds(catalog)}
    return sorted(chosen.values(), key=lambda seed: seed.id)
