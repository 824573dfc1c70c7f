"""An archive whose one URL was captured over four months, for the timeline's calendar:
a real capture of a page, copied in the catalog to other days with the statuses,
payloads, observations and events each state of the calendar needs (the calendar reads
only the catalog)."""

from __future__ import annotations

from pathlib import Path

from mutablesite import MutableSite, Reply, page
from warcs import archiver

# Day, HTTP status, payload, quality, the watch's observation, the event that day began.
DAYS = [
    ("2025-11-20", 200, "a", None, None, None),  # captured
    ("2026-01-05", 200, "a", None, None, None),  # unchanged
    ("2026-01-12", 200, "b", None, None, None),  # changed
    ("2026-01-19", 404, "c", None, None, "gone"),  # gone, an event
    ("2026-01-26", 403, "d", None, None, None),  # blocked
    ("2026-02-02", 200, "e", "suspect", None, None),  # suspect render
    ("2026-02-09", 200, "f", None, "removed", "removed"),  # a removal notice, an event
]
STATES = ["captured", "unchanged", "changed", "gone", "blocked", "suspect", "removed"]


def build(root: Path) -> tuple[Path, str, str]:
    """The home, the URL whose timeline it holds, and the day of its real capture."""
    from archiver.capture_ids import new_capture_id
    from archiver.catalog import open_catalog
    from archiver.home import ArchiveHome

    home = root / "home"
    with MutableSite() as site:
        site.set("/watched", Reply(body=page("Watched", "A page watched for months.")))
        url = site.url + "watched"
        assert archiver(home, "seeds", "add", url).returncode == 0
        crawled = archiver(home, "crawl", "--profile", "test")
        assert crawled.returncode == 0, crawled.stderr
    catalog = open_catalog(ArchiveHome(home).catalog_location, create=False)
    conn = catalog.conn
    names = [
        d[0] for d in conn.execute("SELECT * FROM captures LIMIT 0").description if d[0] != "rowid"
    ]
    real = dict(conn.execute("SELECT * FROM captures WHERE url = ?", (url,)).fetchone())
    previous = real["id"]
    for day, status, payload, quality, observation, event in DAYS:
        row = {**real, "id": new_capture_id(), "captured_at": f"{day}T09:00:00.000Z"}
        row.update(http_status=status, payload_digest=f"sha256:{payload * 64}", quality=quality)
        conn.execute(
            f"INSERT INTO captures ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [row[n] for n in names],
        )
        if observation:
            conn.execute(
                "INSERT INTO seed_status (seed_id, capture_id, observed_at, status, reason,"
                " confirmed) VALUES (?, ?, ?, ?, '', 1)",
                (real["seed_id"], row["id"], row["captured_at"], observation),
            )
        if event:
            conn.execute(
                "INSERT INTO events (seed_id, url, kind, previous, last_present, first_absent,"
                " confirmed_by, confirmed_at) VALUES (?, ?, ?, 'present', ?, ?, ?, ?)",
                (real["seed_id"], url, event, previous, row["id"], row["id"], row["captured_at"]),
            )
        previous = row["id"]
    conn.commit()
    catalog.close()
    return home, url, real["captured_at"][:10]
