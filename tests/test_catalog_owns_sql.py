"""All SQL lives in archiver/catalog/: no other module runs a statement or imports sqlite3,
so the catalog can run on another engine by changing that package alone."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("archiver", "spiders", "settings", "storage")
CATALOG = "archiver/catalog/"
RUNS_SQL = {"execute", "executemany", "executescript"}


def sql_outside_catalog(source: str) -> list[str]:
    """What in ``source`` runs SQL or reaches the database driver: one line per use."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in RUNS_SQL:
                found.append((node.lineno, f".{node.func.attr}("))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlite3":
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            found.append((node.lineno, f"from {node.module} import"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def offenders() -> dict[str, list[str]]:
    found = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name.startswith(CATALOG) or "__pycache__" in path.parts:
                continue
            uses = sql_outside_catalog(path.read_text(encoding="utf-8"))
            if uses:
                found[name] = uses
    return found


def test_only_the_catalog_runs_sql() -> None:
    found = offenders()
    assert not found, (
        "SQL outside archiver/catalog/ (ask a catalog function instead):\n"
        + "\n".join(f"{name}: {', '.join(uses)}" for name, uses in sorted(found.items()))
    )


def test_the_check_finds_statements_and_the_driver() -> None:
    source = (
        "import sqlite3\n"
        "from sqlite3 import Row\n"
        "def f(catalog):\n"
        "    catalog.conn.execute('SELECT 1')\n"
        "    with catalog.transaction() as conn:\n"
        "        conn.executemany('INSERT INTO t (a) VALUES (?)', [(1,)])\n"
        "        conn.executescript('DELETE FROM t')\n"
    )
    assert sql_outside_catalog(source) == [
        "line 1: import sqlite3",
        "line 2: from sqlite3 import",
        "line 4: .execute(",
        "line 6: .executemany(",
        "line 7: .executescript(",
    ]
    assert sql_outside_catalog("from archiver.catalog import captures\n") == []
