"""Browser capture: pages per minute and bytes per post, against the HTTP path.

A benchmark script, not a test. It generates N "social posts" whose text and images
arrive only through fetch() of a JSON API after load (an application shell, a script,
a stylesheet, a JSON document and two photos per post, one of them lazy-loaded far
below the fold), serves them on 127.0.0.1 with a threaded Python server, and crawls
them twice in one run:

- ``browser``: every post a ``--browser`` seed (Chromium renders it, every exchange is
  recorded, plus a screenshot and the rendered DOM);
- ``http``: the same seeds on the HTTP path (what a plain crawler keeps: the shell and
  the requisites it names, never the post).

It prints wall time, pages per minute, WARC bytes per post and, for the browser path,
the mean size of the screenshot and DOM records.

    python benchmarks/browser_pages.py --posts 40
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

SHELL = """<!doctype html><html><head><meta charset="utf-8"><title>Post</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><div id="app">Loading…</div><div style="height:2400px"></div>
<img id="lazy" width="160" height="160" alt="">
<script src="/static/app.js"></script></body></html>"""
APP_JS = """
const id = location.pathname.match(/(\\d+)\\.html$/)[1];
fetch('/api/' + id + '.json').then(r => r.json()).then(post => {
  document.getElementById('app').innerHTML =
    '<article><h1></h1><p></p><img width=160 height=160></article>';
  document.querySelector('h1').textContent = post.author;
  document.querySelector('p').textContent = post.text;
  document.querySelector('article img').src = post.photo;
  const lazy = document.getElementById('lazy');
  new IntersectionObserver((e, o) => {
    if (e.some(x => x.isIntersecting)) { lazy.src = post.lazy; o.disconnect(); }
  }).observe(lazy);
});
"""
WORDS = [
    "defender",
    "lawyer",
    "detained",
    "petition",
    "deleted",
    "censored",
    "report",
    "family",
    "court",
    "statement",
]


def png(rng: random.Random, side: int) -> bytes:
    """A noisy PNG (photos do not compress much)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))
    head = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


def generate(root: Path, posts: int) -> None:
    rng = random.Random(7)
    for folder in ("post", "api", "media", "static"):
        (root / folder).mkdir(parents=True)
    (root / "static" / "app.js").write_text(APP_JS)
    (root / "static" / "app.css").write_text("body{font:16px sans-serif;max-width:40em}\n" * 20)
    for n in range(posts):
        (root / "post" / f"{n}.html").write_text(SHELL)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120)))
        post = {"author": f"user{n}", "text": text, "photo": f"/media/{n}a.png",
                "lazy": f"/media/{n}b.png"}  # fmt: skip
        (root / "api" / f"{n}.json").write_text(json.dumps(post))
        (root / "media" / f"{n}a.png").write_bytes(png(rng, 110))
        (root / "media" / f"{n}b.png").write_bytes(png(rng, 80))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def crawl(work: Path, name: str, urls: list[str], browser: bool) -> dict[str, float]:
    home = work / name
    seeds = work / f"{name}.csv"
    seeds.write_text("url,browser\n" + "".join(f"{u},{'yes' if browser else 'no'}\n" for u in urls))
    env = {**os.environ, "ARCHIVER_HOME": str(home), "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}
    run = [sys.executable, "-m", "archiver"]
    subprocess.run([*run, "seeds", "import", str(seeds)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        [*run, "crawl", "--profile", "test", "--job", name, "-s", "ARCHIVER_BROWSER_HOSTS=none",
         "-s", "ARCHIVER_PROGRESS_INTERVAL=0", "-s", "RETRY_TIMES=2"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name} crawl failed:\n{done.stdout}\n{done.stderr}")
    warcs = list((home / "warcs").rglob("*.warc.gz")) + list((home / "spool").rglob("*.warc.gz"))
    size = sum(p.stat().st_size for p in warcs)
    resources = resource_sizes(warcs)
    suspect = done.stdout.count("SUSPECT:")
    return {"wall": wall, "bytes": size, "suspect": suspect, **resources}


def resource_sizes(paths: list[Path]) -> dict[str, float]:
    from warcio.archiveiterator import ArchiveIterator

    sizes: dict[str, list[int]] = {"screenshot": [], "dom": []}
    for path in paths:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                target = record.rec_headers.get_header("WARC-Target-URI") or ""
                length = int(record.rec_headers.get_header("Content-Length") or 0)
                if target.startswith("urn:fullPage:"):
                    sizes["screenshot"].append(length)
                elif target.startswith("urn:dom:"):
                    sizes["dom"].append(length)
    return {k: sum(v) / len(v) if v else 0.0 for k, v in sizes.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as tmp:
        work = Path(tmp)
        generate(work / "site", args.posts)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
             "--directory", str(work / "site")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(1)
            urls = [f"http://127.0.0.1:{port}/post/{n}.html" for n in range(args.posts)]
            results = {
                "browser": crawl(work, "browser", urls, browser=True),
                "http": crawl(work, "http", urls, browser=False),
            }
        finally:
            server.terminate()
            server.wait()
    print(f"{args.posts} posts, {os.cpu_count()} cores")
    for name, r in results.items():
        per_min = args.posts / r["wall"] * 60
        line = (f"{name:8} {r['wall']:6.1f} s  {per_min:6.1f} pages/min"
                f"  {r['bytes'] / args.posts / 1024:7.1f} KiB/post")  # fmt: skip
        if name == "browser":
            line += (f"  (screenshot {r['screenshot'] / 1024:.1f} KiB,"
                     f" DOM {r['dom'] / 1024:.1f} KiB; {r['suspect']:.0f} suspect)")  # fmt: skip
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
