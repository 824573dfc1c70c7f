"""``archiver serve`` over a catalog of 1,000,000 captures (a benchmark script, not a
test): search (a two-character Chinese word and an English one), a 10,000-capture URL
timeline, and the captures list's first and a deep page. Target: <= 200 ms p95 each.

    python benchmarks/serve_1m.py --captures 1000000
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

WORDS = [
    "强拆",
    "删除",
    "律师",
    "村民",
    "声明",
    "转发",
    "记录",
    "现场",
    "政府",
    "法院",
    "维权",
    "新闻",
    "报道",
    "评论",
    "视频",
    "图片",
]


def build(home: Path, captures: int, timeline: int) -> str:
    """A million synthetic rows beside one real demo capture; their search index."""
    from archiver.catalog.searchindex import SearchIndex
    from archiver.web.segment import segment

    cli = [sys.executable, "-m", "archiver", "--home", str(home)]
    subprocess.run([*cli, "demo"], check=True, capture_output=True)
    conn = sqlite3.connect(home / "catalog.sqlite")
    real = conn.execute("SELECT * FROM captures WHERE url LIKE '%2019-defenders.html'").fetchone()
    names = [d[0] for d in conn.execute("SELECT * FROM captures LIMIT 0").description]
    row = dict(zip(names, real, strict=True))
    index = SearchIndex(home / "search.sqlite", writable=True)
    rng = random.Random(7)
    batch, docs, indexed = [], [], 0
    hot = "https://example.org/watched"
    for i in range(captures):
        fake = dict(row)
        fake["id"] = f"Z{i:07d}"[:4] + "-" + f"{i:08d}"[-4:]
        if i < timeline:  # one URL captured every hour for 10,000 hours
            fake["url"], fake["surt"] = hot, "org,example)/watched"
            moment = 1_600_000_000 + i * 3600
        else:
            fake["url"], fake["surt"] = f"https://example.org/post/{i}", f"org,example)/post/{i}"
            moment = 1_600_000_000 + rng.randrange(200_000_000)
        fake["captured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment))
        fake["payload_digest"] = f"sha256:{i % 7:064x}"
        text = "".join(rng.choice(WORDS) for _ in range(30)) + f" post number {i} council"
        batch.append(tuple(fake[n] for n in names))
        title = segment(f"帖子 {i}")
        docs.append((fake["id"], fake["captured_at"], fake["url"], title, segment(text)))
        if len(batch) == 50_000:
            conn.executemany(f"INSERT INTO captures VALUES ({','.join('?' * len(names))})", batch)
            conn.commit()
            last = conn.execute("SELECT MAX(rowid) FROM captures").fetchone()[0]
            index.add(docs, indexed, last)
            indexed = last
            batch.clear()
            docs.clear()
    if batch:
        conn.executemany(f"INSERT INTO captures VALUES ({','.join('?' * len(names))})", batch)
        conn.commit()
        index.add(docs, indexed, conn.execute("SELECT MAX(rowid) FROM captures").fetchone()[0])
    conn.close()
    index.close()
    return hot


def timed(base: str, path: str, runs: int) -> list[float]:
    host, port = base.removeprefix("http://").split(":")
    times = []
    for _ in range(runs):
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        started = time.perf_counter()
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        times.append(time.perf_counter() - started)
        conn.close()
        assert answer.status == 200, (path, answer.status)
    return sorted(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=1_000_000)
    parser.add_argument("--timeline", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--home", type=Path, help="Reuse the archive built there by a run before.")
    args = parser.parse_args()
    from servehelp import serving

    home = args.home or Path(tempfile.mkdtemp(prefix="archiver-serve-1m-")) / "home"
    if (home / "catalog.sqlite").exists():
        hot = "https://example.org/watched"
        print(f"catalog and index: reused from {home}")
    else:
        started = time.perf_counter()
        hot = build(home, args.captures, args.timeline)
        took = time.perf_counter() - started
        print(f"catalog and index: {args.captures + 1} captures in {took:.0f} s, in {home}")
    os.environ.pop("ARCHIVER_CATALOG", None)
    with serving(home) as base:
        oldest = "2021-01-01T00:00:00.000Z~Z000-0000"
        for name, path in [
            ("search 删除", "/search?q=" + quote("删除")),
            ("search 强拆 律师", "/search?q=" + quote("强拆 律师")),
            ("search council", "/search?q=council"),
            ("timeline 10,000", "/timeline?url=" + quote(hot)),
            ("captures page 1", "/captures"),
            ("captures deep page", "/captures?after=" + quote(oldest)),
        ]:
            times = timed(base, path, args.runs)
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            p50 = times[len(times) // 2]
            print(f"{name:22s} p50 {p50 * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
