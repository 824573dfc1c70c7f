"""The evidence manifest's text: one line per stored WARC file, tab-separated.

A stranger reads it without archiver: a header line names the job, the manifest's
number and the fields; each line after it holds a file's SHA-256, size in bytes, name,
storage URI, the store's version id (``-`` where the store keeps none) and the earliest
and latest ``WARC-Date`` of its records. The SHA-256 of the whole text (UTF-8, ``\\n``
line ends) is what the timestamp authorities stamp.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = (
    "sha256",
    "size",
    "name",
    "storage_uri",
    "version_id",
    "first_warc_date",
    "last_warc_date",
)
VERSION = "archiver-evidence-manifest/1"


def manifest_line(
    *, sha256: str, size: int, name: str, storage_uri: str, version_id: str | None,
    first_date: str | None, last_date: str | None,
) -> str:  # fmt: skip
    values = (sha256, str(size), name, storage_uri, version_id or "-", first_date or "-",
              last_date or "-")  # fmt: skip
    for value in values:
        if "\t" in value or "\n" in value:
            raise ValueError(f"a manifest field cannot hold tabs or line ends: {value!r}")
    return "\t".join(values)


def manifest_body(job: str, number: int, lines: list[str]) -> str:
    header = f"# {VERSION} job={job} number={number} fields={','.join(FIELDS)}"
    return "\n".join([header, *lines]) + "\n"


@dataclass(frozen=True)
class ManifestLine:
    sha256: str
    size: int
    name: str
    storage_uri: str
    version_id: str | None
    first_date: str | None
    last_date: str | None


def parse_line(line: str) -> ManifestLine:
    parts = line.split("\t")
    if len(parts) != len(FIELDS):
        raise ValueError(f"a manifest line has {len(FIELDS)} tab-separated fields: {line!r}")
    sha256, size, name, uri, version, first, last = parts
    return ManifestLine(
        sha256, int(size), name, uri, None if version == "-" else version,
        None if first == "-" else first, None if last == "-" else last,
    )  # fmt: skip


def lines_of(body: str) -> list[str]:
    return [line for line in body.splitlines() if line and not line.startswith("#")]
