"""Workers that die: three workers on one job over a loopback PostgreSQL, each in its own
home (as on three machines), killed with SIGKILL mid-fetch several times and replaced.

At the end every URL is captured or failed with its reason, no host was fetched faster
than its delay allows (judged from the server's own log of arrival times), every catalog
row reads back from its WARC with matching digests, each host's robots.txt was fetched
once for the job, and no ``.open`` file is left once the dead workers' homes are
repaired. Lease expiry is brought about by back-dating the dead worker's lease times in
the catalog, never by waiting a lease out.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest
from httphelp import arrival, stamp_arrivals

from archiver.catalog import open_catalog
from archiver.catalog.captures import find_captures
from archiver.research.retrieval import read_capture

HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
PAGES = 30  # per host
DELAY = 0.5  # the job's DOWNLOAD_DELAY
SERVE_SECONDS = 0.12  # each response is held this long: kills land mid-fetch

pytestmark = pytest.mark.xdist_group("worker_death")


class PoliteSite(BaseHTTPRequestHandler):
    """Pages linking onward on one host; every request's arrival is logged (when the
    kernel received it), and the requests in flight are counted."""

    protocol_version = "HTTP/1.1"
    log: list[tuple[str, str, float]]
    in_flight: list[int]
    lock: threading.Lock

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        stamp_arrivals(self.connection)

    def handle_one_request(self):
        self.arrived = arrival(self.connection)  # the kernel's clock, not this thread's
        super().handle_one_request()

    def do_GET(self):
        with self.lock:
            self.log.append((self.server.server_address[0], self.path, self.arrived))
            self.in_flight[0] += 1
        try:
            time.sleep(SERVE_SECONDS)
            if self.path == "/robots.txt":
                body, kind = b"User-agent: *\nDisallow: /private/\n", "text/plain"
            elif self.path == "/" or self.path.startswith("/p"):
                n = int(self.path[2:].split(".")[0]) if self.path.startswith("/p") else -1
                links = "".join(
                    f'<a href="/p{k}.html">p{k}</a>' for k in range(n + 1, min(n + 4, PAGES))
                )
                body, kind = f"<title>page {n}</title>{links}".encode(), "text/html"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with self.lock:
                self.in_flight[0] -= 1


@pytest.fixture
def polite_site():
    log: list[tuple[str, str, float]] = []
    in_flight = [0]
    handler = type(
        "Handler", (PoliteSite,), {"log": log, "in_flight": in_flight, "lock": threading.Lock()}
    )
    servers = [ThreadingHTTPServer((host, 0), handler) for host in HOSTS]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [f"http://{s.server_address[0]}:{s.server_address[1]}/" for s in servers]
    yield urls, log, in_flight
    for server in servers:
        server.shutdown()
        server.server_close()


def _env() -> dict[str, str]:
    return {**os.environ, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}


def _cli(home: Path, catalog: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), "--catalog", catalog, *args],
        cwd=home.parent, env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _start_worker(home: Path, catalog: str, log: Path) -> subprocess.Popen:
    """A worker in its own process group (see _kill)."""
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", "--home", str(home), "--catalog", catalog,
         "worker", "--job", "j", "--exit-when-idle"],
        cwd=home.parent, env=_env(), stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
        start_new_session=True,
    )  # fmt: skip


def _open_warcs(home: Path) -> dict[Path, int]:
    return {f: f.stat().st_size for f in home.glob("spool/j/*/*.open") if f.exists()}


def _wait_mid_fetch(
    home: Path, in_flight: list[int], process: subprocess.Popen, seconds: float
) -> str | None:
    """Wait until the worker in ``home`` has written records (its open WARC grew past its
    first write) and the site has a request in flight; returns the worker's id, or None
    if it ended first or ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    first: dict[Path, int] = {}
    while time.monotonic() < deadline and process.poll() is None:
        for path, size in _open_warcs(home).items():
            first.setdefault(path, size)
            if size > first[path] and in_flight[0] > 0:
                return path.parent.name
        time.sleep(0.01)
    return None


def _kill(process: subprocess.Popen, worker: str) -> None:
    """SIGKILL the worker and its crawl (which runs in a process group of its own, its
    pid in the worker id ``host-PID-xxxx``), as a machine's crash would."""
    crawl_pid = int(worker.rsplit("-", 2)[1])
    for group in (crawl_pid, process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    process.wait()


def test_workers_killed_mid_fetch_lose_nothing_and_stay_polite(tmp_path, polite_site, postgres_url):
    urls, server_log, in_flight = polite_site
    catalog_url = postgres_url
    store = tmp_path / "store"  # the folder every worker mounts
    first_home = tmp_path / "h1"
    first_home.mkdir()
    for url in urls:
        added = _cli(first_home, catalog_url, "seeds", "add", url, "--scope", "host")
        assert added.returncode == 0, added.stderr
    submitted = _cli(
        first_home, catalog_url, "crawl", "--submit", "--job", "j", "--store", str(store),
        "-s", f"DOWNLOAD_DELAY={DELAY}", "-s", "RANDOMIZE_DOWNLOAD_DELAY=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
    )  # fmt: skip
    assert submitted.returncode == 0 and submitted.stdout.strip() == "j", submitted.stderr

    logs = tmp_path / "worker.log"
    homes = [first_home, tmp_path / "h2", tmp_path / "h3"]
    running = {home: _start_worker(home, catalog_url, logs) for home in homes}
    killed: list[str] = []
    catalog = open_catalog(catalog_url)
    for round_ in range(4):
        # The first worker caught mid-fetch, in turn from a different one each round.
        victim = None
        order = list(running)
        order = order[round_ % len(order) :] + order[: round_ % len(order)]
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline:
            for victim_home in order:
                process = running[victim_home]
                victim = _wait_mid_fetch(victim_home, in_flight, process, seconds=0.5)
                if victim is not None:
                    break
        if victim is None:  # the workers finished first: nothing left to kill
            break
        _kill(process, victim)
        killed.append(victim)
        if round_ % 2 == 0:
            # Replaced on the same machine: the new worker finds the dead one's folder
            # (its lock free), repairs its WARC and ends its leases at once.
            running[victim_home] = _start_worker(victim_home, catalog_url, logs)
        else:
            # The machine stays down: its leases run out. Time passes (the delay, so the
            # dead worker's last fetch is behind us), then the expiry is brought forward.
            time.sleep(2 * DELAY)
            with catalog.transaction() as conn:
                for table in ("frontier", "crawl_hosts"):
                    conn.execute(
                        f"UPDATE {table} SET lease_until = lease_until - 3600 WHERE worker = ?",
                        (victim,),
                    )
            new_home = tmp_path / f"h{len(homes) + 1}"
            homes.append(new_home)
            running[new_home] = _start_worker(new_home, catalog_url, logs)
            running.pop(victim_home)
    assert len(killed) >= 3, f"only {len(killed)} kills landed mid-fetch"
    for process in running.values():
        assert process.wait(timeout=300) == 0, logs.read_text()
    # The homes of machines that stayed down are repaired when a worker starts there again.
    for home in homes:
        repaired = _cli(home, catalog_url, "worker", "--exit-when-idle")
        assert repaired.returncode == 0, repaired.stderr
        assert not list(home.rglob("*.open")), home

    # Every URL captured, or failed with its reason; the job finished.
    shown = json.loads(_cli(first_home, catalog_url, "jobs", "show", "j", "--json").stdout)
    assert shown["status"] == "finished"
    assert shown["urls"]["queued"] == shown["urls"]["leased"] == 0
    assert all(item["reason"] for item in shown["failed"])
    expected = {f"{url}p{n}.html" for url in urls for n in range(PAGES)} | set(urls)
    rows = catalog.conn.execute(
        "SELECT url, state FROM captures c JOIN jobs j ON j.id = c.job_id"
        " WHERE j.name = 'j' AND c.kind != 'robots'"
    ).fetchall()
    captured = Counter(row[0] for row in rows if row[1] == "ok")
    failed = {item["url"] for item in shown["failed"]}
    assert set(captured) | failed == expected
    # Fetched twice at most for a URL in flight when a kill landed.
    assert sum(n - 1 for n in captured.values()) <= len(killed) * len(HOSTS)

    # No host fetched faster than its delay, across all workers (the server's clock).
    # A request may reach the server a little late or early against its slot (threads,
    # a new connection's handshake); two workers at once would show gaps near zero.
    by_host: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for host, path, at in server_log:
        by_host[host].append((at, path))
    for host, fetches in by_host.items():
        fetches.sort()
        gaps = [(b[0] - a[0], a[1], b[1]) for a, b in pairwise(fetches)]
        assert min(gaps) >= (DELAY * 0.6,), (host, min(gaps))
    # robots.txt once per host for the job, shared by the workers through the catalog
    # (again only where a worker was killed before it could share it).
    robots = Counter(host for host, path, _ in server_log if path == "/robots.txt")
    assert set(robots) == set(HOSTS) and sum(robots.values()) <= len(HOSTS) + len(killed)

    # Every row reads back from its WARC in the shared store with matching digests.
    for capture in find_captures(catalog, job="j"):
        if capture.state != "failed":
            read_capture(capture)
    # The killed workers are shown as such.
    listed = json.loads(_cli(first_home, catalog_url, "workers", "--all", "--json").stdout)
    states = {w["id"]: w["state"] for w in listed}
    assert all(states.get(worker) in ("dead", "running") for worker in killed), states
    catalog.close()
