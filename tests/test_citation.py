"""Citations of a fixed capture, in every format, compared with golden outputs and read
back by independent parsers (bibtexparser, citeproc-py)."""

from __future__ import annotations

import json

import pytest

from archiver.catalog.captures import Capture
from archiver.citation import FORMATS, Citation, render

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


def test_without_a_replay_base_the_storage_uri_is_the_location():
    plain = Citation.of(CAPTURE)
    assert plain.replay_url is None and plain.location == STORE
    assert STORE in render(plain, "apa") and "replay" not in render(plain, "apa")


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
