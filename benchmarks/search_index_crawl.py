"""What keeping the search index up to date costs a crawl (a benchmark script, not a
test): the same crawl of a documentation set served on 127.0.0.1, into a home without a
search index and into one with it (which the crawl then fills as it goes), alternating,
each round's ratio taken within the round. CPU seconds are the crawl process's own
(user + system), which other processes on a busy machine disturb less than wall time.

    python benchmarks/search_index_crawl.py --docs /usr/share/doc/postgresql-doc-15/html
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def crawl(home: Path, url: str, with_index: bool) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and captures of one crawl into a fresh home."""
    cli = [sys.executable, "-m", "archiver", "--home", str(home)]
    subprocess.run([*cli, "seeds", "add", url, "--scope", "host"], check=True, capture_output=True)
    if with_index:
        subprocess.run([*cli, "index", "--search"], check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*cli, "crawl", "--profile", "test"], check=True, capture_output=True,
                   cwd=home.parent)  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    listed = subprocess.run([*cli, "captures", "--json"], check=True, capture_output=True)
    if with_index:  # every capture the crawl made is in the index when it ends
        from archiver.catalog.searchindex import SearchIndex

        index = SearchIndex(home / "search.sqlite")
        print(f"  the index holds {index.count()} captures")
        index.close()
    return wall, cpu, listed.stdout.count(b'"capture_id"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=Path("/usr/share/doc/postgresql-doc-15/html"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(args.docs))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    work = Path(tempfile.mkdtemp(prefix="archiver-index-crawl-"))
    os.environ.pop("ARCHIVER_CATALOG", None)
    os.environ["ARCHIVER_ALLOW_PRIVATE_NETWORKS"] = "1"  # the site is on 127.0.0.1
    ratios_wall, ratios_cpu = [], []
    for n in range(args.rounds):
        plain = crawl(work / f"plain-{n}" / "home", url, with_index=False)
        indexed = crawl(work / f"indexed-{n}" / "home", url, with_index=True)
        ratios_wall.append(indexed[0] / plain[0])
        ratios_cpu.append(indexed[1] / plain[1])
        print(f"round {n + 1}: without index {plain[0]:.1f} s wall, {plain[1]:.1f} s CPU,"
              f" {plain[2]} captures; with index {indexed[0]:.1f} s wall,"
              f" {indexed[1]:.1f} s CPU, {indexed[2]} captures")  # fmt: skip
    wall, cpu = statistics.median(ratios_wall), statistics.median(ratios_cpu)
    print(f"with the index / without: wall x{wall:.2f}, CPU x{cpu:.2f} (medians of {args.rounds})")
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
