"""Object storage against a real S3 HTTP endpoint on loopback (moto's standalone server)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from s3server import FAKE_SECRET, MotoServer, environ_with, free_port
from servers import FixtureSite
from test_export import members, wacz_validate
from warcs import catalog_rows

MB = 1024 * 1024

# One worker runs the module, so its module-scoped fixtures are made once.
pytestmark = pytest.mark.xdist_group("s3")


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    """Pages with incompressible images, so WARC files are megabytes (multipart uploads)."""
    root = tmp_path_factory.mktemp("site")
    imgs = "".join(f"<img src='/img{i}.bin'>" for i in range(4))
    (root / "index.html").write_bytes(f"<title>big</title>{imgs}".encode())
    for i in range(4):
        (root / f"img{i}.bin").write_bytes(os.urandom(3 * MB))
    with FixtureSite(root) as site:
        yield site


def bucket(moto, *, lock: bool = False) -> str:
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    moto.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    return name


def archiver(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "archiver", "--home", str(home), *args],
        cwd=home.parent, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def crawl(home, url, store, env, *extra):
    return archiver(
        home, "crawl", "--profile", "test", "--job", "s3job", url, "--store", store,
        "-s", f"ARCHIVER_S3_MULTIPART_THRESHOLD={5 * MB}", "-s", f"ARCHIVER_S3_PART_SIZE={5 * MB}",
        "-s", f"ARCHIVER_WARC_MAX_SIZE={7 * MB}", *extra, env=env,
    )  # fmt: skip


def test_closed_warcs_are_uploaded_verified_and_read_by_range(tmp_path, moto, big_site):
    name = bucket(moto)
    home = tmp_path / "home"
    env = environ_with(moto)
    result = crawl(home, big_site.url, f"s3://{name}/archive", env)
    assert result.returncode == 0, result.stdout + result.stderr
    files = catalog_rows(home, "SELECT * FROM warc_files")
    assert len(files) >= 2 and {f["state"] for f in files} == {"stored"}
    client = moto.client()
    multipart = 0
    for f in files:
        key = f"archive/s3job/{f['name']}"
        assert f["storage_uri"] == f"s3://{name}/{key}"
        head = client.head_object(Bucket=name, Key=key, ChecksumMode="ENABLED")
        assert head["ContentLength"] == f["size"]
        assert head["Metadata"]["sha256"] == f["sha256"]  # our whole-file SHA-256
        assert head["ChecksumSHA256"]  # the service checked every byte on the way in
        assert f["etag"] == head["ETag"].strip('"')
        multipart += "-" in f["etag"]
        index = client.get_object(Bucket=name, Key=key + ".cdxj")["Body"].read().decode()
        assert f["index_uri"] == f"s3://{name}/{key}.cdxj" and f["name"] in index
    assert multipart >= 1  # at least one file went up in parts
    assert not list(home.glob("spool/**/*.warc.gz"))  # the spool copy goes once verified
    # A capture is read back from the store by byte range and digest-checked.
    rows = catalog_rows(home, "SELECT id FROM captures WHERE url LIKE '%img2.bin'")
    out = tmp_path / "img2.warc.gz"
    got = archiver(home, "get", rows[0]["id"], "-o", str(out), env=env)
    assert got.returncode == 0, got.stderr
    body = (big_site.root / "img2.bin").read_bytes()
    assert body in gzip.decompress(out.read_bytes())
    log = (moto_log := Path(moto._log.name)).read_text(errors="replace")
    assert " 206 " in log, moto_log  # ranged GETs ("Partial Content") ...
    gets = [line for line in log.splitlines() if "GET /" in line and ".warc.gz HTTP" in line]
    assert gets and all(" 206 " in line for line in gets)  # ... never a whole-file download
    everything = result.stdout + result.stderr + got.stdout + got.stderr
    for path in home.rglob("*"):
        if path.is_file() and not path.name.endswith(".warc.gz"):
            everything += path.read_bytes().decode("latin-1")
    assert FAKE_SECRET not in everything


def test_store_down_for_the_whole_crawl_then_upload(tmp_path, moto, big_site):
    name = bucket(moto)
    home = tmp_path / "home"
    down = environ_with(moto, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    result = crawl(home, big_site.url, f"s3://{name}/x", down)
    assert result.returncode == 4, result.stdout + result.stderr  # uploads pending
    assert "uploads pending:" in result.stderr and "archiver upload" in result.stderr
    assert "Traceback" not in result.stderr
    files = catalog_rows(home, "SELECT * FROM warc_files")
    assert {f["state"] for f in files} == {"closed"}
    assert all(Path(f["spool_path"]).exists() for f in files)
    capture = catalog_rows(home, "SELECT id FROM captures WHERE url LIKE '%img1.bin'")[0]
    assert (
        archiver(home, "get", capture["id"], "-o", str(tmp_path / "a.warc.gz"), env=down).returncode
        == 0
    )
    listed = archiver(home, "upload", "--list", env=down)
    assert listed.returncode == 0 and f"{len(files)} WARC file(s) pending" in listed.stdout
    # Still down: upload says so, with a distinct exit code.
    again = archiver(home, "upload", env=down)
    assert again.returncode == 4 and "still pending" in again.stderr
    # Back up: everything goes, verified; a second run has nothing to do.
    up = environ_with(moto)
    sent = archiver(home, "upload", env=up)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.count("stored ") == len(files)
    assert {f["state"] for f in catalog_rows(home, "SELECT state FROM warc_files")} == {"stored"}
    twice = archiver(home, "upload", env=up)
    assert twice.returncode == 0 and "nothing to upload" in twice.stdout


def test_upload_and_store_check_report_in_json(tmp_path, moto, fixture_site):
    name = bucket(moto)
    home = tmp_path / "home"
    down = environ_with(moto, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    down["ARCHIVER_UPLOAD_ATTEMPTS"] = "1"
    assert crawl(home, fixture_site.url, f"s3://{name}/x", down).returncode == 4
    [f] = catalog_rows(home, "SELECT * FROM warc_files")
    waiting = {"job": "s3job", "warc_file": f["name"], "warc_sha256": f["sha256"],
               "spool_path": f["spool_path"]}  # fmt: skip
    listed = archiver(home, "upload", "--list", "--json", env=down)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"pending": [{**waiting, "problem": None}]}
    again = archiver(home, "upload", "--json", env=down)
    assert again.returncode == 4
    report = json.loads(again.stdout)
    assert report["stored"] == [] and report["skipped_jobs"] == []
    [pending] = report["pending"]
    assert "cannot connect to the S3 endpoint" in pending.pop("problem") and pending == waiting
    assert again.stderr == "Error: 1 WARC file(s) still pending: see the reasons above\n"
    sent = archiver(home, "upload", "--json", env=environ_with(moto))
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout) == {
        "stored": [{"job": "s3job", "warc_file": f["name"], "warc_sha256": f["sha256"],
                    "storage_uri": f"s3://{name}/x/s3job/{f['name']}"}],
        "pending": [], "skipped_jobs": [],
    }  # fmt: skip
    checked = archiver(home, "store", "check", "--store", f"s3://{name}/x", "--json",
                       env=environ_with(moto))  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["store"] == f"s3://{name}/x/" and report["ok"] is True
    assert {"ok": True, "message": f"can write to s3://{name}/x/"} in report["checks"]
    missing = archiver(home, "store", "check", "--store", "s3://no-such-bucket-here/x", "--json",
                       env=environ_with(moto))  # fmt: skip
    assert missing.returncode == 1
    report = json.loads(missing.stdout)
    assert report["ok"] is False and "no such bucket" in report["checks"][0]["message"]
    problems = sum(not check["ok"] for check in report["checks"])
    assert missing.stderr == (
        f'Error: {problems} problem(s) with the store: see "checks" in the JSON on stdout\n'
    )


def test_a_crash_between_upload_and_catalog_update_is_reconciled(tmp_path, moto, big_site):
    name = bucket(moto)
    home = tmp_path / "home"
    down = environ_with(moto, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    assert crawl(home, big_site.url, f"s3://{name}/x", down).returncode == 4
    files = catalog_rows(home, "SELECT * FROM warc_files")
    client = moto.client()
    first = files[0]  # uploaded, but the catalog never heard of it
    client.upload_file(first["spool_path"], name, f"x/s3job/{first['name']}",
                       ExtraArgs={"Metadata": {"sha256": first["sha256"]}})  # fmt: skip
    before = client.head_object(Bucket=name, Key=f"x/s3job/{first['name']}")["LastModified"]
    sent = archiver(home, "upload", env=environ_with(moto))
    assert sent.returncode == 0, sent.stderr
    after = client.head_object(Bucket=name, Key=f"x/s3job/{first['name']}")["LastModified"]
    assert before == after  # recognised (same key, same SHA-256), not uploaded again
    assert {f["state"] for f in catalog_rows(home, "SELECT state FROM warc_files")} == {"stored"}


def test_object_lock_retention_and_legal_hold(tmp_path, moto, fixture_site):
    name = bucket(moto, lock=True)
    home = tmp_path / "home"
    env = environ_with(moto)
    result = crawl(
        home, fixture_site.url, f"s3://{name}/locked", env,
        "-s", "ARCHIVER_S3_OBJECT_LOCK_MODE=GOVERNANCE", "-s", "ARCHIVER_S3_OBJECT_LOCK_DAYS=30",
        "-s", "ARCHIVER_S3_LEGAL_HOLD=true",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    [f] = catalog_rows(home, "SELECT * FROM warc_files")
    head = moto.client().head_object(Bucket=name, Key=f"locked/s3job/{f['name']}")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    assert f["version_id"] and f["version_id"] == head["VersionId"]


@pytest.mark.sqlite_only  # changes the SQLite file itself
def test_object_lock_asked_of_a_bucket_without_it_is_a_clear_error(tmp_path, moto, fixture_site):
    name = bucket(moto)
    home = tmp_path / "home"
    result = crawl(
        home, fixture_site.url, f"s3://{name}/x", environ_with(moto),
        "-s", "ARCHIVER_S3_OBJECT_LOCK_MODE=COMPLIANCE", "-s", "ARCHIVER_S3_OBJECT_LOCK_DAYS=1",
    )  # fmt: skip
    assert result.returncode == 1
    assert f"Error: bucket {name} has no Object Lock" in result.stderr
    conn = sqlite3.connect(home / "catalog.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0
    conn.close()


@pytest.mark.parametrize("case", ["ok", "no-bucket", "no-credentials", "endpoint-down"])
def test_store_check(tmp_path, moto, case):
    name = bucket(moto)
    env = environ_with(moto)
    expected = f"ok: can write to s3://{name}/p/"
    if case == "no-bucket":
        name, expected = "no-such-bucket-here", "no such bucket"
    elif case == "no-credentials":
        env = {k: v for k, v in env.items() if not k.startswith("AWS_ACCESS") and "SECRET" not in k}
        env["AWS_SHARED_CREDENTIALS_FILE"] = env["AWS_CONFIG_FILE"] = str(tmp_path / "none")
        expected = "no AWS credentials"
    elif case == "endpoint-down":
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
        expected = "cannot connect to"
    result = archiver(tmp_path / "home", "store", "check", "--store", f"s3://{name}/p", env=env)
    assert expected in result.stdout + result.stderr, result.stdout + result.stderr
    assert result.returncode == (0 if case == "ok" else 1)
    assert "Traceback" not in result.stderr and FAKE_SECRET not in result.stdout + result.stderr


@pytest.mark.skipif(
    not os.environ.get("ARCHIVER_TEST_S3_STORE"),
    reason="set ARCHIVER_TEST_S3_STORE=s3://bucket/prefix (and AWS_* credentials) to test a real"
    " endpoint",
)
def test_real_endpoint_roundtrip(tmp_path, fixture_site):
    """The same path against a real service named by the environment."""
    home = tmp_path / "home"
    env = dict(os.environ)
    result = archiver(home, "crawl", "--profile", "test", fixture_site.url,
                      "--store", env["ARCHIVER_TEST_S3_STORE"], env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert {f["state"] for f in catalog_rows(home, "SELECT state FROM warc_files")} == {"stored"}
    capture = catalog_rows(home, "SELECT id FROM captures WHERE kind = 'seed'")[0]
    got = archiver(home, "get", capture["id"], "-o", str(tmp_path / "x.warc.gz"), env=env)
    assert got.returncode == 0, got.stderr


def test_an_object_that_only_claims_our_checksum_is_not_accepted(tmp_path, moto, big_site):
    name = bucket(moto)
    home = tmp_path / "home"
    down = environ_with(moto, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    assert crawl(home, big_site.url, f"s3://{name}/x", down).returncode == 4
    first = catalog_rows(home, "SELECT * FROM warc_files")[0]
    forged = tmp_path / "zeros"
    forged.write_bytes(b"\0" * first["size"])
    moto.client().upload_file(str(forged), name, f"x/s3job/{first['name']}",
                              ExtraArgs={"Metadata": {"sha256": first["sha256"]}})  # fmt: skip
    sent = archiver(home, "upload", env=environ_with(moto))
    assert sent.returncode == 4
    assert "already exists with other content" in sent.stderr
    row = catalog_rows(home, "SELECT state, spool_path FROM warc_files WHERE name = ?",
                       (first["name"],))[0]  # fmt: skip
    assert row["state"] == "closed" and Path(row["spool_path"]).exists()  # the good copy stays


def test_the_job_remembers_its_endpoint(tmp_path, moto, fixture_site):
    """Crawled with -s AWS_ENDPOINT_URL: upload and get later reach the same service, even
    with the environment pointing elsewhere."""
    name = bucket(moto)
    home = tmp_path / "home"
    elsewhere = environ_with(moto, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    result = crawl(home, fixture_site.url, f"s3://{name}/e", elsewhere,
                   "-s", f"AWS_ENDPOINT_URL={moto.endpoint}")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert {f["state"] for f in catalog_rows(home, "SELECT state FROM warc_files")} == {"stored"}
    capture = catalog_rows(home, "SELECT id FROM captures WHERE kind = 'seed'")[0]
    got = archiver(home, "get", capture["id"], "-o", str(tmp_path / "g.warc.gz"), env=elsewhere)
    assert got.returncode == 0, got.stderr
    verified = archiver(home, "verify", "--job", "s3job", env=elsewhere)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_export_reads_stored_files_by_range(tmp_path, moto, big_site):
    """A job spread over several stored WARC files exports as one valid WACZ, read from
    S3 by byte range, each file coming out identical to the stored object."""
    name = bucket(moto)
    home = tmp_path / "home"
    env = environ_with(moto)
    assert crawl(home, big_site.url, f"s3://{name}/x", env).returncode == 0
    files = catalog_rows(home, "SELECT name, sha256 FROM warc_files")
    assert len(files) >= 2
    log = Path(moto._log.name)
    before = len(log.read_text(errors="replace").splitlines())
    out = tmp_path / "s3.wacz"
    result = archiver(home, "export", "--job", "s3job", "-o", str(out), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert wacz_validate(out).returncode == 0
    packaged = members(out)
    for f in files:
        assert hashlib.sha256(packaged[f"archive/{f['name']}"]).hexdigest() == f["sha256"]
    gets = [
        line for line in log.read_text(errors="replace").splitlines()[before:]
        if "GET /" in line and ".warc.gz HTTP" in line
    ]  # fmt: skip
    assert gets and all(" 206 " in line for line in gets)
