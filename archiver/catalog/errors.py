"""What the catalog's database raises when it cannot be read or written.

Callers that must tell a broken archive (disk full, read-only, locked) from a bug catch
``DATABASE_ERRORS`` and never import the driver themselves.
"""

from __future__ import annotations

import sqlite3

# dialect: sqlite (a PostgreSQL catalog adds its driver's base error here)
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)
