"""Crawl speed against GNU wget and against the same crawl without archiving.

A benchmark script, not a test. It generates a link-dense site (pages with 100-300
links, a few with thousands, CSS, JS and images), serves it on 127.0.0.1 with nginx
(gzip on) when Debian's nginx is installed, else with a threaded Python server, then
runs, alternating, each crawler N times:

- ``wget --recursive --level=inf --page-requisites --warc-file`` (the baseline),
- ``unarchived``: a plain Scrapy crawl with archiver's spider logic (decoding, link
  extraction, early de-duplication, scope) but no WARC, no catalog, Scrapy's own
  download handler,
- ``archiver``: ``archiver crawl --profile test`` (WARC + catalog, everything on).

It prints URLs/s, wall time, CPU time, peak RSS and WARC bytes per run, and the medians
of the ratios against wget and against unarchived, each ratio taken within one round,
in URLs per second and in URLs per CPU second (which other processes on a busy machine
disturb less).

``--docs DIR`` serves a real documentation set instead of the generated site, as a Debian
package ships it (``apt-get install postgresql-doc-15``), crawled from its ``index.html``.

    python benchmarks/crawl_speed.py --pages 600 --rounds 3
    python benchmarks/crawl_speed.py --docs /usr/share/doc/postgresql-doc-15/html --rounds 5
    python benchmarks/crawl_speed.py --memory     # archiver's peak RSS at 1,000 and 10,000 pages
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WORDS = [
    "defender",
    "report",
    "censorship",
    "deleted",
    "post",
    "weibo",
    "wechat",
    "lawyer",
    "detained",
    "petition",
]


def generate_site(root: Path, pages: int, seed: int = 1) -> int:
    """Write the site; return how many URLs a complete crawl fetches."""
    rng = random.Random(seed)
    (root / "static").mkdir(parents=True)
    (root / "static" / "site.css").write_text(
        "body{font-family:serif} .logo{background:url(/static/bg.png)}\n" * 40
    )
    (root / "static" / "site.js").write_text("function f(x){return x*2}\n" * 200)
    (root / "static" / "bg.png").write_bytes(rng.randbytes(4000))
    images = 150
    for i in range(images):
        (root / "static" / f"img{i}.png").write_bytes(rng.randbytes(rng.randint(5_000, 30_000)))
    hubs = set(rng.sample(range(pages), 5))
    for i in range(pages):
        count = 3000 if i in hubs else rng.randint(100, 300)
        links = "".join(
            f'<li><a href="/p/{rng.randrange(pages)}.html">post {n}</a></li>' for n in range(count)
        )
        imgs = "".join(
            f'<img src="/static/img{rng.randrange(images)}.png">' for _ in range(rng.randint(1, 3))
        )
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(800, 2000)))
        html = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Post {i}</title>"
            "<link rel='stylesheet' href='/static/site.css'><script src='/static/site.js'>"
            f"</script></head><body><h1>Post {i}</h1>{imgs}<p>{text}</p><ul>{links}</ul>"
            "</body></html>"
        )
        path = root / "p" / f"{i}.html"
        path.parent.mkdir(exist_ok=True)
        path.write_text(html)
    index = "".join(f'<a href="/p/{i}.html">{i}</a> ' for i in range(0, pages, 50))
    (root / "index.html").write_text(
        f"<html><head><title>Index</title></head><body>{index}</body></html>"
    )
    return pages


def site_size(root: Path) -> str:
    files = [path for path in root.rglob("*") if path.is_file()]
    size = sum(path.stat().st_size for path in files)
    return f"{len(files)} files, {size / 1e6:.1f} MB"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, root: Path, work: Path, gzip: bool = True):
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        nginx = shutil.which("nginx") or (
            "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
        )
        if nginx:
            conf = work / "nginx.conf"
            conf.write_text(
                textwrap.dedent(f"""
                worker_processes 1;
                daemon off;
                pid {work}/nginx.pid;
                error_log {work}/nginx-error.log;
                {"user root;" if os.geteuid() == 0 else ""}
                events {{ worker_connections 1024; }}
                http {{
                    access_log off;
                    include /etc/nginx/mime.types;
                    client_body_temp_path {work}/nginx-tmp;
                    proxy_temp_path {work}/nginx-tmp;
                    fastcgi_temp_path {work}/nginx-tmp;
                    uwsgi_temp_path {work}/nginx-tmp;
                    scgi_temp_path {work}/nginx-tmp;
                    gzip {"on" if gzip else "off"};
                    gzip_types text/css application/javascript text/plain;
                    server {{ listen 127.0.0.1:{self.port}; root {root}; }}
                }}
            """)
            )
            self.kind = "nginx"
            self.process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)],
                                            stderr=subprocess.DEVNULL)  # fmt: skip
        else:
            self.kind = "python http.server"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                 "--directory", str(root)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/index.html"

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait()


UNARCHIVED = r"""
import sys
from urllib.parse import urlsplit
import scrapy
from scrapy.crawler import CrawlerProcess
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding
from archiver.spiders.decode import ACCEPT_ENCODING, decoded_body
from archiver.spiders.links import extract_html, extract_css

START = sys.argv[1]
HOST = urlsplit(START).netloc

class Plain(scrapy.Spider):
    name = "plain"
    start_urls = [START]
    seen = {START}
    count = 0

    def parse(self, response):
        Plain.count += 1
        header = response.headers.get(b"Content-Type", b"")
        kind = header.split(b";")[0].strip().lower()
        if kind not in (b"text/html", b"text/css"):
            return
        # As archiver's spider decodes: content-encoding undone here, the declared charset.
        body = decoded_body(response.body, response.headers.get(b"Content-Encoding"), 32 << 20)
        if body is None:
            return
        encoding = (http_content_type_encoding(header.decode("latin-1"))
                    or html_body_declared_encoding(body[:4096]) or "utf-8")
        if kind == b"text/html":
            found = extract_html(body, response.url, encoding)
            urls = found.links + found.requisites
        else:
            urls = extract_css(body, response.url, encoding).requisites
        for url in urls:
            if url not in self.seen and urlsplit(url).netloc == HOST:
                self.seen.add(url)
                yield scrapy.Request(url, dont_filter=True)

process = CrawlerProcess({
    # archiver's test profile: 32 requests in flight, 8 per host, no delay
    "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "DOWNLOAD_DELAY": 0,
    "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
    "RETRY_ENABLED": False, "COOKIES_ENABLED": False, "CONCURRENT_ITEMS": 4,
    "HTTPERROR_ALLOW_ALL": True,  # a 404 is a URL fetched (and parsed) here too, as by archiver
    # Scrapy's decompression re-creates each response, and its meta refresh middleware
    # reads each page's text, which runs charset detection (charset_normalizer,
    # milliseconds a page): archiver's spider does neither (it reads <meta> refresh itself).
    "COMPRESSION_ENABLED": False, "METAREFRESH_ENABLED": False,
    "DEFAULT_REQUEST_HEADERS": {"Accept-Encoding": ACCEPT_ENCODING},
})
process.crawl(Plain)
process.start()
print("fetched", Plain.count)
"""


def run_measured(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float, str, float]:
    """(wall seconds, peak RSS MiB of the process, stdout+stderr, CPU seconds: user+sys)."""
    started = time.perf_counter()
    with open(cwd / "out.txt", "w") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   env=env)  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    text = (cwd / "out.txt").read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) not in (0, 8):  # wget: 8 when some URL 404s
        raise SystemExit(f"{command[0]} failed:\n{text[-2000:]}")
    return wall, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime


def add_seed(home: Path, url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), "seeds", "add", url,
         "--scope", "host", "--robots", "ignore"],
        check=True, capture_output=True,
    )  # fmt: skip


def warc_stats(paths: list[Path]) -> tuple[int, int]:
    from warcio.archiveiterator import ArchiveIterator

    responses, size = 0, 0
    for path in paths:
        size += path.stat().st_size
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type in ("response", "revisit"):
                    responses += 1
    return responses, size


def one_round(server: Server, work: Path) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    run = work / f"round-{time.monotonic_ns()}"
    run.mkdir()
    wget_dir = run / "wget"
    wget_dir.mkdir()
    wall, rss, _, cpu = run_measured(
        ["wget", "--recursive", "--level=inf", "--page-requisites", "--quiet",
         "-e", "robots=off", "--warc-file=crawl", server.url],
        wget_dir,
    )  # fmt: skip
    urls, size = warc_stats(list(wget_dir.glob("*.warc.gz")))
    results["wget"] = {"urls": urls, "wall": wall, "rss": rss, "warc": size, "cpu": cpu}

    plain = run / "unarchived"
    plain.mkdir()
    wall, rss, text, cpu = run_measured([sys.executable, "-c", UNARCHIVED, server.url], plain)
    urls = int(text.rsplit("fetched", 1)[1].split()[0])
    results["unarchived"] = {"urls": urls, "wall": wall, "rss": rss, "warc": 0, "cpu": cpu}

    home = run / "archiver-home"
    env = {**os.environ, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}
    add_seed(home, server.url)
    wall, rss, _, cpu = run_measured(
        [sys.executable, "-m", "archiver", "--home", str(home), "crawl", "--profile", "test",
         "--job", "bench", "--seed", "1", "-s", "ARCHIVER_PROGRESS_INTERVAL=0"],
        run, env,
    )  # fmt: skip
    urls, size = warc_stats(sorted(home.glob("warcs/bench/*.warc.gz")))
    results["archiver"] = {"urls": urls, "wall": wall, "rss": rss, "warc": size, "cpu": cpu}
    shutil.rmtree(run)
    return results


def machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    wget = subprocess.run(["wget", "--version"], capture_output=True, text=True).stdout.split("\n")[
        0
    ]
    return f"{cpus} cores{mem}; {wget}; Python {sys.version.split()[0]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="peak RSS at 1,000 and 10,000 pages")
    parser.add_argument("--docs", type=Path, help="serve this documentation folder instead")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-"))
    print(f"machine: {machine()}")
    try:
        if args.memory:
            return memory(work)
        if args.docs:
            if not (args.docs / "index.html").is_file():
                raise SystemExit(f"{args.docs} has no index.html: give a folder of HTML docs")
            site, what = args.docs.resolve(), f"{args.docs} ({site_size(args.docs)})"
        else:
            site, what = work / "site", f"{args.pages} generated pages"
            generate_site(site, args.pages)
        server = Server(site, work)
        print(f"site: {what}, served by {server.kind} on 127.0.0.1 (gzip on)")
        rounds = []
        try:
            for n in range(args.rounds):
                result = one_round(server, work)
                rounds.append(result)
                for name, r in result.items():
                    print(f"round {n + 1} {name:>10}: {r['urls']:>6.0f} URLs in {r['wall']:6.2f} s"
                          f" = {r['urls'] / r['wall']:7.1f} URLs/s, CPU {r['cpu']:5.2f} s"
                          f" = {r['urls'] / r['cpu']:6.1f} URLs/CPU-s, peak RSS"
                          f" {r['rss']:6.1f} MiB, WARC {r['warc'] / 1e6:6.2f} MB")  # fmt: skip
        finally:
            server.stop()
        speed = [{k: r["urls"] / r["wall"] for k, r in res.items()} for res in rounds]
        per_cpu = [{k: r["urls"] / r["cpu"] for k, r in res.items()} for res in rounds]
        vs_wget = statistics.median(s["archiver"] / s["wget"] for s in speed)
        vs_plain = statistics.median(s["archiver"] / s["unarchived"] for s in speed)
        plain_vs_wget = statistics.median(s["unarchived"] / s["wget"] for s in speed)
        print(json.dumps({
            "archiver_vs_wget": round(vs_wget, 2),
            "archiver_vs_unarchived": round(vs_plain, 2),
            "archiving_overhead_pct": round(100 * (1 - vs_plain), 1),
            "unarchived_vs_wget": round(plain_vs_wget, 2),
            # URLs per CPU second (user+sys of the process): per-core efficiency, which
            # other processes on the machine disturb less than wall time.
            "archiver_vs_wget_per_cpu": round(statistics.median(
                c["archiver"] / c["wget"] for c in per_cpu), 2),
            "archiver_vs_unarchived_per_cpu": round(statistics.median(
                c["archiver"] / c["unarchived"] for c in per_cpu), 2),
            "load_average_1min": round(os.getloadavg()[0], 1),
        }, indent=2))  # fmt: skip
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def memory(work: Path) -> int:
    peaks = {}
    for pages in (1000, 10000):
        site = work / f"site-{pages}"
        generate_site(site, pages)
        server = Server(site, work)
        try:
            home = work / f"home-{pages}"
            env = {**os.environ, "ARCHIVER_ALLOW_PRIVATE_NETWORKS": "1"}
            add_seed(home, server.url)
            wall, rss, _, _ = run_measured(
                [sys.executable, "-m", "archiver", "--home", str(home), "crawl", "--profile",
                 "test", "--job", "mem", "--seed", "1", "-s", "ARCHIVER_PROGRESS_INTERVAL=0"],
                work, env,
            )  # fmt: skip
        finally:
            server.stop()
        urls, _ = warc_stats(sorted(home.glob("warcs/mem/*.warc.gz")))
        peaks[pages] = rss
        print(f"{pages:>6} pages: {urls} URLs in {wall:.1f} s, peak RSS {rss:.1f} MiB")
        shutil.rmtree(site)
        shutil.rmtree(home)
    print(f"peak RSS ratio 10,000 / 1,000 pages: {peaks[10000] / peaks[1000]:.2f} (target <= 1.25)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
