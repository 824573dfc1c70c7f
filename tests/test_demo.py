"""``archiver demo``: a new user sees the whole path in one command."""

from __future__ import annotations

import re
import subprocess
import sys

from warcs import captures_json, warc_files


def test_demo_archives_the_sample_site_and_cites_it(tmp_path):
    home = tmp_path / "demo-home"
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), "demo"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in result.stderr
    rows = captures_json(home)
    urls = {r["url"].split("/", 3)[3] for r in rows}
    assert {"", "reports/2019-defenders.html", "news/vpn-crackdown.html",
            "social/post-8841.html", "static/site.css", "static/print.css",
            "static/logo.png", "old-report"} <= urls  # fmt: skip
    assert {r["http_status"] for r in rows} >= {200, 301}
    report = next(r for r in rows if r["url"].endswith("2019-defenders.html"))
    assert "citation:" in out
    assert report["id"] in out and report["payload_digest"].removeprefix("sha256:") in out
    assert "Defending Human Rights" in out
    assert re.search(r"Archived \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", out)
    assert len(warc_files(home)) == 1


def test_demo_without_home_uses_a_fresh_temporary_home(tmp_path):
    env_home = tmp_path / "real-archive"
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "demo"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "ARCHIVER_HOME": str(env_home), "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert not env_home.exists()  # a real archive is never mixed with sample captures
    [home] = tmp_path.glob("archiver-demo-*")
    assert f"archive home {home}" in result.stdout
