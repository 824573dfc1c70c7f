from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from archiver.errors import InvalidSeed, InvalidURL, SeedFileError
from archiver.seedfiles import ParsedSeedFile, RowError, parse_seed_data, parse_seed_file
from archiver.seedspec import (
    CATEGORIES,
    RISKS,
    ROBOTS,
    SCOPES,
    SeedFields,
    SeedSpec,
    split_tag_options,
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def errors_by_line(parsed: ParsedSeedFile) -> dict[int, str]:
    return {e.line: e.reason for e in parsed.errors}


# --- SeedSpec.build ---------------------------------------------------------------------


def test_allowed_values() -> None:
    assert CATEGORIES == ("social", "news", "ngo", "other")
    assert SCOPES == ("page", "prefix", "host", "site", "domain")
    assert ROBOTS == ("obey", "ignore")
    assert RISKS == ("low", "medium", "high")


def test_build_defaults() -> None:
    spec = SeedSpec.build("HTTPS://Example.org")
    assert spec == SeedSpec(url="https://example.org/")
    assert (spec.category, spec.scope, spec.depth, spec.robots, spec.risk) == (
        "other",
        "page",
        None,
        "obey",
        "medium",
    )
    assert spec.tags == () and spec.note == "" and spec.nominated_by == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.url = "x"  # type: ignore[misc]


def test_build_all_fields() -> None:
    spec = SeedSpec.build(
        "https://example.org/a",
        tags=[" Climate ", "press", "climate", "", "PRESS", "Élection"],
        category="NEWS",
        scope=" Domain ",
        depth="3",
        robots="Ignore",
        risk="HIGH",
        note="  threatened  ",
        nominated_by="Ann",
    )
    assert spec.tags == ("Climate", "press", "Élection")
    assert (spec.category, spec.scope, spec.depth, spec.robots, spec.risk) == (
        "news",
        "domain",
        3,
        "ignore",
        "high",
    )
    assert spec.note == "threatened" and spec.nominated_by == "Ann"


def test_build_tags_from_string_and_empty_means_default() -> None:
    spec = SeedSpec.build("https://e.org/", tags="a; b,c | A", category="", scope="", depth="")
    assert spec.tags == ("a", "b", "c")
    assert (spec.category, spec.scope, spec.depth) == ("other", "page", None)
    assert SeedSpec.build("https://e.org/", depth=0).depth == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"scope": "everything"},
            "invalid scope 'everything': choose one of page, prefix, host, site, domain",
        ),
        ({"category": "blog"}, "invalid category 'blog': choose one of social, news, ngo, other"),
        ({"robots": "maybe"}, "invalid robots 'maybe': choose one of obey, ignore"),
        ({"risk": "extreme"}, "invalid risk 'extreme': choose one of low, medium, high"),
        ({"risk": 3}, "invalid risk '3': choose one of low, medium, high"),
        ({"depth": -1}, "invalid depth '-1': use a whole number from 0 to 10000"),
        ({"depth": 10001}, "invalid depth '10001': use a whole number from 0 to 10000"),
        ({"depth": "-2"}, "invalid depth '-2'"),
        ({"depth": "1.5"}, "invalid depth '1.5'"),
        ({"depth": 1.0}, "invalid depth '1.0'"),
        ({"depth": True}, "invalid depth 'True'"),
        ({"depth": "two"}, "invalid depth 'two'"),
        ({"tags": ["a,b"]}, "invalid tag 'a,b'"),
        ({"tags": ["a;b"]}, "without ',', ';' or '|'"),
        ({"tags": ["x" * 101]}, "at most 100"),
        ({"tags": [5]}, "invalid tag '5'"),
        ({"tags": {"a": 1}}, "invalid tags"),
        ({"note": "n" * 2001}, "note too long (2001 characters"),
        ({"nominated_by": "n" * 201}, "nominated_by too long (201 characters"),
        ({"note": 7}, "invalid note '7': must be text"),
    ],
)
def test_build_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSeed) as info:
        SeedSpec.build("https://example.org/", **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_build_limits_are_inclusive() -> None:
    spec = SeedSpec.build(
        "https://e.org/", tags=["x" * 100], note="n" * 2000, nominated_by="b" * 200
    )
    assert len(spec.note) == 2000


def test_build_bad_url() -> None:
    with pytest.raises(InvalidURL, match="only http and https"):
        SeedSpec.build("ftp://example.org/")


def test_row_error_str() -> None:
    assert str(RowError(3, "bad")) == "line 3: bad"
    assert str(RowError(2, "bad", "entry")) == "entry 2: bad"


# --- .txt -------------------------------------------------------------------------------


def test_txt(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "seeds.TXT",
        "# a comment\n"
        "https://example.org/a  # inline comment\n"
        "\n"
        "   # indented comment\n"
        "  HTTPS://Example.org/b#frag\r\n"
        "ftp://example.org/\n"
        "https://example.org/x y\n"
        "example.org/page\n"
        "https://example.org/a\n",
    )
    parsed = parse_seed_file(path)
    assert [(n, s.url) for n, s in parsed.rows] == [
        (2, "https://example.org/a"),
        (5, "https://example.org/b"),
        (9, "https://example.org/a"),  # duplicates are kept; the caller merges
    ]
    errors = errors_by_line(parsed)
    assert sorted(errors) == [6, 7, 8]
    assert "only http and https" in errors[6]
    assert "unexpected text 'y'" in errors[7]
    assert "https://example.org/page" in errors[8]
    assert all(e.where == "line" for e in parsed.errors)
    assert str(parsed.errors[0]).startswith("line 6: ")


def test_txt_bom_and_empty(tmp_path: Path) -> None:
    parsed = parse_seed_file(write(tmp_path, "s.txt", b"\xef\xbb\xbfhttps://example.org/\n"))
    assert [(n, s.url) for n, s in parsed.rows] == [(1, "https://example.org/")]
    assert parse_seed_file(write(tmp_path, "e.txt", "")) == ParsedSeedFile((), ())


# --- .csv -------------------------------------------------------------------------------


def test_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "seeds.csv",
        "URL,Tags,category,scope,depth,robots,risk,note,nominated-by\r\n"
        'https://a.org/,"x;y|X",news,host,2,ignore,high,"note, with comma",Ann\r\n'
        "https://b.org/,,,everything,,,,,\r\n"
        "\r\n"
        '"https://c.org/",ok,social,page,1,obey,low,"two\nlines",\r\n'
        "https://d.org/,,,,-1\r\n"
        "https://e.org/,,,,,,,,,surplus\r\n"
        ",tag-only\r\n"
        "https://f.org/\r\n",
    )
    parsed = parse_seed_file(path)
    rows = dict(parsed.rows)
    assert sorted(rows) == [2, 5, 10]
    a = rows[2]
    assert a.url == "https://a.org/" and a.tags == ("x", "y")
    assert (a.category, a.scope, a.depth, a.robots, a.risk) == ("news", "host", 2, "ignore", "high")
    assert a.note == "note, with comma" and a.nominated_by == "Ann"
    assert rows[5].note == "two\nlines"
    assert rows[10] == SeedSpec(url="https://f.org/")
    errors = errors_by_line(parsed)
    assert sorted(errors) == [3, 7, 8, 9]
    assert "invalid scope 'everything'" in errors[3]
    assert "invalid depth '-1'" in errors[7]
    assert "row has 10 fields but the header has 9" in errors[8]
    assert "missing URL" in errors[9]


def test_csv_tag_alias_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", b"\xef\xbb\xbfurl,tag,nominated_by\nhttps://a.org/,a,Bob\n")
    parsed = parse_seed_file(path)
    assert parsed.errors == ()
    assert parsed.rows == ((2, SeedSpec(url="https://a.org/", tags=("a",), nominated_by="Bob")),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("url,color,size\nhttps://a.org/,red,1\n", "unknown column(s) 'color', 'size'"),
        ("tags,scope\na,page\n", "no 'url' column"),
        ("https://a.org/,news\n", "no header row"),
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("url,tag,tags\n", "more than once"),
    ],
)
def test_csv_file_errors(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(SeedFileError) as info:
        parse_seed_file(write(tmp_path, "s.csv", content))
    assert message in str(info.value)


def test_csv_unknown_column_lists_accepted(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="accepted columns are url, tags, category"):
        parse_seed_file(write(tmp_path, "s.csv", "url,colour\n"))


# --- .json / .jsonl ---------------------------------------------------------------------


def test_json_array(tmp_path: Path) -> None:
    entries = [
        "https://a.org",
        {"url": "https://b.org", "tags": ["x", "y"], "depth": 3, "scope": "site"},
        5,
        {"url": "https://c.org", "tags": "p;q", "depth": "2", "nominated-by": "Ann"},
        {"url": "https://d.org", "colour": "red"},
        {"tags": ["x"]},
        {"url": "https://e.org", "risk": "severe"},
        None,
    ]
    parsed = parse_seed_file(write(tmp_path, "s.json", json.dumps(entries)))
    rows = dict(parsed.rows)
    assert sorted(rows) == [1, 2, 4]
    assert rows[2] == SeedSpec(url="https://b.org/", tags=("x", "y"), depth=3, scope="site")
    assert rows[4].tags == ("p", "q") and rows[4].depth == 2 and rows[4].nominated_by == "Ann"
    assert all(e.where == "entry" for e in parsed.errors)
    errors = errors_by_line(parsed)
    assert sorted(errors) == [3, 5, 6, 7, 8]
    assert "not a number" in errors[3]
    assert "'colour' is unknown" in errors[5]
    assert "missing 'url'" in errors[6]
    assert "invalid risk 'severe'" in errors[7]
    assert "not null" in errors[8]
    assert str(parsed.errors[0]).startswith("entry 3: ")


def test_json_seeds_object(tmp_path: Path) -> None:
    content = json.dumps({"name": "list", "seeds": [{"url": "https://a.org/"}]})
    parsed = parse_seed_file(write(tmp_path, "s.JSON", content))
    assert parsed.rows == ((1, SeedSpec(url="https://a.org/")),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[\n  {"url": "https://a.org/",}\n]', "not valid JSON (line 2, column"),
        ("", "is empty"),
        ('{"url": "https://a.org/"}', "'seeds' array"),
        ('"https://a.org/"', "array of seeds"),
    ],
)
def test_json_file_errors(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(SeedFileError) as info:
        parse_seed_file(write(tmp_path, "s.json", content))
    assert message in str(info.value)


def test_jsonl(tmp_path: Path) -> None:
    content = (
        '{"url": "https://a.org/", "tags": ["x"]}\n'
        "\n"
        "{not json\n"
        '"https://b.org/"\n'
        "[1, 2]\n"
        '{"url": "mailto:a@b.org"}\n'
    )
    parsed = parse_seed_file(write(tmp_path, "s.jsonl", content))
    assert [(n, s.url) for n, s in parsed.rows] == [(1, "https://a.org/"), (4, "https://b.org/")]
    errors = errors_by_line(parsed)
    assert sorted(errors) == [3, 5, 6]
    assert "not valid JSON" in errors[3]
    assert "not an array" in errors[5]
    assert "only http and https" in errors[6]
    assert all(e.where == "line" for e in parsed.errors)


# --- whole-file problems ----------------------------------------------------------------


def test_non_utf8(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfhttps://a.org/\nhttps://b.org/caf\xe9\n"
    with pytest.raises(SeedFileError) as info:
        parse_seed_file(write(tmp_path, "s.txt", data))
    message = str(info.value)
    offset = data.index(b"\xe9")  # counted from the start of the file, BOM included
    assert offset == 35
    assert "not valid UTF-8" in message and f"byte offset {offset}," in message
    assert "0xE9" in message and "line 2" in message
    assert "save it as UTF-8" in message


def test_utf16(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", "https://a.org/\n".encode("utf-16"))
    with pytest.raises(SeedFileError, match="UTF-16"):
        parse_seed_file(path)


def test_binary(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="looks binary"):
        parse_seed_file(write(tmp_path, "s.csv", b"url\nhttps://a.org/\x00\x01\x02\n"))


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError) as info:
        parse_seed_file(write(tmp_path, "seeds.xlsx", "url\n"))
    assert "'.xlsx'" in str(info.value) and ".txt, .csv, .json, .jsonl" in str(info.value)


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="not found"):
        parse_seed_file(tmp_path / "nope.txt")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(SeedFileError, match="is a directory"):
        parse_seed_file(tmp_path / "dir.txt")


def test_accepts_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", "https://a.org/\n")
    assert parse_seed_file(str(path)).rows == ((1, SeedSpec(url="https://a.org/")),)


# --- include / exclude regexes ------------------------------------------------------------


def test_include_exclude_in_each_format(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path,
        "s.csv",
        'url,include,exclude\nhttps://a.org/,/media/ /files/,"[?&]replytocom= /print/"\n'
        "https://b.org/,,\n",
    )
    rows = dict(parse_seed_file(csv_file).rows)
    assert rows[2].include == ("/media/", "/files/")
    assert rows[2].exclude == ("[?&]replytocom=", "/print/")
    assert rows[3].include == rows[3].exclude == ()
    # JSON arrays keep each regex whole (spaces and commas included); a string splits.
    json_file = write(
        tmp_path,
        "s.json",
        json.dumps([{"url": "https://a.org/", "exclude": ["a{1,3} b", "c"], "include": "x y"}]),
    )
    [(_, spec)] = parse_seed_file(json_file).rows
    assert spec.exclude == ("a{1,3} b", "c") and spec.include == ("x", "y")
    jsonl_file = write(tmp_path, "s.jsonl", '{"url": "https://a.org/", "exclude": ["\\\\?sid="]}\n')
    assert parse_seed_file(jsonl_file).rows[0][1].exclude == ("\\?sid=",)


def test_bad_regexes_are_reported_by_line(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path,
        "s.csv",
        "url,exclude\nhttps://a.org/,/ok/\nhttps://b.org/,(unclosed\nhttps://c.org/,*x\n",
    )
    parsed = parse_seed_file(csv_file)
    assert [n for n, _ in parsed.rows] == [2]
    found = errors_by_line(parsed)
    assert found[3].startswith(
        "invalid exclude regex '(unclosed': missing ), unterminated subpattern at position 0"
    )
    assert found[4].startswith("invalid exclude regex '*x': nothing to repeat at position 0")
    jsonl_file = write(tmp_path, "s.jsonl", '{"url": "https://a.org/", "include": [1]}\n')
    assert errors_by_line(parse_seed_file(jsonl_file)) == {
        1: "invalid include regex '1': must be text"
    }
    with pytest.raises(InvalidSeed, match="give a list of regexes"):
        SeedSpec.build("https://a.org/", include={"a": 1})  # type: ignore[arg-type]


# --- tags typed with a Chinese or Japanese keyboard -----------------------------------------


def test_full_width_commas_and_semicolons_separate_tags(tmp_path: Path) -> None:
    spec = SeedSpec.build("https://e.org/", tags="微博，人权、律师；709|NGO")
    assert spec.tags == ("微博", "人权", "律师", "709", "NGO")
    assert split_tag_options(["a，b", "c、d；e", "f"]) == ["a", "b", "c", "d", "e", "f"]
    assert split_tag_options(["a|b"]) == ["a|b"]  # on the command line '|' is no separator
    with pytest.raises(InvalidSeed, match="as do '，', '、' and '；'"):
        SeedSpec.build("https://e.org/", tags=["a、b"])
    parsed = parse_seed_file(write(tmp_path, "s.csv", "url,tags\nhttps://a.org/,新闻、香港\n"))
    assert parsed.rows[0][1].tags == ("新闻", "香港")


# --- which settings a row gave, and settings given to every row -----------------------------


def test_given_names_the_settings_not_defaulted() -> None:
    assert SeedSpec.build("https://e.org/").given == frozenset()
    spec = SeedSpec.build("https://e.org/", risk="medium", note="", depth="2", browser=False)
    assert spec.given == {"risk", "depth", "browser"}  # "" is the default, False is given
    assert spec == SeedSpec(url="https://e.org/", depth=2)  # not part of equality


def test_seed_fields_fill_each_row(tmp_path: Path) -> None:
    defaults = SeedFields.build(
        {"risk": "HIGH", "scope": "host", "depth": None, "browser": True},
        add_tags=["batch"],
        add_exclude=["/login"],
    )
    assert defaults.settings == {"risk": "high", "scope": "host", "browser": True}
    content = "url,tags,risk,exclude\nhttps://a.org/,own,low,/print/\nhttps://b.org/,,,\n"
    parsed = parse_seed_file(write(tmp_path, "s.csv", content), defaults)
    a, b = (spec for _, spec in parsed.rows)
    assert (a.tags, a.risk, a.scope, a.browser) == (("own", "batch"), "low", "host", True)
    assert a.exclude == ("/print/", "/login")
    assert (b.tags, b.risk, b.exclude) == (("batch",), "high", ("/login",))
    assert b.given == {"risk", "scope", "browser"}


def test_seed_fields_lists_and_checks() -> None:
    fields = SeedFields.build({}, add_tags=["New", "x"], remove_tags=["OLD"])
    assert fields.list_after("tags", ("old", "new", "keep")) == ("new", "keep", "x")
    assert fields.not_held("tags", ("keep",)) == ("OLD",)
    assert not fields.empty and SeedFields.build({"note": None}).empty
    assert SeedFields.build({"depth": "none"}).settings == {"depth": None}
    assert SeedFields.build({"note": ""}).settings == {"note": ""}
    with pytest.raises(InvalidSeed, match="invalid depth '-1'"):
        SeedFields.build({"depth": "-1"})
    with pytest.raises(InvalidSeed, match="invalid include regex"):
        SeedFields.build({}, add_include=["("])
    with pytest.raises(InvalidSeed, match="unknown seed field"):
        SeedFields.build({"colour": "red"})


# --- a seed list from standard input ---------------------------------------------------------


def test_parse_seed_data_in_each_format() -> None:
    txt = parse_seed_data(b"https://a.org/\n# c\nftp://b.org/\n", "stdin", "txt")
    assert [(n, s.url) for n, s in txt.rows] == [(1, "https://a.org/")]
    assert [e.line for e in txt.errors] == [3] and txt.unit == "line"
    data = json.dumps(["https://a.org/", {"url": "https://b.org/"}]).encode()
    assert parse_seed_data(data, "stdin", "json").unit == "entry"
    with pytest.raises(SeedFileError, match="unknown seed list format 'xml'"):
        parse_seed_data(b"", "stdin", "xml")
    with pytest.raises(SeedFileError, match="seed file stdin is UTF-16"):
        parse_seed_data("https://a.org/".encode("utf-16"), "stdin", "txt")


def test_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "nominations", "url,tags\nhttps://a.org/,x\n")
    assert parse_seed_file(path, fmt="csv").rows[0][1].tags == ("x",)
