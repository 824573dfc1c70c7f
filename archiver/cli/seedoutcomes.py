"""What ``seeds add``, ``seeds import`` and ``seeds edit`` did to each seed, as text and
as JSON: the outcome, the fields changed, and the settings given but not applied with
the ``seeds edit`` command that applies them."""

from __future__ import annotations

import json
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence

from archiver.catalog.seeds import AddResult, Change
from archiver.urls import display_iri

OUTCOMES = ("added", "updated", "reactivated", "unchanged")


def _shown(field: str, value: object) -> str:
    if value is None:
        return "direct" if field == "via" else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field in ("note", "nominated_by"):
        return repr(value)
    return str(value)


def changes_text(changes: Sequence[Change]) -> str:
    """``risk medium -> high; tags +a -b``."""
    parts = []
    for change in changes:
        if isinstance(change.old, tuple) and isinstance(change.new, tuple):
            added = [f"+{item}" for item in change.new if item not in change.old]
            removed = [f"-{item}" for item in change.old if item not in change.new]
            parts.append(f"{change.field} {' '.join(added + removed)}")
        else:
            old, new = _shown(change.field, change.old), _shown(change.field, change.new)
            parts.append(f"{change.field} {old} -> {new}")
    return "; ".join(parts)


def edit_command(seed_id: int, not_applied: Sequence[Change]) -> str:
    """The ``seeds edit`` command that applies what an add did not."""
    words = ["archiver", "seeds", "edit", str(seed_id)]
    for change in not_applied:
        if change.field == "browser":
            words.append("--browser" if change.new else "--no-browser")
            continue
        value = _shown(change.field, change.new) if change.new is None else str(change.new)
        words += ["--" + change.field.replace("_", "-"), value]
    return shlex.join(words)


def outcome_text(result: AddResult) -> str:
    """One seed's outcome, then, indented, the settings not applied and how to apply them."""
    seed = result.seed
    line = f"{result.outcome} {seed.id} {display_iri(seed.url)}"
    if result.changes:
        line += f" ({changes_text(result.changes)})"
    if not result.not_applied:
        return line
    kept = ", ".join(
        f"{c.field} {_shown(c.field, c.old)} (given {_shown(c.field, c.new)})"
        for c in result.not_applied
    )
    return (
        f"{line}\n  not applied, the seed keeps its own: {kept}"
        f"\n  to apply them: {edit_command(seed.id, result.not_applied)}"
    )


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def changes_json(changes: Sequence[Change]) -> dict[str, dict[str, object]]:
    return {c.field: {"old": _plain(c.old), "new": _plain(c.new)} for c in changes}


def outcomes_json(
    rows: Sequence[tuple[AddResult, Mapping[str, int]]],
    invalid: Sequence[Mapping[str, object]] | None = None,
) -> str:
    """``{"seeds": [...], "counts": {...}}``: per seed its ``seed_id``, ``url``,
    ``outcome``, ``changes`` and ``not_applied`` (with where it was in the file, for an
    import), and the rows refused as ``invalid``."""
    seeds = [
        {
            **where,
            "seed_id": result.seed.id,
            "url": result.seed.url,
            "outcome": result.outcome,
            "changes": changes_json(result.changes),
            "not_applied": {
                c.field: {"kept": _plain(c.old), "given": _plain(c.new)} for c in result.not_applied
            },
        }
        for result, where in rows
    ]
    counted = Counter(result.outcome for result, _ in rows)
    data: dict[str, object] = {
        "seeds": seeds,
        "counts": {outcome: counted[outcome] for outcome in OUTCOMES},
    }
    if invalid is not None:
        data["invalid"] = list(invalid)
    return json.dumps(data, ensure_ascii=False, indent=2)
