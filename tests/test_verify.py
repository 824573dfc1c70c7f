"""Fixity audit: `archiver verify` re-reads every record and catches a flipped byte."""

from __future__ import annotations

import json

import pytest
from warcs import archiver, captures_json, catalog_rows, warc_files


def test_verify_passes_then_catches_a_flipped_byte(tmp_path, fixture_site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", fixture_site.url, "--scope", "host").returncode == 0
    assert archiver(home, "crawl", "--profile", "test", "--job", "v").returncode == 0
    clean = archiver(home, "verify", "--job", "v")
    assert clean.returncode == 0, clean.stderr
    rows = [r for r in captures_json(home, "--job", "v") if r["state"] != "failed"]
    assert f"verified {len(rows)} capture(s) of job v: {len(rows)} ok, 0 failed" in clean.stdout

    victim = next(r for r in rows if r["url"] == fixture_site.url + "page2.html")
    [warc] = [w for w in warc_files(home) if w.name == victim["warc_file"]]
    data = bytearray(warc.read_bytes())
    data[victim["offset"] + victim["length"] // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    audit = archiver(home, "verify", "--job", "v")
    assert audit.returncode == 3
    assert f"FAILED {victim['capture_id']}  {victim['url']}" in audit.stderr
    assert f"{len(rows) - 1} ok, 1 failed" in audit.stdout
    assert "Traceback" not in audit.stderr
    as_json = archiver(home, "verify", "--job", "v", "--json")
    assert as_json.returncode == 3
    report = json.loads(as_json.stdout)
    [failure] = report.pop("failures")
    assert report == {"scope": "job v", "job": "v", "seed_id": None, "checked": len(rows),
                      "ok": len(rows) - 1, "failed": 1}  # fmt: skip
    assert failure["capture_id"] == victim["capture_id"] and failure["url"] == victim["url"]
    assert "record is damaged" in failure["problem"]
    assert as_json.stderr.splitlines()[-1] == (
        "Error: 1 capture(s) do not match their digests"
        ' (each named in "failures" in the JSON on stdout)'
    )

    sampled = archiver(home, "verify", "--all", "--sample", "3")
    assert "verified 3 capture(s) of all" in sampled.stdout
    audits = catalog_rows(home, "SELECT * FROM audits ORDER BY id")
    assert [(a["scope"], a["checked"], a["failed"]) for a in audits[:2]] == [
        ("job v", len(rows), 0), ("job v", len(rows), 1)]  # fmt: skip
    assert json.loads(audits[1]["failures"])[0][0] == victim["capture_id"]


def test_verify_needs_one_selection(tmp_path):
    result = archiver(tmp_path / "home", "verify")
    assert result.returncode == 1
    expected = "choose what to verify: one of a capture ID, --job NAME, --seed ID or --all"
    assert expected in result.stderr


@pytest.mark.sqlite_only  # changes the SQLite file itself
def test_index_rebuilds_a_missing_index(tmp_path, fixture_site):
    import sqlite3

    home = tmp_path / "home"
    assert (
        archiver(home, "crawl", "--profile", "test", "--job", "ix", fixture_site.url).returncode
        == 0
    )
    [f] = catalog_rows(home, "SELECT name, index_uri FROM warc_files")
    index_file = next(home.glob(f"warcs/ix/{f['name']}.cdxj"))
    original = index_file.read_text()
    index_file.unlink()
    conn = sqlite3.connect(home / "catalog.sqlite")
    with conn:
        conn.execute("UPDATE warc_files SET index_uri = NULL")
    conn.close()
    rebuilt = archiver(home, "index", "--job", "ix")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"indexed {f['name']}" in rebuilt.stdout
    assert index_file.read_text() == original
    assert catalog_rows(home, "SELECT index_uri FROM warc_files")[0]["index_uri"] == f["index_uri"]
    again = archiver(home, "index")
    assert "every WARC file has its index" in again.stdout
