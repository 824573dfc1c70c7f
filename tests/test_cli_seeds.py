"""``archiver seeds ...`` run as a user runs it: a subprocess per command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli
from pgserver import POSTGRES_RUN


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def assert_no_archive(home: Path) -> None:
    result = run_cli(home, "seeds", "list")
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("Error: no archive in "), result.stderr


def seeds_json(home: Path, *args: str) -> list[dict[str, Any]]:
    data = json.loads(ok(run_cli(home, "seeds", "list", "--json", *args)).stdout)
    assert isinstance(data, list)
    return data


def by_url(seeds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {seed["url"]: seed for seed in seeds}


DEFAULTS = {
    "tags": [],
    "category": "other",
    "scope": "page",
    "depth": None,
    "robots": "obey",
    "risk": "medium",
    "note": "",
    "nominated_by": "",
    "removed_at": None,
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


# --- seeds add ---------------------------------------------------------------------------


def test_add_one_url_with_every_field(home: Path) -> None:
    result = ok(
        run_cli(
            home,
            "seeds",
            "add",
            "HTTPS://Example.ORG:443/reports/../report.pdf#page=2",
            "--tag",
            "ngo",
            "--tag",
            "pdf,2019",
            "--category",
            "ngo",
            "--scope",
            "prefix",
            "--depth",
            "3",
            "--robots",
            "ignore",
            "--risk",
            "high",
            "--note",
            "annual report, likely to be taken down",
            "--nominated-by",
            "Jane Doe <jane@example.org>",
        )
    )
    assert result.stdout.strip() == "added 1 https://example.org/report.pdf"

    [seed] = seeds_json(home)
    assert seed["id"] == 1
    assert seed["url"] == "https://example.org/report.pdf"
    assert seed["tags"] == ["ngo", "pdf", "2019"]
    assert seed["category"] == "ngo"
    assert seed["scope"] == "prefix"
    assert seed["depth"] == 3
    assert seed["robots"] == "ignore"
    assert seed["risk"] == "high"
    assert seed["note"] == "annual report, likely to be taken down"
    assert seed["nominated_by"] == "Jane Doe <jane@example.org>"
    assert seed["removed_at"] is None
    assert seed["added_at"] and seed["updated_at"]


def test_add_without_options_uses_defaults(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "http://example.org"))
    [seed] = seeds_json(home)
    assert seed["url"] == "http://example.org/"
    assert {key: seed[key] for key in DEFAULTS} == DEFAULTS


def test_add_several_urls_repeated_and_comma_separated_tags(home: Path) -> None:
    result = ok(
        run_cli(
            home,
            "seeds",
            "add",
            "https://news.example/a",
            "https://news.example/b?x=1&y=2",
            "http://social.example/post/7",
            "--tag",
            "weibo",
            "--tag",
            "a,b",
            "--tag",
            "c, d",
            "--category",
            "news",
            "--risk",
            "low",
        )
    )
    assert result.stdout.splitlines() == [
        "added 1 https://news.example/a",
        "added 2 https://news.example/b?x=1&y=2",
        "added 3 http://social.example/post/7",
    ]
    seeds = seeds_json(home)
    assert [s["url"] for s in seeds] == [
        "https://news.example/a",
        "https://news.example/b?x=1&y=2",
        "http://social.example/post/7",
    ]
    assert [s["id"] for s in seeds] == [1, 2, 3]
    for seed in seeds:
        assert seed["tags"] == ["weibo", "a", "b", "c", "d"]
        assert seed["category"] == "news"
        assert seed["risk"] == "low"
        assert seed["scope"] == "page"


def test_adding_an_existing_url_merges_tags_without_duplicating(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "http://example.org/a", "--tag", "one", "--note", "first"))
    result = ok(
        run_cli(
            home,
            "seeds",
            "add",
            "HTTP://Example.ORG:80/a#x",
            "--tag",
            "two",
            "--tag",
            "ONE",
            "--risk",
            "high",
            "--note",
            "second",
        )
    )
    # Tags merge; the other settings given are not applied, and the add says so.
    assert result.stdout.splitlines() == [
        "updated 1 http://example.org/a (tags +two)",
        "  not applied, the seed keeps its own: risk medium (given high),"
        " note 'first' (given 'second')",
        "  to apply them: archiver seeds edit 1 --risk high --note second",
    ]
    [seed] = seeds_json(home)
    assert seed["id"] == 1
    assert seed["url"] == "http://example.org/a"
    assert seed["tags"] == ["one", "two"]  # "ONE" is the same tag as "one"
    assert seed["risk"] == "medium"
    assert seed["note"] == "first"

    # The command it suggests applies them.
    edited = ok(run_cli(home, "seeds", "edit", "1", "--risk", "high", "--note", "second"))
    assert edited.stdout.strip() == (
        "edited 1 http://example.org/a: risk medium -> high; note 'first' -> 'second'"
    )
    [seed] = seeds_json(home)
    assert (seed["risk"], seed["note"]) == ("high", "second")

    # The exact same URL again, and several spellings in one command: nothing to do.
    result = ok(run_cli(home, "seeds", "add", "http://example.org/a", "http://EXAMPLE.org/./a"))
    assert result.stdout.splitlines() == ["unchanged 1 http://example.org/a"] * 2
    assert len(seeds_json(home)) == 1


# --- seeds list / show -------------------------------------------------------------------


def test_list_filters_by_tag(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://a.example/", "--tag", "T,shared"))
    ok(run_cli(home, "seeds", "add", "https://b.example/", "--tag", "other,shared"))
    ok(run_cli(home, "seeds", "add", "https://c.example/"))

    assert [s["url"] for s in seeds_json(home, "--tag", "T")] == ["https://a.example/"]
    assert [s["url"] for s in seeds_json(home, "--tag", "t")] == ["https://a.example/"]
    assert [s["url"] for s in seeds_json(home, "--tag", "shared")] == [
        "https://a.example/",
        "https://b.example/",
    ]
    # Several tags: seeds with any of them.
    assert [s["url"] for s in seeds_json(home, "--tag", "T", "--tag", "other")] == [
        "https://a.example/",
        "https://b.example/",
    ]
    assert len(seeds_json(home)) == 3
    assert seeds_json(home, "--tag", "nosuchtag") == []

    text = ok(run_cli(home, "seeds", "list", "--tag", "T")).stdout
    assert "https://a.example/" in text
    assert "https://b.example/" not in text
    assert "no seeds" in ok(run_cli(home, "seeds", "list", "--tag", "nosuchtag")).stdout


def test_list_of_an_empty_registry(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    ok(run_cli(home, "seeds", "remove", "https://example.org/"))
    assert seeds_json(home) == []
    listed = ok(run_cli(home, "seeds", "list")).stdout
    assert listed == "no seeds: add some with 'archiver seeds add URL'\n"


def test_show_text_and_json(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://x.example/"))
    ok(
        run_cli(
            home,
            "seeds",
            "add",
            "https://example.org/report",
            "--tag",
            "ngo",
            "--scope",
            "host",
            "--depth",
            "2",
            "--note",
            "why it matters",
            "--nominated-by",
            "alice",
        )
    )
    text = ok(run_cli(home, "seeds", "show", "2")).stdout
    assert "https://example.org/report" in text
    assert "scope host" in text
    assert "depth 2" in text
    assert "ngo" in text
    assert "note: why it matters" in text
    assert "nominated by: alice" in text
    assert "0 capture(s)" in text
    assert "removed" not in text

    data = json.loads(ok(run_cli(home, "seeds", "show", "2", "--json")).stdout)
    assert data["id"] == 2
    assert data["url"] == "https://example.org/report"
    assert data["tags"] == ["ngo"]
    assert data["scope"] == "host"
    assert data["depth"] == 2
    assert data["note"] == "why it matters"
    assert data["nominated_by"] == "alice"
    assert data["captures"] == 0 and data["timeline"] == []
    assert data["removed_at"] is None
    # show --json describes the same seed as list --json
    listed = by_url(seeds_json(home))["https://example.org/report"]
    assert {k: v for k, v in data.items() if k not in ("captures", "timeline")} == listed


# --- seeds remove ------------------------------------------------------------------------


def test_remove_hides_the_seed_and_re_adding_reactivates_it(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://keep.example/"))
    ok(run_cli(home, "seeds", "add", "https://gone.example/page", "--tag", "old"))

    result = ok(run_cli(home, "seeds", "remove", "2"))
    assert "removed 2 https://gone.example/page" in result.stdout
    assert [s["url"] for s in seeds_json(home)] == ["https://keep.example/"]
    assert seeds_json(home, "--tag", "old") == []

    # show still works on a removed seed and says so
    text = ok(run_cli(home, "seeds", "show", "2")).stdout
    assert "https://gone.example/page" in text
    assert "removed" in text
    data = json.loads(ok(run_cli(home, "seeds", "show", "2", "--json")).stdout)
    assert data["removed_at"]

    # removing again is harmless
    ok(run_cli(home, "seeds", "remove", "2"))
    assert [s["url"] for s in seeds_json(home)] == ["https://keep.example/"]

    # re-adding (in another spelling) brings the same seed back, with merged tags
    result = ok(run_cli(home, "seeds", "add", "HTTPS://GONE.example/page", "--tag", "new"))
    assert result.stdout == "reactivated 2 https://gone.example/page (tags +new)\n"
    seeds = seeds_json(home)
    assert [s["url"] for s in seeds] == ["https://keep.example/", "https://gone.example/page"]
    back = by_url(seeds)["https://gone.example/page"]
    assert back["id"] == 2
    assert back["removed_at"] is None
    assert back["tags"] == ["old", "new"]
    assert "removed" not in ok(run_cli(home, "seeds", "show", "2")).stdout


# --- seeds import ------------------------------------------------------------------------

IMPORT_FILES = {
    "seeds.txt": (
        "# nominations, one URL per line\n"
        "\n"
        "https://a.example/one\n"
        "HTTP://B.example:80/two#frag   # inline comment\n"
        "   https://c.example/three   \n"
    ),
    "seeds.csv": (
        "URL,Tags,category,scope,depth,robots,risk,note,nominated-by\n"
        'https://a.example/one,x;y,ngo,host,2,ignore,high,"why, with a comma",ann\n'
        "HTTP://B.example:80/two#frag,,,,,,,,\n"
        "https://c.example/three,z,news,,,,low,,\n"
    ),
    "seeds.json": json.dumps(
        {
            "seeds": [
                {
                    "url": "https://a.example/one",
                    "tags": ["x", "y"],
                    "category": "ngo",
                    "scope": "host",
                    "depth": 2,
                    "robots": "ignore",
                    "risk": "high",
                    "note": "why, with a comma",
                    "nominated_by": "ann",
                },
                "HTTP://B.example:80/two#frag",
                {"url": "https://c.example/three", "tag": "z", "category": "news", "risk": "low"},
            ]
        },
        indent=2,
    ),
    "seeds.jsonl": "\n".join(
        [
            json.dumps(
                {
                    "url": "https://a.example/one",
                    "tags": "x;y",
                    "category": "ngo",
                    "scope": "host",
                    "depth": "2",
                    "robots": "ignore",
                    "risk": "high",
                    "note": "why, with a comma",
                    "nominated-by": "ann",
                }
            ),
            "",
            json.dumps("HTTP://B.example:80/two#frag"),
            json.dumps(
                {"url": "https://c.example/three", "tags": ["z"], "category": "news", "risk": "low"}
            ),
            "",
        ]
    ),
}

URLS = ["https://a.example/one", "http://b.example/two", "https://c.example/three"]


@pytest.mark.parametrize("name", sorted(IMPORT_FILES))
def test_import_each_format(tmp_path: Path, home: Path, name: str) -> None:
    (tmp_path / name).write_text(IMPORT_FILES[name], encoding="utf-8")
    result = ok(run_cli(home, "seeds", "import", name))
    assert result.stdout == ("imported 3 seed(s): 3 new, 0 updated, 0 reactivated, 0 unchanged\n")

    seeds = seeds_json(home)
    assert [s["url"] for s in seeds] == URLS
    assert {k: seeds[1][k] for k in DEFAULTS} == DEFAULTS
    if name == "seeds.txt":
        return
    first, third = seeds[0], seeds[2]
    assert first["tags"] == ["x", "y"]
    assert (first["category"], first["scope"], first["depth"]) == ("ngo", "host", 2)
    assert (first["robots"], first["risk"]) == ("ignore", "high")
    assert first["note"] == "why, with a comma"
    assert first["nominated_by"] == "ann"
    assert third["tags"] == ["z"]
    assert (third["category"], third["risk"]) == ("news", "low")

    # importing again merges instead of duplicating
    result = ok(run_cli(home, "seeds", "import", name))
    assert result.stdout == ("imported 3 seed(s): 0 new, 0 updated, 0 reactivated, 3 unchanged\n")
    assert [s["url"] for s in seeds_json(home)] == URLS


BAD_CSV = (
    "url,tags,category\n"  # line 1
    "https://good.example/1,a,news\n"  # line 2
    "ftp://bad.example/file,,\n"  # line 3: unsupported scheme
    "https://good.example/2,,\n"  # line 4
    "https://good.example/3,,galaxy\n"  # line 5: unknown category
    "https://good.example/4,b,\n"  # line 6
)


def test_import_is_all_or_nothing_then_skip_invalid(tmp_path: Path, home: Path) -> None:
    (tmp_path / "nominations.csv").write_text(BAD_CSV, encoding="utf-8")

    result = run_cli(home, "seeds", "import", "nominations.csv")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    err = result.stderr
    line3 = [line for line in err.splitlines() if "line 3:" in line]
    line5 = [line for line in err.splitlines() if "line 5:" in line]
    assert line3 and "ftp" in line3[0] and "scheme" in line3[0], err
    assert line5 and "galaxy" in line5[0] and "category" in line5[0], err
    for good in ("line 2:", "line 4:", "line 6:"):
        assert good not in err
    assert any(line.startswith("Error: ") for line in err.splitlines()), err
    assert "nothing imported" in err
    assert "imported" not in result.stdout
    assert_no_archive(home)  # not even an empty one

    result = ok(run_cli(home, "seeds", "import", "nominations.csv", "--skip-invalid"))
    assert "line 3:" in result.stderr
    assert "line 5:" in result.stderr
    assert result.stdout == (
        "imported 3 seed(s): 3 new, 0 updated, 0 reactivated, 0 unchanged,"
        " skipped 2 invalid row(s)\n"
    )
    seeds = seeds_json(home)
    assert [s["url"] for s in seeds] == [
        "https://good.example/1",
        "https://good.example/2",
        "https://good.example/4",
    ]
    assert seeds[0]["tags"] == ["a"]
    assert seeds[0]["category"] == "news"


# --- the archive home --------------------------------------------------------------------


@pytest.mark.sqlite_only  # the home's catalog.sqlite itself
def test_home_is_created_on_first_use(tmp_path: Path) -> None:
    home = tmp_path / "not" / "yet" / "home"
    assert not home.exists()
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    assert home.is_dir()
    assert (home / "catalog.sqlite").is_file()
    assert [s["url"] for s in seeds_json(home)] == ["https://example.org/"]


@pytest.mark.parametrize(
    "args",
    [("seeds", "list"), ("seeds", "list", "--json"), ("seeds", "show", "https://example.org/"),
     ("captures",), ("lookup", "https://example.org/", "--at", "2020-02-12"),
     ("schedule", "list"), ("events", "--json")],
)  # fmt: skip
def test_read_only_command_on_a_home_with_no_archive(tmp_path: Path, args: tuple[str]) -> None:
    """A mistyped --home is not an empty archive: the command says there is none there,
    exits 1, and creates nothing."""
    home = tmp_path / "fresh"
    result = run_cli(home, *args)
    assert (result.returncode, result.stdout) == (1, "")
    if POSTGRES_RUN:
        assert result.stderr.startswith("Error: no archive in the catalog postgresql://")
        assert result.stderr.endswith(
            ": the database has no archiver tables yet. Check --catalog (or ARCHIVER_CATALOG),"
            " or start an archive there with 'archiver seeds add URL'\n"
        )
    else:
        assert result.stderr == (
            f"Error: no archive in '{home}': it has no catalog.sqlite. Give the archive's folder"
            " with --home (or ARCHIVER_HOME), or start an archive there with"
            " 'archiver seeds add URL'\n"
        )
    assert not home.exists()
    assert_no_archive(home)
    # An existing folder without a catalog is no archive either, and stays as it was.
    home.mkdir()
    assert run_cli(home, *args).returncode == 1
    assert list(home.iterdir()) == []


@pytest.mark.sqlite_only  # the home's catalog.sqlite itself
def test_archiver_home_environment_variable(tmp_path: Path) -> None:
    home = tmp_path / "from-env"
    env = {"ARCHIVER_HOME": str(home)}
    result = ok(run_cli(None, "seeds", "add", "https://env.example/", env=env, cwd=tmp_path))
    assert "added 1 https://env.example/" in result.stdout
    assert (home / "catalog.sqlite").is_file()
    assert not (tmp_path / ".xdg-data").exists()  # the default home was not used

    listed = json.loads(ok(run_cli(None, "seeds", "list", "--json", env=env, cwd=tmp_path)).stdout)
    assert [s["url"] for s in listed] == ["https://env.example/"]
    assert [s["url"] for s in seeds_json(home)] == ["https://env.example/"]

    # --home wins over ARCHIVER_HOME
    other = tmp_path / "other"
    result = run_cli(other, "seeds", "list", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 1 and f"no archive in '{other}'" in result.stderr
    ok(run_cli(other, "seeds", "add", "https://other.example/", env=env, cwd=tmp_path))
    assert (other / "catalog.sqlite").is_file()
    assert [s["url"] for s in seeds_json(home)] == ["https://env.example/"]


# --- include / exclude -------------------------------------------------------------------


def test_add_include_exclude_shown_and_merged(home: Path) -> None:
    url = "https://example.org/blog/"
    ok(run_cli(home, "seeds", "add", url, "--scope", "prefix", "--exclude", "[?&]replytocom="))
    ok(run_cli(home, "seeds", "add", url, "--include", "/media/", "--exclude", "/print/"))
    [seed] = seeds_json(home)
    assert seed["include"] == ["/media/"]
    assert seed["exclude"] == ["[?&]replytocom=", "/print/"]
    shown = ok(run_cli(home, "seeds", "show", str(seed["id"]))).stdout
    assert "include /media/" in shown and "exclude [?&]replytocom=" in shown


def test_bad_regex_is_an_error_naming_it(home: Path) -> None:
    result = run_cli(home, "seeds", "add", "https://example.org/", "--exclude", "/a/(b")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "Error: invalid exclude regex '/a/(b': missing ), unterminated subpattern at position 3"
    )
    assert "Traceback" not in result.stderr
    assert_no_archive(home)  # nothing added, not even an empty archive


# --- seeds edit --------------------------------------------------------------------------


def test_edit_every_setting_by_id_and_by_url(home: Path) -> None:
    url = "https://example.org/blog/"
    ok(run_cli(home, "seeds", "add", url, "--tag", "draft,ngo", "--exclude", "/print/"))
    result = ok(
        run_cli(
            home, "seeds", "edit", "1", "--scope", "prefix", "--depth", "2", "--robots",
            "ignore", "--risk", "high", "--note", "moved to a new host", "--category", "ngo",
            "--nominated-by", "desk", "--browser", "--add-tag", "china，人权", "--remove-tag",
            "DRAFT", "--add-include", "/media/", "--remove-exclude", "/print/",
        )
    )  # fmt: skip
    assert result.stdout == (
        "edited 1 https://example.org/blog/: category other -> ngo; scope page -> prefix;"
        " depth none -> 2; robots obey -> ignore; risk medium -> high;"
        " note '' -> 'moved to a new host'; nominated_by '' -> 'desk'; browser no -> yes;"
        " tags +china +人权 -draft; include +/media/; exclude -/print/\n"
    )
    [seed] = seeds_json(home)
    assert {k: seed[k] for k in ("scope", "depth", "robots", "risk", "category", "browser")} == {
        "scope": "prefix", "depth": 2, "robots": "ignore", "risk": "high", "category": "ngo",
        "browser": True,
    }  # fmt: skip
    assert (seed["note"], seed["nominated_by"]) == ("moved to a new host", "desk")
    assert seed["tags"] == ["ngo", "china", "人权"]
    assert (seed["include"], seed["exclude"]) == (["/media/"], [])
    assert seed["updated_at"] > seed["added_at"]

    # By URL, in another spelling; --depth none and --no-browser undo; --json says what changed.
    data = json.loads(
        ok(
            run_cli(home, "seeds", "edit", "HTTPS://EXAMPLE.org/blog/", "--depth", "none",
                    "--no-browser", "--note", "", "--json")
        ).stdout
    )  # fmt: skip
    assert data == {
        "seed_id": 1,
        "url": url,
        "outcome": "edited",
        "changes": {
            "note": {"old": "moved to a new host", "new": ""},
            "depth": {"old": 2, "new": None},
            "browser": {"old": True, "new": False},
        },
    }
    [seed] = seeds_json(home)
    assert (seed["depth"], seed["browser"], seed["note"]) == (None, False, "")

    # The same values again change nothing.
    again = ok(run_cli(home, "seeds", "edit", url, "--risk", "high", "--add-tag", "CHINA"))
    assert again.stdout == f"unchanged 1 {url}: it already has these values\n"


def test_edit_a_removed_seed_keeps_it_removed(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://example.org/"))
    ok(run_cli(home, "seeds", "remove", "1"))
    result = ok(run_cli(home, "seeds", "edit", "1", "--risk", "low"))
    assert result.stdout.splitlines() == [
        "edited 1 https://example.org/: risk medium -> low",
        "  seed 1 is removed: 'archiver seeds add https://example.org/' brings it back",
    ]
    assert seeds_json(home) == []


# --- a seed's URL wherever its id is taken -----------------------------------------------


def test_a_url_names_a_seed_wherever_an_id_does(home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://a.example/", "https://b.example/post/7"))
    spelled = "HTTPS://B.Example:443/post/7#comments"

    shown = json.loads(ok(run_cli(home, "seeds", "show", spelled, "--json")).stdout)
    assert (shown["id"], shown["url"]) == (2, "https://b.example/post/7")

    made = ok(run_cli(home, "schedule", "set", "--seed", spelled, "--every", "6h"))
    assert made.stdout.startswith("schedule 1: seed 2, ")
    listed = json.loads(ok(run_cli(home, "schedule", "list", "--json")).stdout)
    assert [s["seed_id"] for s in listed["schedules"]] == [2]
    ok(run_cli(home, "schedule", "remove", "--seed", spelled))
    assert json.loads(ok(run_cli(home, "schedule", "list", "--json")).stdout)["schedules"] == []

    assert ok(run_cli(home, "captures", "--seed", spelled, "--json")).stdout.strip() == "[]"
    verified = ok(run_cli(home, "verify", "--seed", spelled))
    assert verified.stdout == "verified 0 capture(s) of seed 2: 0 ok, 0 failed\n"
    assert ok(run_cli(home, "events", "--seed", spelled, "--json")).stdout.strip() == "[]"

    removed = ok(run_cli(home, "seeds", "remove", spelled))
    assert removed.stdout == "removed 2 https://b.example/post/7 (its captures are kept)\n"
    assert [s["url"] for s in seeds_json(home)] == ["https://a.example/"]
    refused = run_cli(home, "crawl", "--seed", spelled)
    assert (refused.returncode, refused.stderr) == (
        1, "Error: seed 2 was removed: add its URL again to crawl it\n",
    )  # fmt: skip


# --- tags typed with a Chinese or Japanese keyboard --------------------------------------


def test_full_width_and_ideographic_commas_separate_tags(tmp_path: Path, home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://a.example/", "--tag", "微博，人权、律师；709"))
    (tmp_path / "s.csv").write_text("url,tags\nhttps://b.example/,新闻、香港，NGO\n")
    ok(run_cli(home, "seeds", "import", "s.csv"))
    seeds = by_url(seeds_json(home))
    assert seeds["https://a.example/"]["tags"] == ["微博", "人权", "律师", "709"]
    assert seeds["https://b.example/"]["tags"] == ["新闻", "香港", "NGO"]
    listed = seeds_json(home, "--tag", "律师、香港")
    assert [s["url"] for s in listed] == ["https://a.example/", "https://b.example/"]


# --- import options and standard input --------------------------------------------------


def test_import_options_apply_to_every_row_and_dash_reads_stdin(tmp_path: Path, home: Path) -> None:
    urls = "https://a.example/\n# a comment\nhttps://b.example/x  # why\n"
    result = ok(
        run_cli(
            home, "seeds", "import", "-", "--tag", "weibo", "--tag", "2026", "--scope", "host",
            "--depth", "1", "--risk", "high", "--robots", "ignore", "--category", "social",
            "--note", "from the desk", "--nominated-by", "ann", "--browser", "--exclude",
            "/login", input=urls,
        )
    )  # fmt: skip
    assert result.stdout == "imported 2 seed(s): 2 new, 0 updated, 0 reactivated, 0 unchanged\n"
    for seed in seeds_json(home):
        assert seed["tags"] == ["weibo", "2026"]
        assert (seed["scope"], seed["depth"], seed["risk"], seed["robots"]) == (
            "host", 1, "high", "ignore",
        )  # fmt: skip
        assert (seed["category"], seed["note"], seed["nominated_by"]) == (
            "social", "from the desk", "ann",
        )  # fmt: skip
        assert seed["browser"] is True and seed["exclude"] == ["/login"]

    # A row's own value wins over the option; tags and regexes add to the row's.
    (tmp_path / "rows.csv").write_text(
        "url,tags,risk,scope\nhttps://c.example/,own,low,\nhttps://d.example/,,,page\n"
    )
    ok(run_cli(home, "seeds", "import", "rows.csv", "--tag", "batch", "--risk", "medium",
               "--scope", "domain"))  # fmt: skip
    seeds = by_url(seeds_json(home))
    c, d = seeds["https://c.example/"], seeds["https://d.example/"]
    assert (c["tags"], c["risk"], c["scope"]) == (["own", "batch"], "low", "domain")
    assert (d["tags"], d["risk"], d["scope"]) == (["batch"], "medium", "page")

    # --format reads other formats from stdin.
    rows = json.dumps([{"url": "https://e.example/", "tags": ["json"]}])
    ok(run_cli(home, "seeds", "import", "-", "--format", "json", input=rows))
    assert by_url(seeds_json(home))["https://e.example/"]["tags"] == ["json"]


def test_reimport_reports_what_it_did_not_apply(tmp_path: Path, home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://a.example/", "--risk", "high", "--scope", "host"))
    ok(run_cli(home, "seeds", "add", "https://b.example/", "--tag", "old"))
    ok(run_cli(home, "seeds", "remove", "2"))
    ok(run_cli(home, "seeds", "add", "https://c.example/"))
    (tmp_path / "s.csv").write_text(
        "url,tags,risk,scope,note\n"
        "https://a.example/,,low,host,\n"  # line 2: risk differs, scope the same
        "https://b.example/,new,,,\n"  # line 3: removed, comes back
        "https://c.example/,,,,\n"  # line 4: unchanged
        "https://d.example/,,,,fresh\n"  # line 5: new
        "https://c.example/,x,,,\n"  # line 6: updated (a tag)
    )
    result = ok(run_cli(home, "seeds", "import", "s.csv"))
    assert result.stdout.splitlines() == [
        "line 2: unchanged 1 https://a.example/",
        "  not applied, the seed keeps its own: risk high (given low)",
        "  to apply them: archiver seeds edit 1 --risk low",
        "line 3: reactivated 2 https://b.example/ (tags +new)",
        "imported 5 seed(s): 1 new, 1 updated, 1 reactivated, 2 unchanged",
    ]
    assert by_url(seeds_json(home))["https://a.example/"]["risk"] == "high"


def test_add_and_import_json_output(tmp_path: Path, home: Path) -> None:
    ok(run_cli(home, "seeds", "add", "https://a.example/", "--note", "first"))
    data = json.loads(
        ok(
            run_cli(home, "seeds", "add", "https://a.example/", "https://b.example/", "--note",
                    "second", "--tag", "t", "--json")
        ).stdout
    )  # fmt: skip
    assert data == {
        "seeds": [
            {
                "seed_id": 1,
                "url": "https://a.example/",
                "outcome": "updated",
                "changes": {"tags": {"old": [], "new": ["t"]}},
                "not_applied": {"note": {"kept": "first", "given": "second"}},
            },
            {"seed_id": 2, "url": "https://b.example/", "outcome": "added", "changes": {},
             "not_applied": {}},
        ],
        "counts": {"added": 1, "updated": 1, "reactivated": 0, "unchanged": 0},
    }  # fmt: skip

    ok(run_cli(home, "seeds", "remove", "https://b.example/"))
    (tmp_path / "s.jsonl").write_text(
        '{"url": "https://b.example/"}\n"ftp://bad.example/"\n{"url": "https://a.example/"}\n'
    )
    result = ok(run_cli(home, "seeds", "import", "s.jsonl", "--skip-invalid", "--json"))
    assert result.stderr == (
        "s.jsonl: line 2: unsupported URL scheme 'ftp:' in 'ftp://bad.example/':"
        " only http and https URLs can be archived\n"
    )
    data = json.loads(result.stdout)
    assert [(s["line"], s["seed_id"], s["outcome"]) for s in data["seeds"]] == [
        (1, 2, "reactivated"),
        (3, 1, "unchanged"),
    ]
    assert data["counts"] == {"added": 0, "updated": 0, "reactivated": 1, "unchanged": 1}
    assert [entry["line"] for entry in data["invalid"]] == [2]
    assert "ftp" in data["invalid"][0]["error"]
