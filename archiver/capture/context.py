"""What a fetch is for, and what a browser made of its page: the context the crawl hands
the recorder with each exchange (its lineage, written in the metadata record and the
catalog) and the evidence of a browser capture (screenshots, DOM, the quality check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.vantage.route import Seen


def lineage_fields(job: str, ctx: FetchContext) -> list[tuple[str, str]]:
    """Who asked for the URL and how it was reached, for its metadata record."""
    fields: list[tuple[str, str]] = [("job", job)]
    if ctx.seed_id is not None:
        fields.append(("seed", str(ctx.seed_id)))
    fields.append(("kind", ctx.kind))
    if ctx.hop_path:  # Heritrix's hop letters; a seed ("") has none, as Heritrix writes it
        fields.append(("hopsFromSeed", ctx.hop_path))
    if ctx.hops is not None:
        fields.append(("linkHops", str(ctx.hops)))
    if ctx.via:
        fields.append(("via", ctx.via))
    if ctx.robots:
        fields.append(("robots", ctx.robots))
    if ctx.profile:  # signed in: whose view of the page this is (never the cookies)
        fields.append(("profile", ctx.profile))
    if ctx.vantage is not None:
        fields += ctx.vantage.warc_fields()
    return fields


@dataclass(frozen=True)
class Resource:
    """Something the crawler made of a page, kept beside its response: a screenshot or
    the rendered DOM (a WARC ``resource`` record, ``WARC-Concurrent-To`` the response)."""

    kind: str  # screenshot, dom
    target_uri: str  # urn:fullPage:URL, urn:dom:URL
    content_type: str
    data: bytes
    made_at: datetime


@dataclass(frozen=True)
class Quality:
    """What a check of the rendered page found: ``ok``, or ``suspect`` and why."""

    quality: str
    reason: str = ""


@dataclass(frozen=True)
class FetchContext:
    """Why a URL was fetched: its lineage for the metadata record and the catalog."""

    seed_id: int | None
    kind: str  # seed, page, requisite, redirect, robots
    hops: int | None = None  # link hops (the depth a scope counts)
    via: str | None = None
    robots: str | None = None
    user_agent: str | None = None
    frontier_url: str | None = None  # the job's frontier entry this fetch completes
    hop_path: str | None = None  # Heritrix's hop letters from the seed: "", "E", "LLE", "R"
    lease: str | None = None  # the lease token it was fetched under (shared frontier)
    profile: str | None = None  # the login profile it was fetched as (archiver/profiles/)
    vantage: Seen | None = None  # the vantage point it was fetched through (None: direct)
