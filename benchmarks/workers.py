"""Crawl workers sharing a frontier: how the crawl scales with workers, and what the shared
path costs against the plain crawl.

A benchmark script, not a test. It serves two sites from memory with an HTTP/1.1 server
of its own on loopback (keep-alive, one thread running asyncio):

- ``latency``: many hosts (127.0.0.2, 127.0.0.3, …, one per address), small pages, each
  response held 50-100 ms by the server. Each worker has 8 requests in flight at most
  (``--latency-concurrency``), two per host, so one worker waits on the network, not the
  CPU: about 90 URLs/s, half a core here. (With Scrapy's 32 in flight one worker is
  already CPU-bound on this 2-core machine, and the crawl measures the CPU again.)
- ``cpu``: crawl_speed.py's link-dense site on 127.0.0.1, answered at once by nginx when
  it is installed (``--cpu-server``; a server in C leaves the CPU to the workers), else by
  the benchmark's own server. The crawl is bound by parsing, link extraction and writing
  the archive.

It starts a throwaway PostgreSQL cluster (loopback only, fsync off) and, for each
configuration, submits the job (``archiver crawl --submit``, not timed) into a fresh
database, then starts N ``archiver worker --job J --exit-when-idle`` processes at once,
each with a home of its own as separate machines would have, and times them from their
start to the last one's exit. Configurations:

- latency crawl, PostgreSQL, 1, 2 and 4 workers (``CONCURRENT_REQUESTS_PER_DOMAIN=2``,
  ``CONCURRENT_REQUESTS=8``),
- cpu crawl, PostgreSQL, 1, 2 and 4 workers with ``ARCHIVER_HOST_WORKERS`` = workers,
- cpu crawl, one worker on SQLite (the catalog in the home),
- cpu crawl, a plain ``archiver crawl`` on SQLite (the frontier not shared; process start
  to exit).

Every configuration runs ``--rounds`` times, the configurations taking turns in each
round; the best URLs/s of each is kept (other work on the machine only slows a run down).
URLs are the captures the job recorded (robots.txt fetches included). Beside URLs/s
(over the wall time) it prints, for reading where the time goes: the crawling time (the
first crawl's start to the last one's end, by Scrapy's stats in each home's Scrapy log: the
wall time less process start-up and exit), the CPU time per URL of the workers'
processes and of the PostgreSQL cluster, the URLs each worker fetched, and any worker crawl
that failed with the first error of its log (the job still finishes: the other workers
take its URLs over, so a failure shows as a slow run), and the cores the whole machine
kept busy over the run (from /proc/stat: 2.00 is all of both). Each ratio is given over
the wall time (the goal) and over the crawling time. Before the crawls, a baseline: the
crawl's own CPU work (link extraction, gzip, SHA-256) in one process and in two at once,
which bounds what two CPU-bound workers can reach on this machine.

    python benchmarks/workers.py              # 2 rounds
    python benchmarks/workers.py --quick      # small sites, for a quick look
    python benchmarks/workers.py --keep       # keep the homes (logs in HOME/jobs/J)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crawl_speed import Server, generate_site, machine
from machine_parts import Postgres, machine_busy, machine_scaling

Pages = dict[tuple[str, str], tuple[bytes, str]]  # (address, path) -> (body, content type)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".js": "application/javascript",
    ".png": "image/png",
}


# -- the sites -------------------------------------------------------------------------------


def latency_site(hosts: int, pages: int, seed: int = 2) -> tuple[Pages, list[str], str]:
    """Each host: an index linking to four pages, each page to the next and to three at
    random, and a stylesheet. Returns the pages, the host addresses and the seed path."""
    rng = random.Random(seed)
    site: Pages = {}
    addresses = [f"127.0.0.{2 + h}" for h in range(hosts)]
    filler = " ".join(rng.choice(["report", "deleted", "post", "petition"]) for _ in range(250))
    for address in addresses:
        site[(address, "/site.css")] = (b"body{font-family:serif}\n" * 20, CONTENT_TYPES[".css"])
        for i in range(pages):
            targets = {(i + 1) % pages, *(rng.randrange(pages) for _ in range(3))}
            links = "".join(f'<li><a href="/p/{t}.html">post {t}</a></li>' for t in targets)
            site[(address, f"/p/{i}.html")] = (_page(f"Post {i}", filler, links), "text/html")
        index = "".join(f'<li><a href="/p/{t}.html">post {t}</a></li>' for t in range(4))
        site[(address, "/")] = (_page("Index", filler, index), "text/html")
    return site, addresses, "/"


def _page(title: str, text: str, links: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<link rel='stylesheet' href='/site.css'></head><body><h1>{title}</h1><p>{text}</p>"
        f"<ul>{links}</ul></body></html>"
    ).encode()


def cpu_site(folder: Path, pages: int) -> tuple[Pages, list[str], str]:
    """crawl_speed.py's site, read into memory, on 127.0.0.1."""
    generate_site(folder, pages)
    site: Pages = {}
    for path in folder.rglob("*"):
        if path.is_file():
            kind = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
            url_path = "/" + path.relative_to(folder).as_posix()
            site[("127.0.0.1", url_path)] = (path.read_bytes(), kind)
    return site, ["127.0.0.1"], "/index.html"


# -- the server --------------------------------------------------------------------------------


class SiteServer:
    """HTTP/1.1 with keep-alive on one port of each address, from memory; ``delay(address,
    path)`` seconds before each answer. Runs asyncio on a thread of its own."""

    def __init__(self, site: Pages, addresses: list[str], delay: Callable[[str, str], float]):
        self.site, self.delay = site, delay
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.port = 0
        self.thread = threading.Thread(target=self._run, args=(addresses,), daemon=True)
        self.thread.start()
        self.started.wait()
        if self.error:
            raise self.error

    def _run(self, addresses: list[str]) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(self._listen(addresses))
        except BaseException as exc:  # handed to the caller
            self.error = exc
            self.started.set()
            return
        self.started.set()
        self.loop.run_forever()

    async def _listen(self, addresses: list[str]) -> asyncio.Server:
        for _ in range(20):  # the port must be free on every address
            with socket.socket() as probe:
                probe.bind((addresses[0], 0))
                self.port = probe.getsockname()[1]
            try:
                return await asyncio.start_server(
                    self._serve, host=addresses, port=self.port, backlog=512
                )
            except OSError:
                continue
        raise OSError("no port free on every address")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target = head.split(b" ", 2)[:2]
                path = urlsplit(target.decode("latin-1")).path
                wait = self.delay(address, path)
                if wait:
                    await asyncio.sleep(wait)
                body, kind = self.site.get((address, path), (b"not found\n", "text/plain"))
                status = "200 OK" if (address, path) in self.site else "404 Not Found"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + (body if method != b"HEAD" else b"")
                )
                await writer.drain()
                if b"\nconnection: close" in head.lower():
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def held_50_to_100_ms(address: str, path: str) -> float:
    """The same wait for the same URL in every run."""
    return 0.050 + zlib.crc32(f"{address}{path}".encode()) % 51 / 1000


# -- one configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    urls: int  # captures the job recorded
    wall: float  # seconds from the workers' start to the last one's exit
    crawling: float  # seconds from the first crawl's start to the last one's end
    cpu: float  # CPU seconds of the workers' processes (PostgreSQL's own not counted)
    database_cpu: float  # CPU seconds of the PostgreSQL cluster over the run
    busy: float  # CPU seconds the whole machine spent over the run (/proc/stat), all cores
    shares: list[int]  # URLs each worker's crawls fetched
    failures: list[str]  # why worker crawls failed ('archiver worker' carries on without them)

    @property
    def speed(self) -> float:
        return self.urls / self.wall


@dataclass
class Config:
    name: str
    site: str  # "latency" or "cpu"
    catalog: str  # "postgresql" or "sqlite"
    workers: int  # 0: a plain 'archiver crawl'
    settings: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    @property
    def best(self) -> Run:
        return max(self.runs, key=lambda run: run.speed)


def archiver(home: Path, *args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "archiver", "--home", str(home), *args],
                          cwd=cwd, env=env, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"archiver {' '.join(args[:3])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def run_config(config: Config, seeds: list[str], postgres: Postgres, work: Path) -> None:
    run = work / f"{config.name}-{len(config.runs) + 1}"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHIVER_CATALOG", "ARCHIVER_HOME")}
    env["ARCHIVER_ALLOW_PRIVATE_NETWORKS"] = "1"
    with postgres.fresh_database() if config.catalog == "postgresql" else _no_database() as url:
        if url:
            env["ARCHIVER_CATALOG"] = url
        home = run / "home-0"
        job = "bench"
        archiver(home, "seeds", "add", *seeds, "--scope", "host", "--robots", "ignore",
                 "--tag", "bench", env=env, cwd=run)  # fmt: skip
        crawl = ["crawl", "--tag", "bench", "--job", job, "--profile", "test",
                 "-s", "ARCHIVER_PROGRESS_INTERVAL=0"]  # fmt: skip
        for setting in config.settings:
            crawl += ["-s", setting]
        if config.workers == 0:
            commands = [[sys.executable, "-m", "archiver", "--home", str(home), *crawl]]
        else:
            archiver(home, *crawl, "--submit", env=env, cwd=run)
            # A home per worker, as on separate machines; on SQLite the catalog is in the
            # home, and its one worker works there.
            homes = [run / f"home-{n}" for n in range(1, config.workers + 1)] if url else [home]
            commands = [[sys.executable, "-m", "archiver", "--home", str(h), "worker", "--job",
                         job, "--exit-when-idle"] for h in homes]  # fmt: skip
        with ExitStack() as files:
            errors = [files.enter_context(open(run / f"worker-{n}.err", "w")) for n in
                      range(len(commands))]  # fmt: skip
            busy_before = machine_busy()
            database_before = postgres.cpu_seconds()
            started = time.perf_counter()
            processes = [
                subprocess.Popen(command, cwd=run, env=env, stdout=subprocess.DEVNULL, stderr=err)
                for command, err in zip(commands, errors, strict=True)
            ]
            # wait4: a worker's CPU time includes its crawl's (a child it waited for).
            ended = [os.wait4(process.pid, 0) for process in processes]
            wall = time.perf_counter() - started
            busy = machine_busy() - busy_before
            database_cpu = postgres.cpu_seconds() - database_before
        codes = [os.waitstatus_to_exitcode(status) for _, status, _ in ended]
        cpu = sum(usage.ru_utime + usage.ru_stime for _, _, usage in ended)
        if any(codes):
            failed = codes.index(next(c for c in codes if c))
            text = (run / f"worker-{failed}.err").read_text(errors="replace")
            raise SystemExit(f"{config.name}: a crawl exited {codes}:\n{text[-3000:]}")
        shown = json.loads(archiver(home, "jobs", "show", job, "--json", env=env, cwd=run))
        urls = len(json.loads(archiver(home, "captures", "--job", job, "--json", env=env, cwd=run)))
        crawls = json.loads(archiver(home, "workers", "--all", "--json", env=env, cwd=run))
    left = {k: n for k, n in shown["urls"].items() if k != "done" and n}
    if shown["status"] != "finished" or left:
        raise SystemExit(f"{config.name}: job {shown['status']}, URLs not done: {left}")
    shares = [w["fetched"] for w in crawls]
    failed = sum(w["state"] == "failed" for w in crawls)
    failures = (failure_reasons(run) + ["(no reason in the Scrapy logs)"] * failed)[:failed]
    config.runs.append(Run(urls, wall, crawl_span(run), cpu, database_cpu, busy, shares, failures))


STAMP = re.compile(r"'(start|finish)_time': datetime\.datetime\(([\d, ]+)")


def crawl_span(run: Path) -> float:
    """Seconds from the first crawl's start to the last one's end, by Scrapy's own stats in
    each home's Scrapy log (scrapy.log): the wall time less the processes' start-up and exit."""
    stamps: dict[str, list[datetime]] = {"start": [], "finish": []}
    for log in run.glob("home-*/jobs/*/scrapy.log"):
        for kind, numbers in STAMP.findall(log.read_text(errors="replace")):
            stamps[kind].append(datetime(*(int(n) for n in numbers.split(",") if n.strip())))
    if not stamps["start"] or not stamps["finish"]:
        return float("nan")
    return (max(stamps["finish"]) - min(stamps["start"])).total_seconds()


def failure_reasons(run: Path) -> list[str]:
    """The first error of each Scrapy log (scrapy.log) whose crawl did not finish."""
    reasons = []
    for log in sorted(run.glob("home-*/jobs/*/scrapy.log")):
        text = log.read_text(errors="replace")
        if "'finish_reason': 'finished'" in text:
            continue
        errors = re.findall(r"\] ERROR: (.*(?:\n(?!\d{4}-\d\d-\d\d ).*)*)", text)
        reasons.append(errors[0] if errors else "(no error in the Scrapy log)")
    return reasons


@contextmanager
def _no_database() -> Iterator[None]:
    yield None


def configurations(latency_concurrency: int) -> list[Config]:
    # Per worker: at most this many requests in flight, two per host. On the latency site
    # one worker then waits on the network, not on the CPU (see the module's docstring).
    polite = ["CONCURRENT_REQUESTS_PER_DOMAIN=2", f"CONCURRENT_REQUESTS={latency_concurrency}"]
    found = [
        Config(f"latency-pg-{n}", "latency", "postgresql", n, polite) for n in (1, 2, 4)
    ] + [
        Config(f"cpu-pg-{n}", "cpu", "postgresql", n, [f"ARCHIVER_HOST_WORKERS={n}"])
        for n in (1, 2, 4)
    ]  # fmt: skip
    found += [
        Config("cpu-sqlite-1", "cpu", "sqlite", 1),
        Config("cpu-sqlite-crawl", "cpu", "sqlite", 0),
    ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sites, one round")
    parser.add_argument("--rounds", type=int, help="runs of each configuration (default 2)")
    parser.add_argument(
        "--only",
        help="run the configurations whose name contains this (or any of several, comma-separated)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the homes and their logs")
    parser.add_argument("--hosts", type=int, help="hosts of the latency site (default 32)")
    parser.add_argument("--host-pages", type=int, help="pages per host there (default 60)")
    parser.add_argument(
        "--latency-concurrency",
        type=int,
        default=8,
        help="requests in flight per worker on the latency site (default 8)",
    )
    parser.add_argument("--pages", type=int, help="pages of the cpu site (default 6000)")
    parser.add_argument(
        "--cpu-server",
        choices=["nginx", "python"],
        default="nginx" if Path("/usr/sbin/nginx").exists() else "python",
        help="what serves the cpu site (default: nginx when installed)",
    )
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 2)
    hosts, host_pages, cpu_pages = (16, 6, 150) if args.quick else (32, 60, 6000)
    hosts, host_pages = args.hosts or hosts, args.host_pages or host_pages
    cpu_pages = args.pages or cpu_pages
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-workers-"))
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    postgres = Postgres()
    servers: dict[str, tuple[SiteServer | Server, list[str]]] = {}
    try:
        print(f"catalog: {postgres.version}, loopback, fsync off; work in {work}")
        site, addresses, path = latency_site(hosts, host_pages)
        server = SiteServer(site, addresses, held_50_to_100_ms)
        servers["latency"] = (server, [f"http://{a}:{server.port}{path}" for a in addresses])
        print(f"latency site: {hosts} hosts of {host_pages} pages + index + stylesheet,"
              " each answer held 50-100 ms")  # fmt: skip
        site, addresses, path = cpu_site(work / "site", cpu_pages)
        if args.cpu_server == "nginx":  # C: the CPU left for the workers is theirs
            nginx = Server(work / "site", work, gzip=False)
            if nginx.kind != "nginx":
                raise SystemExit("nginx is not installed (Debian: apt-get install nginx-light)")
            servers["cpu"] = (nginx, [nginx.url])
        else:
            server = SiteServer(site, addresses, lambda address, path: 0.0)
            servers["cpu"] = (server, [f"http://{a}:{server.port}{path}" for a in addresses])
        print(
            f"cpu site: crawl_speed.py's, {cpu_pages} pages, no delay, served by {args.cpu_server}"
        )
        scaling = machine_scaling(work / "site")
        print(
            f"the machine: the crawl's CPU work in 2 processes at once gets {scaling:.2f}"
            " times as much done as in one (what 2 CPU-bound workers can reach here)"
        )
        chosen = [
            c
            for c in configurations(args.latency_concurrency)
            if not args.only or any(part in c.name for part in args.only.split(","))
        ]
        for n in range(rounds):
            for config in chosen if n % 2 == 0 else chosen[::-1]:
                run_config(config, servers[config.site][1], postgres, work)
                r = config.runs[-1]
                print(f"round {n + 1} {config.name:>17}: {r.urls:>5} URLs in {r.wall:6.2f} s"
                      f" = {r.speed:6.1f} URLs/s (crawling {r.crawling:.2f} s, CPU"
                      f" {r.cpu:.2f} s, PostgreSQL {r.database_cpu:.2f} s,"
                      f" cores busy {r.busy / r.wall:.2f},"
                      f" URLs by worker {'/'.join(map(str, r.shares)) or '-'})",
                      flush=True)  # fmt: skip
                for reason in r.failures:
                    print(f"  a worker's crawl failed: {' '.join(reason.split())[:300]}")
        report(chosen, scaling)
        return 0
    finally:
        for server, _ in servers.values():
            server.stop()
        postgres.stop()
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(chosen: list[Config], scaling: float) -> None:
    print()
    print("| configuration | catalog | workers | URLs | wall s | URLs/s | crawling s |"
          " CPU ms/URL | PostgreSQL CPU ms/URL | cores busy | every run's URLs/s |"
          " worker crawls failed, all runs |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in chosen:
        r = c.best
        every = ", ".join(f"{run.speed:.1f}" for run in c.runs)
        workers = str(c.workers) if c.workers else "plain crawl"
        print(f"| {c.name} | {c.catalog} | {workers} | {r.urls} | {r.wall:.2f} | {r.speed:.1f} |"
              f" {r.crawling:.2f} | {1000 * r.cpu / r.urls:.2f}"
              f" | {1000 * r.database_cpu / r.urls:.2f} |"
              f" {r.busy / r.wall:.2f} | {every} |"
              f" {sum(len(run.failures) for run in c.runs)} |")  # fmt: skip
    best = {c.name: c.best for c in chosen}

    def ratio(label: str, top: str, bottom: str, goal: str = "") -> None:
        if top not in best or bottom not in best:
            return
        aim = f" (goal >= {goal})" if goal else ""
        # The same ratio over the crawls' own time, process start-up and exit left out.
        top_run, bottom_run = best[top], best[bottom]
        crawling = (top_run.urls / top_run.crawling) / (bottom_run.urls / bottom_run.crawling)
        print(f"{label}: {top_run.speed / bottom_run.speed:.2f}{aim};"
              f" crawling only: {crawling:.2f}")  # fmt: skip

    print()
    ratio("latency crawl, 2 workers / 1 worker", "latency-pg-2", "latency-pg-1", "1.8")
    ratio("latency crawl, 4 workers / 1 worker", "latency-pg-4", "latency-pg-1")
    ratio("cpu crawl, 2 workers / 1 worker", "cpu-pg-2", "cpu-pg-1", "1.8")
    ratio("cpu crawl, 4 workers / 1 worker", "cpu-pg-4", "cpu-pg-1")
    if "cpu-pg-1" in best:
        # Two workers at best keep both cores busy, each core then doing what the baseline
        # found (``scaling`` cores' worth in all); one worker already keeps ``busy`` cores
        # busy (its crawl, its WARC thread, PostgreSQL, the site). With the CPU a URL costs
        # unchanged, 2 workers reach at most scaling / busy times one.
        one = best["cpu-pg-1"]
        busy = one.busy / one.wall
        print(
            f"cpu crawl, the most 2 workers can reach on this machine: {scaling / busy:.2f}"
            f" (the machine's {scaling:.2f} / the {busy:.2f} cores one worker keeps busy)"
        )
    ratio("PostgreSQL / SQLite, one worker", "cpu-pg-1", "cpu-sqlite-1", "0.90")
    ratio("one worker on SQLite / plain crawl on SQLite", "cpu-sqlite-1", "cpu-sqlite-crawl")
    ratio("one worker on PostgreSQL / plain crawl on SQLite", "cpu-pg-1", "cpu-sqlite-crawl")


if __name__ == "__main__":
    raise SystemExit(main())
