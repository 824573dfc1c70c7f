from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from pgserver import POSTGRES_RUN, fresh_database
from rawserver import FIDELITY_RESPONSE, RawSocketServer
from servers import FixtureSite

# The vantage point tests' fixtures (an origin, an HTTP proxy, a SOCKS5 server, a home).
pytest_plugins = ("vantagesites",)

# Every test server listens on loopback, which crawls refuse by default; the crawls the
# tests start (subprocesses inherit this) may reach it. test_netpolicy.py unsets it.
os.environ["ARCHIVER_ALLOW_PRIVATE_NETWORKS"] = "1"


@pytest.fixture
def fixture_site() -> Iterator[FixtureSite]:
    """A started FixtureSite serving tests/fixture_site/ plus the scripted paths."""
    with FixtureSite() as site:
        yield site


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawSocketServer]]:
    """Factory: raw_server(response=FIDELITY_RESPONSE) -> a started RawSocketServer.

    ``response`` is raw bytes or a callable taking the request bytes and returning bytes.
    Every server made is closed at teardown.
    """
    made: list[RawSocketServer] = []

    def make(response: bytes | Callable[[bytes], bytes] = FIDELITY_RESPONSE) -> RawSocketServer:
        server = RawSocketServer(response).start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on loopback (see pgserver.py)."""
    with fresh_database() as url:
        yield url


@pytest.fixture(autouse=True)
def live_only_when_asked(request) -> None:
    """Tests marked ``live`` talk to public services: only with ARCHIVER_TEST_LIVE=1
    (``.ci/run`` also deselects them)."""
    if request.node.get_closest_marker("live") and os.environ.get("ARCHIVER_TEST_LIVE") != "1":
        pytest.skip("talks to public services on the internet: set ARCHIVER_TEST_LIVE=1")


@pytest.fixture(autouse=True)
def catalog_engine(request, monkeypatch) -> Iterator[None]:
    """With ARCHIVER_TEST_CATALOG=postgresql, every test's commands use a fresh PostgreSQL
    database as their catalog (ARCHIVER_CATALOG), instead of the home's SQLite file.
    Tests marked ``sqlite_only`` are skipped then; tests marked ``own_catalog`` use the
    database their module-scoped fixture made (see module_catalog)."""
    if not POSTGRES_RUN:
        yield
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("reads or changes the home's SQLite file itself")
    if request.node.get_closest_marker("own_catalog"):
        yield
        return
    with fresh_database() as url:
        monkeypatch.setenv("ARCHIVER_CATALOG", url)
        yield
