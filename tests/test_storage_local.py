"""The local-folder store behind the storage protocol."""

from __future__ import annotations

import hashlib
import json

import pytest
from clihelp import run_cli

from archiver.errors import IntegrityError, StorageError
from archiver.storage import LocalStore, open_store


def spool_file(tmp_path, data: bytes):
    path = tmp_path / "spool" / "f.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_put_moves_verifies_and_reads_ranges(tmp_path):
    store = LocalStore(tmp_path / "warcs")
    path, digest = spool_file(tmp_path, b"0123456789" * 10)
    stored = store.put(path, "job-1/f.warc.gz", sha256=digest)
    assert not path.exists()
    assert stored.uri == (tmp_path / "warcs" / "job-1" / "f.warc.gz").as_uri()
    assert (stored.size, stored.sha256) == (100, digest)
    assert store.read_range("job-1/f.warc.gz", 15, 5) == b"56789"
    assert store.stat("job-1/f.warc.gz").size == 100
    assert store.stat("job-1/none") is None
    assert [o.key for o in store.list("job-1/")] == ["job-1/f.warc.gz"]


def test_put_again_is_safe_and_refuses_other_content(tmp_path):
    store = LocalStore(tmp_path / "warcs")
    path, digest = spool_file(tmp_path, b"same")
    store.put(path, "k/f", sha256=digest)
    path, digest = spool_file(tmp_path, b"same")
    assert store.put(path, "k/f", sha256=digest).sha256 == digest  # a retry after a crash
    path, other = spool_file(tmp_path, b"different")
    with pytest.raises(StorageError, match="already exists with other content"):
        store.put(path, "k/f", sha256=other)
    assert path.exists()  # nothing lost


def test_wrong_checksum_is_refused(tmp_path):
    store = LocalStore(tmp_path / "warcs")
    path, _ = spool_file(tmp_path, b"bytes")
    with pytest.raises(IntegrityError, match="does not match its SHA-256"):
        store.put(path, "k/f", sha256="0" * 64)
    assert path.exists() and store.stat("k/f") is None  # nothing moved, nothing lost


def test_copy_across_filesystems_is_verified_before_the_source_goes(tmp_path, monkeypatch):
    import errno
    import os as real_os

    store = LocalStore(tmp_path / "warcs")
    path, digest = spool_file(tmp_path, b"evidence bytes")
    replace = real_os.replace

    def cross_device(src, dst):
        if str(src) == str(path):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return replace(src, dst)

    monkeypatch.setattr("archiver.storage.local.os.replace", cross_device)
    real_copy = __import__("shutil").copyfile

    def damaging_copy(src, dst):
        real_copy(src, dst)
        with open(dst, "r+b") as handle:
            handle.write(b"X")

    monkeypatch.setattr("archiver.storage.local.shutil.copyfile", damaging_copy)
    with pytest.raises(IntegrityError, match="the copy in the store"):
        store.put(path, "k/f", sha256=digest)
    assert path.read_bytes() == b"evidence bytes"  # the only good copy is kept
    assert store.stat("k/f") is None
    monkeypatch.setattr("archiver.storage.local.shutil.copyfile", real_copy)
    assert store.put(path, "k/f", sha256=digest).sha256 == digest
    assert not path.exists()


def test_short_read_is_an_integrity_error(tmp_path):
    store = LocalStore(tmp_path / "warcs")
    path, digest = spool_file(tmp_path, b"abc")
    store.put(path, "k/f", sha256=digest)
    with pytest.raises(IntegrityError, match="shorter than the catalog says"):
        store.read_range("k/f", 2, 10)


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", ""])
def test_unsafe_keys_are_refused(tmp_path, key):
    with pytest.raises(StorageError, match="unsafe storage key"):
        LocalStore(tmp_path).uri_for(key)


def test_store_uris(tmp_path):
    assert open_store(tmp_path).root == tmp_path
    assert open_store(tmp_path.as_uri()).root == tmp_path
    with pytest.raises(StorageError, match="unknown store scheme 'ftp'"):
        open_store("ftp://example.org/x")


def test_check_reports_a_missing_folder_without_making_it(tmp_path):
    missing = tmp_path / "no" / "such" / "store"
    with pytest.raises(StorageError) as info:
        LocalStore(missing).check(create=False)
    assert str(info.value) == (
        f"the store folder {missing} does not exist: check the path; a crawl with"
        f" --store {missing} creates it"
    )
    assert not (tmp_path / "no").exists()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StorageError, match="afile is a file, not a folder: choose another path"):
        LocalStore(tmp_path / "afile").check(create=False)
    LocalStore(missing).check()  # a crawl's check makes the folder it will store into
    assert missing.is_dir() and list(missing.iterdir()) == []
    LocalStore(missing).check(create=False)


def test_store_check_command_creates_nothing(tmp_path):
    """`archiver store check` only looks: a mistyped --store is reported, not made, and a
    home with no archive stays as it was."""
    home = tmp_path / "home"
    missing = tmp_path / "nonexistent"
    result = run_cli(home, "store", "check", "--store", str(missing))
    assert result.returncode == 1
    assert result.stdout == f"store: {missing.as_uri()}\n"
    assert result.stderr == (
        f"Error: the store folder {missing} does not exist: check the path; a crawl with"
        f" --store {missing} creates it\n"
    )
    assert not missing.exists() and not home.exists()
    as_json = run_cli(home, "store", "check", "--store", str(missing), "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {
        "store": missing.as_uri(),
        "ok": False,
        "checks": [{"ok": False, "message": result.stderr.removeprefix("Error: ").strip()}],
    }
    assert as_json.stderr == (
        'Error: 1 problem(s) with the store: see "checks" in the JSON on stdout\n'
    )  # nothing is listed above it: the text lines are not printed
    assert not missing.exists() and not home.exists()
    missing.mkdir()
    result = run_cli(home, "store", "check", "--store", str(missing))
    assert (result.returncode, result.stdout) == (
        0,
        f"store: {missing.as_uri()}\nok: can write to {missing}\n",
    )
    assert list(missing.iterdir()) == [] and not home.exists()
