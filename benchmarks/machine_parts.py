"""The machine under a benchmark: a throwaway PostgreSQL cluster, how many cores the
machine kept busy, and how much two CPU-bound processes gain on it (the baseline that
bounds what two workers can reach)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Postgres:
    """A throwaway cluster in a temporary folder: loopback only, fsync off."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise SystemExit("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.bin = found[-1].parent
        self.folder = Path(tempfile.mkdtemp(prefix="archiver-bench-pg-"))
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.data = self.folder / "data"
        quiet = {"check": True, "capture_output": True}
        subprocess.run([*self.run_as, self.bin / "initdb", "-D", self.data, "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"], **quiet)  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {self.folder} -c fsync=off"
            " -c max_connections=200"
        )
        subprocess.run([*self.run_as, self.bin / "pg_ctl", "-D", self.data, "-l",
                        self.folder / "log", "-w", "-o", options, "start"], **quiet)  # fmt: skip
        self.admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.version = subprocess.run([self.bin / "postgres", "--version"], capture_output=True,
                                      text=True).stdout.strip()  # fmt: skip

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        import psycopg

        name = "bench_" + secrets.token_hex(6)
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.admin.rsplit("/", 1)[0] + "/" + name
        finally:
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cpu_seconds(self) -> float:
        """CPU seconds the cluster has used so far: the postmaster, its live processes
        (backends, background writers) and those that ended (reaped by it)."""
        ticks = os.sysconf("SC_CLK_TCK")
        leader = int((self.data / "postmaster.pid").read_text().split()[0])
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile: its time is in the leader's children's time
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == leader:  # utime, stime, and the children's it waited for
                total += sum(int(value) for value in fields[11:15])
            elif ppid == leader:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        subprocess.run([*self.run_as, self.bin / "pg_ctl", "-D", self.data, "-m", "immediate",
                        "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


CPU_WORK = r"""
import hashlib, sys, time, zlib
from pathlib import Path
from archiver.spiders.links import extract_html
pages = [p.read_bytes() for p in sorted(Path(sys.argv[1]).glob("p/*.html"))[:400]]
started = time.perf_counter()
for body in pages * 3:
    extract_html(body, "http://127.0.0.1/p/0.html")
    hashlib.sha256(zlib.compress(body, 6)).digest()
print(time.perf_counter() - started)
"""


def machine_scaling(site: Path, rounds: int = 3) -> float:
    """The same CPU work as a crawl's own (link extraction, gzip, SHA-256 of the cpu site's
    pages) in two processes at once against one alone: how much two CPU-bound processes
    gain on this machine, with nothing else running (best of ``rounds``)."""

    def timed(processes: int) -> float:
        command = [sys.executable, "-c", CPU_WORK, str(site)]
        started = [
            subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(processes)
        ]
        return max(float(p.communicate()[0]) for p in started)

    alone = min(timed(1) for _ in range(rounds))
    both = min(timed(2) for _ in range(rounds))
    return 2 * alone / both


def machine_busy() -> float:
    """CPU seconds spent by every core so far (not idle, not waiting on the disk)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
