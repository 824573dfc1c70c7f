"""Nothing lost: kill -9 a crawl at random moments, resume it, and check everything.

At the end every WARC passes warcio check, no .open file remains, every catalog row
matches its bytes, every page of the site is captured once in the catalog, and the
pages fetched twice are at most those in flight when a kill landed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from warcs import catalog_rows, read_warc, warc_files

from archiver.catalog import open_catalog
from archiver.catalog.captures import find_captures
from archiver.research.retrieval import read_capture

PAGES = 300
BIN = Path(sys.executable).parent


def page(n: int) -> bytes:
    links = "".join(f'<a href="/p{(n * 7 + k) % PAGES}.html">p</a>' for k in range(1, 4))
    return f'<title>page {n}</title><img src="/i{n % 10}.png">{links}'.encode()


class SlowSite(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        time.sleep(0.05)  # so that a kill lands while requests are in flight
        if self.path == "/" or self.path.startswith("/p"):
            n = int(self.path[2:].split(".")[0]) if self.path.startswith("/p") else 0
            body, kind = page(n), "text/html"
        elif self.path.startswith("/i"):
            body, kind = b"\x89PNG" + self.path.encode() * 50, "image/png"
        else:
            body, kind = b"", "text/plain"
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def slow_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowSite)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def start_crawl(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "ARCHIVER_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", "crawl", "--profile", "test", "--job", "j", *args,
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "ARCHIVER_PROGRESS_INTERVAL=0"],
        cwd=home.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def open_files(home: Path) -> dict[Path, int]:
    """The open WARC files in the job's spool, a worker's folder included. A repair may
    remove a dead worker's folder while this looks: that look is taken again."""
    while True:
        try:
            return {f: f.stat().st_size for f in home.glob("spool/j/**/*.open")}
        except FileNotFoundError:
            continue


def wait_for_records(home: Path, process: subprocess.Popen, seconds: float = 60) -> bool:
    """Wait until the running crawl's open WARC file holds records beyond its warcinfo
    (a new .open file, grown past the size of its first write); False if the crawl ended
    first."""
    before = set(open_files(home))  # a killed run's file, repaired and closed at start
    deadline = time.monotonic() + seconds
    first: dict[Path, int] = {}
    while time.monotonic() < deadline and process.poll() is None:
        for path, size in open_files(home).items():
            if path in before or size == 0:
                continue
            if path not in first:
                first[path] = size
            elif size > first[path]:
                return True
        time.sleep(0.02)
    return False


def test_kill_and_resume_loses_nothing(tmp_path, slow_site):
    home = tmp_path / "home"
    subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), "seeds", "add", slow_site,
         "--scope", "host", "--robots", "ignore"],
        check=True, capture_output=True,
    )  # fmt: skip
    rng = random.Random(int(os.environ.get("ARCHIVER_TEST_SEED", "7")))
    kills = 0
    for _ in range(40):
        process = start_crawl(home)
        if kills < 10:
            # Kill once this run has written records past its warcinfo, so every kill
            # leaves an open file to repair, however slow the start-up; then a little later
            # at random, so kills land at different points of a record.
            written = wait_for_records(home, process)
            time.sleep(rng.uniform(0, 0.3))
            if written and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                continue
        out, err = process.communicate(timeout=120)
        if process.returncode == 0:
            break
        assert b"Traceback" not in err, err.decode()
    else:
        pytest.fail("the job never finished")
    assert kills >= 10, f"only {kills} kills landed mid-crawl"
    assert b"job j finished" in out, out + err
    log = (home / "jobs" / "j" / "scrapy.log").read_text()
    assert "[archiver.repair] WARNING: repaired" in log  # each repair is noted in the job's log

    files = warc_files(home)
    assert files and not list(home.rglob("*.open"))
    check = subprocess.run([BIN / "warcio", "check", *map(str, files)], capture_output=True)
    assert check.returncode == 0, check.stdout

    rows = catalog_rows(home, "SELECT url, state FROM captures WHERE kind != 'robots'")
    urls = Counter(r["url"] for r in rows)
    expected = {slow_site} | {f"{slow_site}p{n}.html" for n in range(PAGES)}
    expected |= {f"{slow_site}i{n}.png" for n in range(10)}
    assert set(urls) == expected  # every page, nothing else
    assert max(urls.values()) == 1  # once each in the catalog
    assert all(r["state"] == "ok" for r in rows)

    catalog = open_catalog(home / "catalog.sqlite")
    for capture in find_captures(catalog, job="j"):
        read_capture(capture)  # raises unless the bytes match the row's digests

    fetched = Counter(
        r.headers["WARC-Target-URI"] for f in files for r in read_warc(f) if r.type == "response"
    )
    refetched = sum(n - 1 for n in fetched.values())
    in_flight_bound = kills * 8  # CONCURRENT_REQUESTS_PER_DOMAIN plus the held responses
    assert refetched <= in_flight_bound, (refetched, kills)
    print(f"kills={kills} pages={len(expected)} refetched={refetched} warcs={len(files)}")
