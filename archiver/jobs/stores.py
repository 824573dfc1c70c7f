"""Where a job's files live: the store and S3 options its settings snapshot recorded.

Uploads, index building, fixity checks and the researcher commands all ask this, so it
sits apart from each of them (and none of them imports another to learn it).
"""

from __future__ import annotations

from pathlib import Path

from archiver.catalog import Catalog
from archiver.storage.base import Store
from archiver.storage.s3 import S3Options


def job_s3_options(catalog: Catalog, job_name: str) -> S3Options:
    """The S3 endpoint, region and upload options (Object Lock and all) a job's settings
    snapshot recorded; credentials come from boto3's chain, never from the catalog."""
    from archiver.catalog.jobs import get_job
    from archiver.crawl.config import s3_options

    recorded = get_job(catalog, job_name).settings.get("settings", {})
    return s3_options({k: v for k, v in recorded.items() if v is not None})


def job_store(catalog: Catalog, default_root: Path, job_name: str) -> Store:
    """The store a job writes to, with the job's recorded S3 options."""
    from archiver.catalog.jobs import get_job
    from archiver.storage import open_store

    recorded = get_job(catalog, job_name).settings.get("settings", {})
    uri = recorded.get("ARCHIVER_STORE") or default_root
    return open_store(uri, s3=job_s3_options(catalog, job_name))
