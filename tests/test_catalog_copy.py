"""``archiver catalog copy``: a home's SQLite catalog moved into PostgreSQL, checked, and
used from there as the archive's catalog."""

from __future__ import annotations

import json

import pytest
from warcs import archiver

# The source is the home's SQLite file: not part of the PostgreSQL run.
pytestmark = pytest.mark.sqlite_only


def test_a_home_catalog_copied_into_postgresql_serves_the_archive(
    tmp_path, fixture_site, postgres_url
):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", fixture_site.url, "--scope", "host",
                    "--tag", "ngo").returncode == 0  # fmt: skip
    crawl = archiver(home, "crawl", "--profile", "test", "--job", "laptop")
    assert crawl.returncode == 0, crawl.stderr
    before = json.loads(archiver(home, "captures", "--json").stdout)

    copied = archiver(home, "catalog", "copy", "--to", postgres_url)
    assert copied.returncode == 0, copied.stderr
    assert f"checked: row counts, and {len(before)} captures'" in copied.stdout, copied.stdout

    shared = ("--catalog", postgres_url)
    after = json.loads(archiver(home, *shared, "captures", "--json").stdout)
    assert after == before  # every capture, every field
    verified = archiver(home, *shared, "verify", "--job", "laptop")
    assert verified.returncode == 0, verified.stdout + verified.stderr  # bytes match rows
    got = archiver(home, *shared, "get", before[0]["id"], "-o", str(tmp_path / "one.warc.gz"))
    assert got.returncode == 0, got.stderr
    # New rows get ids after the copied ones.
    added = archiver(home, *shared, "seeds", "add", "https://example.org/new")
    assert added.returncode == 0, added.stderr
    listed = archiver(home, *shared, "seeds", "list").stdout
    assert "   2  https://example.org/new" in listed, listed

    # A second copy into the same database is refused, and changes nothing.
    again = archiver(home, "catalog", "copy", "--to", postgres_url)
    assert again.returncode == 1
    assert again.stderr.startswith("Error: the target catalog is not empty (seeds,")
    assert json.loads(archiver(home, *shared, "captures", "--json").stdout) == after


def test_copy_needs_a_postgresql_target(tmp_path):
    result = archiver(tmp_path / "home", "catalog", "copy", "--to", "/tmp/other.sqlite")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: --to '/tmp/other.sqlite' is not a postgresql:// URL")
