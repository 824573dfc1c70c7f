"""Who served it: a real HTTPS crawl of loopback sites records, per connection, the TLS
version and cipher suite (WARC-Protocol, WARC-Cipher-Suite) on the records of its
exchanges, and a metadata record with the server's certificate chain, its fingerprints
and what checking it found; the catalog keeps a summary that `cite` turns into a
sentence. Bad certificates never stop the crawl."""

from __future__ import annotations

import hashlib
import io
import json
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import run_cli
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pgserver import module_catalog
from servers import FixtureSite
from tls import LoopbackPki
from warcio.archiveiterator import ArchiveIterator
from warcs import catalog_rows, warc_files

BIN = Path(sys.executable).parent
TLS13_SUITES = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"}
ISSUER = "Archiver Tests (archiver test CA)"


def _sha256(cert: x509.Certificate) -> str:
    return "sha256:" + hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def records(home: Path) -> list[dict]:
    """Every record of the home's WARC files: its WARC headers (repeats kept), and the
    block of metadata records; digests checked."""
    out = []
    for path in warc_files(home):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, check_digests=True):
                block = record.content_stream().read()
                assert not record.digest_checker.problems, record.digest_checker.problems
                out.append(
                    {
                        "type": record.rec_type,
                        "headers": record.rec_headers,
                        "url": record.rec_headers.get_header("WARC-Target-URI"),
                        "block": block if record.rec_type == "metadata" else b"",
                    }
                )
    return out


def all_of(headers, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every value of a WARC header field, in order (WARC-Protocol may repeat)."""
    return [value for key, value in headers.headers if key.lower() == name.lower()]


def of_url(found: list[dict], url: str, rec_type: str) -> list[dict]:
    return [r for r in found if r["url"] == url and r["type"] == rec_type]


def certificate_records(found: list[dict]) -> dict[str, dict]:
    """The certificate records, by record id, with their JSON blocks parsed."""
    return {
        r["headers"].get_header("WARC-Record-ID"): {**r, "json": json.loads(r["block"])}
        for r in found
        if r["type"] == "metadata" and r["headers"].get_header("Content-Type") == "application/json"
    }


def exchange_metadata(record: dict) -> dict[str, str]:
    lines = record["block"].decode("utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def tls_row(home: Path, url: str) -> dict:
    [row] = catalog_rows(
        home,
        "SELECT t.* FROM captures c JOIN capture_tls t ON t.capture_id = c.id WHERE c.url = ?",
        (url,),
    )
    return row


def crawl(home: Path, *args: str):  # type: ignore[no-untyped-def]
    result = run_cli(home, "crawl", "--profile", "test", "--job", "j", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def tls_crawl(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One crawl of five HTTPS sites, with the test CA trusted through ARCHIVER_TLS_CA_FILE:
    a good certificate over TLS 1.3 and over TLS 1.2, an expired one, one for another
    name, and a self-signed one."""
    folder = tmp_path_factory.mktemp("tls")
    pki = LoopbackPki(folder / "pki")
    contexts = {
        "good": pki.leaf("good"),
        "tls12": pki.leaf("tls12"),
        "expired": pki.leaf("expired", expired=True),
        "mismatch": pki.leaf("mismatch", names=("other.example",)),
        "self-signed": pki.leaf("self-signed", self_signed=True),
    }
    contexts["tls12"][0].maximum_version = ssl.TLSVersion.TLSv1_2
    sites = {name: FixtureSite(tls=context) for name, (context, _) in contexts.items()}
    certs = {name: cert for name, (_, cert) in contexts.items()}
    with module_catalog():
        for site in sites.values():
            site.start()
        try:
            home = folder / "home"
            urls = {name: site.url + "page2.html" for name, site in sites.items()}
            crawl(home, *urls.values(), "-s", f"ARCHIVER_TLS_CA_FILE={pki.ca_file}")
        finally:
            for site in sites.values():
                site.close()
        yield home, urls, certs, pki


@pytest.mark.own_catalog  # tls_crawl's
def test_request_and_response_records_name_the_protocols_and_cipher_suite(tls_crawl):
    home, urls, _, _ = tls_crawl
    found = records(home)
    for name, expected in (("good", "tls/1.3"), ("tls12", "tls/1.2")):
        for rec_type in ("request", "response"):
            [record] = of_url(found, urls[name], rec_type)
            headers = record["headers"]
            # IIPC WARC-Protocol: repeated, the higher layer first.
            assert all_of(headers, "WARC-Protocol") == ["http/1.1", expected]
            [suite] = all_of(headers, "WARC-Cipher-Suite")
            if expected == "tls/1.3":
                assert suite in TLS13_SUITES
            else:  # an IANA name, not OpenSSL's (ECDHE-ECDSA-AES256-GCM-SHA384)
                assert suite.startswith("TLS_ECDHE_ECDSA_WITH_"), suite
    # The same suite is in the catalog.
    good = tls_row(home, urls["good"])
    assert good["protocol"] == "tls/1.3" and good["cipher_suite"] in TLS13_SUITES
    assert tls_row(home, urls["tls12"])["protocol"] == "tls/1.2"


@pytest.mark.own_catalog  # tls_crawl's
def test_the_certificate_record_holds_the_chain_served(tls_crawl):
    home, urls, certs, pki = tls_crawl
    found = records(home)
    chains = certificate_records(found)
    [response] = of_url(found, urls["good"], "response")
    [metadata] = [
        r for r in of_url(found, urls["good"], "metadata") if r["block"].startswith(b"job:")
    ]
    # The exchange's metadata record names the connection's certificate record ...
    record_id = exchange_metadata(metadata)["tlsCertificates"]
    chain = chains[record_id]
    # ... written beside the connection's first exchange, with its protocols.
    assert all_of(chain["headers"], "WARC-Protocol") == ["http/1.1", "tls/1.3"]
    assert chain["headers"].get_header("WARC-Concurrent-To") in {
        r["headers"].get_header("WARC-Record-ID") for r in found if r["type"] == "response"
    }
    document = chain["json"]
    assert document["verification"] == "ok"
    assert document["host"] == "127.0.0.1"
    assert str(pki.ca_file) in document["trust_store"]
    served = [certs["good"], pki.cert]
    assert [c["sha256"] for c in document["certificates"]] == [_sha256(c) for c in served]
    pems = [x509.load_pem_x509_certificate(c["pem"].encode()) for c in document["certificates"]]
    assert pems == served
    assert document["certificates"][0]["names"] == ["127.0.0.1"]
    # The catalog points at that record and holds the leaf's fingerprint.
    row = tls_row(home, urls["good"])
    assert row["record_id"] == record_id
    assert row["leaf_sha256"] == _sha256(certs["good"])
    assert (row["subject_host"], row["issuer"], row["verification"]) == (
        "127.0.0.1",
        ISSUER,
        "ok",
    )
    assert response["headers"].get_header("WARC-Record-ID") != record_id


@pytest.mark.own_catalog  # tls_crawl's
def test_bad_certificates_are_captured_and_named(tls_crawl):
    home, urls, certs, _ = tls_crawl
    chains = certificate_records(records(home))
    for name, verdict, host in (
        ("expired", "expired", "127.0.0.1"),
        ("mismatch", "name mismatch", "other.example"),
        ("self-signed", "self-signed", "127.0.0.1"),
    ):
        [capture] = catalog_rows(
            home, "SELECT state, http_status FROM captures WHERE url = ?", (urls[name],)
        )
        assert (capture["state"], capture["http_status"]) == ("ok", 200), name
        row = tls_row(home, urls[name])
        assert (row["verification"], row["subject_host"]) == (verdict, host), name
        assert row["leaf_sha256"] == _sha256(certs[name])
        assert chains[row["record_id"]]["json"]["verification"] == verdict
    # Each site's chain is on record, whatever it proved.
    leaves = {chain["json"]["certificates"][0]["sha256"] for chain in chains.values()}
    assert leaves >= {_sha256(cert) for cert in certs.values()}


@pytest.mark.own_catalog  # tls_crawl's
def test_cite_says_who_served_it(tls_crawl):
    home, urls, certs, _ = tls_crawl
    good = tls_row(home, urls["good"])["capture_id"]
    sentence = (
        "by a server holding a certificate for 127.0.0.1 issued by"
        f" {ISSUER}, verified OK at capture"
    )
    text = run_cli(home, "cite", good)
    assert text.returncode == 0, text.stderr
    fingerprint = _sha256(certs["good"]).removeprefix("sha256:")
    assert f"  Served over TLS 1.3 {sentence}.\n" in text.stdout
    assert f"  Server certificate SHA-256: {fingerprint}" in text.stdout
    for fmt in ("apa", "chicago", "bluebook"):
        styled = run_cli(home, "cite", good, "--format", fmt).stdout
        assert styled.rstrip().endswith(f"Served over TLS 1.3 {sentence}."), (fmt, styled)
    bibtex = run_cli(home, "cite", good, "--format", "bibtex").stdout
    assert f"; served over TLS 1.3 {sentence}}}" in bibtex
    [csl] = json.loads(run_cli(home, "cite", good, "--format", "csl-json").stdout)
    assert csl["note"].endswith(f"; served over TLS 1.3 {sentence}")
    ris = run_cli(home, "cite", good, "--format", "ris").stdout
    assert "N1  - Archived " in ris and f"; served over TLS 1.3 {sentence}\n" in ris
    [as_json] = json.loads(run_cli(home, "cite", good, "--json").stdout)
    assert as_json["served_by"] == f"served over TLS 1.3 {sentence}"
    assert as_json["tls"]["leaf_sha256"] == _sha256(certs["good"])

    expired = tls_row(home, urls["expired"])["capture_id"]
    text = run_cli(home, "cite", expired).stdout
    assert (
        "  Served over TLS 1.3 by a server holding a certificate for 127.0.0.1 issued by"
        f" {ISSUER}, which failed verification at capture: expired.\n"
    ) in text
    tls12 = tls_row(home, urls["tls12"])["capture_id"]
    assert "Served over TLS 1.2 by a server" in run_cli(home, "cite", tls12).stdout
    # The offline proof names who served it too (this crawl had no timestamp authority).
    proof = run_cli(home, "verify", good, "--proof")
    assert f"   served over TLS 1.3 {sentence}\n" in proof.stdout
    assert proof.returncode == 3 and "no manifest" in proof.stdout + proof.stderr


@pytest.mark.own_catalog  # tls_crawl's
def test_warcio_reads_every_file(tls_crawl):
    home, _, _, _ = tls_crawl
    for path in warc_files(home):
        check = subprocess.run([BIN / "warcio", "check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        index = subprocess.run(
            [BIN / "warcio", "index", "-f", "warc-type,warc-target-uri",
             str(path)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert index.returncode == 0, index.stderr
        assert index.stdout.count('"warc-type": "metadata"') >= 2


def test_without_the_ca_file_the_test_ca_is_untrusted(tmp_path):
    pki = LoopbackPki(tmp_path / "pki")
    context, _ = pki.leaf("good")
    with FixtureSite(tls=context) as site:
        home = tmp_path / "home"
        crawl(home, site.url + "page2.html")
    row = tls_row(home, site.url + "page2.html")
    # The server sends its CA certificate after its own: the chain's root is not trusted.
    assert row["verification"] == (
        "untrusted: root not in the trust store (CN=archiver test CA,O=Archiver Tests)"
    )
    text = run_cli(home, "cite", row["capture_id"]).stdout
    assert "which failed verification at capture: untrusted: root not in the trust store" in text


def test_plain_http_records_only_the_http_protocol(tmp_path):
    with FixtureSite() as site:
        home = tmp_path / "home"
        crawl(home, site.url + "page2.html")
    found = records(home)
    url = site.url + "page2.html"
    for rec_type in ("request", "response"):
        [record] = of_url(found, url, rec_type)
        assert all_of(record["headers"], "WARC-Protocol") == ["http/1.1"]
        assert all_of(record["headers"], "WARC-Cipher-Suite") == []
    assert certificate_records(found) == {}
    assert all(b"tlsCertificates" not in r["block"] for r in found)
    assert catalog_rows(home, "SELECT * FROM capture_tls") == []
    [capture] = catalog_rows(home, "SELECT id FROM captures WHERE url = ?", (url,))
    assert "Served over" not in run_cli(home, "cite", capture["id"]).stdout


def test_an_unreadable_ca_file_is_refused_before_crawling(tmp_path):
    home = tmp_path / "home"
    missing = tmp_path / "missing.pem"
    result = run_cli(home, "crawl", "http://127.0.0.1:9/", "-s", f"ARCHIVER_TLS_CA_FILE={missing}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: setting ARCHIVER_TLS_CA_FILE={missing}: cannot read it (No such file or"
        " directory); give a PEM file of CA certificates"
    )
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate\n")
    result = run_cli(home, "crawl", "http://127.0.0.1:9/", "-s", f"ARCHIVER_TLS_CA_FILE={not_pem}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: setting ARCHIVER_TLS_CA_FILE={not_pem} holds no PEM certificate"
        " (-----BEGIN CERTIFICATE----- blocks)"
    )
    assert catalog_rows(home, "SELECT * FROM jobs") == []


@pytest.mark.own_catalog  # tls_crawl's
def test_get_writes_the_certificate_record_with_the_capture(tls_crawl, tmp_path):
    home, urls, certs, _ = tls_crawl
    row = tls_row(home, urls["good"])
    out = tmp_path / "evidence.warc.gz"
    result = run_cli(home, "get", row["capture_id"], "-o", str(out))
    assert result.returncode == 0, result.stderr
    with open(out, "rb") as handle:
        kinds = [
            (r.rec_type, r.rec_headers.get_header("WARC-Record-ID"), r.content_stream().read())
            for r in ArchiveIterator(handle, check_digests=True)
        ]
    assert [kind for kind, _, _ in kinds] == [
        "warcinfo", "request", "response", "metadata", "metadata",
    ]  # fmt: skip
    [(_, record_id, block)] = [k for k in kinds if k[1] == row["record_id"]]
    assert json.loads(block)["certificates"][0]["sha256"] == _sha256(certs["good"])
    check = subprocess.run([BIN / "warcio", "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.own_catalog  # tls_crawl's
def test_an_exported_wacz_keeps_each_certificate_record_once(tls_crawl, tmp_path):
    import zipfile

    home, _, _, _ = tls_crawl
    out = tmp_path / "j.wacz"
    result = run_cli(home, "export", "--job", "j", "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    ids: list[str] = []
    named: set[str] = set()
    with zipfile.ZipFile(out) as package:
        for name in package.namelist():
            if name.startswith("archive/"):
                stream = io.BytesIO(package.read(name))
                for record in ArchiveIterator(stream, check_digests=True):
                    block = record.content_stream().read()
                    if record.rec_headers.get_header("Content-Type") == "application/json":
                        ids.append(record.rec_headers.get_header("WARC-Record-ID"))
                    elif record.rec_type == "metadata" and b"tlsCertificates: " in block:
                        named.add(block.split(b"tlsCertificates: ")[1].split(b"\r\n")[0].decode())
    expected = {row["record_id"] for row in catalog_rows(home, "SELECT * FROM capture_tls")}
    assert sorted(ids) == sorted(expected)  # each once
    assert named == expected  # every reference resolves inside the package
