"""``archiver watch`` wakes when a seed is added or edited or a schedule set, instead of
sleeping until the next seed it knew of is due: a new high-risk URL is captured at once.

The watch sleeps up to 600 s here (``--max-sleep``), far past what the test waits: only
a wake gets the new seed captured in time."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from clihelp import run_cli, start_cli
from mutablesite import MutableSite, Reply, page
from warcs import catalog_rows


@pytest.fixture
def site():
    with MutableSite() as served:
        yield served


def _captured(home, url: str) -> bool:  # type: ignore[no-untyped-def]
    rows = catalog_rows(home, "SELECT state FROM captures WHERE url = ?", (url,))
    return any(row["state"] == "ok" for row in rows)


def _wait(condition, seconds: float = 60) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


class Lines:
    """The lines a running process writes to a stream, read as they come."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            self.lines.append(line)

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def close(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)


def test_a_seed_added_while_watch_sleeps_is_captured_at_once(tmp_path, site):
    """On a shared PostgreSQL catalog the nomination comes from another machine's home
    (NOTIFY wakes the watch); on SQLite, from this home (its wake file)."""
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere" if os.environ.get("ARCHIVER_CATALOG") else home
    for path in ("/known", "/new-post", "/edited"):
        site.set(path, Reply(body=page(path, "a post")))
    assert run_cli(home, "seeds", "add", site.url + "known", "--tag", "watched").returncode == 0
    assert run_cli(home, "schedule", "set", "--tag", "watched", "--every", "1d").returncode == 0
    env = {"ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}
    watcher = start_cli(home, "watch", "--profile", "test", "--max-sleep", "600",
                        "-s", "ARCHIVER_CONFIRM_DELAY=0", env=env)  # fmt: skip
    err = Lines(watcher.stderr)
    try:
        # Asleep for the day until the known seed is due again.
        assert _wait(lambda: err.count("next due at") == 1), err.lines
        added = run_cli(
            elsewhere, "seeds", "add", site.url + "new-post", "--risk", "high", "--tag", "watched"
        )
        assert added.returncode == 0, added.stderr
        assert _wait(lambda: _captured(home, site.url + "new-post")), err.lines
        assert err.count("woken: seeds or schedules changed") == 1
        # Asleep again; a schedule set wakes it too (nothing is due: it sleeps again).
        assert _wait(lambda: err.count("next due at") == 2), err.lines
        assert run_cli(elsewhere, "schedule", "set", "--seed", "2", "--every", "1h").returncode == 0
        assert _wait(lambda: err.count("woken: seeds or schedules changed") == 2), err.lines
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=60)
    assert watcher.returncode == 0, err.close()
