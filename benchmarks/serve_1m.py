"""``archiver serve`` over a catalog of 1,000,000 captures (a benchmark script, not a
test): search (a two-character Chinese word and an English one; by relevance, and newest
first), a 10,000-capture URL timeline (its year and a month of it), and the captures
list's first and a deep page. Target: <= 200 ms p95 each.

    python benchmarks/serve_1m.py --captures 1000000
    python benchmarks/serve_1m.py --catalog postgresql   # in a throwaway loopback cluster
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
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

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


HOT = "https://example.org/watched"
BATCH = 50_000


def synthetic(row: dict, captures: int, timeline: int) -> Iterator[tuple[dict, str]]:
    """Copies of a real capture's row (new id, URL, time and payload), each with the text
    its search index holds."""
    rng = random.Random(7)
    for i in range(captures):
        fake = dict(row)
        fake["id"] = f"Z{i:07d}"[:4] + "-" + f"{i:08d}"[-4:]
        if i < timeline:  # one URL captured every hour for 10,000 hours
            fake["url"], fake["surt"] = HOT, "org,example)/watched"
            moment = 1_600_000_000 + i * 3600
        else:
            fake["url"], fake["surt"] = f"https://example.org/post/{i}", f"org,example)/post/{i}"
            moment = 1_600_000_000 + rng.randrange(200_000_000)
        fake["captured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment))
        fake["payload_digest"] = f"sha256:{i % 7:064x}"
        yield fake, "".join(rng.choice(WORDS) for _ in range(30)) + f" post number {i} council"


def build(home: Path, captures: int, timeline: int, pg_url: str | None) -> None:
    """A million synthetic rows beside one real demo capture (in SQLite, or in the
    PostgreSQL database ``pg_url``); their search index."""
    from archiver.catalog.searchindex import SearchIndex
    from archiver.web.segment import segment

    cli = [sys.executable, "-m", "archiver", "--home", str(home)]
    env = {**os.environ, **({"ARCHIVER_CATALOG": pg_url} if pg_url else {})}
    subprocess.run([*cli, "demo"], check=True, capture_output=True, env=env)
    load = _Postgres(pg_url) if pg_url else _Sqlite(home / "catalog.sqlite")
    index = SearchIndex(home / "search.sqlite", writable=True)
    batch, docs, indexed = [], [], 0
    for fake, text in synthetic(load.real, captures, timeline):
        batch.append(tuple(fake[n] for n in load.names))
        title = segment(f"帖子 {fake['id']}")
        docs.append((fake["id"], fake["captured_at"], fake["url"], title, segment(text)))
        if len(batch) == BATCH:
            last = load.insert(batch)
            index.add(docs, indexed, last)
            indexed = last
            batch.clear()
            docs.clear()
    if batch:
        index.add(docs, indexed, load.insert(batch))
    load.close()
    index.close()


class _Sqlite:
    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path)
        self.names = [d[0] for d in self.conn.execute("SELECT * FROM captures LIMIT 0").description]
        real = self.conn.execute(
            "SELECT * FROM captures WHERE url LIKE '%2019-defenders.html'"
        ).fetchone()
        self.real = dict(zip(self.names, real, strict=True))

    def insert(self, rows: list[tuple]) -> int:
        marks = ",".join("?" * len(self.names))
        self.conn.executemany(f"INSERT INTO captures VALUES ({marks})", rows)
        self.conn.commit()
        return self.conn.execute("SELECT MAX(rowid) FROM captures").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


class _Postgres:
    def __init__(self, url: str):
        import psycopg
        from psycopg.rows import dict_row

        self.conn = psycopg.connect(url, row_factory=dict_row)
        real = self.conn.execute(
            "SELECT * FROM captures WHERE url LIKE '%2019-defenders.html'"
        ).fetchone()
        self.names = [n for n in real if n != "rowid"]  # an identity: PostgreSQL numbers them
        self.real = real

    def insert(self, rows: list[tuple]) -> int:
        columns = ", ".join(self.names)
        with self.conn.cursor() as cur, cur.copy(f"COPY captures ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        self.conn.commit()
        return self.conn.execute("SELECT MAX(rowid) AS m FROM captures").fetchone()["m"]

    def close(self) -> None:
        self.conn.execute("ANALYZE")
        self.conn.commit()
        self.conn.close()


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
    parser.add_argument("--catalog", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: in a throwaway loopback cluster")  # fmt: skip
    args = parser.parse_args()

    with ExitStack() as stack:
        pg_url = None
        if args.catalog == "postgresql":
            from machine_parts import Postgres

            postgres = Postgres()
            stack.callback(postgres.stop)
            pg_url = stack.enter_context(postgres.fresh_database())
            print(f"catalog: {postgres.version}, loopback, fsync off")
            args.home = None  # the cluster goes with this run: build again
        run(args, pg_url)
    return 0


def run(args: argparse.Namespace, pg_url: str | None) -> None:
    from servehelp import serving

    home = args.home or Path(tempfile.mkdtemp(prefix="archiver-serve-1m-")) / "home"
    if (home / "catalog.sqlite").exists():
        print(f"catalog and index: reused from {home}")
    else:
        started = time.perf_counter()
        build(home, args.captures, args.timeline, pg_url)
        took = time.perf_counter() - started
        print(f"catalog and index: {args.captures + 1} captures in {took:.0f} s, in {home}")
    os.environ.pop("ARCHIVER_CATALOG", None)
    if pg_url:
        os.environ["ARCHIVER_CATALOG"] = pg_url
    with serving(home) as base:
        oldest = "2021-01-01T00:00:00.000Z~Z000-0000"
        for name, path in [
            ("search 删除", "/search?q=" + quote("删除")),
            ("search 删除 newest", "/search?sort=newest&q=" + quote("删除")),
            ("search 强拆 律师", "/search?q=" + quote("强拆 律师")),
            ("search council", "/search?q=council"),
            ("timeline 10,000", "/timeline?url=" + quote(HOT)),
            ("timeline month", "/timeline?month=2021-03&url=" + quote(HOT)),
            ("captures page 1", "/captures"),
            ("captures deep page", "/captures?after=" + quote(oldest)),
        ]:
            times = timed(base, path, args.runs)
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            p50 = times[len(times) // 2]
            print(f"{name:20s} p50 {p50 * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
