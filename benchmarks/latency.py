"""Throughput where responses take time: a site spread over 20 hosts (127.0.0.2 to
127.0.0.21, loopback), every response held 50 to 500 ms (a fixed pseudo-random delay per
URL, as a distant or loaded server answers), crawled with archiver's default politeness
(the ``local`` profile: 4 connections per host, AutoThrottle) against GNU wget
(``--recursive --span-hosts --warc-file``: one connection at a time, its own default).

A benchmark script, not a test. wget at a few URLs a second would need many minutes for
the site, so each crawler gets the same time budget and its rate is URLs fetched per
second (archiver stops when the site is done; wget when its budget runs out), in rounds
that alternate the two; the ratio is taken within each round.

    python benchmarks/latency.py --pages 60 --budget 60 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOSTS = [f"127.0.0.{n}" for n in range(2, 22)]


def delay_of(host: str, path: str) -> float:
    """50-500 ms, the same for a URL in every run."""
    digest = hashlib.sha256(f"{host}{path}".encode()).digest()
    return 0.05 + int.from_bytes(digest[:2], "big") / 65535 * 0.45


def page(host: str, n: int, pages: int, port: int) -> bytes:
    """Page n of a host: links to its next pages, and to a page on two other hosts."""
    index = HOSTS.index(host)
    links = [f"/p{k}.html" for k in range(n + 1, min(n + 4, pages))]
    others = [
        f"http://{HOSTS[(index + step) % len(HOSTS)]}:{port}/p{(n * 7 + step) % pages}.html"
        for step in (1, 5)
    ]
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in [*links, *others])
    text = "A report on detained defenders and deleted posts. " * 40
    return (
        f"<!doctype html><html><head><title>{host} page {n}</title></head>"
        f"<body><h1>Page {n}</h1><p>{text}</p><p>{anchors}</p></body></html>"
    ).encode()


class DelayingSite:
    """An asyncio HTTP/1.1 server (keep-alive) on every host, in a thread of its own."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.port = 0
        self.served = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        first = await asyncio.start_server(self._serve, HOSTS[0], 0)
        self.port = first.sockets[0].getsockname()[1]
        for host in HOSTS[1:]:
            await asyncio.start_server(self._serve, host, self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode("latin-1")
                await asyncio.sleep(delay_of(host, path))
                status, body, kind = "404 Not Found", b"not here", "text/plain"
                if path == "/":
                    status, body, kind = "200 OK", page(host, 0, self.pages, self.port), "text/html"
                elif path.startswith("/p") and path.endswith(".html"):
                    n = int(path[2:-5])
                    if n < self.pages:
                        status, body, kind = (
                            "200 OK",
                            page(host, n, self.pages, self.port),
                            "text/html",
                        )
                self.served += 1
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {kind}; charset=utf-8\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def run_wget(site: DelayingSite, work: Path, budget: float) -> tuple[int, float]:
    out = work / "wget"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    log = out / "log"
    started = time.monotonic()
    with contextlib.suppress(subprocess.TimeoutExpired):  # the budget is spent
        subprocess.run(
            ["wget", "--recursive", "--level=inf", "--span-hosts", "--no-verbose",
             "--warc-file", str(out / "site"), "-P", str(out / "files"), "-o", str(log),
             f"http://{HOSTS[0]}:{site.port}/"],
            timeout=budget, check=False,
        )  # fmt: skip
    took = time.monotonic() - started
    fetched = sum(" URL:" in line for line in log.read_text(errors="replace").splitlines())
    return fetched, took


def run_archiver(site: DelayingSite, work: Path, budget: float) -> tuple[int, float]:
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1",
           "ARCHIVER_OPERATOR": "benchmark <bench@example.org>"}  # fmt: skip
    for name in ("ARCHIVER_HOME", "ARCHIVER_CATALOG", "ARCHIVER_TSA_URLS"):
        env.pop(name, None)
    seeds = [f"http://{host}:{site.port}/" for host in HOSTS]
    archiver = [sys.executable, "-m", "archiver", "--home", str(home)]
    subprocess.run([*archiver, "seeds", "add", *seeds, "--scope", "host"], env=env, cwd=work,
                   check=True, capture_output=True)  # fmt: skip
    started = time.monotonic()
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run([*archiver, "crawl", "--job", "latency", "-s", "LOG_LEVEL=WARNING"],
                       env=env, cwd=work, timeout=budget, check=False,
                       capture_output=True)  # fmt: skip
    took = time.monotonic() - started
    with sqlite3.connect(home / "catalog.sqlite") as conn:
        fetched = conn.execute("SELECT count(*) FROM captures WHERE state != 'failed'").fetchone()[
            0
        ]
    return fetched, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60, help="pages per host")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per crawler run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wget"):
        raise SystemExit("wget is needed (apt-get install wget)")
    site = DelayingSite(args.pages)
    total = len(HOSTS) * args.pages
    print(f"{len(HOSTS)} hosts x {args.pages} pages ({total} pages, each held 50-500 ms);"
          f" {args.budget:.0f} s per run")  # fmt: skip
    ratios, results = [], []
    with tempfile.TemporaryDirectory(prefix="archiver-latency-") as folder:
        work = Path(folder)
        for round_ in range(1, args.rounds + 1):
            w_urls, w_time = run_wget(site, work, args.budget)
            a_urls, a_time = run_archiver(site, work, args.budget)
            w_rate, a_rate = w_urls / w_time, a_urls / a_time
            ratios.append(a_rate / w_rate)
            results.append({"round": round_, "wget": [w_urls, round(w_time, 1)],
                            "archiver": [a_urls, round(a_time, 1)]})  # fmt: skip
            print(f"round {round_}: wget {w_urls} URLs in {w_time:.1f} s ({w_rate:.1f}/s);"
                  f" archiver {a_urls} URLs in {a_time:.1f} s ({a_rate:.1f}/s);"
                  f" ratio {ratios[-1]:.1f}x", flush=True)  # fmt: skip
    print(f"archiver / wget, URLs per second (median of rounds): {statistics.median(ratios):.1f}x"
          " (target: >= 10x)")  # fmt: skip
    print(json.dumps(results))


if __name__ == "__main__":
    main()
