"""``archiver seeds ...`` run as a user runs it: a subprocess per command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


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
    assert result.stdout.strip() == "already a seed, tags merged: 1 http://example.org/a"

    [seed] = seeds_json(home)
    assert seed["id"] == 1
    assert seed["url"] == "http://example.org/a"
    assert seed["tags"] == ["one", "two"]  # "ONE" is the same tag as "one"
    # Only tags merge: the other fields of the existing seed are kept.
    assert seed["risk"] == "medium"
    assert seed["note"] == "first"

    # The exact same URL again, and several spellings in one command.
    ok(run_cli(home, "seeds", "add", "http://example.org/a", "http://EXAMPLE.org/./a"))
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
    assert seeds_json(home) == []
    assert "no seeds" in ok(run_cli(home, "seeds", "list")).stdout


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
    assert "already a seed" in result.stdout
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
    assert "imported 3 seed(s): 3 new, 0 merged" in result.stdout

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
    assert "imported 3 seed(s): 0 new, 3 merged" in result.stdout
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
    assert seeds_json(home) == []

    result = ok(run_cli(home, "seeds", "import", "nominations.csv", "--skip-invalid"))
    assert "line 3:" in result.stderr
    assert "line 5:" in result.stderr
    assert "imported 3 seed(s): 3 new, 0 merged, skipped 2 invalid row(s)" in result.stdout
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


def test_read_only_command_on_a_new_home(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    assert seeds_json(home) == []
    assert home.is_dir()


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
    listed = json.loads(ok(run_cli(other, "seeds", "list", "--json", env=env, cwd=tmp_path)).stdout)
    assert listed == []
    assert (other / "catalog.sqlite").is_file()


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
    assert seeds_json(home) == []  # nothing added
