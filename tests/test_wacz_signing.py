"""The operator key (`archiver keys`) and signed WACZ exports: `datapackage-digest.json`'s
`signedData` in the WACZ signing spec's anonymous shape, checked here as ReplayWeb.page
(wabac.js) checks it, and by py-wacz's `wacz validate`."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import zipfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from test_export import crawled, members, wacz_validate
from warcs import archiver

ANONYMOUS_SHAPE = {"hash", "created", "software", "signature", "publicKey"}


def wabac_verdict(files: dict[str, bytes]) -> str:
    """What ReplayWeb.page concludes of a package's signature, done as wabac.js does it
    (``loadDigestData`` and ``verifyWACZSignature``): ``signedData.hash`` must be the
    digest file's hash of ``datapackage.json``, ``publicKey`` is imported as an SPKI P-384
    key, and WebCrypto's ECDSA/SHA-256 verify runs over the UTF-8 text of ``hash`` with
    ``signature`` as raw ``r || s``. "valid", or what failed."""
    digest = json.loads(files["datapackage-digest.json"])
    actual = "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest()
    if digest["hash"] != actual:
        return "datapackage.json does not match its digest"
    signed = digest.get("signedData")
    if not signed or signed["hash"] != digest["hash"]:
        return "not signed"
    key = serialization.load_der_public_key(base64.b64decode(signed["publicKey"]))
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp384r1"
    raw = base64.b64decode(signed["signature"])
    if len(raw) != 96:  # WebCrypto takes P1363 only: anything else does not verify
        return f"signature is {len(raw)} bytes, not r || s"
    r, s = int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big")
    try:
        key.verify(encode_dss_signature(r, s), signed["hash"].encode("utf-8"),
                   ec.ECDSA(hashes.SHA256()))  # fmt: skip
    except InvalidSignature:
        return "signature does not verify"
    return "valid"


def rewritten(source: Path, target: Path, changes: dict[str, bytes]) -> Path:
    """A copy of the package with some members' bytes replaced, everything else as it was."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            out.writestr(info, changes.get(info.filename, src.read(info)))
    return target


def forged_signature(files: dict[str, bytes]) -> bytes:
    """The digest file with one bit of the signature's ``s`` flipped."""
    digest = json.loads(files["datapackage-digest.json"])
    raw = bytearray(base64.b64decode(digest["signedData"]["signature"]))
    raw[-1] ^= 0x01
    digest["signedData"]["signature"] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(digest, indent=2).encode()


def key_facts(home: Path) -> dict[str, str]:
    shown = archiver(home, "keys", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_keys_init_makes_a_private_p384_key_and_prints_its_fingerprint(tmp_path):
    home = tmp_path / "home"
    made = archiver(home, "keys", "init")
    assert made.returncode == 0, made.stderr
    path = home / "keys" / "operator.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["operator.pem"]  # no temporary left

    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp384r1"
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_key = base64.b64encode(spki).decode()
    fingerprint = "sha256:" + hashlib.sha256(spki).hexdigest()
    lines = made.stdout.splitlines()
    assert lines[:3] == [
        f"made an operator key (ECDSA P-384) at {path}, mode 0600",
        f"fingerprint: {fingerprint}",
        f"public key (SPKI, base64): {public_key}",
    ]
    assert "Publish the fingerprint" in made.stdout
    assert key_facts(home) == {
        "path": str(path), "algorithm": "ECDSA P-384",
        "fingerprint": fingerprint, "public_key": public_key,
    }  # fmt: skip
    shown = archiver(home, "keys", "show")
    assert shown.stdout.splitlines() == [f"operator key (ECDSA P-384): {path}", *lines[1:3]]
    # The private key is never printed.
    secret = b"".join(path.read_bytes().splitlines()[1:-1]).decode()
    assert secret not in made.stdout + made.stderr + shown.stdout


def test_keys_init_twice_is_refused_and_the_key_kept(tmp_path):
    home = tmp_path / "home"
    assert archiver(home, "keys", "init").returncode == 0
    path = home / "keys" / "operator.pem"
    before = path.read_bytes()
    again = archiver(home, "keys", "init")
    assert again.returncode == 1
    assert again.stderr == (
        f"Error: an operator key already exists at {path}: it is kept, not replaced (see it"
        " with 'archiver keys show'); to make a new one, move that file away first, and"
        " publish the new fingerprint (packages already signed keep verifying against the"
        " old key)\n"
    )
    assert again.stdout == ""
    assert path.read_bytes() == before


def test_keys_show_without_a_key_and_with_a_key_others_can_read(tmp_path):
    home = tmp_path / "home"
    path = home / "keys" / "operator.pem"
    missing = archiver(home, "keys", "show")
    assert (missing.returncode, missing.stderr) == (
        1, f"Error: no operator key at {path}: make one with 'archiver keys init'\n"
    )  # fmt: skip
    assert not home.exists()  # showing creates nothing
    assert archiver(home, "keys", "init").returncode == 0
    path.chmod(0o640)
    shown = archiver(home, "keys", "show")
    assert (shown.returncode, shown.stderr) == (
        1,
        f"Error: operator key {path} is open to other users (-rw-r-----) or not yours: make"
        f" it private with 'chmod 600 {path}' (and if others may have read it, make a new"
        " key and publish its fingerprint instead)\n",
    )


def test_a_signed_export_passes_wacz_validate_and_verifies_as_replayweb_page_does(
    tmp_path, fixture_site
):
    home = tmp_path / "home"
    assert archiver(home, "keys", "init").returncode == 0  # before the crawl: see below
    crawled(tmp_path, fixture_site)
    facts = key_facts(home)
    out = tmp_path / "signed.wacz"
    result = archiver(home, "export", "--job", "x", "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"signed with the operator key {facts['fingerprint']} ({facts['path']})\n"
    )
    assert json.loads(result.stdout)["signed_by"] == facts["fingerprint"]

    validation = wacz_validate(out)
    assert validation.returncode == 0, validation.stdout + validation.stderr
    assert "Validation succeeded" in validation.stdout
    assert "Has signature" in validation.stdout  # py-wacz saw signedData and its created

    files = members(out)
    package = json.loads(files["datapackage.json"])
    digest = json.loads(files["datapackage-digest.json"])
    signed = digest["signedData"]
    assert set(signed) == ANONYMOUS_SHAPE  # the spec allows no other property
    assert signed["hash"] == digest["hash"]
    assert signed["hash"] == "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest()
    assert signed["created"] == package["created"]
    assert signed["software"] == package["software"] and signed["software"].startswith("archiver ")
    assert signed["publicKey"] == facts["public_key"]
    assert wabac_verdict(files) == "valid"

    # A changed datapackage.json (a resource's hash edited to hide a swapped WARC) fails,
    # whether or not the forger also fixes the digest's hash.
    package["resources"][0]["hash"] = "sha256:" + "0" * 64
    edited = json.dumps(package, indent=2).encode()
    assert wabac_verdict({**files, "datapackage.json": edited}) == (
        "datapackage.json does not match its digest"
    )
    new_hash = "sha256:" + hashlib.sha256(edited).hexdigest()
    for signed_hash in (signed["hash"], new_hash):
        forged = {**digest, "hash": new_hash, "signedData": {**signed, "hash": signed_hash}}
        verdict = wabac_verdict(
            {**files, "datapackage.json": edited,
             "datapackage-digest.json": json.dumps(forged).encode()}
        )  # fmt: skip
        assert verdict == ("not signed" if signed_hash != new_hash else "signature does not verify")
    assert wabac_verdict({**files, "datapackage-digest.json": forged_signature(files)}) == (
        "signature does not verify"
    )

    # The private key is in no file the crawl and the export wrote: WARC files, logs,
    # the catalog, the settings snapshot, the package.
    key_path = Path(facts["path"])
    private = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    scalar = private.private_numbers().private_value.to_bytes(48, "big")
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    pem_body = b"".join(key_path.read_bytes().splitlines()[1:-1])
    written = [p for p in home.rglob("*") if p.is_file() and p != key_path] + [out]
    assert len(written) > 5
    for path in written:
        data = path.read_bytes()
        for secret in (scalar, der, pem_body, scalar.hex().encode()):
            assert secret not in data, path
    for data in files.values():
        assert scalar not in data and pem_body not in data


def test_export_without_a_key_says_how_to_sign_and_no_sign_opts_out(tmp_path, fixture_site):
    home = crawled(tmp_path, fixture_site)
    unsigned = archiver(home, "export", "--job", "x", "-o", str(tmp_path / "a.wacz"))
    assert unsigned.returncode == 0, unsigned.stderr
    assert unsigned.stderr == (
        "not signed: this home has no operator key (make one with 'archiver keys init' to"
        " sign exports)\n"
    )
    assert "signedData" not in json.loads(members(tmp_path / "a.wacz")["datapackage-digest.json"])

    wanted = archiver(home, "export", "--job", "x", "-o", str(tmp_path / "b.wacz"), "--sign")
    assert (wanted.returncode, wanted.stderr) == (
        1,
        f"Error: no operator key at {home / 'keys' / 'operator.pem'}: make one with"
        " 'archiver keys init'\n",
    )
    assert not (tmp_path / "b.wacz").exists()

    assert archiver(home, "keys", "init").returncode == 0
    opted_out = archiver(
        home, "export", "--job", "x", "-o", str(tmp_path / "c.wacz"), "--no-sign", "--json"
    )
    assert opted_out.returncode == 0, opted_out.stderr
    assert opted_out.stderr == "" and json.loads(opted_out.stdout)["signed_by"] is None
    files = members(tmp_path / "c.wacz")
    assert "signedData" not in json.loads(files["datapackage-digest.json"])
    assert wabac_verdict(files) == "not signed"

    (home / "keys" / "operator.pem").chmod(0o644)
    too_open = archiver(home, "export", "--job", "x", "-o", str(tmp_path / "d.wacz"))
    assert too_open.returncode == 1
    assert "is open to other users (-rw-r--r--)" in too_open.stderr
    assert not (tmp_path / "d.wacz").exists()


def test_the_timestamp_hook_gives_the_signature_as_written():
    from archiver.research.export.signature import signature_to_stamp

    signed = {"hash": "sha256:00", "signature": "c2lnbmF0dXJl"}
    assert signature_to_stamp(signed) == b"c2lnbmF0dXJl"
