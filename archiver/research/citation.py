"""Citing a capture: what it is, when it was taken, how to verify it, where it lives.

Every format carries the URL, the title when one was captured, the site, the capture
time, the capture id, the SHA-256 of the content as served, and where a reader finds
the archived copy: a replay URL when a replay base is configured, else the archive's
name beside the capture id (never a ``file://`` path). A capture of an error page, a
removal notice or a wall says so ("captured as HTTP 404"). A capture made over TLS
says who served it (archiver/research/servedby.py): a sentence in the text styles, a
note in BibTeX, CSL-JSON and RIS. A capture fetched through a vantage point (a proxy)
says so, "captured via hk-1 (HK)", in the same places. Text meant for readers shows
URLs as IRIs (Unicode host names and paths); structured formats keep the URI.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from archiver import SOFTWARE
from archiver.catalog.captures import Capture
from archiver.catalog.capturetls import TlsRow
from archiver.research.replay import replay_url
from archiver.research.servedby import tls_statement
from archiver.urls import display_host, display_iri

FORMATS = ("text", "apa", "chicago", "bluebook", "bibtex", "csl-json", "ris", "robust-link")
_BLUEBOOK_MONTHS = (
    "Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.",
)  # fmt: skip


@dataclass(frozen=True)
class Citation:
    capture_id: str
    url: str
    title: str | None
    site: str
    captured_at: datetime
    captured_at_text: str  # the catalog's exact value, milliseconds included
    sha256: str
    storage_uri: str
    replay_url: str | None
    warc_file: str | None
    offset: int | None
    length: int | None
    record_digest: str | None
    job: str
    state: str
    note: str | None
    published: str | None = None  # ISO 8601, as the page stated it
    archive: str = "archiver"  # the archive's name, cited where there is no replay URL
    captured_as: str | None = None  # "HTTP 404", "a removal notice": not the page itself
    tls: TlsRow | None = None  # the TLS connection it came over, and the server's certificate
    served_by: str | None = None  # that, as a sentence (no capital, no final stop)
    stamped: str | None = None  # its earliest trusted timestamp, as a sentence
    profile: str | None = None  # the login profile it was captured as (signed in)
    vantage: dict[str, object] | None = None  # the vantage point: name, country, kind

    @classmethod
    def of(
        cls,
        capture: Capture,
        replay_base: str | None = None,
        *,
        archive: str = "archiver",
        observation: str | None = None,
        stamped: str | None = None,
    ) -> Citation:
        """``observation`` is what watching the seed made of this capture (``removed``,
        ``gone``, ...; see archiver/watch/classify.py), when it was a seed page."""
        moment = datetime.strptime(capture.captured_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        replay = None
        if replay_base and capture.state != "failed":  # a failed fetch has no memento
            replay = replay_url(replay_base.rstrip("/"), f"{moment:%Y%m%d%H%M%S}", capture.url)
        host = display_host(urlsplit(capture.url).hostname or "")
        note = None
        if capture.state == "truncated":
            note = f"this capture is truncated ({capture.truncated})"
        return cls(
            capture_id=capture.id,
            url=capture.url,
            title=capture.title,
            site=capture.site_name or host.removeprefix("www."),
            captured_at=moment,
            captured_at_text=capture.captured_at,
            sha256=(capture.payload_digest or "").removeprefix("sha256:"),
            storage_uri=capture.storage_uri or capture.spool_path or "",
            replay_url=replay,
            warc_file=capture.warc_file,
            offset=capture.warc_offset,
            length=capture.warc_length,
            record_digest=capture.record_digest,
            job=capture.job,
            state=capture.state,
            note=note,
            published=capture.published,
            archive=archive,
            captured_as=captured_as(capture, observation),
            tls=capture.tls,
            served_by=tls_statement(capture),
            stamped=stamped,
            profile=capture.profile,
            vantage=capture.vantage_point,
        )

    @property
    def iri(self) -> str:
        """The URL as readers read it (Unicode host and path)."""
        return display_iri(self.url)

    @property
    def archived_copy(self) -> str:
        """Where a reader finds the archived copy: its replay URL, else the archive."""
        return self.replay_url or self.archive

    @property
    def when(self) -> str:
        return self.captured_at_text.replace("T", " ").replace("Z", " UTC")

    @property
    def long_date(self) -> str:
        return f"{self.captured_at:%B} {self.captured_at.day}, {self.captured_at.year}"

    @property
    def issued_parts(self) -> list[int] | None:
        """The publication date as [year, month, day] (as many as the page gave), in the
        page's own time zone: the date its readers saw."""
        if not self.published:
            return None
        return [int(part) for part in self.published[:10].split("-")]

    @property
    def issued_long(self) -> str | None:
        parts = self.issued_parts
        if not parts:
            return None
        if len(parts) == 1:
            return str(parts[0])
        month = datetime(2000, parts[1], 1).strftime("%B")
        return f"{month} {parts[2]}, {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"

    @property
    def issued_apa(self) -> str:
        parts = self.issued_parts
        if not parts:
            return "n.d."
        if len(parts) == 1:
            return str(parts[0])
        month = datetime(2000, parts[1], 1).strftime("%B")
        return f"{parts[0]}, {month}" + (f" {parts[2]}" if len(parts) == 3 else "")

    @property
    def signed_in(self) -> str | None:
        """As whom the page was seen, when the crawl was signed in (a login profile)."""
        return f"signed in as {self.profile}" if self.profile else None

    @property
    def captured_via(self) -> str | None:
        """``captured via hk-1 (HK)``: where it was seen from, when not directly."""
        if self.vantage is None:
            return None
        country = f" ({self.vantage['country']})" if self.vantage.get("country") else ""
        return f"captured via {self.vantage['name']}{country}"

    @property
    def served_sentence(self) -> str:
        """Where it was seen from and as whom, who served it and when a trusted authority
        saw it, as sentences of their own (empty when none is known)."""
        return "".join(f" {part[0].upper()}{part[1:]}." for part in self._statements)

    @property
    def served_note(self) -> str:
        """The same, as the end of a note."""
        return "".join(f"; {part}" for part in self._statements)

    @property
    def _statements(self) -> list[str]:
        parts = (self.captured_via, self.signed_in, self.served_by, self.stamped)
        return [part for part in parts if part]

    @property
    def evidence(self) -> str:
        if not self.sha256:
            return f"capture {self.capture_id}"
        return f"capture {self.capture_id}, SHA-256 {self.sha256}"

    def to_json(self) -> dict[str, object]:
        return {
            "capture_id": self.capture_id,
            "url": self.url,
            "title": self.title,
            "site": self.site,
            "published": self.published,
            "captured_at": self.captured_at_text,
            "captured_as": self.captured_as,
            "payload_digest": f"sha256:{self.sha256}" if self.sha256 else None,
            "archive": self.archive,
            "replay_url": self.replay_url,
            "storage_uri": self.storage_uri,
            "warc_file": self.warc_file,
            "offset": self.offset,
            "length": self.length,
            "record_digest": self.record_digest,
            "job": self.job,
            "software": SOFTWARE,
            "served_by": self.served_by,
            "timestamp": self.stamped,
            "profile": self.profile,
            "tls": asdict(self.tls) if self.tls else None,
            "vantage": self.vantage,
        }


def captured_as(capture: Capture, observation: str | None = None) -> str | None:
    """What a capture shows when it is not the page itself: a failed fetch, a removal
    notice, an HTTP error or redirect, or a browser render found to be a wall."""
    if capture.state == "failed":
        return f"a failed fetch ({capture.error})"
    if observation == "removed":
        return "a removal notice"
    status = capture.http_status
    if status is not None and not 200 <= status < 300 and status != 304:
        return f"HTTP {status}"
    if capture.quality == "suspect" and capture.quality_reason:
        kind = capture.quality_reason.split(":", 1)[0]
        return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"
    return None


def render(citation: Citation, fmt: str = "text") -> str:
    return _RENDERERS[fmt](citation)


def _text(c: Citation) -> str:
    title = f"“{c.title}”. " if c.title else ""
    published = f" Published {c.published}." if c.published else ""
    lines = [
        f"{title}{c.iri}.{published} Archived {c.when} in {c.archive}, capture {c.capture_id}"
        f" ({SOFTWARE}, job {c.job}).",
    ]
    if c.captured_as:
        lines.append(f"  Captured as {c.captured_as}.")
    for said in (c.captured_via, c.signed_in):  # in the order the other styles give them
        if said:
            lines.append(f"  {said[0].upper()}{said[1:]}.")
    if c.sha256:
        lines.append(f"  SHA-256 of the content as served: {c.sha256}")
    if c.served_by:
        lines.append(f"  {c.served_by[0].upper()}{c.served_by[1:]}.")
    if c.tls is not None and c.tls.leaf_sha256:
        lines.append(
            f"  Server certificate SHA-256: {c.tls.leaf_sha256.removeprefix('sha256:')}"
            f" (chain in WARC record {c.tls.record_id})"
        )
    if c.warc_file:
        lines.append(
            f"  WARC record: {c.warc_file}, offset {c.offset}, length {c.length};"
            f" record digest {c.record_digest}"
        )
    lines.append(f"  Stored at: {c.storage_uri or '(not stored)'}")
    if c.state != "failed":
        stamp = c.stamped or "no trusted timestamp ('archiver verify ID --proof' explains)"
        lines.append(f"  Trusted timestamp: {stamp}")
    if c.replay_url:
        lines.append(f"  Replay: {c.replay_url}")
    if c.note:
        lines.append(f"  Note: {c.note}.")
    return "\n".join(lines)


def _archived_where(c: Citation) -> str:
    return f"at {c.replay_url}" if c.replay_url else f"in {c.archive}"


def _apa(c: Citation) -> str:
    # APA 7, web page with no known author (n.d. when no date); what a capture shows, when
    # it is not the page, is described in brackets, as APA describes an untitled work.
    described = f"Captured as {c.captured_as}" if c.captured_as else "Untitled page"
    if c.title:
        title = f"{c.title} [{described}]. " if c.captured_as else f"{c.title}. "
    else:
        title = f"[{described}]. "
    return (
        f"{title}({c.issued_apa}). {c.site}. Retrieved {c.long_date}, from {c.iri}."
        f" Archived {c.when} {_archived_where(c)} ({c.evidence}).{c.served_sentence}"
    )


def _chicago(c: Citation) -> str:
    if c.title:
        title = (
            f"“{c.title}” (captured as {c.captured_as}). " if c.captured_as else f"“{c.title}.” "
        )
    else:
        title = f"Captured as {c.captured_as}. " if c.captured_as else ""
    published = f" {c.issued_long}." if c.published else ""
    return (
        f"{title}{c.site}.{published} Archived {c.long_date}, {c.captured_at:%H:%M} UTC. {c.iri}."
        f" Archived copy: {c.archived_copy} ({c.evidence}).{c.served_sentence}"
    )


def _bluebook_day(parts: list[int]) -> str:
    if len(parts) == 1:
        return str(parts[0])
    month = _BLUEBOOK_MONTHS[parts[1] - 1]
    return f"{month} {parts[2]}, {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"


def _bluebook(c: Citation) -> str:
    # Bluebook rule 18.2.2: the page's own date when it states one; otherwise the date and
    # time it was captured. The archived copy in brackets, as for a Perma.cc link.
    moment = c.captured_at
    hour = moment.hour % 12 or 12
    when = (
        f"{_BLUEBOOK_MONTHS[moment.month - 1]} {moment.day}, {moment.year},"
        f" {hour}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'} UTC"
    )
    if c.title:
        title = f"{c.title} (captured as {c.captured_as}), " if c.captured_as else f"{c.title}, "
    else:
        title = f"[Captured as {c.captured_as}], " if c.captured_as else ""
    parts = c.issued_parts
    dated, trailer = (_bluebook_day(parts), f"archived {when}; ") if parts else (when, "")
    return (
        f"{title}{c.site.upper()} ({dated}), {c.iri} [{c.archived_copy}] ({trailer}{c.evidence})."
        f"{c.served_sentence}"
    )


def _bib_escape(text: str) -> str:
    out = text.replace("\\", "/").replace("{", "(").replace("}", ")")
    for char in "%&#_$":
        out = out.replace(char, "\\" + char)
    return out


def _archived_note(c: Citation) -> str:
    if c.replay_url:
        return f"archived copy: {c.replay_url}"
    return f"archived in {c.archive}"


def _bibtex(c: Citation) -> str:
    fields = [
        ("title", _bib_escape(c.title or c.url)),
        ("url", c.url),
        ("urldate", f"{c.captured_at:%Y-%m-%d}"),
        ("organization", _bib_escape(c.site)),
    ]
    if c.captured_as:
        fields.append(("titleaddon", _bib_escape(f"captured as {c.captured_as}")))
    if c.issued_parts:
        fields.append(("date", "-".join(f"{p:02d}" for p in c.issued_parts)))
    note = (
        f"Archived {c.captured_at_text} by {SOFTWARE}, {c.evidence}; {_archived_note(c)}"
        f"{c.served_note}"
    )
    fields.append(("note", _bib_escape(note)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@online{{archiver-{c.capture_id.replace('-', '')},\n{body}\n}}"


def _csl(c: Citation) -> str:
    # archive_location: where in the archive, as a box and folder are in a paper one.
    item: dict[str, object] = {
        "id": c.capture_id,
        "type": "webpage",
        "URL": c.url,
        "container-title": c.site,
        "accessed": {"date-parts": [[c.captured_at.year, c.captured_at.month, c.captured_at.day]]},
        "archive": c.archive,
        "archive_location": c.replay_url or c.capture_id,
        "note": f"Archived {c.captured_at_text}; {c.evidence}{c.served_note}",
    }
    if c.title:
        item["title"] = c.title
    if c.captured_as:
        item["genre"] = f"Captured as {c.captured_as}"
    if c.issued_parts:
        item["issued"] = {"date-parts": [c.issued_parts]}
    return json.dumps([item], ensure_ascii=False, indent=2)


def _ris(c: Citation) -> str:
    shown = f"captured as {c.captured_as}; " if c.captured_as else ""
    copy = f"; archived copy: {c.replay_url}" if c.replay_url else ""
    lines = [
        "TY  - ELEC",
        f"TI  - {c.title or c.url}",
        f"UR  - {c.url}",
        f"PB  - {c.site}",
        *(
            [f"PY  - {c.issued_parts[0]}", f"DA  - {'/'.join(f'{p:02d}' for p in c.issued_parts)}"]
            if c.issued_parts
            else []
        ),
        f"Y2  - {c.captured_at:%Y/%m/%d}/",
        f"DB  - {c.archive}",
        f"AN  - {c.capture_id}",
        f"N1  - Archived {c.captured_at_text}; {shown}{c.evidence}{copy}{c.served_note}",
        "ER  - ",
    ]
    return "\n".join(lines)


def _robust_link(c: Citation) -> str:
    # Robust Links: the original URL, the archived version (recommended; only a URL a
    # reader can open) and its datetime (required).
    text = html.escape(c.title or c.iri)  # what the reader sees; the attributes keep the URI
    version = f' data-versionurl="{html.escape(c.replay_url)}"' if c.replay_url else ""
    return (
        f'<a href="{html.escape(c.url)}" data-originalurl="{html.escape(c.url)}"{version}'
        f' data-versiondate="{c.captured_at:%Y-%m-%dT%H:%M:%SZ}"'
        f' data-capture-id="{c.capture_id}" data-sha256="{c.sha256}">{text}</a>'
    )


_RENDERERS = {
    "text": _text,
    "apa": _apa,
    "chicago": _chicago,
    "bluebook": _bluebook,
    "bibtex": _bibtex,
    "csl-json": _csl,
    "ris": _ris,
    "robust-link": _robust_link,
}


def cite_text(capture: Capture, archive: str = "archiver") -> str:
    """The plain-text citation (kept for callers that want the default)."""
    return render(Citation.of(capture, archive=archive))
