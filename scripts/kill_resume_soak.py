"""Soak test for crash safety (a script, not a test): kill -9 a crawl again and again.

Serves a generated site on 127.0.0.1, starts `archiver crawl`, kills it with SIGKILL at a
random moment, resumes, and repeats; then lets the job finish and checks that every WARC
passes `warcio check`, no `.open` file remains, every catalog row matches its bytes, every
page was captured exactly once in the catalog, and counts the pages fetched twice.

    python scripts/kill_resume_soak.py --pages 1500 --kills 20
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archiver.catalog import open_catalog
from archiver.catalog.captures import find_captures
from archiver.research.retrieval import read_capture


def make_handler(pages: int, delay: float):
    class Site(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            time.sleep(delay)
            if self.path == "/" or self.path.startswith("/p"):
                n = int(self.path[2:].split(".")[0]) if self.path.startswith("/p") else 0
                links = "".join(
                    f'<a href="/p{(n * 13 + k) % pages}.html">x</a>' for k in range(1, 6)
                )
                body = f"<title>page {n}</title><img src='/i{n % 50}.png'>{links}".encode()
                kind = "text/html"
            elif self.path.startswith("/i"):
                body, kind = os.urandom(2000), "image/png"
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

    return Site


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1500)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per response")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.pages, args.delay))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    work = Path(tempfile.mkdtemp(prefix="archiver-soak-"))
    home = work / "home"
    env = {**os.environ, "ARCHIVER_HOME": str(home), "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}
    cli = [sys.executable, "-m", "archiver"]
    subprocess.run([*cli, "seeds", "add", url, "--scope", "host", "--robots", "ignore"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    rng = random.Random(args.seed)
    kills, runs, started = 0, 0, time.monotonic()
    while True:
        runs += 1
        process = subprocess.Popen([*cli, "crawl", "--job", "soak", "--profile", "test"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        if kills < args.kills:
            time.sleep(rng.uniform(0.7, 3.0))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                continue
        _, err = process.communicate()
        if process.returncode == 0:
            break
        print(err.decode(), file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started

    files = sorted(home.glob("warcs/**/*.warc.gz"))
    opened = list(home.rglob("*.open"))
    check = subprocess.run([Path(sys.executable).parent / "warcio", "check", *map(str, files)],
                           capture_output=True)  # fmt: skip
    catalog = open_catalog(home / "catalog.sqlite")
    captures = [c for c in find_captures(catalog, job="soak") if c.kind != "robots"]
    for capture in captures:
        read_capture(capture)
    per_url = Counter(c.url for c in captures)
    fetched = Counter()
    for path in files:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    fetched[record.rec_headers.get_header("WARC-Target-URI")] += 1
    expected = (
        {url}
        | {f"{url}p{n}.html" for n in range(args.pages)}
        | {f"{url}i{n}.png" for n in range(50)}
    )
    missing = expected - set(per_url)
    print(f"runs={runs} kills={kills} seconds={elapsed:.0f} urls={len(expected)}")
    print(f"warc_files={len(files)} warcio_check={'ok' if check.returncode == 0 else 'FAILED'}"
          f" open_files={len(opened)} rows_verified={len(captures)}")  # fmt: skip
    print(f"missing={len(missing)} rows_per_url_max={max(per_url.values())}"
          f" fetched_twice={sum(n - 1 for n in fetched.values())}")  # fmt: skip
    ok = not missing and not opened and check.returncode == 0 and max(per_url.values()) == 1
    print("OK" if ok else "FAILED", f"(work folder {work})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
