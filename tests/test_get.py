"""`archiver get` as researchers type it: where the file goes (a folder that is not there,
stdout, a file that exists), and a revisit that replays on its own."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from warcs import archiver, captures_json, read_warc

BIN = Path(sys.executable).parent


@pytest.fixture
def twice(tmp_path, fixture_site):
    """A page captured in two jobs: a response, then a revisit of the same payload."""
    home = tmp_path / "home"
    url = fixture_site.url + "page2.html"
    for job in ("g1", "g2"):
        result = archiver(home, "crawl", "--profile", "test", "--job", job, url)
        assert result.returncode == 0, result.stderr
    first = next(r for r in captures_json(home, "--job", "g1") if r["url"] == url)
    second = next(r for r in captures_json(home, "--job", "g2") if r["url"] == url)
    assert first["record_type"] == "response" and second["record_type"] == "revisit"
    assert second["revisit_of"] == first["capture_id"]
    return home, first, second


def test_an_output_folder_that_is_not_there_is_a_clear_error(twice, tmp_path):
    home, first, _ = twice
    result = archiver(home, "get", first["capture_id"], "-o", "nowhere/sub/out.warc.gz",
                      cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "Error: cannot write nowhere/sub/out.warc.gz: the folder nowhere/sub does not exist;"
        " create it first, or choose another -o\n"
    )
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "afile").write_text("x")
    under_a_file = archiver(home, "get", first["capture_id"], "-o", "afile/out.warc.gz",
                            cwd=tmp_path)  # fmt: skip
    assert under_a_file.returncode == 1
    assert "the folder afile is not a folder" in under_a_file.stderr


def test_an_existing_file_is_kept_unless_forced(twice, tmp_path):
    home, first, _ = twice
    kept = tmp_path / "evidence.warc.gz"
    kept.write_bytes(b"an earlier download")
    result = archiver(home, "get", first["capture_id"], "-o", str(kept))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {kept} already exists: add --force to overwrite it, or choose another -o\n"
    )
    assert kept.read_bytes() == b"an earlier download"
    default = tmp_path / f"{first['capture_id']}.warc.gz"  # the default name, in the folder
    default.write_bytes(b"mine")
    again = archiver(home, "get", first["capture_id"], cwd=tmp_path)
    assert again.returncode == 1 and "already exists: add --force" in again.stderr
    assert default.read_bytes() == b"mine"
    forced = archiver(home, "get", first["capture_id"], "-o", str(kept), "--force")
    assert forced.returncode == 0, forced.stderr
    assert [r.type for r in read_warc(kept)] == ["warcinfo", "request", "response", "metadata"]
    assert sorted(p.name for p in tmp_path.iterdir() if ".partial" in p.name) == []


def test_dash_writes_the_records_to_stdout(twice, tmp_path):
    home, first, _ = twice
    written = tmp_path / "file.warc.gz"
    assert archiver(home, "get", first["capture_id"], "-o", str(written)).returncode == 0
    env = {**os.environ, "ARCHIVER_HOME": str(home)}
    piped = subprocess.run(
        [sys.executable, "-m", "archiver", "get", first["capture_id"], "-o", "-"],
        cwd=tmp_path, env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == written.read_bytes()
    assert piped.stderr.decode() == (
        f"wrote stdout ({len(piped.stdout)} bytes; digests verified)\n"
    )
    assert not (tmp_path / "-").exists()


def test_dash_refuses_a_terminal(twice, tmp_path):
    home, first, _ = twice
    env = {**os.environ, "ARCHIVER_HOME": str(home)}
    leader, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "archiver", "get", first["capture_id"], "-o", "-"],
            cwd=tmp_path, env=env, stdout=terminal, stderr=subprocess.PIPE, timeout=120,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(leader)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "Error: refusing to write binary data to a terminal: redirect it (> FILE) or pipe it\n"
    )


def test_a_revisit_comes_with_the_records_holding_its_payload(twice, tmp_path):
    home, first, second = twice
    out = tmp_path / "revisit.warc.gz"
    result = archiver(home, "get", second["capture_id"], "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"wrote {out} ({out.stat().st_size} bytes; digests verified; a revisit: with the"
        f" records of capture {first['capture_id']}, which holds its payload)\n"
    )
    check = subprocess.run([BIN / "warcio", "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    records = read_warc(out)
    assert [r.type for r in records] == [
        "warcinfo", "request", "response", "metadata",
        "warcinfo", "request", "revisit", "metadata",
    ]  # fmt: skip
    response, revisit = records[2], records[6]
    assert response.headers["WARC-Record-ID"] == first["record_id"]
    assert revisit.headers["WARC-Refers-To"] == response.headers["WARC-Record-ID"]
    assert revisit.headers["WARC-Payload-Digest"] == response.headers["WARC-Payload-Digest"]
    assert response.content == (Path(__file__).parent / "fixture_site/page2.html").read_bytes()
