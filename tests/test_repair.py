"""Repairing a WARC file a crash left half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcs import catalog_rows

from archiver.joblock import JobLock
from archiver.repair import repair_open_file, whole_records_end
from archiver.warc.writer import OPEN_SUFFIX, WarcWriter


def half_written(tmp_path: Path) -> tuple[Path, list[int]]:
    writer = WarcWriter(tmp_path, warcinfo_fields=lambda name: [("software", "t")])
    builder = writer.builder()
    ends = []
    for i in range(3):
        [written] = writer.write_group([
            builder.build("resource", date="2020-02-12T06:00:00.000Z", target_uri=f"urn:x:{i}",
                          head=os.urandom(5000))
        ])  # fmt: skip
        ends.append(written.offset + written.length)
    writer.flush()
    [path] = tmp_path.glob("*" + OPEN_SUFFIX)
    return path, ends


def test_a_partial_last_record_is_cut_away(tmp_path):
    path, ends = half_written(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: ends[1] + 1234])  # the crash: record 3 half written
    assert whole_records_end(path) == ends[1]
    repaired = repair_open_file(path)
    assert not path.exists() and repaired.path.name == path.name.removesuffix(OPEN_SUFFIX)
    assert (repaired.kept, repaired.cut) == (ends[1], 1234)
    with open(repaired.path, "rb") as handle:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(handle)]
    assert uris == [None, "urn:x:0", "urn:x:1"]


def test_a_member_cut_exactly_at_a_boundary_is_kept_whole(tmp_path):
    path, ends = half_written(tmp_path)
    assert whole_records_end(path) == ends[2] == path.stat().st_size


def test_garbage_after_the_last_record_is_cut(tmp_path):
    path, ends = half_written(tmp_path)
    with open(path, "ab") as handle:
        handle.write(b"\x1f\x8b\x08garbage")
    assert whole_records_end(path) == ends[2]


def test_a_lock_held_elsewhere_is_refused_and_freed_by_death(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from archiver.joblock import JobLock;"
         f"JobLock(Path({str(tmp_path)!r})).acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    assert JobLock(tmp_path).acquire() is False
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = JobLock(tmp_path)
    assert lock.acquire() is True
    lock.release()


def test_sigterm_stops_cleanly_and_the_job_resumes(tmp_path, fixture_site):
    home = tmp_path / "home"
    env = {**os.environ, "ARCHIVER_HOME": str(home)}
    run = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run([sys.executable, "-m", "archiver", "seeds", "add", fixture_site.url,
                    "--scope", "host", "--robots", "ignore"], check=True, **run)  # fmt: skip
    slow = fixture_site.url + "slow?seconds=4"
    subprocess.run([sys.executable, "-m", "archiver", "seeds", "add", slow], check=True, **run)
    crawl = [sys.executable, "-m", "archiver", "crawl", "--profile", "test", "--job", "t"]
    process = subprocess.Popen(crawl, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    # Stop it while the slow page is on its way (the server has its request) and the
    # job has written records: the stop must close what is written and leave the rest.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        "/slow?seconds=4" in fixture_site.requests and list(home.glob("spool/t/**/*.open"))
    ):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    job = catalog_rows(home, "SELECT status FROM jobs")[0]
    assert job["status"] == "stopped", out + err
    assert not list(home.rglob("*.open"))  # closed cleanly
    again = subprocess.run(crawl, **run)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "job t: resuming" in again.stderr
    rows = catalog_rows(home, "SELECT url, state FROM captures WHERE kind != 'robots'")
    urls = [r["url"] for r in rows]
    assert len(urls) == len(set(urls))  # nothing captured twice
    assert slow in urls and fixture_site.url + "page2.html" in urls


@pytest.mark.sqlite_only  # changes the SQLite file itself
def test_a_file_renamed_just_before_a_crash_is_closed_and_stored(tmp_path, fixture_site):
    """The crash window between renaming X.warc.gz.open and cataloguing it as closed."""
    import sqlite3

    home = tmp_path / "home"
    env = {**os.environ, "ARCHIVER_HOME": str(home)}
    run = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True, "timeout": 120}
    crawl = [sys.executable, "-m", "archiver", "crawl", "--profile", "test", "--job", "w"]
    assert subprocess.run([*crawl, fixture_site.url], **run).returncode == 0
    # Put the catalog and the spool back as the crash would have left them.
    conn = sqlite3.connect(home / "catalog.sqlite")
    [(name, stored_uri)] = conn.execute("SELECT name, storage_uri FROM warc_files").fetchall()
    stored = next(home.glob(f"warcs/w/{name}"))
    spool = home / "spool" / "w" / name
    stored.rename(spool)
    with conn:
        conn.execute(
            "UPDATE warc_files SET state = 'open', spool_path = ?, storage_uri = NULL,"
            " storage_key = NULL, store_uri = NULL WHERE name = ?",
            (str(spool) + OPEN_SUFFIX, name),
        )
        conn.execute("UPDATE jobs SET status = 'running'")
    conn.close()
    resumed = subprocess.run(crawl, **run)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"catalogued {name} as closed" in resumed.stderr
    rows = catalog_rows(home, "SELECT name, state FROM warc_files")
    assert (name, "stored") in [(r["name"], r["state"]) for r in rows]
    assert stored.exists() and not spool.exists()
