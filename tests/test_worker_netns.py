"""Workers on two machines: network namespaces made by the test (``ip netns``, veth pairs),
one holding PostgreSQL and the site, two holding a worker each, reaching them over the
veth links as two machines would over a network. A worker is killed mid-fetch on each
machine: one is replaced on its machine, the other machine stays down and its leases are
expired by back-dating them. Then every URL is captured or failed with its reason, no
host was fetched faster than its delay allows (by when the server's kernel received each
request), robots.txt was fetched once per host (or again after a kill), ``archiver
verify`` reads every capture back from its WARC, and no ``.open`` file is left once the
dead worker's home is repaired. Needs root and network namespaces; skips without them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

HOSTS = ("10.77.0.1", "10.77.0.2")  # the site's hosts, on the server machine
DB = "10.77.0.1"
PAGES = 25
DELAY = 0.5
SERVE_SECONDS = 0.12

SITE = textwrap.dedent(
    """
    import os, socket, struct, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    log_path, state_path = sys.argv[1], sys.argv[2]
    port, pages, hold = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    hosts = sys.argv[6:]
    lock = threading.Lock()
    in_flight = [0]
    log = open(log_path, "a", buffering=1)

    def note(delta):
        in_flight[0] += delta
        with open(state_path + ".new", "w") as f:
            f.write(str(in_flight[0]))
        os.replace(state_path + ".new", state_path)

    SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)

    def arrival(sock):
        # When the kernel received the request's first bytes: a starved handler thread
        # (CI runs several suites on two cores) would stamp it late.
        data, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = struct.unpack("qq", value[:16])
                return seconds + nanoseconds / 1e9
        return time.time() if data else None

    class Site(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        def handle_one_request(self):
            self.arrived = arrival(self.connection)
            super().handle_one_request()
        def log_message(self, *a):
            pass
        def do_GET(self):
            with lock:
                at, client = self.arrived, self.client_address[0]
                log.write(f"{self.server.server_address[0]} {self.path} {at} {client}\\n")
                note(1)
            try:
                time.sleep(hold)
                if self.path == "/robots.txt":
                    body, kind = b"User-agent: *\\nDisallow: /private/\\n", "text/plain"
                elif self.path == "/" or self.path.startswith("/p"):
                    n = int(self.path[2:].split(".")[0]) if self.path.startswith("/p") else -1
                    onward = range(n + 1, min(n + 4, pages))
                    links = "".join(f'<a href="/p{k}.html">p{k}</a>' for k in onward)
                    body, kind = f"<title>page {n}</title>{links}".encode(), "text/html"
                else:
                    body, kind = b"", None
                self.send_response(200 if kind else 404)
                if kind:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                with lock:
                    note(-1)

    for host in hosts:
        server = ThreadingHTTPServer((host, port), Site)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()
    """
)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class Machines:
    """Three namespaces: ``srv`` (10.77.0.x on its loopback) and ``m1``, ``m2``, each
    linked to ``srv`` by a veth pair and routed to 10.77.0.0/24 through it."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.srv, self.m1, self.m2 = (f"arch-{name}-{tag}" for name in ("srv", "m1", "m2"))
        self.made: list[str] = []
        for ns in (self.srv, self.m1, self.m2):
            _ip("netns", "add", ns)
            self.made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        for host in HOSTS:
            _ip("-n", self.srv, "addr", "add", f"{host}/32", "dev", "lo")
        for n, machine in ((1, self.m1), (2, self.m2)):
            _ip("link", "add", "w", "netns", machine, "type", "veth", "peer", "name", f"s{n}",
                "netns", self.srv)  # fmt: skip
            _ip("-n", machine, "addr", "add", f"10.77.{n}.2/24", "dev", "w")
            _ip("-n", self.srv, "addr", "add", f"10.77.{n}.1/24", "dev", f"s{n}")
            _ip("-n", machine, "link", "set", "w", "up")
            _ip("-n", self.srv, "link", "set", f"s{n}", "up")
            _ip("-n", machine, "route", "add", "10.77.0.0/24", "via", f"10.77.{n}.1")

    def run(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def close(self) -> None:
        for ns in self.made:
            subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def machines():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 to make network namespaces")
    try:
        made = Machines()
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"network namespaces are not available here: {exc.stderr.decode().strip()}")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def server_machine(machines, tmp_path):
    """PostgreSQL and the site, inside ``srv``."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not pg_bin:
        pytest.skip("PostgreSQL is not installed")
    pg_bin = pg_bin[-1].parent
    folder = Path(tempfile.mkdtemp(prefix="archiver-netns-pg-"))
    shutil.chown(folder, "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run([*as_pg, pg_bin / "initdb", "-D", data, "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)  # fmt: skip
    with open(data / "pg_hba.conf", "a") as hba:  # the workers' machines
        hba.write("host all all 10.77.0.0/16 trust\n")
    options = f"-c listen_addresses={DB} -p 5432 -k {folder} -c fsync=off"
    subprocess.run([*machines.run(machines.srv), *as_pg, pg_bin / "pg_ctl", "-D", data, "-l",
                    folder / "log", "-w", "-o", options, "start"], check=True,
                   capture_output=True)  # fmt: skip
    script = tmp_path / "site.py"
    script.write_text(SITE)
    log, state = tmp_path / "site.log", tmp_path / "in_flight"
    state.write_text("0")
    site = subprocess.Popen(
        [*machines.run(machines.srv), sys.executable, str(script), str(log), str(state), "8080",
         str(PAGES), str(SERVE_SECONDS), *HOSTS],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert site.stdout.readline().strip() == "ready"
    try:
        yield f"postgresql://postgres@{DB}:5432/postgres", log, state
    finally:
        site.kill()
        site.wait()
        subprocess.run([*as_pg, pg_bin / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHIVER_CATALOG", "ARCHIVER_HOME")}
    return {**env, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}


def _cli(machines, ns, home, catalog, *args) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*machines.run(ns), sys.executable, "-m", "archiver", "--home", str(home), "--catalog",
         catalog, *args],
        cwd=home.parent, env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _start_worker(machines, ns, home, catalog, log) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [*machines.run(ns), sys.executable, "-m", "archiver", "--home", str(home), "--catalog",
         catalog, "worker", "--job", "j", "--exit-when-idle"],
        cwd=home.parent, env=_env(), stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
        start_new_session=True,
    )  # fmt: skip


def _wait_mid_fetch(home: Path, state: Path, process: subprocess.Popen) -> str | None:
    """The worker's id once it has written records (its open WARC grew) while the site
    has a request in flight; None if it ended first."""
    first: dict[Path, int] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        for path in list(home.glob("spool/j/*/*.open")):
            with contextlib.suppress(FileNotFoundError):
                size = path.stat().st_size
                first.setdefault(path, size)
                if size > first[path] and int(state.read_text() or 0) > 0:
                    return path.parent.name
        time.sleep(0.01)
    return None


def _kill(process: subprocess.Popen, worker: str) -> None:
    """SIGKILL the worker and its crawl (its own process group; its pid in the worker id)."""
    for group in (int(worker.rsplit("-", 2)[1]), process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    process.wait()


BACKDATE = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    for table in ("frontier", "crawl_hosts"):
        conn.execute(f"UPDATE {table} SET lease_until = lease_until - 3600 WHERE worker = %s",
                     (sys.argv[2],))
"""


def test_workers_on_two_machines_lose_nothing_when_killed(tmp_path, machines, server_machine):
    admin, site_log, in_flight = server_machine
    m1, m2 = machines.m1, machines.m2
    subprocess.run([*machines.run(m1), sys.executable, "-c",
                    f"import psycopg; psycopg.connect({admin!r}, autocommit=True)"
                    ".execute('CREATE DATABASE archive')"], check=True)  # fmt: skip
    catalog = admin.rsplit("/", 1)[0] + "/archive"
    store = tmp_path / "store"  # the folder both machines mount
    h1, h2 = tmp_path / "m1-home", tmp_path / "m2-home"
    for host in HOSTS:
        added = _cli(machines, m1, h1, catalog, "seeds", "add", f"http://{host}:8080/",
                     "--scope", "host")  # fmt: skip
        assert added.returncode == 0, added.stderr
    submitted = _cli(
        machines, m1, h1, catalog, "crawl", "--submit", "--job", "j", "--store", str(store),
        "-s", f"DOWNLOAD_DELAY={DELAY}", "-s", "RANDOMIZE_DOWNLOAD_DELAY=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr

    logs = tmp_path / "workers.log"
    w1 = _start_worker(machines, m1, h1, catalog, logs)
    w2 = _start_worker(machines, m2, h2, catalog, logs)
    # On machine 1: killed mid-fetch and replaced there (the new worker repairs the dead
    # one's folder and ends its leases at once).
    victim = _wait_mid_fetch(h1, in_flight, w1)
    assert victim is not None, logs.read_text()
    _kill(w1, victim)
    killed = [victim]
    w1 = _start_worker(machines, m1, h1, catalog, logs)
    # On machine 2: killed mid-fetch, and the machine stays down: its leases run out
    # (back-dated once its last fetch is past the delay), and machine 1 takes its hosts.
    victim = _wait_mid_fetch(h2, in_flight, w2)
    assert victim is not None, logs.read_text()
    _kill(w2, victim)
    killed.append(victim)
    time.sleep(2 * DELAY)
    subprocess.run([*machines.run(m1), sys.executable, "-c", BACKDATE, catalog, victim],
                   check=True)  # fmt: skip
    assert w1.wait(timeout=300) == 0, logs.read_text()
    # Machine 2 comes back: its home is repaired (the dead worker's open WARC closed and
    # stored), with nothing left to crawl.
    repaired = _cli(machines, m2, h2, catalog, "worker", "--exit-when-idle")
    assert repaired.returncode == 0, repaired.stderr
    assert not list(tmp_path.rglob("*.open"))

    shown = json.loads(_cli(machines, m1, h1, catalog, "jobs", "show", "j", "--json").stdout)
    assert shown["status"] == "finished"
    assert shown["urls"]["queued"] == shown["urls"]["leased"] == 0
    assert all(item["reason"] for item in shown["failed"])
    listed = _cli(machines, m1, h1, catalog, "captures", "--job", "j", "--json")
    captured = Counter(c["url"] for c in json.loads(listed.stdout) if c["state"] == "ok")
    expected = {f"http://{h}:8080/p{n}.html" for h in HOSTS for n in range(PAGES)}
    expected |= {f"http://{h}:8080/" for h in HOSTS}
    failed = {item["url"] for item in shown["failed"]}
    assert (set(captured) - {f"http://{h}:8080/robots.txt" for h in HOSTS}) | failed == expected

    # Politeness across the two machines, by when the server's kernel received each request.
    by_host: dict[str, list[float]] = defaultdict(list)
    paths = Counter()
    for line in site_log.read_text().splitlines():
        host, path, at, client = line.split()
        by_host[host].append((float(at), path, client))
        paths[(host, path)] += 1
    for host, fetches in by_host.items():
        for a, b in pairwise(sorted(fetches)):
            assert b[0] - a[0] >= DELAY * 0.6, (host, round(b[0] - a[0], 3), a, b, sorted(fetches))
    robots = sum(n for (host, path), n in paths.items() if path == "/robots.txt")
    assert len(HOSTS) <= robots <= len(HOSTS) + len(killed)

    # Every capture reads back from the shared store with matching digests.
    verified = _cli(machines, m2, h2, catalog, "verify", "--job", "j")
    assert verified.returncode == 0, verified.stdout + verified.stderr
