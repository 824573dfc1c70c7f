"""The seed registry: what archivists nominated, with tags, scope and why."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from archiver.catalog.db import Catalog, iso_ms, utc_now
from archiver.errors import NotFound
from archiver.seedspec import SeedSpec


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
class AddResult:
    seed: Seed
    created: bool  # False: the URL was already a seed; its tags were merged


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


def add_seeds(catalog: Catalog, specs: Iterable[SeedSpec]) -> list[AddResult]:
    """Add seeds in one transaction. A URL already present gets the new tags merged in
    (and is reactivated if it had been removed), and new include/exclude regexes are
    added to its own; its other fields are kept."""
    now = iso_ms(utc_now())
    results: list[tuple[int, bool]] = []
    with catalog.transaction() as conn:
        for spec in specs:
            row = conn.execute("SELECT id FROM seeds WHERE url = ?", (spec.url,)).fetchone()
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO seeds (url, category, scope, depth, robots, risk, note,"
                    " nominated_by, added_at, updated_at, browser, include, exclude)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    ),
                )
                seed_id, created = int(cursor.lastrowid or 0), True
            else:
                seed_id, created = int(row["id"]), False
                _merge_patterns(conn, seed_id, spec)
                # Adding an existing URL with --browser turns the browser on; never off.
                conn.execute(
                    "UPDATE seeds SET updated_at = ?, removed_at = NULL,"
                    " browser = CASE WHEN ? = 1 THEN 1 ELSE browser END WHERE id = ?",
                    (now, int(spec.browser), seed_id),
                )
            conn.executemany(
                "INSERT OR IGNORE INTO seed_tags (seed_id, tag) VALUES (?, ?)",
                [(seed_id, tag) for tag in spec.tags],
            )
            results.append((seed_id, created))
    seeds = {seed.id: seed for seed in get_seeds(catalog, [seed_id for seed_id, _ in results])}
    return [AddResult(seeds[seed_id], created) for seed_id, created in results]


def _merge_patterns(conn: sqlite3.Connection, seed_id: int, spec: SeedSpec) -> None:
    """Adding an existing URL with --include/--exclude adds those regexes to its own."""
    if not spec.include and not spec.exclude:
        return
    row = conn.execute("SELECT include, exclude FROM seeds WHERE id = ?", (seed_id,)).fetchone()
    merged = []
    for column, new in (("include", spec.include), ("exclude", spec.exclude)):
        old = json.loads(row[column] or "[]")
        merged.append(json.dumps(old + [p for p in new if p not in old]))
    conn.execute("UPDATE seeds SET include = ?, exclude = ? WHERE id = ?", (*merged, seed_id))


def get_seeds(catalog: Catalog, seed_ids: Sequence[int]) -> list[Seed]:
    if not seed_ids:
        return []
    marks = ",".join("?" * len(seed_ids))
    rows = catalog.conn.execute(f"SELECT * FROM seeds WHERE id IN ({marks})", list(seed_ids))
    return _seeds_from_rows(catalog, rows)


def get_seed(catalog: Catalog, seed_id: int | str) -> Seed:
    try:
        number = int(seed_id)
    except (TypeError, ValueError):
        number = -1
    found = get_seeds(catalog, [number]) if 0 < number < 2**63 else []
    if not found:
        raise NotFound(f"no seed with id {seed_id!r}: list seeds with 'archiver seeds list'")
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
