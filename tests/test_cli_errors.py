"""Every user mistake ends in one ``Error: ...`` line and a non-zero exit: no traceback,
and nothing half-written (no seeds added or removed, no crawl job created)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelp import run_cli

from archiver.catalog import open_catalog
from archiver.home import ArchiveHome

# A seed URL on loopback with nothing listening: even a crawl that wrongly starts stays local.
DEAD_URL = "http://127.0.0.1:9/"

Setup = Callable[[Path, Path], Path | None]  # (tmp_path, home) -> another home, or None


def add_seed(*extra: str) -> Setup:
    def setup(tmp_path: Path, home: Path) -> None:
        result = run_cli(home, "seeds", "add", DEAD_URL, "--tag", "present", *extra)
        assert result.returncode == 0, result.stderr

    return setup


def write_file(name: str, content: str | bytes, *, with_seed: bool = True) -> Setup:
    """Write ``content`` to tmp_path/name (and first add one seed, so that an import
    that wrongly half-succeeds or wipes something shows up in the seed list)."""

    def setup(tmp_path: Path, home: Path) -> None:
        if with_seed:
            add_seed()(tmp_path, home)
        data = content.encode("utf-8") if isinstance(content, str) else content
        (tmp_path / name).write_bytes(data)

    return setup


def make_dir(name: str) -> Setup:
    def setup(tmp_path: Path, home: Path) -> None:
        add_seed()(tmp_path, home)
        (tmp_path / name).mkdir()

    return setup


def home_under_a_file(tmp_path: Path, home: Path) -> Path:
    (tmp_path / "afile").write_text("not a folder\n")
    return tmp_path / "afile" / "home"


def home_is_a_file(tmp_path: Path, home: Path) -> Path:
    (tmp_path / "homefile").write_text("not a folder\n")
    return tmp_path / "homefile"


def removed_seed(tmp_path: Path, home: Path) -> None:
    add_seed()(tmp_path, home)
    result = run_cli(home, "seeds", "remove", "1")
    assert result.returncode == 0, result.stderr


def existing_job(name: str, status: str = "finished") -> Setup:
    """One seed and a job row named ``name``, as a past crawl leaves them."""

    def setup(tmp_path: Path, home: Path) -> None:
        add_seed()(tmp_path, home)
        catalog = open_catalog(ArchiveHome(home).catalog_location)  # SQLite, or PostgreSQL
        try:
            with catalog.conn as conn:
                conn.execute(
                    "INSERT INTO jobs (name, status, started_at, settings, seed_ids)"
                    " VALUES (?, ?, '2024-01-01T00:00:00.000Z', '{}', '[1]')",
                    (name, status),
                )
        finally:
            catalog.close()

    return setup


BAD_CSV = "url,tags,category\nhttps://a.example/,,\nftp://b.example/,,\nhttps://c.example/,,x\n"

ROWS = [
    # --- seeds add ----------------------------------------------------------------------
    ("add-not-a-url", ["seeds", "add", "not", "a", "url"], None, 1, r"URL 'not' has no scheme"),
    ("add-ftp", ["seeds", "add", "ftp://example.org/file"], add_seed(), 1,
     r"unsupported URL scheme 'ftp:'.*only http and https"),
    ("add-javascript", ["seeds", "add", "javascript:alert(1)"], None, 1,
     r"unsupported URL scheme 'javascript:'"),
    ("add-one-bad-of-several",
     ["seeds", "add", "https://fine.example/", "https://user:pw@bad.example/"], add_seed(), 1,
     r"user name or password"),
    ("add-unknown-scope", ["seeds", "add", "https://e.example/", "--scope", "galaxy"],
     add_seed(), 2, r"--scope.*galaxy.*page.*prefix.*host.*site.*domain"),
    ("add-negative-depth", ["seeds", "add", "https://e.example/", "--depth", "-1"], None, 2,
     r"--depth.*-1"),
    ("add-bad-tag", ["seeds", "add", "https://e.example/", "--tag", "a|b"], add_seed(), 1,
     r"invalid tag 'a\|b'"),
    pytest.param(
        "add-huge-depth",
        ["seeds", "add", "https://e.example/", "--depth", "99999999999999999999"],
        add_seed(), 1, r"depth",
    ),
    # --- seeds show / remove ------------------------------------------------------------
    ("show-999", ["seeds", "show", "999"], add_seed(), 1, r"no seed with id '999'"),
    ("show-abc", ["seeds", "show", "abc"], add_seed(), 1, r"no seed with id 'abc'"),
    ("show-0", ["seeds", "show", "0"], add_seed(), 1, r"no seed with id '0'"),
    ("remove-999", ["seeds", "remove", "999"], add_seed(), 1, r"no seed with id '999'"),
    ("remove-abc", ["seeds", "remove", "abc"], add_seed(), 1, r"no seed with id 'abc'"),
    pytest.param(
        "show-huge-id", ["seeds", "show", "99999999999999999999"], add_seed(), 1,
        r"no seed with id",
    ),
    pytest.param(
        "remove-huge-id", ["seeds", "remove", "99999999999999999999"], add_seed(), 1,
        r"no seed with id",
    ),
    ("show-unknown-url", ["seeds", "show", "https://nope.example/x"], add_seed(), 1,
     r"^Error: no seed with URL 'https://nope.example/x': add it with 'archiver seeds add"
     r" https://nope.example/x', or list the seeds with 'archiver seeds list'$"),
    ("remove-bad-url", ["seeds", "remove", "ftp://example.org/file"], add_seed(), 1,
     r"unsupported URL scheme 'ftp:'"),
    # --- seeds edit ---------------------------------------------------------------------
    ("edit-nothing", ["seeds", "edit", "1"], add_seed(), 2,
     r"^Error: nothing to change: give at least one option, such as --risk high or"
     r" --add-tag T \(see 'archiver seeds edit --help'\)$"),
    ("edit-999", ["seeds", "edit", "999", "--risk", "high"], add_seed(), 1,
     r"^Error: no seed with id '999': give a seed's id or URL"),
    ("edit-unknown-url", ["seeds", "edit", "https://nope.example/", "--risk", "high"],
     add_seed(), 1, r"^Error: no seed with URL 'https://nope.example/'"),
    ("edit-remove-absent-tag", ["seeds", "edit", "1", "--risk", "high", "--remove-tag", "gone"],
     add_seed(), 1,
     r"^Error: seed 1 has no tag 'gone' to remove \(it has: 'present'\); nothing was changed$"),
    ("edit-remove-absent-regex", ["seeds", "edit", DEAD_URL, "--remove-exclude", "/x/"],
     add_seed(), 1, r"^Error: seed 1 has no exclude regex '/x/' to remove \(it has: none\)"),
    ("edit-bad-depth", ["seeds", "edit", "1", "--depth", "-3"], add_seed(), 1,
     r"^Error: invalid depth '-3': use a whole number from 0 to 10000, or 'none'"),
    ("edit-bad-regex", ["seeds", "edit", "1", "--add-include", "a("], add_seed(), 1,
     r"^Error: invalid include regex 'a\('"),
    ("edit-bad-scope", ["seeds", "edit", "1", "--scope", "galaxy"], add_seed(), 2,
     r"--scope.*galaxy"),
    ("edit-bad-tag", ["seeds", "edit", "1", "--add-tag", "a|b"], add_seed(), 1,
     r"invalid tag 'a\|b'"),
    # --- a home with no archive: read-only commands say so and create nothing -----------
    *[
        (f"no-archive-{'-'.join(args[:2])}", list(args), None, 1,
         r"^Error: no archive in ('.*/home': it has no catalog\.sqlite|the catalog .*: the"
         r" database has no archiver tables yet)")
        for args in (
            ("seeds", "list"), ("seeds", "show", "1"), ("seeds", "remove", "1"),
            ("seeds", "edit", "1", "--risk", "high"), ("captures",), ("get", "3467-9ACD"),
            ("cite", "3467-9ACD"), ("lookup", "https://example.org/", "--at", "2020-02-12"),
            ("timemap", "https://example.org/"), ("verify", "--all"), ("export", "-o", "out.wacz"),
            ("schedule", "list"), ("schedule", "set", "--seed", "1", "--every", "6h"),
            ("events",), ("upload",), ("index",), ("workers",), ("jobs", "show", "j"),
            ("run-due",),
        )
    ],
    ("store-check-missing-folder", ["store", "check", "--store", "no/such/store"], add_seed(),
     1, r"^Error: the store folder .*/no/such/store does not exist: check the path; a crawl"
     r" with --store .*/no/such/store creates it$"),
    # --- seeds import -------------------------------------------------------------------
    ("import-missing", ["seeds", "import", "missing.csv"], add_seed(), 1,
     r"seed file 'missing.csv' not found"),
    ("import-directory", ["seeds", "import", "folder.csv"], make_dir("folder.csv"), 1,
     r"seed file 'folder.csv' is a directory"),
    ("import-binary", ["seeds", "import", "sheet.csv"],
     write_file("sheet.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00"), 1,
     r"seed file 'sheet.csv' looks binary.*NUL byte"),
    ("import-not-utf8", ["seeds", "import", "latin1.csv"],
     write_file("latin1.csv", "url,note\nhttps://a.example/,café\n".encode("latin-1")), 1,
     r"seed file 'latin1.csv' is not valid UTF-8.*line 2"),
    ("import-utf16", ["seeds", "import", "wide.txt"],
     write_file("wide.txt", "https://a.example/\n".encode("utf-16")), 1, r"UTF-16"),
    ("import-xlsx", ["seeds", "import", "seeds.xlsx"], write_file("seeds.xlsx", "url\n"), 1,
     r"unsupported extension '\.xlsx'.*\.txt, \.csv, \.json, \.jsonl"),
    ("import-unknown-column", ["seeds", "import", "cols.csv"],
     write_file("cols.csv", "url,colour\nhttps://a.example/,red\n"), 1,
     r"unknown column\(s\) 'colour'"),
    ("import-csv-no-header", ["seeds", "import", "bare.csv"],
     write_file("bare.csv", "https://a.example/\nhttps://b.example/\n"), 1, r"no header row"),
    ("import-malformed-json", ["seeds", "import", "broken.json"],
     write_file("broken.json", '[{"url": "https://a.example/"},\n  {"url": }\n]'), 1,
     r"not valid JSON \(line 2, column"),
    ("import-json-not-array", ["seeds", "import", "obj.json"],
     write_file("obj.json", '{"url": "https://a.example/"}'), 1, r"must hold an array"),
    ("import-empty-json", ["seeds", "import", "empty.json"], write_file("empty.json", ""), 1,
     r"empty"),
    ("import-bad-rows", ["seeds", "import", "rows.csv"], write_file("rows.csv", BAD_CSV), 1,
     r"2 invalid row\(s\).*nothing imported"),
    ("import-stdin-empty", ["seeds", "import", "-"], add_seed(), 1,
     r"^Error: no seeds found in stdin$"),
    ("import-unknown-format", ["seeds", "import", "seeds.xlsx", "--format", "xlsx"],
     write_file("seeds.xlsx", "url\n"), 2, r"--format.*xlsx"),
    ("import-bad-option", ["seeds", "import", "ok.txt", "--include", "a)"],
     write_file("ok.txt", "http://127.0.0.1:9/a\n"), 1, r"invalid include regex 'a\)'"),
    ("import-no-seeds", ["seeds", "import", "comments.txt"],
     write_file("comments.txt", "# nothing here yet\n\n"), 1, r"no seeds found"),
    pytest.param(
        "import-huge-depth", ["seeds", "import", "deep.csv"],
        write_file("deep.csv", "url,depth\nhttps://a.example/,99999999999999999999\n"), 1,
        r"1 invalid row",
    ),
    pytest.param(
        "import-deeply-nested-json", ["seeds", "import", "nested.json"],
        write_file("nested.json", "[" * 100_000 + "]" * 100_000), 1, r"nested.json",
    ),
    # --- captures / get / cite ----------------------------------------------------------
    ("captures-seed-999", ["captures", "--seed", "999"], add_seed(), 1,
     r"no seed with id '999'"),
    pytest.param(
        "captures-seed-huge", ["captures", "--seed", "99999999999999999999"], add_seed(), 1,
        r"no seed with id",
    ),
    ("get-not-an-id", ["get", "NOPE-NOPE"], add_seed(), 1, r"'NOPE-NOPE' is not a capture id"),
    ("get-unknown-id", ["get", "3467-9ACD"], add_seed(), 1, r"no capture with id 3467-9ACD"),
    ("get-unknown-id-lowercase", ["get", "34679acd"], add_seed(), 1,
     r"no capture with id 3467-9ACD"),
    ("cite-unknown-id", ["cite", "3467-9ACD"], add_seed(), 1, r"no capture with id 3467-9ACD"),
    ("cite-not-an-id", ["cite", "hello"], add_seed(), 1, r"'hello' is not a capture id"),
    ("captures-unknown-job", ["captures", "--job", "nosuch"], add_seed(), 1,
     r"^Error: no job named 'nosuch'$"),
    ("captures-bad-status", ["captures", "--status", "20x"], add_seed(), 2,
     r"Invalid value for '--status': '20x' is not an HTTP status"),
    ("captures-bad-from", ["captures", "--from", "someday"], add_seed(), 1,
     r"cannot read the date 'someday'"),
    ("verify-unknown-job", ["verify", "--job", "nosuch"], add_seed(), 1,
     r"^Error: no job named 'nosuch'$"),
    ("lookup-ambiguous-date", ["lookup", DEAD_URL, "--at", "03/04/2026"], add_seed(), 1,
     r"the date '03/04/2026' is ambiguous \(day or month first\?\): write it as 2026-04-03"),
    ("lookup-before-and-after", ["lookup", DEAD_URL, "--at", "now", "--before", "--after"],
     add_seed(), 2, r"^Error: --before and --after cannot be used together: choose one$"),
    # --- crawl: every one must fail before a job is created ----------------------------
    ("crawl-no-archive", ["crawl"], None, 1,
     r"no archive in .*start an archive there with 'archiver seeds add URL'"),
    ("crawl-only-removed-seeds", ["crawl"],
     removed_seed, 1, r"no seeds to crawl"),
    ("crawl-seed-999", ["crawl", "--seed", "999"], add_seed(), 1, r"no seed with id '999'"),
    ("crawl-url-and-unknown-seed", ["crawl", "--seed", "999", "https://new.example/"],
     add_seed(), 1, r"no seed with id '999'"),
    ("crawl-removed-seed", ["crawl", "--seed", "1"],
     removed_seed, 1, r"seed 1 was removed"),
    ("crawl-unknown-tag", ["crawl", "--tag", "nosuchtag"], add_seed(), 1,
     r"no active seed has the tag\(s\) nosuchtag"),
    ("crawl-set-no-equals", ["crawl", "-s", "NOEQUALS"], add_seed(), 1,
     r"bad setting 'NOEQUALS'.*NAME=VALUE"),
    ("crawl-set-empty-name", ["crawl", "-s", "=1"], add_seed(), 1, r"bad setting '=1'"),
    ("crawl-set-unknown-archiver", ["crawl", "-s", "ARCHIVER_NO_SUCH=1"], add_seed(), 1,
     r"unknown setting ARCHIVER_NO_SUCH"),
    ("crawl-set-typo", ["crawl", "-s", "DOWNLOAD_DELAYY=1"], add_seed(), 1,
     r"unknown setting DOWNLOAD_DELAYY: did you mean DOWNLOAD_DELAY\?"),
    ("crawl-set-bad-int", ["crawl", "-s", "ARCHIVER_WARC_MAX_SIZE=big"], add_seed(), 1,
     r"ARCHIVER_WARC_MAX_SIZE='big' is not a whole number"),
    ("crawl-set-out-of-range", ["crawl", "-s", "ARCHIVER_WARC_COMPRESS_LEVEL=0"], add_seed(), 1,
     r"ARCHIVER_WARC_COMPRESS_LEVEL='0' must be between 1 and 9"),
    ("crawl-set-bad-exclude", ["crawl", "-s", "ARCHIVER_EXCLUDE=/print/ [a-"], add_seed(), 1,
     r"invalid ARCHIVER_EXCLUDE regex '\[a-': unterminated character set at position 0"),
    ("crawl-set-bad-trap-limit", ["crawl", "-s", "ARCHIVER_MAX_QUERY_VARIANTS=-5"], add_seed(),
     1, r"ARCHIVER_MAX_QUERY_VARIANTS='-5' must be >= 0"),
    ("seeds-add-bad-include", ["seeds", "add", DEAD_URL, "--include", "a)"], None, 1,
     r"invalid include regex 'a\)': unbalanced parenthesis at position 1"),
    ("import-bad-exclude", ["seeds", "import", "rx.csv"],
     write_file("rx.csv", "url,exclude\nhttp://127.0.0.1:9/a,ok\nhttp://127.0.0.1:9/b,+x\n"), 1,
     r"1 invalid row\(s\) in rx.csv; nothing imported"),
    ("crawl-bad-job-name", ["crawl", "--job", "bad name!"], add_seed(), 1,
     r"invalid job name 'bad name!'"),
    ("crawl-duplicate-job-name", ["crawl", "--job", "dup"],
     existing_job("dup"), 1,
     r"job 'dup' already finished: choose another --job name"),
    ("crawl-resume-with-a-selection", ["crawl", "--job", "halted", "--tag", "x"],
     existing_job("halted", status="stopped"), 1,
     r"job 'halted' exists and did not finish: resume it with 'archiver crawl --job halted' alone"),
    ("crawl-unknown-profile", ["crawl", "--profile", "nope"], add_seed(), 1,
     r"unknown settings profile 'nope'.*local.*test"),
    pytest.param(
        "crawl-url-unknown-profile", ["crawl", "https://new.example/", "--profile", "nope"],
        add_seed(), 1, r"unknown settings profile 'nope'",
    ),
    pytest.param(
        "crawl-url-bad-job-name", ["crawl", "https://new.example/", "--job", "bad name!"],
        add_seed(), 1, r"invalid job name 'bad name!'",
    ),
    ("crawl-url-invalid", ["crawl", "https://ok.example/", "ftp://bad.example/"], add_seed(), 1,
     r"unsupported URL scheme 'ftp:'"),
    pytest.param(
        "crawl-unknown-store", ["crawl", "--profile", "test", "--store", "bogus://x"],
        add_seed(), 1, r"unknown store scheme 'bogus'",
    ),
    pytest.param(
        "crawl-bad-warc-prefix",
        ["crawl", "--profile", "test", "-s", "ARCHIVER_WARC_PREFIX=my arc"],
        add_seed(), 1, r"ARCHIVER_WARC_PREFIX='my arc' must be letters",
    ),
    ("upload-unknown-job", ["upload", "--job", "nope"], add_seed(), 1, r"no job named 'nope'"),
    ("store-check-unknown-scheme", ["store", "check", "--store", "ftp://x/y"], add_seed(), 1,
     r"unknown store scheme 'ftp'"),
    ("store-check-s3-no-bucket", ["store", "check", "--store", "s3://"], add_seed(), 1,
     r"names no bucket: write s3://bucket/prefix"),
    pytest.param(
        "crawl-store-is-a-file", ["crawl", "--profile", "test", "--store", "afile"],
        write_file("afile", "x"), 1, r"cannot store files in .*afile.*choose a writable folder",
    ),
    pytest.param(
        "crawl-bad-scrapy-setting", ["crawl", "--profile", "test", "-s", "DOWNLOAD_DELAY=abc"],
        add_seed(), 1, r"DOWNLOAD_DELAY",
    ),
    pytest.param(
        "crawl-seed-huge", ["crawl", "--seed", "99999999999999999999"], add_seed(), 1,
        r"no seed with id",
    ),
    # --- the archive home ---------------------------------------------------------------
    ("home-under-a-file", ["seeds", "list"], home_under_a_file, 1,
     r"no archive in ('.*afile/home'|the catalog).*--(home|catalog)"),
    ("home-under-a-file-add", ["seeds", "add", "https://e.example/"], home_under_a_file, 1,
     r"cannot use archive home"),
    ("home-is-a-file", ["seeds", "list"], home_is_a_file, 2, r"'--home'.*homefile.*is a file"),
]  # fmt: skip


def _usable(home: Path) -> bool:
    return not any(p.exists() and not p.is_dir() for p in (home, *home.parents))


def _seeds(home: Path) -> list[dict[str, object]] | None:
    """The seed list, or None where there is no archive yet."""
    result = run_cli(home, "seeds", "list", "--json")
    if result.returncode == 1 and result.stderr.startswith("Error: no archive in "):
        return None
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _jobs(home: Path) -> list[tuple[object, ...]]:
    path = home / "catalog.sqlite"
    if not _usable(home) or not path.is_file():
        return []
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, name, status FROM jobs ORDER BY id").fetchall()
    finally:
        conn.close()


def _params(rows: list[object]) -> list[object]:
    """Each row is (id, args, setup, exit code, regex), as a tuple or, to mark it, as
    pytest.param(id, args, ...). The id becomes the test id."""
    params = []
    for row in rows:
        values, marks = (row.values, row.marks) if hasattr(row, "values") else (row, ())
        params.append(pytest.param(*values[1:], id=values[0], marks=marks))
    return params


@pytest.mark.parametrize(("args", "setup", "exit_code", "pattern"), _params(ROWS))
def test_user_error(
    tmp_path: Path,
    args: list[str],
    setup: Setup | None,
    exit_code: int,
    pattern: str,
) -> None:
    home = tmp_path / "home"
    if setup is not None:
        home = setup(tmp_path, home) or home
    usable = _usable(home)
    seeds_before = _seeds(home) if usable else None
    jobs_before = _jobs(home)

    result = run_cli(home, *args, cwd=tmp_path)

    output = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode != 0, output
    assert result.returncode == exit_code, output
    assert "Traceback" not in result.stdout, output
    assert "Traceback" not in result.stderr, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors, output
    assert any(re.search(pattern, line) for line in errors), (
        f"no 'Error: ' line matches {pattern!r}\n{output}"
    )

    # Nothing half-written: no job created, the seed list unchanged (and no archive
    # started where there was none).
    assert _jobs(home) == jobs_before, output
    if usable:
        assert _seeds(home) == seeds_before, output
