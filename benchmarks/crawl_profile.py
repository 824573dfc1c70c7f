"""Where a crawl's CPU goes, per URL: the profile behind ``crawl_speed.py``'s figures.

A benchmark script, not a test. It serves the same site as ``crawl_speed.py`` (or a
documentation folder, ``--docs``), runs ``archiver crawl --profile test`` N times in a
child process whose parts are timed in CPU time of the thread that runs them
(``time.thread_time``: other processes on the machine disturb it less than wall time),
and prints the smallest of each part over the runs, in ms per URL:

- start-up (the process, to the crawl's first call) and closing;
- on the crawl's thread: link extraction (with decoding), recording a capture (its
  records and row), the catalog's inserts, the rest of the spider, and Scrapy and
  Twisted (the reactor's time less all of those);
- on other threads: compressing and writing the WARC records, the fsyncs.

    python benchmarks/crawl_profile.py --runs 3
    python benchmarks/crawl_profile.py --docs /usr/share/doc/postgresql-doc-15/html
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from crawl_speed import Server, add_seed, generate_site, machine, warc_stats

# Runs in the crawl's process: wraps the parts, and prints their CPU seconds at exit.
TIMED = r"""
import atexit, functools, importlib, json, resource, sys, threading, time
from collections import Counter

SECONDS = Counter()
START = time.thread_time()


def timed(module, name, part):
    try:  # an older archiver may not have the part
        owner = importlib.import_module(module)
        *path, attribute = name.split(".")
        for step in path:
            owner = getattr(owner, step)
        function = getattr(owner, attribute)
    except (ImportError, AttributeError):
        return

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        began = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            elsewhere = threading.current_thread() is not threading.main_thread()
            SECONDS[part + (" (other thread)" if elsewhere else "")] += (
                time.thread_time() - began
            )

    setattr(owner, attribute, wrapper)


for module, name, part in [
    ("archiver.crawl.runner", "run_crawl", "crawl"),
    ("scrapy.crawler", "CrawlerProcess.start", "reactor"),
    ("archiver.spiders.seedlist", "SeedListSpider.parse", "spider"),
    ("archiver.spiders.seedlist", "SeedListSpider._extract", "extraction"),
    ("archiver.crawl.session", "ArchiveSession.commit_response", "recording"),
    ("archiver.crawl.session", "ArchiveSession.record_now", "recording, not parsed"),
    ("archiver.capture.rowcommits", "RowCommits._insert", "catalog inserts"),
    ("archiver.warc.background", "BackgroundWrites.complete", "rows queued"),
    ("archiver.warc.writer", "WarcWriter.write_group", "WARC gzip and writes"),
]:
    timed(module, name, part)


def report():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    SECONDS["process"] = usage.ru_utime + usage.ru_stime
    SECONDS["main thread"] = time.thread_time() - START
    print("PARTS " + json.dumps(SECONDS), file=sys.stderr)


atexit.register(report)
sys.argv = ["archiver", *sys.argv[1:]]
from archiver.cli import main

main()
"""


def one_run(server: Server, work: Path) -> tuple[int, dict[str, float]]:
    run = Path(tempfile.mkdtemp(dir=work))
    home = run / "home"
    add_seed(home, server.url)
    env = {**os.environ, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", TIMED, "--home", str(home), "crawl", "--profile", "test",
         "--job", "bench", "--seed", "1", "-s", "ARCHIVER_PROGRESS_INTERVAL=0"],
        cwd=run, env=env, capture_output=True, text=True,
    )  # fmt: skip
    line = [x for x in done.stderr.splitlines() if x.startswith("PARTS ")]
    if done.returncode != 0 or not line:
        raise SystemExit(f"the crawl failed:\n{done.stderr[-2000:]}")
    urls, _ = warc_stats(sorted(home.glob("warcs/bench/*.warc.gz")))
    shutil.rmtree(run)
    return urls, json.loads(line[0][len("PARTS ") :])


def parts(seconds: dict[str, float]) -> dict[str, float]:
    """CPU seconds of each part, the nested ones taken out of those they run in."""
    get = seconds.get
    extraction, recording = get("extraction", 0), get("recording", 0)
    recording += get("recording, not parsed", 0) + get("rows queued", 0)
    catalog = get("catalog inserts", 0)
    spider = get("spider", 0) - extraction - get("recording", 0)
    ours = extraction + recording + spider + catalog
    return {
        "start-up and exit (imports, catalog, summary)": get("main thread", 0) - get("crawl", 0),
        "crawl thread: link extraction (decoding included)": extraction,
        "crawl thread: recording (records, digests, row, crawl.log)": recording,
        "crawl thread: catalog inserts (commits)": catalog,
        "crawl thread: spider (scope, frontier, requests)": spider,
        "crawl thread: Scrapy and Twisted": get("reactor", 0) - ours,
        "crawl thread: closing (WARC index, store, summary)": get("crawl", 0) - get("reactor", 0),
        "crawl thread: of recording, WARC gzip and writes": get("WARC gzip and writes", 0),
        "other threads: WARC gzip and writes": get("WARC gzip and writes (other thread)", 0),
        "other threads: fsync, uploads, the rest": get("process", 0)
        - get("main thread", 0)
        - get("WARC gzip and writes (other thread)", 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=Path, help="serve this documentation folder instead")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archiver-profile-"))
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    try:
        if args.docs:
            site = args.docs.resolve()
        else:
            site = work / "site"
            generate_site(site, args.pages)
        server = Server(site, work)
        try:
            runs = [one_run(server, work) for _ in range(args.runs)]
        finally:
            server.stop()
        urls = runs[0][0]
        best = {name: min(parts(seconds)[name] for _, seconds in runs) for name in parts({})}
        print(f"{urls} URLs; CPU per URL, the least of {args.runs} runs:")
        for name, value in best.items():
            if value or "WARC" not in name:
                print(f"  {name:60s} {1000 * value / urls:6.3f} ms")
        total = min(s["process"] for _, s in runs)
        print(f"  {'process, all threads (least run)':60s} {1000 * total / urls:6.3f} ms")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
