"""``archiver seeds import`` run as a user runs it: each file format, all or nothing,
options for every row, standard input, and what a re-import did not apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli
from seedcli import DEFAULTS, assert_no_archive, by_url, ok, seeds_json


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


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
