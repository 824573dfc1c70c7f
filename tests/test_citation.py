"""Citations of a fixed capture, in every format, compared with golden outputs and read
back by independent parsers (bibtexparser, citeproc-py)."""

from __future__ import annotations

import html
import json

import pytest

from archiver.catalog.captures import Capture
from archiver.research.citation import FORMATS, Citation, render

CAPTURE = Capture(
    url="https://www.nchrd.org/2020/02/defenders-2019/",
    final_url="https://www.nchrd.org/2020/02/defenders-2019/",
    surt="org,nchrd)/2020/02/defenders-2019",
    seed_id=1,
    job_id=1,
    kind="seed",
    hops=0,
    via=None,
    captured_at="2020-02-12T06:00:00.123Z",
    state="ok",
    software="archiver/0.1.0",
    http_status=200,
    mime="text/html",
    size=1234,
    title="Defending Human Rights in the Era of Dystopia & 100% #China",
    payload_digest="sha256:8f7e3e24db37391eae6621f365c3e6b06ab320bd1ee58a46e8980046e43c00b2",
    record_digest="sha256:" + "ab" * 32,
    record_id="<urn:uuid:00000000-0000-0000-0000-000000000001>",
    warc_file="archiver-20200212060000123-00000-host-abcdef.warc.gz",
    warc_offset=1000,
    warc_length=2000,
    id="K7QD-3XMA",
    job="china-2020-02",
    storage_uri="s3://evidence/archiver/china-2020-02/archiver-20200212060000123-00000-host-abcdef.warc.gz",
)
SHA = "8f7e3e24db37391eae6621f365c3e6b06ab320bd1ee58a46e8980046e43c00b2"
STORE = CAPTURE.storage_uri
REPLAY = (
    "https://replay.example/archive/20200212060000/https://www.nchrd.org/2020/02/defenders-2019/"
)

GOLDEN = {
    "apa": (
        "Defending Human Rights in the Era of Dystopia & 100% #China. (n.d.). nchrd.org."
        " Retrieved February 12, 2020, from https://www.nchrd.org/2020/02/defenders-2019/."
        f" Archived 2020-02-12 06:00:00.123 UTC at {REPLAY} (capture K7QD-3XMA, SHA-256 {SHA})."
    ),
    "chicago": (
        "“Defending Human Rights in the Era of Dystopia & 100% #China.” nchrd.org. Archived"
        " February 12, 2020, 06:00 UTC. https://www.nchrd.org/2020/02/defenders-2019/."
        f" Archived copy: {REPLAY} (capture K7QD-3XMA, SHA-256 {SHA})."
    ),
    "bluebook": (
        "Defending Human Rights in the Era of Dystopia & 100% #China, NCHRD.ORG"
        " (Feb. 12, 2020, 6:00 AM UTC), https://www.nchrd.org/2020/02/defenders-2019/"
        f" [{REPLAY}] (capture K7QD-3XMA, SHA-256 {SHA})."
    ),
    "ris": "\n".join([
        "TY  - ELEC",
        "TI  - Defending Human Rights in the Era of Dystopia & 100% #China",
        "UR  - https://www.nchrd.org/2020/02/defenders-2019/",
        "PB  - nchrd.org",
        "Y2  - 2020/02/12/",
        "DB  - archiver",
        "AN  - K7QD-3XMA",
        f"N1  - Archived 2020-02-12T06:00:00.123Z; capture K7QD-3XMA, SHA-256 {SHA};"
        f" archived copy: {REPLAY}",
        "ER  - ",
    ]),
    "robust-link": (
        '<a href="https://www.nchrd.org/2020/02/defenders-2019/"'
        ' data-originalurl="https://www.nchrd.org/2020/02/defenders-2019/"'
        f' data-versionurl="{REPLAY}" data-versiondate="2020-02-12T06:00:00Z"'
        f' data-capture-id="K7QD-3XMA" data-sha256="{SHA}">'
        "Defending Human Rights in the Era of Dystopia &amp; 100% #China</a>"
    ),
}  # fmt: skip


@pytest.fixture
def citation():
    return Citation.of(CAPTURE, "https://replay.example/archive")


@pytest.mark.parametrize("fmt", sorted(GOLDEN))
def test_golden_outputs(citation, fmt):
    assert render(citation, fmt) == GOLDEN[fmt]


def test_every_format_carries_the_essentials(citation):
    for fmt in FORMATS:
        text = render(citation, fmt)
        assert "K7QD-3XMA" in text, fmt
        assert SHA in text, fmt
        assert "https://www.nchrd.org/2020/02/defenders-2019/" in text, fmt
        assert "2020" in text, fmt
        assert REPLAY in text or fmt == "text", fmt


LOCAL = Capture(
    **{**CAPTURE.to_json(), "storage_uri": "file:///srv/archive/warcs/china-2020-02/x.warc.gz"}
)
ARCHIVE = "NCHRD Evidence Archive"
EVIDENCE = f"(capture K7QD-3XMA, SHA-256 {SHA})"

GOLDEN_NO_REPLAY = {
    "apa": (
        "Defending Human Rights in the Era of Dystopia & 100% #China. (n.d.). nchrd.org."
        " Retrieved February 12, 2020, from https://www.nchrd.org/2020/02/defenders-2019/."
        f" Archived 2020-02-12 06:00:00.123 UTC in {ARCHIVE} {EVIDENCE}."
    ),
    "chicago": (
        "“Defending Human Rights in the Era of Dystopia & 100% #China.” nchrd.org. Archived"
        " February 12, 2020, 06:00 UTC. https://www.nchrd.org/2020/02/defenders-2019/."
        f" Archived copy: {ARCHIVE} {EVIDENCE}."
    ),
    "bluebook": (
        "Defending Human Rights in the Era of Dystopia & 100% #China, NCHRD.ORG"
        " (Feb. 12, 2020, 6:00 AM UTC), https://www.nchrd.org/2020/02/defenders-2019/"
        f" [{ARCHIVE}] {EVIDENCE}."
    ),
    "ris": "\n".join([
        "TY  - ELEC",
        "TI  - Defending Human Rights in the Era of Dystopia & 100% #China",
        "UR  - https://www.nchrd.org/2020/02/defenders-2019/",
        "PB  - nchrd.org",
        "Y2  - 2020/02/12/",
        f"DB  - {ARCHIVE}",
        "AN  - K7QD-3XMA",
        f"N1  - Archived 2020-02-12T06:00:00.123Z; capture K7QD-3XMA, SHA-256 {SHA}",
        "ER  - ",
    ]),
    "robust-link": (
        '<a href="https://www.nchrd.org/2020/02/defenders-2019/"'
        ' data-originalurl="https://www.nchrd.org/2020/02/defenders-2019/"'
        ' data-versiondate="2020-02-12T06:00:00Z"'
        f' data-capture-id="K7QD-3XMA" data-sha256="{SHA}">'
        "Defending Human Rights in the Era of Dystopia &amp; 100% #China</a>"
    ),
}  # fmt: skip


@pytest.mark.parametrize("fmt", sorted(GOLDEN_NO_REPLAY))
def test_without_a_replay_base_the_archive_and_capture_id_are_cited(fmt):
    assert render(Citation.of(LOCAL, archive=ARCHIVE), fmt) == GOLDEN_NO_REPLAY[fmt]


def test_no_styled_citation_carries_a_file_path():
    cited = Citation.of(LOCAL, archive=ARCHIVE)
    assert cited.replay_url is None
    for fmt in FORMATS:
        if fmt != "text":  # the technical record: it says where the WARC file is stored
            assert "file:" not in render(cited, fmt), fmt
    [item] = json.loads(render(cited, "csl-json"))
    assert item["archive"] == ARCHIVE and item["archive_location"] == "K7QD-3XMA"
    import bibtexparser

    [entry] = bibtexparser.parse_string(render(cited, "bibtex")).entries
    note = {f.key: f.value for f in entry.fields}["note"]
    assert note.endswith(f"SHA-256 {SHA}; archived in {ARCHIVE}") and "file:" not in note
    text = render(cited, "text")
    assert f"Archived 2020-02-12 06:00:00.123 UTC in {ARCHIVE}, capture K7QD-3XMA" in text
    assert "Stored at: file:///srv/archive/warcs/china-2020-02/x.warc.gz" in text


def test_text_names_record_and_store(citation):
    text = render(citation, "text")
    assert f"WARC record: {CAPTURE.warc_file}, offset 1000, length 2000" in text
    assert f"Stored at: {STORE}" in text and f"Replay: {REPLAY}" in text


def test_bibtex_parses_as_biblatex_online(citation):
    import bibtexparser

    library = bibtexparser.parse_string(render(citation, "bibtex"))
    assert not library.failed_blocks
    [entry] = library.entries
    assert entry.entry_type == "online" and entry.key == "archiver-K7QD3XMA"
    fields = {f.key: f.value for f in entry.fields}
    assert fields["url"] == CAPTURE.url
    assert fields["urldate"] == "2020-02-12"
    assert fields["title"] == r"Defending Human Rights in the Era of Dystopia \& 100\% \#China"
    assert "K7QD-3XMA" in fields["note"] and SHA in fields["note"]


def test_csl_json_is_read_by_a_csl_processor(citation):
    from citeproc import Citation as CslCitation
    from citeproc import CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    items = json.loads(render(citation, "csl-json"))
    item = items[0]
    assert item["type"] == "webpage" and item["URL"] == CAPTURE.url
    assert item["accessed"] == {"date-parts": [[2020, 2, 12]]}
    assert item["archive"] == "archiver" and item["archive_location"] == REPLAY
    assert "issued" not in item  # the publication date is not known: not claimed
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(CslCitation([CitationItem("K7QD-3XMA")]))
    [entry] = [str(e) for e in bibliography.bibliography()]
    assert "Defending Human Rights" in entry and CAPTURE.url in entry
    assert "(Accessed: February 12, 2020)" in entry  # the access date, as the style renders it


PUBLISHED = Capture(
    **{**CAPTURE.to_json(), "site_name": "NCHRD", "published": "2020-02-11T22:30:00+08:00"}
)

GOLDEN_PUBLISHED = {
    "apa": (
        "Defending Human Rights in the Era of Dystopia & 100% #China. (2020, February 11)."
        " NCHRD. Retrieved February 12, 2020, from https://www.nchrd.org/2020/02/defenders-2019/."
        f" Archived 2020-02-12 06:00:00.123 UTC at {REPLAY} (capture K7QD-3XMA, SHA-256 {SHA})."
    ),
    "chicago": (
        "“Defending Human Rights in the Era of Dystopia & 100% #China.” NCHRD. February 11,"
        " 2020. Archived February 12, 2020, 06:00 UTC."
        " https://www.nchrd.org/2020/02/defenders-2019/."
        f" Archived copy: {REPLAY} (capture K7QD-3XMA, SHA-256 {SHA})."
    ),
    "ris": "\n".join([
        "TY  - ELEC",
        "TI  - Defending Human Rights in the Era of Dystopia & 100% #China",
        "UR  - https://www.nchrd.org/2020/02/defenders-2019/",
        "PB  - NCHRD",
        "PY  - 2020",
        "DA  - 2020/02/11",
        "Y2  - 2020/02/12/",
        "DB  - archiver",
        "AN  - K7QD-3XMA",
        f"N1  - Archived 2020-02-12T06:00:00.123Z; capture K7QD-3XMA, SHA-256 {SHA};"
        f" archived copy: {REPLAY}",
        "ER  - ",
    ]),
}  # fmt: skip


@pytest.mark.parametrize("fmt", sorted(GOLDEN_PUBLISHED))
def test_golden_outputs_with_site_name_and_publication_date(fmt):
    # The date is the page's own (Beijing) date, not the UTC one.
    assert (
        render(Citation.of(PUBLISHED, "https://replay.example/archive"), fmt)
        == (GOLDEN_PUBLISHED[fmt])
    )


def test_publication_date_in_bibtex_and_csl():
    import bibtexparser

    cited = Citation.of(PUBLISHED, "https://replay.example/archive")
    [entry] = bibtexparser.parse_string(render(cited, "bibtex")).entries
    fields = {f.key: f.value for f in entry.fields}
    assert fields["date"] == "2020-02-11" and fields["organization"] == "NCHRD"
    [item] = json.loads(render(cited, "csl-json"))
    assert item["issued"] == {"date-parts": [[2020, 2, 11]]}
    assert item["container-title"] == "NCHRD"
    assert json.loads(json.dumps(cited.to_json()))["published"] == "2020-02-11T22:30:00+08:00"


# The constraints the CSL 1.0.2 data schema (citation-style-language/schema, csl-data.json)
# puts on every field archiver emits: an array of items, "id" and "type" required, "type"
# from the item-type list, dates as date-variables ({"date-parts": [[y, m, d]]} and kin),
# and no property the schema does not define.
_DATE_VARIABLE = {
    "type": "object",
    "properties": {
        "date-parts": {
            "type": "array", "minItems": 1, "maxItems": 2,
            "items": {"type": "array", "minItems": 1, "maxItems": 3,
                      "items": {"type": ["string", "number"]}},
        },
        "season": {"type": ["string", "number"]},
        "circa": {"type": ["string", "number", "boolean"]},
        "literal": {"type": "string"},
        "raw": {"type": "string"},
    },
    "additionalProperties": False,
}  # fmt: skip
_STRING_FIELDS = (
    "URL", "title", "container-title", "archive", "archive_location", "archive-place", "note",
    "publisher", "publisher-place", "genre", "medium", "source", "language", "abstract",
)  # fmt: skip
CSL_DATA_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": {"type": ["string", "number"]},
            "type": {"enum": ["article", "article-journal", "article-newspaper", "dataset",
                              "document", "post", "post-weblog", "report", "webpage"]},
            **{name: {"type": "string"} for name in _STRING_FIELDS},
            **{name: _DATE_VARIABLE for name in ("accessed", "issued", "original-date")},
        },
        "additionalProperties": False,
    },
}  # fmt: skip


@pytest.mark.parametrize("capture", [CAPTURE, PUBLISHED], ids=["undated", "dated"])
def test_csl_json_is_valid_against_the_csl_data_schema(capture):
    import jsonschema

    items = json.loads(render(Citation.of(capture, "https://replay.example/archive"), "csl-json"))
    jsonschema.validate(items, CSL_DATA_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):  # the check has teeth
        jsonschema.validate([{**items[0], "archive-location": "x"}], CSL_DATA_SCHEMA)


def test_bluebook_gives_the_page_s_own_date_and_the_capture_time_after():
    cited = Citation.of(PUBLISHED, "https://replay.example/archive")
    assert render(cited, "bluebook") == (
        "Defending Human Rights in the Era of Dystopia & 100% #China, NCHRD (Feb. 11, 2020),"
        f" https://www.nchrd.org/2020/02/defenders-2019/ [{REPLAY}]"
        f" (archived Feb. 12, 2020, 6:00 AM UTC; capture K7QD-3XMA, SHA-256 {SHA})."
    )
    month_only = Capture(**{**PUBLISHED.to_json(), "published": "2019-09"})
    assert " (Sept. 2019), " in render(Citation.of(month_only), "bluebook")


GONE = Capture(
    **{**CAPTURE.to_json(), "url": "http://127.0.0.1:8000/missing", "title": None,
       "http_status": 404, "site_name": None}
)  # fmt: skip


def test_a_404_is_cited_as_what_it_is():
    cited = Citation.of(GONE, archive="A")
    assert cited.captured_as == "HTTP 404"
    assert render(cited, "apa") == (
        "[Captured as HTTP 404]. (n.d.). 127.0.0.1. Retrieved February 12, 2020, from"
        f" http://127.0.0.1:8000/missing. Archived 2020-02-12 06:00:00.123 UTC in A {EVIDENCE}."
    )
    assert render(cited, "bluebook").startswith(
        "[Captured as HTTP 404], 127.0.0.1 (Feb. 12, 2020, 6:00 AM UTC),"
    )
    assert render(cited, "chicago").startswith("Captured as HTTP 404. 127.0.0.1. Archived")
    assert "\n  Captured as HTTP 404.\n" in render(cited, "text")
    titled = Citation.of(Capture(**{**GONE.to_json(), "title": "Not Found"}), archive="A")
    assert render(titled, "apa").startswith("Not Found [Captured as HTTP 404]. (n.d.). 127.0.0.1.")
    assert render(titled, "chicago").startswith("“Not Found” (captured as HTTP 404). 127.0.0.1.")
    import bibtexparser

    [entry] = bibtexparser.parse_string(render(titled, "bibtex")).entries
    assert {f.key: f.value for f in entry.fields}["titleaddon"] == "captured as HTTP 404"
    [item] = json.loads(render(titled, "csl-json"))
    assert item["genre"] == "Captured as HTTP 404"
    assert "N1  - Archived 2020-02-12T06:00:00.123Z; captured as HTTP 404; capture" in render(
        titled, "ris"
    )
    assert cited.to_json()["captured_as"] == "HTTP 404"


@pytest.mark.parametrize(
    ("changes", "observation", "expected"),
    [
        ({"http_status": 200}, "removed", "a removal notice"),
        ({"http_status": 410}, "gone", "HTTP 410"),
        ({"http_status": 451}, "blocked", "HTTP 451"),
        ({"http_status": 302}, "soft404", "HTTP 302"),
        ({"http_status": 200, "quality": "suspect",
          "quality_reason": "login wall: weibo.com page shows '微博登录'"}, None, "a login wall"),
        ({"http_status": 200, "quality": "suspect",
          "quality_reason": "unavailable placeholder: 'this post is unavailable'"}, None,
         "an unavailable placeholder"),
        ({"http_status": None, "state": "failed", "error": "dns: no such host",
          "payload_digest": None}, None, "a failed fetch (dns: no such host)"),
        ({"http_status": 200}, "changed", None),
        ({"http_status": 304}, "unchanged", None),
    ],
)  # fmt: skip
def test_what_a_capture_shows_is_named(changes, observation, expected):
    capture = Capture(**{**CAPTURE.to_json(), **changes})
    cited = Citation.of(capture, "https://replay.example/archive", observation=observation)
    assert cited.captured_as == expected
    if expected:
        assert f"[Captured as {expected}]. (n.d.)." in render(cited, "apa")
    if capture.state == "failed":
        assert cited.replay_url is None  # a failed fetch has no memento to replay


IDN = Capture(
    **{**CAPTURE.to_json(), "title": "新闻", "site_name": None,
       "url": "https://xn--fiqs8s.example/%E6%96%B0%E9%97%BB/1?q=%E5%A4%A7&p=%2F%20"}
)  # fmt: skip
IRI = "https://中国.example/新闻/1?q=大&p=%2F%20"


def test_text_citations_show_iris_and_structured_formats_keep_the_uri():
    import bibtexparser

    cited = Citation.of(IDN, "https://replay.example/archive", archive="A")
    for fmt in ("text", "apa", "chicago", "bluebook"):
        shown = render(cited, fmt)
        assert IRI in shown and "xn--" not in shown.replace(cited.replay_url or "", ""), fmt
    assert cited.site == "中国.example"
    [entry] = bibtexparser.parse_string(render(cited, "bibtex")).entries
    assert {f.key: f.value for f in entry.fields}["url"] == IDN.url
    assert json.loads(render(cited, "csl-json"))[0]["URL"] == IDN.url
    assert f"UR  - {IDN.url}" in render(cited, "ris")
    assert f'data-originalurl="{html.escape(IDN.url)}"' in render(cited, "robust-link")
    assert cited.replay_url.endswith("/" + IDN.url) and cited.to_json()["url"] == IDN.url


@pytest.mark.parametrize("capture", [GONE, IDN, LOCAL], ids=["404", "idn", "no-replay"])
def test_every_variant_is_valid_csl_data(capture):
    import jsonschema

    jsonschema.validate(json.loads(render(Citation.of(capture), "csl-json")), CSL_DATA_SCHEMA)
