"""``archiver seeds add`` run as a user runs it: every field, defaults, tags (commas
full-width and ideographic too), an existing URL, include/exclude regexes, and ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli
from seedcli import DEFAULTS, assert_no_archive, by_url, ok, seeds_json


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


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


# --- --json ----------------------------------------------------------------------------


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
