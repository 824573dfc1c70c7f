"""What requests and responses carry between the spider and the crawl session (their
``meta`` keys), and the fetch context a request's meta gives the recorder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver.capture.context import FetchContext, Quality, Resource

META = "archiver"  # request.meta key holding the fetch context (a dict)
HELD = "archiver_exchange"
EVIDENCE = "archiver_evidence"  # response.meta: a browser page's resources and quality
CONFIRMS = "archiver_confirms"  # meta: the pending status a confirmation fetch is for
OBSERVED = "archiver_observed"  # meta: this seed chain was already judged
VANTAGE_SEEN = "archiver_vantage_seen"  # request.meta: what the fetch records of it
VANTAGE = "archiver_vantage"  # request.meta: the vantage point's name (none: direct)


@dataclass(frozen=True)
class PageEvidence:
    """What a browser page adds to its response's records (archiver/browser/)."""

    resources: tuple[Resource, ...]
    quality: Quality
    loaded: tuple[str, ...]  # every URL the page loaded, for the metadata record


def fetch_context(request: Any) -> FetchContext:
    info = request.meta.get(META) or {}
    user_agent = request.headers.get(b"User-Agent")
    kind = info.get("kind") or ("robots" if request.url.endswith("/robots.txt") else "other")
    return FetchContext(
        seed_id=info.get("seed"),
        kind=kind,
        hops=info.get("hops"),
        hop_path=info.get("path"),
        via=info.get("via"),
        robots=info.get("robots"),
        user_agent=user_agent.decode("latin-1") if user_agent else None,
        frontier_url=info.get("url"),
        lease=info.get("lease"),
        profile=info.get("profile"),
        vantage=request.meta.get(VANTAGE_SEEN),
    )
