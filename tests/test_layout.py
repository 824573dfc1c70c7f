"""The house: the modules' imports form no cycle, and the researcher side and the crawl's
write path each sit in a package of their own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALLED_AS = {"archiver": "archiver", "spiders": "archiver.spiders",
                "settings": "archiver.settings", "storage": "archiver.storage"}  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in INSTALLED_AS.items():
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name in known}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules():
    found = modules()
    known = set(found)
    # A package's __init__ re-exporting its own modules is not a cycle between modules.
    graph = {
        name: {m for m in imports_of(path, known) if not name.startswith(m + ".")}
        for name, path in found.items()
    }
    assert cycles(graph) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_researcher_side_and_write_path_have_packages_of_their_own():
    found = modules()
    for name in ("citation", "timetravel", "retrieval", "fixity", "indexes", "export"):
        assert f"archiver.research.{name}" in found, name
    for name in ("exchange", "recorder", "rowcommits", "syncer"):
        assert f"archiver.capture.{name}" in found, name
    loose = [p.name for p in (ROOT / "archiver").glob("*.py")]
    assert len(loose) <= 16, sorted(loose)
