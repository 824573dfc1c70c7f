"""Fixity audits: when each ran, over what, how many captures it checked and which failed."""

from __future__ import annotations

import json
from collections.abc import Sequence

from archiver.catalog.db import Catalog


def record_audit(
    catalog: Catalog,
    *,
    started_at: str,
    ended_at: str,
    scope: str,
    checked: int,
    ok: int,
    failures: Sequence[tuple[str, str]],
) -> None:
    """Record one audit; ``failures`` are (capture id, reason) pairs."""
    with catalog.transaction() as conn:
        conn.execute(
            "INSERT INTO audits (started_at, ended_at, scope, checked, ok, failed, failures)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (started_at, ended_at, scope, checked, ok, len(failures), json.dumps(list(failures))),
        )
