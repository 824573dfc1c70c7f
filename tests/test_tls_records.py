"""What is recorded of a TLS connection, without a network: the check of a chain (each
verdict, the order of several, names with wildcards), the cipher suite names, and the
recorder's one certificate record per connection and WARC file."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from tls import LoopbackPki
from warcio.archiveiterator import ArchiveIterator

from archiver.capture.ciphers import IANA_NAMES, iana_name
from archiver.capture.context import FetchContext
from archiver.capture.exchange import Exchange
from archiver.capture.peertls import PeerTls
from archiver.capture.recorder import CaptureRecorder
from archiver.capture.tlsverify import TrustStore, matching_name, subject_host, verify_chain
from archiver.catalog import open_catalog
from archiver.catalog.captures import find_captures
from archiver.catalog.jobs import create_job
from archiver.research.servedby import tls_statement
from archiver.storage.local import LocalStore
from archiver.warc.writer import WarcWriter


@pytest.fixture(scope="module")
def pki(tmp_path_factory):  # type: ignore[no-untyped-def]
    return LoopbackPki(tmp_path_factory.mktemp("pki"))


def trusting(pki: LoopbackPki) -> TrustStore:
    return TrustStore((pki.cert,), ("test CA",))


def test_each_verdict(pki):
    now = datetime.now(UTC)
    _, good = pki.leaf("v-good")
    _, expired = pki.leaf("v-expired", expired=True)
    _, other = pki.leaf("v-other", names=("other.example",))
    _, own = pki.leaf("v-own", self_signed=True)
    trust = trusting(pki)
    assert verify_chain([good, pki.cert], "127.0.0.1", now, trust).result == "ok"
    assert verify_chain([good], "127.0.0.1", now, trust).result == "ok"  # CA from the store
    assert verify_chain([expired, pki.cert], "127.0.0.1", now, trust).result == "expired"
    assert verify_chain([other, pki.cert], "127.0.0.1", now, trust).result == "name mismatch"
    assert verify_chain([own], "127.0.0.1", now, trust).result == "self-signed"
    # Checked at the handshake's time: the good certificate was not valid a year ago.
    early = verify_chain([good, pki.cert], "127.0.0.1", now - timedelta(days=365), trust)
    assert early.result.startswith("untrusted: not valid before ")
    assert verify_chain([], "127.0.0.1", now, trust).result == (
        "untrusted: the server presented no certificate"
    )


def test_several_problems_keep_all_and_name_the_first(pki):
    _, both = pki.leaf("v-both", names=("other.example",), expired=True)
    verdict = verify_chain([both], "127.0.0.1", datetime.now(UTC), trusting(pki))
    assert verdict.result == "expired"
    assert verdict.problems == ("expired", "name mismatch")


def test_an_issuer_missing_from_the_store_is_named(pki):
    _, good = pki.leaf("v-untrusted")
    stranger = LoopbackPki(pki.folder / "stranger", name="another CA")
    store = TrustStore((stranger.cert,), ("stranger",))
    now = datetime.now(UTC)
    assert verify_chain([good], "127.0.0.1", now, store).result == (
        "untrusted: issuer not in the trust store (CN=archiver test CA,O=Archiver Tests)"
    )
    assert verify_chain([good, pki.cert], "127.0.0.1", now, store).result == (
        "untrusted: root not in the trust store (CN=archiver test CA,O=Archiver Tests)"
    )


def test_the_system_store_does_not_trust_the_test_ca(pki):
    _, good = pki.leaf("v-system")
    system = TrustStore.load()
    verdict = verify_chain([good, pki.cert], "127.0.0.1", datetime.now(UTC), system)
    assert verdict.result.startswith("untrusted: root not in the trust store"), verdict
    with_file = TrustStore.load(str(pki.ca_file))
    assert with_file.sources[-1] == str(pki.ca_file)
    assert verify_chain([good, pki.cert], "127.0.0.1", datetime.now(UTC), with_file).ok


def test_wildcards_cover_one_label(pki):
    _, cert = pki.leaf("v-wild", names=("*.example.org", "example.net"))
    assert matching_name(cert, "news.example.org") == "*.example.org"
    assert matching_name(cert, "NEWS.example.org.") == "*.example.org"
    assert matching_name(cert, "example.org") is None
    assert matching_name(cert, "a.news.example.org") is None
    assert matching_name(cert, "example.net") == "example.net"
    assert subject_host(cert, "news.example.org") == "*.example.org"
    assert subject_host(cert, "elsewhere.example") == "*.example.org"  # its first name
    verdict = verify_chain([cert], "news.example.org", datetime.now(UTC), trusting(pki))
    assert verdict.result == "ok"


def test_openssl_cipher_names_become_iana_names():
    assert iana_name("ECDHE-RSA-AES256-GCM-SHA384") == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    assert iana_name("ECDHE-ECDSA-CHACHA20-POLY1305") == (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    )
    assert iana_name("TLS_AES_256_GCM_SHA384") == "TLS_AES_256_GCM_SHA384"
    assert iana_name("NOT-A-CIPHER") is None and iana_name(None) is None


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_the_cipher_table_agrees_with_openssl():
    listed = subprocess.run(
        ["openssl", "ciphers", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pairs = [line.split()[:3] for line in listed.splitlines()]
    found = {openssl: iana for iana, _, openssl in pairs}
    assert found, listed
    assert {name: IANA_NAMES.get(name) for name in found} == found


# -- the recorder: one certificate record per connection and WARC file --------------------


def _exchange(url: str, tls: PeerTls | None) -> Exchange:
    exchange = Exchange(url, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    exchange.ip_address = "127.0.0.1"
    path = url.split("/", 3)[3]
    exchange.on_request_bytes(f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    exchange.on_response_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    exchange.on_body(b"hello")
    exchange.finish()
    exchange.tls = tls
    return exchange


def _connection(pki: LoopbackPki, cert) -> PeerTls:  # type: ignore[no-untyped-def]
    return PeerTls.observe(
        version="TLSv1.2",
        cipher="ECDHE-ECDSA-AES256-GCM-SHA384",
        chain=[cert, pki.cert],
        host="127.0.0.1",
        port=8443,
        at=datetime.now(UTC),
        trust=trusting(pki),
    )


def _records(paths) -> list:  # type: ignore[no-untyped-def]
    out = []
    for path in paths:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, check_digests=True):
                block = record.content_stream().read()
                out.append((path.name, record.rec_type, record.rec_headers, block))
    return out


def test_one_certificate_record_per_connection_and_file(tmp_path, pki):
    catalog = open_catalog(tmp_path / "catalog.sqlite")
    job = create_job(catalog, "j", {}, [])
    writer = WarcWriter(tmp_path / "spool", warcinfo_fields=lambda name: [("software", "t")])
    recorder = CaptureRecorder(catalog, writer, LocalStore(tmp_path / "warcs"), job_id=job.id,
                               job_name="j", commit_every=1)  # fmt: skip
    _, cert = pki.leaf("r-good")
    first, second = _connection(pki, cert), _connection(pki, cert)
    ctx = FetchContext(seed_id=None, kind="page")
    base = "https://127.0.0.1:8443/"
    recorder.record_exchange(_exchange(base + "a", first), ctx)
    recorder.record_exchange(_exchange(base + "b", first), ctx)  # same connection
    recorder.record_exchange(_exchange(base + "c", second), ctx)  # another connection
    writer.max_size = 1  # every group from now on goes to a new file
    recorder.record_exchange(_exchange(base + "d", first), ctx)
    recorder.record_exchange(_exchange(base + "e", first), ctx)
    recorder.close()

    found = _records(sorted((tmp_path / "warcs").rglob("*.warc.gz")))
    chains = {
        headers.get_header("WARC-Record-ID"): (name, headers, json.loads(block))
        for name, kind, headers, block in found
        if kind == "metadata" and headers.get_header("Content-Type") == "application/json"
    }
    # a, b: one record; c: its own; d and e each open a file, where the record is again.
    assert len(chains) == 4
    rows = {c.url.rsplit("/", 1)[1]: c for c in find_captures(catalog, job="j")}
    assert rows["a"].tls.record_id == rows["b"].tls.record_id
    assert rows["c"].tls.record_id != rows["a"].tls.record_id
    assert len({rows[x].tls.record_id for x in "ade"}) == 3
    for capture in rows.values():
        tls = capture.tls
        name, headers, document = chains[tls.record_id]
        assert name == tls.warc_file == capture.warc_file  # in the capture's own file
        assert document["cipher_suite"] == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
        assert (tls.protocol, tls.cipher_suite, tls.verification) == (
            "tls/1.2",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "ok",
        )
        assert [v for k, v in headers.headers if k == "WARC-Protocol"] == ["http/1.1", "tls/1.2"]
        # The catalog's offset and length address the record itself.
        with open(tmp_path / "warcs" / "j" / tls.warc_file, "rb") as handle:
            handle.seek(tls.warc_offset)
            member = handle.read(tls.warc_length)
        [record] = list(ArchiveIterator(io.BytesIO(member)))
        assert record.rec_headers.get_header("WARC-Record-ID") == tls.record_id
        assert tls_statement(capture) == (
            "served over TLS 1.2 by a server holding a certificate for 127.0.0.1 issued by"
            " Archiver Tests (archiver test CA), verified OK at capture"
        )
    # Every exchange's own metadata record names its connection's record.
    for _, kind, headers, block in found:
        if kind == "metadata" and block.startswith(b"job:"):
            url = headers.get_header("WARC-Target-URI").rsplit("/", 1)[1]
            assert f"tlsCertificates: {rows[url].tls.record_id}".encode() in block
    catalog.close()
