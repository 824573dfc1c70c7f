"""Nomination to evidence: how long from ``archiver seeds add URL --risk high`` to the
URL's first capture on disk (its WARC bytes fsynced and its row committed: the row is
committed only after the fsync), with ``archiver watch`` running; and how long a one-page
``archiver crawl`` takes, wall time, against ``wget --warc-file`` of the same page.

A benchmark script, not a test. It serves pages on 127.0.0.1, makes a home whose seeds
under the tag ``watched`` are captured every day, starts ``archiver watch`` and waits
until it sleeps, then adds the pages one at a time (each after the previous one's
capture), timing each from the command's start to the capture row.

    python benchmarks/nomination.py --additions 20 --crawls 10
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        else:
            text = f"<title>post {self.path}</title><p>a post that may be deleted soon</p>"
            body, kind = text.encode(), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def archiver(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), *args],
        capture_output=True, text=True, env=env, cwd=home.parent, check=False,
    )  # fmt: skip


def captured(home: Path, url: str) -> bool:
    path = home / "catalog.sqlite"
    if not path.exists():
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute(
            "SELECT 1 FROM captures WHERE url = ? AND state = 'ok' LIMIT 1", (url,)
        ).fetchone()
    return row is not None


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def nominations(base: str, work: Path, additions: int, env: dict[str, str]) -> list[float]:
    home = work / "watched-home"
    assert (
        archiver(home, "seeds", "add", base + "known", "--tag", "watched", env=env).returncode == 0
    )
    assert archiver(home, "schedule", "set", "--tag", "watched", "--every", "1d",
                    env=env).returncode == 0  # fmt: skip
    watch = subprocess.Popen(
        [sys.executable, "-m", "archiver", "--home", str(home), "watch", "--profile", "test",
         "--max-sleep", "600", "-s", "ARCHIVER_CONFIRM_DELAY=0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=work,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(watch.stderr), daemon=True).start()  # type: ignore[arg-type]
    try:
        if not wait_for(lambda: any("next due at" in line for line in lines), 120):
            raise SystemExit("watch did not settle: " + "".join(lines))
        took = []
        for n in range(additions):
            url = f"{base}post/{n}"
            started = time.monotonic()
            added = archiver(home, "seeds", "add", url, "--tag", "watched", "--risk", "high",
                             env=env)  # fmt: skip
            assert added.returncode == 0, added.stderr
            if not wait_for(lambda url=url: captured(home, url), 120):
                raise SystemExit(f"{url} was not captured in 120 s: " + "".join(lines[-20:]))
            took.append(time.monotonic() - started)
            print(f"  nomination {n + 1}: {took[-1]:.2f} s", flush=True)
        return took
    finally:
        watch.terminate()
        watch.wait(timeout=60)


PLAIN_SCRAPY = """
import sys
from scrapy import Spider
from scrapy.crawler import CrawlerProcess

class One(Spider):
    name = "one"
    start_urls = [sys.argv[1]]
    def parse(self, response):
        return None

process = CrawlerProcess({"LOG_ENABLED": False, "TELNETCONSOLE_ENABLED": False})
process.crawl(One)
process.start()
"""


def one_page_crawls(
    url: str, work: Path, rounds: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """Wall times, alternating: ``archiver crawl URL`` into a new home; a plain Scrapy
    process fetching the page (no archiving: Scrapy's own start-up); wget --warc-file."""
    times: dict[str, list[float]] = {"archiver": [], "scrapy": [], "wget": []}
    for n in range(rounds):
        started = time.monotonic()
        done = archiver(work / f"crawl-{n}", "crawl", url, "--profile", "test", env=env)
        times["archiver"].append(time.monotonic() - started)
        assert done.returncode == 0, done.stderr
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", PLAIN_SCRAPY, url], check=True, cwd=work)
        times["scrapy"].append(time.monotonic() - started)
        out = work / f"wget-{n}"
        out.mkdir()
        started = time.monotonic()
        subprocess.run(["wget", "-q", "--warc-file", str(out / "page"), "-P", str(out), url],
                       check=True)  # fmt: skip
        times["wget"].append(time.monotonic() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--additions", type=int, default=20)
    parser.add_argument("--crawls", type=int, default=10)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    env = {**os.environ, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1",
           "ARCHIVER_OPERATOR": "benchmark <bench@example.org>"}  # fmt: skip
    env.pop("ARCHIVER_HOME", None)
    env.pop("ARCHIVER_CATALOG", None)
    with tempfile.TemporaryDirectory(prefix="archiver-nomination-") as folder:
        work = Path(folder)
        print(f"one-page crawls ({args.crawls} rounds; archiver into a new home each time):")
        times = one_page_crawls(base + "page", work, args.crawls, env)
        for name, label in (("archiver", "archiver crawl"), ("scrapy", "plain Scrapy process"),
                            ("wget", "wget --warc-file")):  # fmt: skip
            runs = times[name]
            print(f"  {label}: median {statistics.median(runs):.3f} s, best {min(runs):.3f} s")
        ratio = statistics.median(times["archiver"]) / statistics.median(times["scrapy"])
        print(f"  archiver / plain Scrapy (medians): {ratio:.2f}x (target: archiver <= 1.0 s)")
        print(f"nominations ({args.additions}, with 'archiver watch' running):")
        took = nominations(base, work, args.additions, env)
        print(f"  p50 {percentile(took, 0.5):.2f} s, p95 {percentile(took, 0.95):.2f} s,"
              f" max {max(took):.2f} s (targets: p50 <= 5 s, p95 <= 10 s)")  # fmt: skip
    server.shutdown()


if __name__ == "__main__":
    main()
