"""Leases on a shared frontier (archiver/catalog/leases.py), on SQLite and PostgreSQL.

Expiry is tested by back-dating lease times in the catalog, never by sleeping.
"""

from __future__ import annotations

import threading

import pytest

from archiver.catalog import leases, open_catalog
from archiver.catalog.frontier import FrontierEntry, add_entries, mark_done
from archiver.catalog.jobs import create_job


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    if request.param == "sqlite":
        yield tmp_path / "catalog.sqlite"
        return
    url = request.getfixturevalue("postgres_url")
    yield url


@pytest.fixture
def catalog(location):
    catalog = open_catalog(location)
    yield catalog
    catalog.close()


def _job(catalog, urls, name="j"):
    job = create_job(catalog, name, {}, [])
    with catalog.transaction() as conn:
        add_entries(conn, job.id, [FrontierEntry(u, None, "page", 0, None) for u in urls])
    return job.id


def _backdate(catalog, token, seconds=3600):
    with catalog.transaction() as conn:
        for table in ("frontier", "crawl_hosts"):
            conn.execute(
                f"UPDATE {table} SET lease_until = lease_until - ? WHERE lease_token = ?",
                (seconds, token),
            )


def test_a_claim_takes_a_due_host_and_its_urls_in_order(catalog):
    job = _job(catalog, ["http://a.test/1", "http://a.test/2", "http://b.test/1"])
    got, expired = leases.claim(catalog, "w1", job, hosts=1, per_host=5)
    assert expired == []
    [lease] = got
    assert lease.host in {"a.test", "b.test"}
    if lease.host == "a.test":
        assert [e.url for e in lease.entries] == ["http://a.test/1", "http://a.test/2"]
    # The host is leased: a second worker gets the other host only, then nothing.
    other, _ = leases.claim(catalog, "w2", job, hosts=4, per_host=5)
    assert [x.host for x in other] == [{"a.test", "b.test"}.difference({lease.host}).pop()]
    assert leases.claim(catalog, "w3", job, hosts=4)[0] == []


def test_a_fenced_mark_done_keeps_a_row_another_worker_leased_since(catalog):
    job = _job(catalog, ["http://a.test/1"])
    [first], _ = leases.claim(catalog, "w1", job)
    _backdate(catalog, first.token)  # w1 stalled past its lease
    [second], _ = leases.claim(catalog, "w2", job)
    assert second.token != first.token
    with catalog.transaction() as conn:  # w1's capture commits late: its mark is fenced
        mark_done(conn, job, [("http://a.test/1", first.token)])
    [row] = catalog.conn.execute("SELECT done, lease_token FROM frontier").fetchall()
    assert (row[0], row[1]) == (0, second.token)
    with catalog.transaction() as conn:
        mark_done(conn, job, [("http://a.test/1", second.token)])
    assert catalog.conn.execute("SELECT done FROM frontier").fetchone()[0] == 1


def test_an_expired_lease_that_nobody_took_still_completes(catalog):
    job = _job(catalog, ["http://a.test/1"])
    [lease], _ = leases.claim(catalog, "w1", job)
    _backdate(catalog, lease.token)
    with catalog.transaction() as conn:
        mark_done(conn, job, [("http://a.test/1", lease.token)])
    assert catalog.conn.execute("SELECT done FROM frontier").fetchone()[0] == 1


def test_after_max_attempts_a_url_is_failed_with_its_reason_never_deleted(catalog):
    job = _job(catalog, ["http://a.test/1", "http://a.test/2"])
    for worker in ("w1", "w2", "w3"):
        [lease], expired = leases.claim(catalog, worker, job, max_attempts=3)
        assert expired == []
        leases.fetching(catalog, job, lease.token, [e.url for e in lease.entries])
        with catalog.transaction() as conn:  # the second URL completes each time... once
            mark_done(conn, job, [("http://a.test/2", lease.token)])
        _backdate(catalog, lease.token)
    got, expired = leases.claim(catalog, "w4", job, max_attempts=3)
    assert got == []
    assert [(e.url, e.attempts) for e in expired] == [("http://a.test/1", 3)]
    assert "w3" in expired[0].reason
    [failed] = leases.failed_entries(catalog, job)
    assert failed.url == "http://a.test/1" and "lease expired 3 times" in failed.reason
    counts = {c.host: c for c in leases.job_counts(catalog, job)}
    assert (counts["a.test"].done, counts["a.test"].failed, counts["a.test"].queued) == (1, 1, 0)
    assert not leases.has_open_entries(catalog, job)


def test_urls_only_waiting_in_a_dead_workers_lease_count_no_attempt(catalog):
    """Three workers die fetching the first URL; the second only waited in their leases."""
    job = _job(catalog, ["http://a.test/1", "http://a.test/2"])
    for worker in ("w1", "w2", "w3"):
        [lease], _ = leases.claim(catalog, worker, job, max_attempts=3)
        assert [e.url for e in lease.entries] == ["http://a.test/1", "http://a.test/2"]
        leases.fetching(catalog, job, lease.token, ["http://a.test/1"])
        _backdate(catalog, lease.token)
    [lease], expired = leases.claim(catalog, "w4", job, max_attempts=3)
    assert [e.url for e in expired] == ["http://a.test/1"]
    assert [e.url for e in lease.entries] == ["http://a.test/2"]
    rows = dict(catalog.conn.execute("SELECT url, attempts FROM frontier").fetchall())
    assert rows == {"http://a.test/1": 3, "http://a.test/2": 0}


def test_release_returns_unfetched_urls_and_spaces_the_next_fetch(catalog):
    job = _job(catalog, ["http://a.test/1", "http://a.test/2"])
    [lease], _ = leases.claim(catalog, "w1", job)
    with catalog.transaction() as conn:
        mark_done(conn, job, [("http://a.test/1", lease.token)])
    leases.release(catalog, lease.token, delay=3600)
    row = catalog.conn.execute(
        "SELECT attempts, lease_token FROM frontier WHERE url = 'http://a.test/2'"
    ).fetchone()
    assert (row[0], row[1]) == (0, None)  # not attempted, back in the queue
    # The host is not due for an hour: no worker may claim it.
    assert leases.claim(catalog, "w2", job)[0] == []
    counts = {c.host: c for c in leases.job_counts(catalog, job)}
    assert (counts["a.test"].queued, counts["a.test"].done) == (1, 1)
    with catalog.transaction() as conn:
        conn.execute("UPDATE crawl_hosts SET next_fetch = next_fetch - 3600")
    assert [x.host for x in leases.claim(catalog, "w2", job)[0]] == ["a.test"]


def test_back_off_holds_a_host_for_every_worker(catalog):
    job = _job(catalog, ["http://a.test/1"])
    leases.back_off(catalog, "a.test", 3600)
    assert leases.claim(catalog, "w1", job)[0] == []


def test_renew_extends_held_leases_and_reports_lost_ones(catalog):
    job = _job(catalog, ["http://a.test/1", "http://b.test/1"])
    got, _ = leases.claim(catalog, "w1", job)
    by_host = {lease.host: lease for lease in got}
    _backdate(catalog, by_host["b.test"].token)
    leases.claim(catalog, "w2", job)  # takes b.test
    held = leases.renew(catalog, [lease.token for lease in got])
    assert held == {by_host["a.test"].token}
    until = catalog.conn.execute(
        "SELECT lease_until FROM frontier WHERE url = 'http://a.test/1'"
    ).fetchone()[0]
    assert until > leases.database_now(catalog) + leases.LEASE_SECONDS - 5


def test_concurrent_claims_never_share_a_host(location):
    """Eight threads, each with its own connection, claim at once: every host goes to
    one worker only."""
    setup = open_catalog(location)
    job = _job(setup, [f"http://h{i}.test/{j}" for i in range(40) for j in range(3)])
    setup.close()
    claimed: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def work(name: str) -> None:
        catalog = open_catalog(location)
        try:
            while True:
                got, _ = leases.claim(catalog, name, job, hosts=2)
                if not got:
                    return
                claimed.extend((lease.host, name) for lease in got)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            catalog.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    hosts = [host for host, _ in claimed]
    assert sorted(hosts) == sorted(f"h{i}.test" for i in range(40))


def test_workers_inserting_the_same_urls_in_any_order_never_deadlock(postgres_url):
    """Two workers' commits enter overlapping links found in different orders: rows go in
    URL order, so one waits for the other instead of PostgreSQL breaking a deadlock."""
    setup = open_catalog(postgres_url)
    job = create_job(setup, "j", {}, []).id
    setup.close()
    errors: list[BaseException] = []

    def commit(urls: list[str], start: threading.Barrier) -> None:
        catalog = open_catalog(postgres_url)
        try:
            start.wait()
            with catalog.transaction() as conn:
                add_entries(conn, job, [FrontierEntry(u, None, "page", 1, None) for u in urls])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            catalog.close()

    for round_ in range(10):
        urls = [f"http://h{i % 7}.test/{round_}/{i}" for i in range(400)]
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=commit, args=(urls, start)),
            threading.Thread(target=commit, args=(urls[::-1], start)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
