"""The certificate records of TLS connections: one per connection and WARC file.

A connection carries many exchanges; its server's chain is written once, beside the
first exchange recorded from it, and again in each new WARC file its exchanges land in
(so every file is whole on its own, and the catalog can point at the chain in the
capture's own file). Each exchange's metadata record names the record by its id, and
its catalog row (``capture_tls``) says where it is. Nothing here imports Scrapy.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from archiver.capture import peertls
from archiver.capture.exchange import Exchange
from archiver.capture.peertls import PeerTls
from archiver.catalog.capturetls import TlsRow
from archiver.warc.records import Record, RecordBuilder
from archiver.warc.writer import WrittenRecord


class CertificateRecords:
    def __init__(self) -> None:
        # Where each connection's record was written last; forgotten with the connection.
        self._written: weakref.WeakKeyDictionary[PeerTls, WrittenRecord] = (
            weakref.WeakKeyDictionary()
        )

    def for_exchange(
        self,
        exchange: Exchange,
        builder: RecordBuilder,
        *,
        date: str,
        response_id: str,
        extra: Sequence[tuple[str, str]],
        current_file: str | None,
    ) -> tuple[list[Record], str | None]:
        """The record to write with the exchange, when ``current_file`` does not hold the
        connection's yet, and the id of the record the exchange refers to (None when it
        did not come over TLS)."""
        tls = exchange.tls
        if tls is None:
            return [], None
        written = self._written.get(tls)
        if written is not None and written.filename == current_file:
            return [], written.record_id
        record = builder.build(
            "metadata",
            date=date,
            target_uri=exchange.url,
            content_type=peertls.CONTENT_TYPE,
            head=tls.record_block(exchange.ip_address),
            extra=[("WARC-Concurrent-To", response_id), *extra],
        )
        return [record], record.record_id

    def written(self, tls: PeerTls, where: WrittenRecord) -> None:
        self._written[tls] = where

    def row(self, tls: PeerTls | None) -> TlsRow | None:
        """The catalog's summary of who served a capture, pointing at the chain's record."""
        written = self._written.get(tls) if tls is not None else None
        if tls is None or written is None:
            return None
        return TlsRow(
            protocol=tls.protocol,
            cipher_suite=tls.cipher_suite,
            subject_host=tls.subject_host,
            issuer=tls.issuer,
            verification=tls.verification.result,
            leaf_sha256=tls.leaf_sha256,
            record_id=written.record_id,
            warc_file=written.filename,
            warc_offset=written.offset,
            warc_length=written.length,
        )
