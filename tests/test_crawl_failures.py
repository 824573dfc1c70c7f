"""Failed and cut fetches are on record, honestly, and the crawl says what happened."""

from __future__ import annotations

import os
import re
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

from servers import FixtureSite
from warcs import catalog_rows, read_warc, warc_files

TESTS = Path(__file__).parent
BIN = Path(sys.executable).parent


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def seed_rows(home):
    """Capture rows made for seeds (robots.txt fetches are archived too, without a seed)."""
    return catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")


def crawl(home, *args, env_extra=None):
    env = {**os.environ, "ARCHIVER_HOME": str(home), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "archiver", "crawl", "--profile", "test", *args],
        cwd=home.parent, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_refused_host_is_a_failed_capture_and_exit_is_nonzero(tmp_path):
    home = tmp_path / "home"
    url = closed_port_url()
    result = crawl(home, url, "--job", "refused")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "refused: 1" in result.stdout  # per-seed failures by reason
    assert result.stderr.strip().splitlines()[-1].startswith("Error: nothing could be captured")
    [row] = seed_rows(home)
    assert (row["url"], row["state"]) == (url, "failed")
    assert row["error"].startswith("refused:")
    assert row["warc_offset"] is None


def test_dns_failure_is_named(tmp_path):
    home = tmp_path / "home"
    result = crawl(
        home, "http://nowhere.invalid/", "-s", "DNS_RESOLVER=offline_dns.OfflineResolver",
        env_extra={"PYTHONPATH": str(TESTS)},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "dns: 1" in result.stdout
    [row] = seed_rows(home)
    assert row["error"].startswith("dns:")


def plain_http_server() -> tuple[socket.socket, str]:
    """Answers whatever arrives (a TLS ClientHello here) with plain HTTP, as a
    misconfigured port 443 would."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"https://127.0.0.1:{listener.getsockname()[1]}/"


def test_tls_failure_is_named(tmp_path):
    listener, url = plain_http_server()
    home = tmp_path / "home"
    try:
        result = crawl(home, url)
    finally:
        listener.close()
    assert result.returncode == 1, result.stdout + result.stderr
    [row] = seed_rows(home)
    assert row["state"] == "failed"
    assert row["error"].startswith("tls:"), row["error"]


def test_one_bad_seed_does_not_fail_the_job_but_has_its_exit_code(tmp_path, fixture_site):
    home = tmp_path / "home"
    refused = closed_port_url()
    result = crawl(home, fixture_site.url + "page2.html", refused, "--job", "some")
    assert result.returncode == 5, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"Error: 1 of 2 seed(s) could not be captured: seed 2 {refused} (refused: 1); the"
        " others were. Crawl them again with 'archiver crawl --seed 2' once the cause is fixed"
    )
    assert result.stdout.startswith("job some finished: ")
    lines = result.stdout.splitlines()
    assert any(
        re.search(r"page2\.html: [1-9]\d* ok, 0 truncated, 0 failed", line) for line in lines
    )
    assert any("1 failed" in line and "refused: 1" in line for line in lines)


def test_body_over_the_size_limit_is_cut_and_marked(tmp_path, fixture_site):
    home = tmp_path / "home"
    url = fixture_site.url + "big?bytes=300000"
    result = crawl(home, url, "-s", "ARCHIVER_MAX_BODY_BYTES=50000")
    assert result.returncode == 0, result.stdout + result.stderr
    [row] = seed_rows(home)
    assert (row["state"], row["truncated"], row["size"]) == ("truncated", "length", 50000)
    [warc] = warc_files(home)
    assert subprocess.run([BIN / "warcio", "check", str(warc)]).returncode == 0
    [response] = [
        r for r in read_warc(warc) if r.type == "response" and r.headers["WARC-Target-URI"] == url
    ]
    assert response.headers["WARC-Truncated"] == "length"
    assert len(response.content) == 50000
    assert response.content == bytes(i % 256 for i in range(50000))


def test_slow_body_is_cut_at_the_time_limit(tmp_path, fixture_site):
    home = tmp_path / "home"
    url = fixture_site.url + "slow?seconds=8"
    result = crawl(home, url, "-s", "ARCHIVER_MAX_FETCH_SECONDS=1")
    assert result.returncode == 0, result.stdout + result.stderr
    [row] = seed_rows(home)
    assert (row["state"], row["truncated"]) == ("truncated", "time")
    assert 0 < row["size"] < 40
    [response] = [
        r for r in read_warc(warc_files(home)[0])
        if r.type == "response" and r.headers["WARC-Target-URI"] == url
    ]  # fmt: skip
    assert response.headers["WARC-Truncated"] == "time"
    assert response.content == b"." * row["size"]
    progress = (  # while it ran
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ archiver: \d+:\d\d:\d\d elapsed; \d+ captured,"
        r" \d+ queued, \d+ in flight, \d+ failed; [\d.]+ URLs/s, [\d.]+ MB written"
    )
    assert re.search(progress, result.stderr, re.MULTILINE), result.stderr


def test_full_disk_stops_the_crawl_and_leaves_valid_warcs(tmp_path):
    """A file-size limit stands in for a full disk: writes past it fail with an OSError."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_bytes(
        b"<!doctype html><title>Home</title><img src='a.png'><img src='blob.bin'>"
    )
    (root / "a.png").write_bytes(os.urandom(2000))
    (root / "blob.bin").write_bytes(os.urandom(3_000_000))  # incompressible
    home = tmp_path / "home"
    limit = 1_500_000

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with FixtureSite(root) as site:
        env = {**os.environ, "ARCHIVER_HOME": str(home)}
        result = subprocess.run(
            [sys.executable, "-m", "archiver", "crawl", "--profile", "test", "--job", "full",
             site.url, "--set", "ARCHIVER_PROGRESS_INTERVAL=0"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
            preexec_fn=limit_file_size,
        )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot write to the archive: File too large"), last
    [warc] = warc_files(home)
    assert not list(home.glob("spool/**/*.open"))
    check = subprocess.run([BIN / "warcio", "check", str(warc)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    urls = {r.headers.get("WARC-Target-URI") for r in read_warc(warc) if r.type == "response"}
    assert site.url in urls and site.url + "blob.bin" not in urls
    rows = seed_rows(home)
    assert {r["url"] for r in rows if r["state"] == "ok"} >= {site.url}
    job = catalog_rows(home, "SELECT status, finish_reason FROM jobs")[0]
    assert job["status"] == "failed" and "File too large" in job["finish_reason"]


def test_a_store_that_refuses_files_loses_nothing(tmp_path, fixture_site):
    """The store cannot take the job's files (its job folder is a file): every WARC stays
    in the spool, every capture keeps its row, `get` still works, and the crawl says so."""
    home = tmp_path / "home"
    store = tmp_path / "store"
    store.mkdir()
    (store / "j").write_bytes(b"not a folder")
    result = crawl(
        home, fixture_site.url, "--job", "j", "--store", str(store),
        "-s", "ARCHIVER_WARC_MAX_SIZE=3000",
    )  # fmt: skip
    assert result.returncode == 4, result.stdout + result.stderr  # uploads pending
    assert "uploads pending: " in result.stderr and "Run 'archiver upload'" in result.stderr
    files = catalog_rows(home, "SELECT state, spool_path FROM warc_files")
    assert len(files) >= 2 and {f["state"] for f in files} == {"closed"}
    rows = seed_rows(home)
    assert {r["url"] for r in rows} >= {fixture_site.url, fixture_site.url + "style.css"}
    assert all(r["state"] == "ok" for r in rows)
    spooled = sorted(Path(f["spool_path"]) for f in files)
    assert all(p.exists() for p in spooled)
    check = subprocess.run([BIN / "warcio", "check", *map(str, spooled)], capture_output=True)
    assert check.returncode == 0
    capture_id = next(r["id"] for r in rows if r["url"] == fixture_site.url)
    out = tmp_path / "one.warc.gz"
    got = subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), "get", capture_id, "-o", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    job = catalog_rows(home, "SELECT status FROM jobs")[0]
    assert job["status"] == "finished"
