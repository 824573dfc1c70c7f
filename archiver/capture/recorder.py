"""Turns finished exchanges into WARC records and catalog rows.

The order is what makes the catalog trustworthy: records are written to the WARC
file first, and only then are the capture rows that point at them committed, once an
fsync has put those bytes on disk (archiver/capture/rowcommits.py: during a crawl the fsync
runs on its own thread while recording goes on). A crash can lose the last rows (their
pages are fetched again on resume), never leave a row pointing at bytes that are not
on disk.

Closed WARC files are handed to the store; the catalog follows each file from
``open`` to ``closed`` to ``stored``. Nothing here imports Scrapy.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from archiver import SOFTWARE
from archiver.capture.context import FetchContext, Quality, Resource, lineage_fields
from archiver.capture.crawllog import CrawlLog
from archiver.capture.exchange import Exchange
from archiver.capture.exchangefacts import fetch_ms, redirect_target, surt_of, was_conditional
from archiver.capture.rowcommits import RowCommits
from archiver.capture.tlsrecords import CertificateRecords
from archiver.catalog import warcfiles
from archiver.catalog.captures import (
    CaptureRow,
    Original,
    ResourceRow,
    last_original,
)
from archiver.catalog.db import Catalog, iso_ms
from archiver.catalog.frontier import FrontierEntry
from archiver.errors import ArchiverError
from archiver.pagefacts import NO_FACTS, PageFacts, normalize_published
from archiver.secrets import redact_cookies, redact_request_head
from archiver.storage.base import Store
from archiver.uploads import PendingFile, record_stored, store_file
from archiver.warc.background import BackgroundWrites, rollover_if_full, write_group
from archiver.warc.records import Body, Record, sha256_label, warc_fields
from archiver.warc.writer import ClosedWarc, OpenedWarc, WarcWriter, WrittenRecord

logger = logging.getLogger(__name__)

IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Failures that were never a fetch (robots.txt rules, requests dropped before sending):
# no metadata record, since nothing was attempted on the network.
NOT_ATTEMPTED = ("robots:", "ignored:")


class CaptureRecorder:
    def __init__(
        self,
        catalog: Catalog,
        writer: WarcWriter,
        store: Store,
        *,
        job_id: int,
        job_name: str,
        commit_every: int = 200,
        commit_seconds: float = 1.0,
        revisits: bool = True,
    ):
        self.catalog = catalog
        self.writer = writer
        self.store = store
        self.job_id = job_id
        self.job_name = job_name
        self.revisits = revisits
        # URLs known to have no earlier capture (a shared frontier checks each leased
        # batch at once): their revisit lookup is skipped. Each is used once.
        self.never_captured: set[str] = set()
        writer.on_open = self.on_warc_opened
        writer.on_close = self.on_warc_closed
        self.rows = RowCommits(catalog, writer, job_id, commit_every, commit_seconds)
        # Set by the crawl session to store files in the background.
        self.store_closed: Callable[[PendingFile], None] | None = None
        # Set by the crawl session: --header-for (name, value) pairs, redacted wherever sent.
        self.given_headers: list[tuple[str, str]] = []
        # Set by the crawl session: login profiles' cookie values by name, redacted too.
        self.profile_cookies: dict[str, set[str]] = {}
        # Set by the crawl session: the job's crawl.log, a line per URL.
        self.crawl_log: CrawlLog | None = None
        self.bytes_written = 0
        self.certificates = CertificateRecords()  # of TLS connections, one per file
        # Set by the crawl session: records written on a thread of their own, each
        # capture's row queued when its records are (archiver/warc/background.py).
        self.background: BackgroundWrites | None = None

    # -- writing ---------------------------------------------------------------------

    def record_exchange(
        self,
        exchange: Exchange,
        ctx: FetchContext,
        *,
        outlinks: Sequence[str] = (),
        facts: PageFacts = NO_FACTS,
        resources: Sequence[Resource] = (),
        quality: Quality | None = None,
    ) -> str:
        """Write request, response and metadata records for one fetch; queue its row.
        Returns the capture state (ok, truncated, or failed when no response came).

        Everything that can fail on odd input is worked out before the first byte is
        written, so records never land in a WARC without their catalog row."""
        if ctx.vantage != exchange.vantage:
            # How the bytes came is the tap's to say (a browser page's document is fetched
            # by a request of its own, through the vantage point or not).
            ctx = replace(ctx, vantage=exchange.vantage)
        if not exchange.has_response:
            exchange.discard()
            self.record_failure(
                exchange.url, ctx, exchange.error or "no response", exchange.started_at
            )
            return "failed"
        rollover_if_full(self.writer, self.background)
        builder = self.writer.builder()
        date = iso_ms(exchange.started_at)
        response_id = builder.id_factory()
        ip = [("WARC-IP-Address", exchange.ip_address)] if exchange.ip_address else []
        # IIPC WARC-Protocol (higher layer first) and WARC-Cipher-Suite extensions.
        protocols = [("WARC-Protocol", exchange.http_protocol())]
        if exchange.tls is not None:
            protocols += exchange.tls.warc_fields()
        payload_digest: str | None = sha256_label(exchange.payload_digest_hex)
        _, status, _ = exchange.status_line()
        original, profile = self._revisit_of(exchange, status, payload_digest)
        if original is not None:
            # WARC 1.1 §6.7: a revisit keeps the response head and refers to the record
            # holding the payload, instead of storing the same bytes again.
            if profile == NOT_MODIFIED:
                payload_digest = None  # a 304 carries no payload to digest
            rec_type, body = "revisit", None
            extra = [
                ("WARC-Profile", profile),
                ("WARC-Refers-To", original.record_id),
                ("WARC-Refers-To-Target-URI", original.url),
                ("WARC-Refers-To-Date", original.captured_at),
                *ip,
                *protocols,
            ]
            if profile == IDENTICAL_PAYLOAD:
                # WARC 1.1 §6.7.2: the payload is left out, so the block is cut, which
                # "WARC-Truncated: length" shall say (Heritrix writes it too).
                extra.append(("WARC-Truncated", "length"))
        else:
            rec_type, body = "response", exchange.body()
            # WARC 1.1 §5.13: the block is shorter than what the server had to send.
            truncated = [("WARC-Truncated", exchange.truncated)] if exchange.truncated else []
            extra = [*ip, *protocols, *truncated]
        response = builder.build(
            rec_type,
            date=date,
            record_id=response_id,
            target_uri=exchange.url,
            content_type="application/http; msgtype=response",
            head=exchange.record_head(),
            body=body,
            payload_digest=payload_digest,
            extra=extra,
        )
        # Credential headers (Authorization, Proxy-Authorization, --header-for ones) and
        # login profiles' cookies keep their names; their values are replaced, and the
        # metadata record says which (archiver/secrets.py).
        request_block, redacted = redact_request_head(
            bytes(exchange.request_bytes), self.given_headers
        )
        request_block, cookies = redact_cookies(request_block, self.profile_cookies)
        if cookies and "Cookie" not in redacted:
            redacted.append("Cookie")
        request = builder.build(
            "request",
            date=date,
            target_uri=exchange.url,
            content_type="application/http; msgtype=request",
            head=request_block,
            extra=[("WARC-Concurrent-To", response_id), *ip, *protocols],
        )
        certificates, tls_record_id = self.certificates.for_exchange(
            exchange,
            builder,
            date=date,
            response_id=response_id,
            extra=[*ip, *protocols],
            current_file=self.writer.current_filename,
        )
        metadata = builder.build(
            "metadata",
            date=date,
            target_uri=exchange.url,
            content_type="application/warc-fields",
            head=warc_fields(
                self._metadata_fields(
                    exchange, ctx, outlinks, redacted, original, quality, tls_record_id, cookies
                )
            ),
            extra=[("WARC-Concurrent-To", response_id)],
        )
        made = [
            builder.build(
                "resource",
                date=iso_ms(resource.made_at),
                target_uri=resource.target_uri,
                content_type=resource.content_type,
                body=Body(io.BytesIO(resource.data), len(resource.data)),
                payload_digest=sha256_label(hashlib.sha256(resource.data).hexdigest()),
                extra=[("WARC-Concurrent-To", response_id)],
            )
            for resource in resources
        ]
        state = "truncated" if exchange.truncated else "ok"
        content_type = exchange.header("Content-Type") or ""
        row = dict(
            **self._lineage(exchange.url, ctx),
            final_url=redirect_target(exchange, status) or exchange.url,
            captured_at=date,
            state=state,
            truncated=exchange.truncated,
            error=exchange.error,
            http_status=status,
            mime=content_type.split(";", 1)[0].strip().lower() or None,
            size=exchange.body_length,
            title=facts.title,
            site_name=facts.site_name,
            published=normalize_published(facts.published, not_after=exchange.started_at),
            payload_digest=payload_digest,
            record_digest=response.field("WARC-Block-Digest"),
            record_id=response_id,
            ip_address=exchange.ip_address,
            record_type="revisit" if original else "response",
            revisit_of=original.capture_id if original else None,
            etag=exchange.header("ETag"),
            last_modified=exchange.header("Last-Modified"),
            quality=quality.quality if quality else None,
            quality_reason=(quality.reason or None) if quality else None,
        )
        # The page's links and its row are committed together (README: "a page with all
        # its links queued, or neither"), however long the write takes.
        found = self.rows.take_found() if self.background is not None else None

        def recorded(written: list[WrittenRecord]) -> None:
            if found is not None:
                self.rows.put_back_found(found)
            self._recorded(exchange, ctx, row, written, made, resources, len(certificates))

        def unwritten(error: BaseException) -> None:
            exchange.discard()
            if found is not None:
                self.rows.put_back_found(found)
            raise error

        # A connection's certificate record is written at once: the next exchange on the
        # connection looks up where it is.
        group = [request, response, metadata, *certificates, *made]
        write_group(self.writer, self.background, group, recorded, unwritten,
                    now=bool(certificates))  # fmt: skip
        return state

    def _recorded(
        self,
        exchange: Exchange,
        ctx: FetchContext,
        row: dict[str, object],
        written: list[WrittenRecord],
        made: Sequence[Record],
        resources: Sequence[Resource],
        certificates: int,
    ) -> None:
        """A capture's records are written: its row is queued, with where they are."""
        exchange.discard()
        req_w, resp_w, meta_w = written[:3]
        if certificates and exchange.tls is not None:
            self.certificates.written(exchange.tls, written[3])
        tls_row = self.certificates.row(exchange.tls)
        written = written[:3] + written[3 + certificates :]
        self.bytes_written += sum(w.length for w in written)
        made_rows = [
            ResourceRow(
                kind=resource.kind,
                target_uri=resource.target_uri,
                record_id=record.record_id,
                content_type=resource.content_type,
                size=len(resource.data),
                payload_digest=record.field("WARC-Payload-Digest") or "",
                record_digest=record.field("WARC-Block-Digest") or "",
                warc_file=where.filename,
                warc_offset=where.offset,
                warc_length=where.length,
            )
            for resource, record, where in zip(resources, made, written[3:], strict=True)
        ]
        capture = CaptureRow(
            **row,  # type: ignore[arg-type]
            warc_file=resp_w.filename,
            warc_offset=resp_w.offset,
            warc_length=resp_w.length,
            request_offset=req_w.offset,
            request_length=req_w.length,
            metadata_offset=meta_w.offset,
            metadata_length=meta_w.length,
        )
        self.rows.queue(capture, ctx.frontier_url, made_rows, lease=ctx.lease, tls=tls_row)
        if self.crawl_log is not None:
            self.crawl_log.write(capture, fetch_ms(exchange))

    def _metadata_fields(
        self,
        exchange: Exchange,
        ctx: FetchContext,
        outlinks: Sequence[str],
        redacted: Sequence[str] = (),
        original: Original | None = None,
        quality: Quality | None = None,
        tls_record_id: str | None = None,
        cookies: Sequence[str] = (),
    ) -> list[tuple[str, str]]:
        fields = lineage_fields(self.job_name, ctx)
        took = fetch_ms(exchange)
        if took is not None:
            fields.append(("fetchTimeMs", str(took)))
        if exchange.error:
            fields.append(("fetchError", exchange.error))
        # What the response record cannot hold: interim 1xx responses before it (each
        # status line, then its header lines) and the trailer fields after a chunked body.
        for head in exchange.interim:
            status, *lines = head.decode("latin-1").splitlines()
            fields.append(("interimResponse", status))
            fields += [("interimHeader", line) for line in lines if line.strip()]
        fields += [("trailer", line.decode("latin-1")) for line in exchange.trailers]
        if redacted:
            fields.append(("redactedRequestHeaders", ", ".join(redacted)))
        if cookies:  # a login profile's cookies, by name (archiver/crawl/profilecookies.py)
            fields.append(("redactedCookies", ", ".join(cookies)))
        if tls_record_id is not None:  # the record of the connection's certificate chain
            fields.append(("tlsCertificates", tls_record_id))
        if quality is not None:
            fields.append(("capturedWith", "browser"))
            fields.append(("quality", quality.quality))
            if quality.reason:
                fields.append(("qualityReason", quality.reason))
        if original is not None:
            fields.append(("revisitOf", original.record_id))
            if quality is None:  # its outlinks are in the original's metadata record
                return fields
            # A browser page's shell is often the same while what it loads is not.
        return fields + [("outlink", link) for link in outlinks]

    def _revisit_of(
        self, exchange: Exchange, status: int | None, payload_digest: str | None
    ) -> tuple[Original | None, str]:
        """The capture this response may refer to instead of storing its payload again:
        the same payload as the last full capture of the URL, or a 304 to our
        conditional request. None when the payload must be written."""
        if exchange.truncated or status is None or not self.revisits:
            return None, ""
        if status == 304:
            if not was_conditional(exchange.request_bytes):
                return None, ""  # a 304 we did not ask for: kept as the response it is
            original = last_original(self.catalog.conn, exchange.url)
            return original, NOT_MODIFIED
        if not 200 <= status < 300 or exchange.body_length == 0:
            return None, ""
        if exchange.url in self.never_captured:
            self.never_captured.discard(exchange.url)
            return None, ""
        original = last_original(self.catalog.conn, exchange.url)
        if original is not None and original.payload_digest == payload_digest:
            return original, IDENTICAL_PAYLOAD
        return None, ""

    def record_failure(self, url: str, ctx: FetchContext, error: str, at: datetime) -> None:
        """A fetch with no response (DNS, refused, TLS, timeout): a metadata record in the
        WARC shows the attempt (target URI, time, error, lineage), and a ``failed`` row
        keeps it in the catalog. The row does not point at that record: there is no
        response to retrieve, cite or replay."""
        if not error.startswith(NOT_ATTEMPTED):
            self._write_attempt(url, ctx, error, at)
        capture = CaptureRow(
            **self._lineage(url, ctx),  # type: ignore[arg-type]
            final_url=None,
            captured_at=iso_ms(at),
            state="failed",
            error=error,
        )
        self.rows.queue(capture, ctx.frontier_url, lease=ctx.lease)
        if self.crawl_log is not None:
            self.crawl_log.write(capture)

    def _lineage(self, url: str, ctx: FetchContext) -> dict[str, object]:
        """The row fields that say what was fetched, for whom and how: the same for a
        response, a revisit and a failed attempt."""
        return dict(
            url=url,
            surt=surt_of(url),
            seed_id=ctx.seed_id,
            job_id=self.job_id,
            kind=ctx.kind,
            hops=ctx.hops,
            hop_path=ctx.hop_path,
            via=ctx.via,
            software=SOFTWARE,
            user_agent=ctx.user_agent,
            robots=ctx.robots,
            profile=ctx.profile,
            vantage=ctx.vantage.name if ctx.vantage else None,
            vantage_country=ctx.vantage.country if ctx.vantage else None,
            vantage_kind=ctx.vantage.kind if ctx.vantage else None,
            vantage_egress=ctx.vantage.egress if ctx.vantage else None,
        )

    def _write_attempt(self, url: str, ctx: FetchContext, error: str, at: datetime) -> None:
        """The metadata record of a fetch that got no response."""
        rollover_if_full(self.writer, self.background)
        builder = self.writer.builder()
        fields = [*lineage_fields(self.job_name, ctx), ("fetchError", error)]
        if ctx.user_agent:
            fields.append(("userAgent", ctx.user_agent))
        metadata = builder.build(
            "metadata",
            date=iso_ms(at),
            target_uri=url,
            content_type="application/warc-fields",
            head=warc_fields(fields),
        )

        def written(where: list[WrittenRecord]) -> None:
            self.bytes_written += where[0].length

        def failed(error: BaseException) -> None:
            raise error

        write_group(self.writer, self.background, [metadata], written, failed)

    # -- durability (archiver/capture/rowcommits.py) ------------------------------------------

    def discover(self, entry: FrontierEntry) -> None:
        """A URL the job will fetch: committed with the next batch of capture rows, which
        includes the row of the page it was found on."""
        self.rows.discover(entry)

    def commit(self) -> None:
        self.rows.commit()

    def sync(self) -> None:
        if self.background is not None:
            self.background.drain()
        self.rows.sync()

    def commit_if_due(self) -> None:
        self.rows.commit_if_due()

    @property
    def commit_seconds(self) -> float:
        return self.rows.commit_seconds

    @property
    def captures_committed(self) -> int:
        return self.rows.committed

    def close(self) -> None:
        try:
            if self.background is not None:
                self.background.close()
            self.rows.sync()
            self.writer.close()
        finally:
            self.rows.close()
            if self.crawl_log is not None:
                self.crawl_log.close()

    # -- writer callbacks -----------------------------------------------------------------

    def on_warc_opened(self, opened: OpenedWarc) -> None:
        warcfiles.file_opened(self.catalog, self.job_id, opened)

    def on_warc_closed(self, closed: ClosedWarc) -> None:
        """Commit the rows pointing into the file (already fsynced), mark it closed, and
        hand it on to be stored (``store_closed``: in the background during a crawl).
        A file the store refuses stays in the spool, closed and listed, never lost."""
        self.rows.commit_synced()  # the rows pointing into the file: the close fsynced it
        warcfiles.file_closed(self.catalog, closed)
        pending = PendingFile(self.job_name, closed.filename, closed.path, closed.sha256)
        if self.store_closed is not None:
            self.store_closed(pending)
            return
        try:
            stored = store_file(self.store, pending)
        except ArchiverError as exc:
            logger.error("could not store %s, it stays in the spool: %s", closed.path, exc)
            return
        record_stored(self.catalog, self.store, pending, stored, keep_local=False)
