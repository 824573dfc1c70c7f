"""The S3 store (and S3-compatible services: MinIO, Ceph, Wasabi), through boto3.

Every upload carries a SHA-256 checksum, so the service rejects corrupted bytes, and
our whole-file SHA-256 as object metadata. After an upload the object is checked
(size, our SHA-256, the service's SHA-256 checksum, whole or composite of the parts)
before the caller may record it as stored. Reads are ranged GETs. boto3 is imported
only when an S3 store is used; endpoint, region and credentials come from boto3's
standard chain (``AWS_ENDPOINT_URL``, ``AWS_PROFILE``, the environment, instance
roles) unless given explicitly (the crawl passes Scrapy's ``AWS_*`` settings).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from archiver.errors import IntegrityError, StorageError
from archiver.storage.base import CHUNK, ObjectInfo, StoredObject, whole_range

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


@dataclass(frozen=True)
class S3Options:
    """How to reach the service and how to upload; all optional."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    session_token: str | None = None
    multipart_threshold: int = 16 * 1024 * 1024
    part_size: int = 8 * 1024 * 1024
    concurrency: int = 8  # parts in flight for one file
    lock_mode: str | None = None  # GOVERNANCE or COMPLIANCE
    lock_days: int = 0
    legal_hold: bool = False

    def __repr__(self) -> str:  # never show credentials
        return f"S3Options(endpoint_url={self.endpoint_url!r}, region={self.region!r}, ...)"


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def expected_checksums(path: Path, part_size: int, multipart: bool) -> tuple[str, str]:
    """Our whole-file SHA-256 (hex) and the checksum S3 reports: base64 SHA-256 of the
    object, or for a multipart upload the SHA-256 of the parts' SHA-256 digests."""
    whole = hashlib.sha256()
    parts: list[bytes] = []
    part = hashlib.sha256()
    in_part = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            whole.update(chunk)
            view = memoryview(chunk)
            while view:
                take = min(len(view), part_size - in_part)
                part.update(view[:take])
                in_part += take
                view = view[take:]
                if in_part == part_size:
                    parts.append(part.digest())
                    part, in_part = hashlib.sha256(), 0
    if in_part or not parts:
        parts.append(part.digest())
    if not multipart:
        return whole.hexdigest(), _b64(whole.digest())
    composite = _b64(hashlib.sha256(b"".join(parts)).digest())
    return whole.hexdigest(), f"{composite}-{len(parts)}"


class S3Store:
    def __init__(self, bucket: str, prefix: str = "", options: S3Options | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.options = options or S3Options()
        self.uri = f"s3://{bucket}/{self.prefix}"

    # -- the client ----------------------------------------------------------------------

    @cached_property
    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        o = self.options
        session = boto3.session.Session(
            aws_access_key_id=o.access_key or None,
            aws_secret_access_key=o.secret_key or None,
            aws_session_token=o.session_token or None,
            region_name=o.region or None,
        )
        config = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return session.client("s3", endpoint_url=o.endpoint_url or None, config=config)

    def _key(self, key: str) -> str:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise StorageError(f"unsafe storage key {key!r}")
        return self.prefix + key

    def uri_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _error(self, exc: BaseException, doing: str) -> StorageError:
        return StorageError(f"{doing} {self.uri}: {describe_s3_error(exc, self.options)}")

    # -- the protocol --------------------------------------------------------------------

    def put(self, local_path: Path, key: str, *, sha256: str) -> StoredObject:
        """Upload (or find already uploaded) and verify; never deletes ``local_path``."""
        from boto3.s3.transfer import TransferConfig
        from s3transfer.utils import ChunksizeAdjuster

        size = local_path.stat().st_size
        multipart = size >= self.options.multipart_threshold
        part_size = ChunksizeAdjuster().adjust_chunksize(self.options.part_size, size)
        ours, service = expected_checksums(local_path, part_size, multipart)
        existing = self.stat(key)
        if existing is not None:
            # The same key again (a crash between upload and catalog update): done only if
            # the object's bytes are this file's, checked, not just claimed by metadata.
            if existing.size == size and self._same_bytes(key, local_path, sha256, part_size):
                return self._stored(key, existing)
            raise StorageError(f"{self.uri_for(key)} already exists with other content")
        if ours != sha256:
            raise IntegrityError(
                f"the spool file {local_path} does not match its SHA-256 (expected {sha256},"
                f" found {ours}); it was left where it is"
            )
        extra: dict[str, Any] = {
            "ChecksumAlgorithm": "SHA256",
            "Metadata": {"sha256": sha256},
            "ContentType": "application/warc",
        }
        extra.update(self._lock_args())
        config = TransferConfig(
            multipart_threshold=self.options.multipart_threshold,
            multipart_chunksize=part_size,
            max_concurrency=self.options.concurrency,
        )
        try:
            self.client.upload_file(
                str(local_path), self.bucket, self._key(key), ExtraArgs=extra, Config=config
            )
            head = self.client.head_object(
                Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED"
            )
        except Exception as exc:
            raise self._error(exc, f"cannot upload {local_path.name} to") from exc
        reported = head.get("ChecksumSHA256") or ""
        checks = {
            "size": head.get("ContentLength") == size,
            "sha256 metadata": head.get("Metadata", {}).get("sha256") == sha256,
            # Real S3 writes a composite as "digest-N"; some services leave the suffix off.
            "service checksum": reported.split("-")[0] == service.split("-")[0],
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise IntegrityError(
                f"{self.uri_for(key)} failed verification after upload ({', '.join(failed)});"
                f" the local copy {local_path} is kept"
            )
        return StoredObject(
            key=key,
            uri=self.uri_for(key),
            size=size,
            sha256=sha256,
            version_id=head.get("VersionId"),
            etag=(head.get("ETag") or "").strip('"') or None,
        )

    def _same_bytes(self, key: str, local_path: Path, sha256: str, part_size: int) -> bool:
        """Does the object hold exactly the local file? By the service's checksum when it
        has one (whole or composite), else by reading the object and hashing it."""
        try:
            head = self.client.head_object(
                Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED"
            )
            reported = (head.get("ChecksumSHA256") or "").split("-")[0]
            if reported:
                forms = {
                    expected_checksums(local_path, part_size, multipart)[1].split("-")[0]
                    for multipart in (False, True)
                }
                return reported in forms
            digest = hashlib.sha256()
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            while chunk := body.read(CHUNK):
                digest.update(chunk)
            return digest.hexdigest() == sha256
        except Exception as exc:
            raise self._error(exc, f"cannot check {key} in") from exc

    def _stored(self, key: str, info: ObjectInfo) -> StoredObject:
        return StoredObject(
            key=key,
            uri=self.uri_for(key),
            size=info.size,
            sha256=info.sha256 or "",
            version_id=info.version_id,
            etag=info.etag,
        )

    def _lock_args(self) -> dict[str, Any]:
        o = self.options
        args: dict[str, Any] = {}
        if o.lock_mode:
            args["ObjectLockMode"] = o.lock_mode
            until = datetime.now(UTC) + timedelta(days=o.lock_days)
            args["ObjectLockRetainUntilDate"] = until
        if o.legal_hold:
            args["ObjectLockLegalHoldStatus"] = "ON"
        return args

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            response = self.client.get_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Range=f"bytes={offset}-{offset + length - 1}",
            )
            data = response["Body"].read()
        except Exception as exc:
            raise self._error(exc, f"cannot read {key} from") from exc
        return whole_range(data, self.uri_for(key), offset, length)

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error(exc, f"cannot look up {key} in") from exc
        return ObjectInfo(
            key=key,
            size=head.get("ContentLength", 0),
            sha256=head.get("Metadata", {}).get("sha256"),
            version_id=head.get("VersionId"),
            etag=(head.get("ETag") or "").strip('"') or None,
        )

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    yield ObjectInfo(key=key, size=item["Size"], etag=item.get("ETag"))
        except Exception as exc:
            raise self._error(exc, "cannot list") from exc

    def check(self) -> None:
        """Access, write permission and, when asked for, Object Lock on the bucket."""
        for line in self.report():
            if line.startswith("problem:"):
                raise StorageError(line.removeprefix("problem: "))

    def report(self) -> list[str]:
        """One line per check, ``ok: ...`` or ``problem: ...``, for ``archiver store check``."""
        lines = []
        try:
            self.client.head_bucket(Bucket=self.bucket)
            lines.append(f"ok: bucket {self.bucket} is reachable")
        except Exception as exc:
            return [f"problem: {self._error(exc, 'cannot reach')}"]
        lock = None
        try:
            config = self.client.get_object_lock_configuration(Bucket=self.bucket)
            lock = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        except Exception as exc:
            if _code(exc) != "ObjectLockConfigurationNotFoundError":
                lines.append(f"problem: {self._error(exc, 'cannot read Object Lock of')}")
        if lock == "Enabled":
            lines.append(f"ok: Object Lock is enabled on {self.bucket}")
        elif self.options.lock_mode or self.options.legal_hold:
            lines.append(
                f"problem: bucket {self.bucket} has no Object Lock, but retention or legal hold"
                " is asked for: use a bucket created with Object Lock enabled, or unset"
                " ARCHIVER_S3_OBJECT_LOCK_MODE / ARCHIVER_S3_LEGAL_HOLD"
            )
        else:
            lines.append(f"ok: Object Lock is not enabled on {self.bucket} (not asked for)")
        probe = self.prefix + ".archiver-write-test"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
            lines.append(f"ok: can write to {self.uri}")
            if lock != "Enabled":
                self.client.delete_object(Bucket=self.bucket, Key=probe)
        except Exception as exc:
            lines.append(f"problem: {self._error(exc, 'cannot write to')}")
        return lines


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def describe_s3_error(exc: BaseException, options: S3Options) -> str:
    """One line naming the problem and the fix; never the credentials."""
    name = type(exc).__name__
    code = _code(exc)
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        where = options.endpoint_url or "the S3 endpoint"
        return f"cannot connect to {where}: check AWS_ENDPOINT_URL and the network"
    if code in ("NoSuchBucket",) or (code == "404" and "Bucket" in str(exc)):
        return "no such bucket: create it, or fix the bucket name in the store URI"
    if code in ("AccessDenied", "403", "AllAccessDisabled"):
        return "access denied: the credentials may not use this bucket"
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return f"the service refused the credentials ({code}): check AWS_ACCESS_KEY_ID/SECRET"
    if code:
        return f"{code}: {getattr(exc, 'response', {}).get('Error', {}).get('Message', '')}"
    return f"{name}: {exc}"
