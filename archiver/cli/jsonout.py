"""Machine output: one JSON vocabulary for every ``--json``.

The same thing has the same key in every command: ``capture_id``, ``captured_at`` (UTC,
milliseconds, as the catalog holds it), ``payload_digest`` (``sha256:`` + hex), ``url``,
``seed_id``, ``job``; a record's own id is ``<kind>_id`` (``event_id``, ``worker_id``,
``schedule_id``). A WARC file's own digest is ``warc_sha256``. ``id``, which earlier
versions gave, is still there as a deprecated copy of the record's ``*_id`` key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import click

from archiver.catalog.captures import Capture

CAPTURE_KEYS = (
    "capture_id", "url", "final_url", "captured_at", "state", "http_status", "mime", "size",
    "title", "payload_digest", "record_digest", "record_id", "warc_file", "offset", "length",
    "storage_uri", "seed_id", "job", "kind", "hops", "hop_path", "via", "truncated", "error",
    "site_name", "published", "record_type", "revisit_of", "quality", "quality_reason",
    "profile", "resources", "tls", "vantage",
)  # fmt: skip


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def with_legacy_id(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``data`` with ``id``, the deprecated name of its ``key`` (``capture_id``, ...)."""
    return {**data, "id": data[key]}


def capture_json(capture: Capture) -> dict[str, Any]:
    data = capture.to_json()
    data["capture_id"] = capture.id
    data["offset"] = capture.warc_offset
    data["length"] = capture.warc_length
    data["resources"] = [asdict(resource) for resource in capture.resources]
    data["tls"] = asdict(capture.tls) if capture.tls else None
    data["vantage"] = capture.vantage_point
    return with_legacy_id({key: data.get(key) for key in CAPTURE_KEYS}, "capture_id")
