"""Upload throughput of archiver's S3 store against plain boto3 ``upload_file`` (a
benchmark script, not a test). Both send the same files to the same endpoint, moto's
standalone S3 server on 127.0.0.1, in the same run; the ratio is what counts.

    python benchmarks/s3_upload.py --files 8 --size-mb 48
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from s3server import MotoServer

from archiver.storage.s3 import S3Options, S3Store

MB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size-mb", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archiver-s3-bench-"))
    server = MotoServer(work / "moto.log")
    os.environ.update(server.env)
    try:
        client = server.client()
        client.create_bucket(Bucket="bench-plain")
        client.create_bucket(Bucket="bench-archiver")
        files = []
        for i in range(args.files):
            path = work / f"f{i}.warc.gz"
            path.write_bytes(os.urandom(args.size_mb * MB))
            files.append((path, hashlib.sha256(path.read_bytes()).hexdigest()))
        total = args.files * args.size_mb
        options = S3Options(endpoint_url=server.endpoint, region="us-east-1")
        timings: dict[str, list[float]] = {"boto3 upload_file": [], "archiver S3Store.put": []}
        for round_ in range(args.rounds):
            started = time.perf_counter()
            for i, (path, _) in enumerate(files):
                client.upload_file(str(path), "bench-plain", f"r{round_}/{i}")
            timings["boto3 upload_file"].append(time.perf_counter() - started)
            store = S3Store("bench-archiver", f"r{round_}", options)
            started = time.perf_counter()
            for i, (path, sha) in enumerate(files):
                store.put(path, f"job/{i}.warc.gz", sha256=sha)
            timings["archiver S3Store.put"].append(time.perf_counter() - started)
        best = {name: min(values) for name, values in timings.items()}
        for name, seconds in best.items():
            print(f"{name:24s} {total / seconds:7.1f} MB/s  ({seconds:.2f} s for {total} MB)")
        ratio = best["boto3 upload_file"] / best["archiver S3Store.put"]
        print(f"ratio archiver/boto3: {ratio:.2f}x (target >= 0.8x; archiver also checksums,"
              " verifies and reads the file for its SHA-256)")  # fmt: skip
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
