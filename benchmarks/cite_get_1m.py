"""`cite` and `get` of one capture in a catalog of 1,000,000 captures, process start
included (a benchmark script, not a test). Target: <= 0.3 s wall each.

    python benchmarks/cite_get_1m.py --captures 1000000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archiver-1m-"))
    home = work / "home"
    cli = [sys.executable, "-m", "archiver", "--home", str(home)]
    # One real capture from the bundled demo site, then a million synthetic rows beside it.
    subprocess.run([*cli, "demo"], check=True, capture_output=True)
    conn = sqlite3.connect(home / "catalog.sqlite")
    real = conn.execute("SELECT * FROM captures WHERE url LIKE '%2019-defenders.html'").fetchone()
    names = [d[0] for d in conn.execute("SELECT * FROM captures LIMIT 0").description]
    row = dict(zip(names, real, strict=True))
    started = time.perf_counter()
    batch = []
    for i in range(args.captures):
        fake = dict(row)
        fake["id"] = f"Z{i:07d}"[:4] + "-" + f"{i:08d}"[-4:]
        fake["url"] = f"https://example.org/post/{i}"
        fake["surt"] = f"org,example)/post/{i}"
        batch.append(tuple(fake[n] for n in names))
        if len(batch) == 50_000:
            conn.executemany(f"INSERT INTO captures VALUES ({','.join('?' * len(names))})", batch)
            batch.clear()
    if batch:
        conn.executemany(f"INSERT INTO captures VALUES ({','.join('?' * len(names))})", batch)
    conn.commit()
    conn.close()
    print(f"catalog: {args.captures + 1} captures, built in {time.perf_counter() - started:.0f} s")
    env = {**os.environ}
    got = str(work / "one.warc.gz")
    for command in (["cite", row["id"]], ["get", row["id"], "-o", got, "--force"],
                    ["--version"]):  # fmt: skip
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = subprocess.run([*cli, *command], capture_output=True, env=env)
            times.append(time.perf_counter() - started)
            assert result.returncode == 0, result.stderr
        print(f"{' '.join(command[:1]):10s} best {min(times):.3f} s, median "
              f"{sorted(times)[len(times) // 2]:.3f} s (process start included)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
