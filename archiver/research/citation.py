"""Citing a capture: what it is, when it was taken, how to verify it, where it lives.

Every format carries the URL, the title when one was captured, the site, the capture
time, the capture id, the SHA-256 of the content as served, and the archive location:
the storage URI, and a replay URL when a replay base is configured.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from archiver import SOFTWARE
from archiver.catalog.captures import Capture

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

    @classmethod
    def of(cls, capture: Capture, replay_base: str | None = None) -> Citation:
        moment = datetime.strptime(capture.captured_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        replay = None
        if replay_base:
            replay = f"{replay_base.rstrip('/')}/{moment.strftime('%Y%m%d%H%M%S')}/{capture.url}"
        host = (urlsplit(capture.url).hostname or "").removeprefix("www.")
        note = None
        if capture.state != "ok":
            note = f"this capture is {capture.state} ({capture.truncated or capture.error})"
        return cls(
            capture_id=capture.id,
            url=capture.url,
            title=capture.title,
            site=capture.site_name or host,
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
        )

    @property
    def location(self) -> str:
        return self.replay_url or self.storage_uri

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
    def evidence(self) -> str:
        return f"capture {self.capture_id}, SHA-256 {self.sha256}"

    def to_json(self) -> dict[str, object]:
        return {
            "capture_id": self.capture_id,
            "url": self.url,
            "title": self.title,
            "site": self.site,
            "published": self.published,
            "captured_at": self.captured_at_text,
            "sha256": self.sha256,
            "storage_uri": self.storage_uri,
            "replay_url": self.replay_url,
            "warc_file": self.warc_file,
            "offset": self.offset,
            "length": self.length,
            "record_digest": self.record_digest,
            "software": SOFTWARE,
        }


def render(citation: Citation, fmt: str = "text") -> str:
    return _RENDERERS[fmt](citation)


def _text(c: Citation) -> str:
    title = f"“{c.title}”. " if c.title else ""
    published = f" Published {c.published}." if c.published else ""
    lines = [
        f"{title}{c.url}.{published} Archived {c.when}, capture {c.capture_id}"
        f" ({SOFTWARE}, job {c.job}).",
        f"  SHA-256 of the content as served: {c.sha256}",
        f"  WARC record: {c.warc_file}, offset {c.offset}, length {c.length};"
        f" record digest {c.record_digest}",
        f"  Stored at: {c.storage_uri or '(not stored)'}",
    ]
    if c.replay_url:
        lines.append(f"  Replay: {c.replay_url}")
    if c.note:
        lines.append(f"  Note: {c.note}.")
    return "\n".join(lines)


def _apa(c: Citation) -> str:
    # APA 7, web page with no known author (n.d. when no date); the archived copy follows.
    title = f"{c.title}. " if c.title else ""
    return (
        f"{title}({c.issued_apa}). {c.site}. Retrieved {c.long_date}, from {c.url}."
        f" Archived {c.when} at {c.location} ({c.evidence})."
    )


def _chicago(c: Citation) -> str:
    title = f"“{c.title}.” " if c.title else ""
    published = f" {c.issued_long}." if c.published else ""
    return (
        f"{title}{c.site}.{published} Archived {c.long_date}, {c.captured_at:%H:%M} UTC. {c.url}."
        f" Archived copy: {c.location} ({c.evidence})."
    )


def _bluebook(c: Citation) -> str:
    moment = c.captured_at
    hour = moment.hour % 12 or 12
    when = (
        f"{_BLUEBOOK_MONTHS[moment.month - 1]} {moment.day}, {moment.year},"
        f" {hour}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'} UTC"
    )
    title = f"{c.title}, " if c.title else ""
    return f"{title}{c.site.upper()} ({when}), {c.url} [{c.location}] ({c.evidence})."


def _bib_escape(text: str) -> str:
    out = text.replace("\\", "/").replace("{", "(").replace("}", ")")
    for char in "%&#_$":
        out = out.replace(char, "\\" + char)
    return out


def _bibtex(c: Citation) -> str:
    fields = [
        ("title", _bib_escape(c.title or c.url)),
        ("url", c.url),
        ("urldate", f"{c.captured_at:%Y-%m-%d}"),
        ("organization", _bib_escape(c.site)),
    ]
    if c.issued_parts:
        fields.append(("date", "-".join(f"{p:02d}" for p in c.issued_parts)))
    note = f"Archived {c.captured_at_text} by {SOFTWARE}, {c.evidence}; archived copy: {c.location}"
    fields.append(("note", _bib_escape(note)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@online{{archiver-{c.capture_id.replace('-', '')},\n{body}\n}}"


def _csl(c: Citation) -> str:
    item: dict[str, object] = {
        "id": c.capture_id,
        "type": "webpage",
        "URL": c.url,
        "container-title": c.site,
        "accessed": {"date-parts": [[c.captured_at.year, c.captured_at.month, c.captured_at.day]]},
        "archive": SOFTWARE.split("/")[0],
        "archive_location": c.location,
        "note": f"Archived {c.captured_at_text}; {c.evidence}",
    }
    if c.title:
        item["title"] = c.title
    if c.issued_parts:
        item["issued"] = {"date-parts": [c.issued_parts]}
    return json.dumps([item], ensure_ascii=False, indent=2)


def _ris(c: Citation) -> str:
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
        f"DB  - {SOFTWARE.split('/')[0]}",
        f"AN  - {c.capture_id}",
        f"N1  - Archived {c.captured_at_text}; {c.evidence}; archived copy: {c.location}",
        "ER  - ",
    ]
    return "\n".join(lines)


def _robust_link(c: Citation) -> str:
    # Robust Links: the original URL, the archived version and its datetime.
    text = html.escape(c.title or c.url)
    return (
        f'<a href="{html.escape(c.url)}" data-originalurl="{html.escape(c.url)}"'
        f' data-versionurl="{html.escape(c.location)}"'
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


def cite_text(capture: Capture) -> str:
    """The plain-text citation (kept for callers that want the default)."""
    return render(Citation.of(capture))
