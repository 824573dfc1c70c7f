"""Proof of time: a crawl's stored WARC files go into its job's evidence manifest, two
local timestamp authorities (different roots) stamp it, and ``archiver verify ID
--proof`` walks from a capture to both tokens, offline; every tampered link fails with
its own message and exit 3. An authority that is down leaves its stamp pending, and
``archiver stamp`` completes it later."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from clihelp import run_cli
from tsaserver import LocalTSA


@pytest.fixture
def authorities(tmp_path):
    alpha, beta = LocalTSA("Alpha TSA"), LocalTSA("Beta TSA")
    bundle = tmp_path / "tsa-roots.pem"
    bundle.write_bytes(alpha.root_pem + beta.root_pem)
    try:
        yield alpha, beta, bundle
    finally:
        alpha.close()
        beta.close()


def _env(alpha: LocalTSA, beta: LocalTSA, bundle: Path) -> dict[str, str]:
    return {"ARCHIVER_TSA_URLS": f"{alpha.url} {beta.url}", "ARCHIVER_TSA_CA_FILE": str(bundle)}


def _crawl(home: Path, site_url: str, env: dict[str, str], job: str = "p") -> list[dict]:
    added = run_cli(home, "seeds", "add", site_url, "--scope", "page")
    assert added.returncode == 0, added.stderr
    crawled = run_cli(home, "crawl", "--profile", "test", "--job", job, env=env)
    assert crawled.returncode == 0, crawled.stderr
    listed = run_cli(home, "captures", "--job", job, "--json")
    return [c for c in json.loads(listed.stdout) if c["state"] == "ok"]


def _proof(home: Path, capture_id: str, env: dict[str, str], *more: str):  # type: ignore[no-untyped-def]
    return run_cli(home, "verify", capture_id, "--proof", *more, env=env)


def test_two_authorities_stamp_a_crawl_and_the_proof_walks_to_both(tmp_path, fixture_site,
                                                                   authorities):  # fmt: skip
    alpha, beta, bundle = authorities
    env = _env(alpha, beta, bundle)
    home = tmp_path / "home"
    [capture] = [c for c in _crawl(home, fixture_site.url, env) if c["url"] == fixture_site.url]

    proof = _proof(home, capture["capture_id"], env)
    assert proof.returncode == 0, proof.stdout + proof.stderr
    out = proof.stdout
    assert "1. records: ok" in out and "2. warc file: ok" in out and "3. manifest: ok" in out
    assert f"4. timestamp by {alpha.url}: ok: genTime " in out
    assert f"5. timestamp by {beta.url}: ok: genTime " in out
    assert "signed by O=archiver tests,CN=Alpha TSA, which chains to" in out
    assert "CN=Beta TSA Root" in out
    assert f"proof of capture {capture['capture_id']}: every link holds" in out

    report = json.loads(_proof(home, capture["capture_id"], env, "--json").stdout)
    assert report["ok"] is True
    assert [t["state"] for t in report["timestamps"]] == ["verified", "verified"]
    # genTime is given to the second here: up to a second before the WARC-Date.
    assert all(-1 <= t["seconds_after_capture"] < 600 for t in report["timestamps"])

    # What a stranger finds beside the WARC files: the manifest, the tokens, the chains.
    proof_dir = home / "warcs" / "p" / "proof"
    manifest = (proof_dir / "p-manifest-0001.txt").read_text()
    header, *lines = manifest.splitlines()
    assert header.startswith("# archiver-evidence-manifest/1 job=p number=1 fields=sha256,")
    [warc] = [p for p in (home / "warcs" / "p").glob("*.warc.gz")]
    sha256, size, name, uri, version, first, last = lines[0].split("\t")
    assert (sha256, int(size), name) == (
        hashlib.sha256(warc.read_bytes()).hexdigest(),
        warc.stat().st_size,
        warc.name,
    )
    assert uri == warc.as_uri() and version == "-" and first <= capture["captured_at"] <= last
    tokens = sorted(proof_dir.glob("*.tsr"))
    chains = sorted(proof_dir.glob("*.chain.pem"))
    assert len(tokens) == len(chains) == 2
    # openssl, knowing nothing of archiver, accepts each token over the manifest.
    for token, chain in zip(tokens, chains, strict=True):
        checked = subprocess.run(
            ["openssl", "ts", "-verify", "-data", str(proof_dir / "p-manifest-0001.txt"),
             "-in", str(token), "-CAfile", str(bundle)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
        assert chain.read_text().count("BEGIN CERTIFICATE") == 2

    # Citations name the earliest token, and its gap from the capture.
    cited = run_cli(home, "cite", capture["capture_id"], env=env)
    assert cited.returncode == 0, cited.stderr
    assert "  Trusted timestamp: timestamped by 127.0.0.1 at " in cited.stdout
    bibtex = run_cli(home, "cite", capture["capture_id"], "--format", "bibtex", env=env).stdout
    assert "; timestamped by 127.0.0.1 at " in bibtex
    ris = run_cli(home, "cite", capture["capture_id"], "--format", "ris", env=env).stdout
    assert "timestamped by 127.0.0.1 at " in ris
    as_json = json.loads(run_cli(home, "cite", capture["capture_id"], "--json", env=env).stdout)
    assert as_json[0]["timestamp"].startswith("timestamped by 127.0.0.1 at ")

    # Nothing is asked again: the manifest holds every stored file.
    again = run_cli(home, "stamp", env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing to stamp" in again.stdout


def _flip(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if at is None else at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["warc", "manifest", "token", "root", "eku"])
def test_each_tampered_link_fails_the_proof_with_its_own_message(tmp_path, fixture_site,
                                                                 authorities, damage):  # fmt: skip
    alpha, beta, bundle = authorities
    env = _env(alpha, beta, bundle)
    home = tmp_path / "home"
    [capture] = [c for c in _crawl(home, fixture_site.url, env) if c["url"] == fixture_site.url]
    proof_dir = home / "warcs" / "p" / "proof"
    from archiver.proof.stamping import token_keys

    token_key, chain_key = token_keys("p", 1, alpha.url)
    token, chain = home / "warcs" / token_key, home / "warcs" / chain_key
    if damage == "warc":
        [warc] = (home / "warcs" / "p").glob("*.warc.gz")
        _flip(warc, warc.stat().st_size - 40)  # past the capture's own records
        expected = "2. warc file: FAILED:"
        reason = "the file was altered after it was stored"
    elif damage == "manifest":
        _flip(proof_dir / "p-manifest-0001.txt")
        expected = "3. manifest: FAILED:"
        reason = "it was altered"
    elif damage == "token":
        _flip(token, len(token.read_bytes()) - 30)  # in the signature
        expected = f"timestamp by {alpha.url}: FAILED:"
        reason = "does not verify against the recorded TSA root"
    elif damage == "root":
        certs = chain.read_text().split("-----END CERTIFICATE-----\n")
        chain.write_text(certs[0] + "-----END CERTIFICATE-----\n" + beta.root_pem.decode())
        expected = f"timestamp by {alpha.url}: FAILED:"
        reason = "does not verify against the recorded TSA root"
    else:
        root = alpha.root_pem.decode()
        chain.write_text(alpha.twin_without_eku().decode() + root)
        expected = f"timestamp by {alpha.url}: FAILED:"
        reason = "signed by a certificate without the critical timeStamping EKU"
    proof = _proof(home, capture["capture_id"], env)
    assert proof.returncode == 3, proof.stdout + proof.stderr
    assert expected in proof.stdout and reason in proof.stdout
    assert f"Error: the proof of capture {capture['capture_id']} breaks at" in proof.stderr
    assert "Traceback" not in proof.stderr


def test_an_authority_down_leaves_its_stamp_pending_until_archiver_stamp(tmp_path, fixture_site,
                                                                        authorities):  # fmt: skip
    alpha, beta, bundle = authorities
    env = _env(alpha, beta, bundle)
    beta.down = True
    home = tmp_path / "home"
    [capture] = [c for c in _crawl(home, fixture_site.url, env) if c["url"] == fixture_site.url]

    owed = run_cli(home, "stamp", "--pending", "--json", env=env)
    [pending] = json.loads(owed.stdout)["pending"]
    assert pending["authority"] == beta.url and "answered HTTP 503" in pending["problem"]
    proof = _proof(home, capture["capture_id"], env)
    assert proof.returncode == 0, proof.stdout + proof.stderr  # alpha's token holds
    assert f"pending: timestamp by {beta.url}: {beta.url} answered HTTP 503" in proof.stdout

    still = run_cli(home, "stamp", env=env)
    assert still.returncode == 4
    assert "1 timestamp(s) pending" in still.stderr
    beta.down = False
    done = run_cli(home, "stamp", "--json", env=env)
    assert done.returncode == 0, done.stderr
    [stamped] = json.loads(done.stdout)["stamped"]
    assert stamped["authority"] == beta.url
    proof = _proof(home, capture["capture_id"], env)
    assert proof.returncode == 0 and f"5. timestamp by {beta.url}: ok" in proof.stdout


def test_without_authorities_a_capture_has_no_trusted_timestamp(tmp_path, fixture_site,
                                                                authorities):  # fmt: skip
    home = tmp_path / "home"
    [capture] = [c for c in _crawl(home, fixture_site.url, {}) if c["url"] == fixture_site.url]
    owed = run_cli(home, "stamp", "--pending")
    assert "job p: 1 stored WARC file(s) in no manifest yet" in owed.stdout
    made = run_cli(home, "stamp")
    assert made.returncode == 0, made.stderr
    assert "no timestamp authority is set (ARCHIVER_TSA_URLS)" in made.stdout
    assert "manifest 1 of job p: 1 WARC file(s)" in made.stdout
    proof = _proof(home, capture["capture_id"], {})
    assert proof.returncode == 3
    assert "no trusted timestamp covers this capture" in proof.stdout
    cited = run_cli(home, "cite", capture["capture_id"])
    assert "  Trusted timestamp: no trusted timestamp" in cited.stdout

    # Authorities set later, in the home's config file, stamp the job's latest manifest.
    alpha, _, bundle = authorities
    for key, value in (("tsa_urls", alpha.url), ("tsa_ca_file", str(bundle))):
        assert run_cli(home, "config", "set", key, value).returncode == 0
    stamped = run_cli(home, "stamp")
    assert stamped.returncode == 0, stamped.stderr
    assert f"stamped manifest 1 of job p by {alpha.url}: genTime " in stamped.stdout
    proof = _proof(home, capture["capture_id"], {})
    assert proof.returncode == 0 and f"4. timestamp by {alpha.url}: ok" in proof.stdout


def test_bad_stamping_settings_are_refused_before_a_crawl(tmp_path):
    home = tmp_path / "home"
    bad = run_cli(home, "crawl", "http://127.0.0.1:9/", env={"ARCHIVER_TSA_URLS": "freetsa.org"})
    assert bad.returncode == 1
    assert "ARCHIVER_TSA_URLS holds 'freetsa.org', which is not an http(s) URL" in bad.stderr
    secret = {"ARCHIVER_TSA_URLS": "https://ann:hunter2@tsa.example/tsr"}
    bad = run_cli(home, "crawl", "http://127.0.0.1:9/", env=secret)
    assert bad.returncode == 1
    assert "ARCHIVER_TSA_URLS holds a URL with credentials (tsa.example;" in bad.stderr
    assert "hunter2" not in bad.stderr
    keyed = {"ARCHIVER_TSA_URLS": "https://tsa.example/tsr?api_key=hunter2"}
    bad = run_cli(home, "crawl", "http://127.0.0.1:9/", env=keyed)
    assert bad.returncode == 1 and "hunter2" not in bad.stderr
    assert "ARCHIVER_TSA_URLS holds a URL with credentials (tsa.example;" in bad.stderr
    bad = run_cli(home, "crawl", "http://127.0.0.1:9/", env={"ARCHIVER_TSA_INTERVAL": "soon"})
    assert bad.returncode == 1
    assert "ARCHIVER_TSA_INTERVAL='soon' is not a number of seconds" in bad.stderr


def test_a_manifest_line_reads_back_and_refuses_tabs():
    from archiver.proof.manifest import manifest_body, manifest_line, parse_line

    line = manifest_line(sha256="ab" * 32, size=10, name="f.warc.gz", storage_uri="file:///x",
                         version_id=None, first_date="2026-01-01T00:00:00.000Z",
                         last_date="2026-01-01T00:00:01.000Z")  # fmt: skip
    parsed = parse_line(line)
    assert (parsed.size, parsed.version_id, parsed.first_date) == (
        10,
        None,
        "2026-01-01T00:00:00.000Z",
    )
    body = manifest_body("j", 3, [line])
    assert body.endswith("\n") and body.count("\n") == 2
    with pytest.raises(ValueError, match="tabs or line ends"):
        manifest_line(sha256="x", size=1, name="a\tb", storage_uri="u", version_id=None,
                      first_date=None, last_date=None)  # fmt: skip


def test_a_long_crawl_is_stamped_while_it_runs(tmp_path, fixture_site, authorities):
    """Files closed mid-crawl (a WARC per capture here) are in a manifest stamped before
    the crawl ends; the last ones in the manifest made when it ends."""
    alpha, _, bundle = authorities
    env = {"ARCHIVER_TSA_URLS": alpha.url, "ARCHIVER_TSA_CA_FILE": str(bundle),
           "ARCHIVER_TSA_INTERVAL": "0.2"}  # fmt: skip
    home = tmp_path / "home"
    assert run_cli(home, "seeds", "add", fixture_site.url, "--scope", "host").returncode == 0
    crawled = run_cli(home, "crawl", "--profile", "test", "--job", "long", "-s",
                      "ARCHIVER_WARC_MAX_SIZE=1", "-s", "DOWNLOAD_DELAY=0.5", env=env)  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr
    manifests = sorted((home / "warcs" / "long" / "proof").glob("long-manifest-*.txt"))
    assert len(manifests) >= 2
    first, last = (m.read_text().splitlines()[1:] for m in (manifests[0], manifests[-1]))
    assert 0 < len(first) < len(last) == len(list((home / "warcs" / "long").glob("*.warc.gz")))
    assert last[: len(first)] == first  # a later manifest holds the earlier lines
    owed = run_cli(home, "stamp", "--pending", "--json", env=env)
    assert json.loads(owed.stdout)["pending"] == []
    assert len(list((home / "warcs" / "long" / "proof").glob("*.tsr"))) == len(manifests)


def test_a_signed_export_carries_the_proof_and_a_timestamp_over_its_signature(
    tmp_path, fixture_site, authorities
):
    from test_export import members, wacz_validate
    from test_wacz_signing import wabac_verdict

    alpha, beta, bundle = authorities
    env = _env(alpha, beta, bundle)
    home = tmp_path / "home"
    _crawl(home, fixture_site.url, env)
    assert run_cli(home, "keys", "init").returncode == 0
    out = tmp_path / "p.wacz"
    exported = run_cli(home, "export", "--job", "p", "-o", str(out), "--json", env=env)
    assert exported.returncode == 0, exported.stderr
    summary = json.loads(exported.stdout)
    assert summary["proof_files"] == 5  # the manifest, two tokens, two chains
    assert [t["authority"] for t in summary["signature_timestamps"]] == [alpha.url, beta.url]
    assert f"signature timestamped by {alpha.url} at " in exported.stderr

    files = members(out)
    stored = home / "warcs" / "p" / "proof"
    listed = {r["path"] for r in json.loads(files["datapackage.json"])["resources"]}
    for path in stored.iterdir():  # the same bytes as beside the WARC files, covered by the hash
        assert files[f"proof/{path.name}"] == path.read_bytes()
        assert f"proof/{path.name}" in listed
    assert wabac_verdict(files) == "valid"
    checked = wacz_validate(out, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    digest = json.loads(files["datapackage-digest.json"])
    signature = tmp_path / "signature.txt"
    signature.write_bytes(digest["signedData"]["signature"].encode("ascii"))
    for stamp in digest["signatureTimestamps"]:
        token = tmp_path / "signature.tsr"
        token.write_bytes(base64.b64decode(stamp["token"]))
        checked = subprocess.run(
            ["openssl", "ts", "-verify", "-data", str(signature), "-in", str(token),
             "-CAfile", str(bundle)], capture_output=True, text=True,
        )  # fmt: skip
        assert "Verification: OK" in checked.stdout, checked.stderr


@pytest.mark.live
def test_live_authorities_stamp_and_verify(tmp_path):
    """Real public authorities (network needed; CI deselects ``live``): each stamps bytes
    and its token verifies against the system's roots, then offline against its chain."""
    from archiver.proof.tsa import check_token, request_token

    for url in ("https://freetsa.org/tsr", "http://timestamp.digicert.com"):
        token = request_token(url, b"archiver live check\n", timeout=30)
        again = check_token(token.response, b"archiver live check\n", chain=token.chain)
        assert again.gen_time == token.gen_time


def test_a_token_from_an_authority_not_trusted_here_fails_however_well_it_is_made(
    tmp_path, fixture_site, authorities
):
    """Someone with write access to the store stamps the manifest with a TSA of their own,
    named like the real one, and puts its token and chain in place of the real ones."""
    from archiver.proof.stamping import token_keys
    from archiver.proof.tsa import check_token, load_chain

    alpha, beta, bundle = authorities
    env = _env(alpha, beta, bundle)
    home = tmp_path / "home"
    [capture] = [c for c in _crawl(home, fixture_site.url, env) if c["url"] == fixture_site.url]
    forger = LocalTSA("Alpha TSA")  # the same names, another key and root
    try:
        manifest = (home / "warcs" / "p" / "proof" / "p-manifest-0001.txt").read_bytes()
        forged = subprocess.run(
            ["openssl", "ts", "-query", "-sha256", "-cert", "-no_nonce", "-data", "/dev/stdin"],
            input=manifest, capture_output=True, check=True,
        ).stdout  # fmt: skip
        response = forger.reply(forged)
        chain = (forger.dir / "tsa.pem").read_bytes() + forger.root_pem
        check_token(response, manifest, chain=load_chain(chain.decode()))  # sound on its own
        token_key, chain_key = token_keys("p", 1, alpha.url)
        (home / "warcs" / token_key).write_bytes(response)
        (home / "warcs" / chain_key).write_bytes(chain)
    finally:
        forger.close()
    proof = _proof(home, capture["capture_id"], env)
    assert proof.returncode == 3, proof.stdout
    assert (
        f"timestamp by {alpha.url}: FAILED: the token of {alpha.url} chains to a root that is"
        " not trusted here (O=archiver tests,CN=Alpha TSA Root, SHA-256 " in proof.stdout
    )
    assert f"timestamp by {beta.url}: ok" in proof.stdout


def test_an_authority_whose_root_is_not_trusted_yet_stays_pending(tmp_path, fixture_site,
                                                                  authorities):  # fmt: skip
    alpha, beta, bundle = authorities
    only_alpha = tmp_path / "alpha-root.pem"
    only_alpha.write_bytes(alpha.root_pem)
    env = _env(alpha, beta, only_alpha)
    home = tmp_path / "home"
    [capture] = [c for c in _crawl(home, fixture_site.url, env) if c["url"] == fixture_site.url]
    owed = json.loads(run_cli(home, "stamp", "--pending", "--json", env=env).stdout)["pending"]
    assert [(t["authority"], t["state"]) for t in owed] == [(beta.url, "pending")]
    assert "does not chain to a trusted root: add its root to ARCHIVER_TSA_CA_FILE" in owed[0][
        "problem"]  # fmt: skip
    done = run_cli(home, "stamp", env=_env(alpha, beta, bundle))  # the operator adds the root
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"stamped manifest 1 of job p by {beta.url}" in done.stdout


def test_two_authorities_on_one_host_keep_a_file_each(tmp_path, fixture_site, authorities):
    alpha, _, bundle = authorities
    other = alpha.url.replace("/tsr", "/qualified")
    env = {"ARCHIVER_TSA_URLS": f"{alpha.url} {other}", "ARCHIVER_TSA_CA_FILE": str(bundle)}
    home = tmp_path / "home"
    [capture] = [c for c in _crawl(home, fixture_site.url, env) if c["url"] == fixture_site.url]
    assert len(list((home / "warcs" / "p" / "proof").glob("*.tsr"))) == 2
    proof = _proof(home, capture["capture_id"], env)
    assert proof.returncode == 0, proof.stdout
    assert f"timestamp by {alpha.url}: ok" in proof.stdout
    assert f"timestamp by {other}: ok" in proof.stdout


def test_a_timestamp_is_kept_once_when_two_workers_ask_at_once(tmp_path):
    """The second token for the same timestamp is dropped, not written over the first."""
    from archiver.catalog import open_catalog, proofs

    catalog = open_catalog(tmp_path / "catalog.sqlite")
    with catalog.transaction() as conn:
        conn.execute(
            "INSERT INTO jobs (name, started_at, status, settings, seed_ids)"
            " VALUES ('j', 'x', 'x', '{}', '[]')"
        )
        conn.execute(
            "INSERT INTO manifests (job_id, number, body, sha256, lines, created_at)"
            " VALUES (1, 1, 'm', 'h', 1, 'x')"
        )
    proofs.add_pending(catalog, 1, ["http://tsa.example/"])
    [owed] = proofs.pending_timestamps(catalog)
    facts = {"gen_time": "g", "serial": "1", "policy": "p", "nonce": None, "chain": "c"}
    assert proofs.stamped(catalog, owed.id, token="first", **facts) is True
    assert proofs.stamped(catalog, owed.id, token="second", **facts) is False
    proofs.stamp_failed(catalog, owed.id, "a late worker's timeout")
    [kept] = proofs.manifest_timestamps(catalog, 1)
    assert (kept.token, kept.state, kept.last_error) == ("first", "stamped", None)
