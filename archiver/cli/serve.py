"""``archiver serve``: the researchers' web view (archiver/web/). Flask is imported here,
when the command runs, never at the CLI's start."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import threading

import click

from archiver.errors import ArchiverError

TOKEN_ENV = "ARCHIVER_SERVE_TOKEN"


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0: any free one, printed at start).")  # fmt: skip
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on; one off loopback needs --public.")  # fmt: skip
@click.option("--public", is_flag=True,
              help=f"Allow another --bind; each request needs the token ${TOKEN_ENV}.")  # fmt: skip
@click.option("--host-name", "host_names", multiple=True, metavar="NAME",
              help="With --public: a name it is reached by (a Host accepted).")  # fmt: skip
@click.option("--replay-port", type=click.IntRange(0, 65535), metavar="PORT",
              help="Loopback port of the replay origin (default: --port + 1).")  # fmt: skip
@click.pass_obj
def serve(obj, port: int, bind: str, public: bool, host_names: tuple[str, ...],  # type: ignore[no-untyped-def]
          replay_port: int | None) -> None:  # fmt: skip
    """Serve the web view of the archive: captures, search (Chinese too), URL
    timelines, a record page per capture with its citations, diffs, events and seeds.

    Listens on loopback only unless --public. The catalog is read-only to it except for
    three actions (fixity check, WACZ export, adding a seed).

    Example: archiver serve --port 8080   (then open http://127.0.0.1:8080/)
    """
    from werkzeug.serving import make_server

    from archiver.web.app import create_app
    from archiver.web.searchfeed import catch_up, follow, index_path

    token = os.environ.get(TOKEN_ENV) or None
    if not _is_loopback(bind) and not public:
        raise ArchiverError(
            f"--bind {bind} is not a loopback address: anyone who can reach it would read the"
            f" archive. Add --public and set {TOKEN_ENV} to a long random token"
            " (python3 -c 'import secrets; print(secrets.token_urlsafe())'), or bind 127.0.0.1"
        )
    if public and (token is None or len(token) < 16):
        raise ArchiverError(
            f"--public needs a token of at least 16 characters in {TOKEN_ENV}: make one with"
            " python3 -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    if host_names and not public:
        raise ArchiverError(
            "--host-name is for --public: on loopback only loopback names are served"
        )
    catalog = obj.catalog()
    try:
        added = catch_up(catalog, index_path(obj.home.root))
        click.echo(f"search index: {added} new capture(s) indexed")
    except ArchiverError as exc:  # the other pages work without it
        click.echo(f"search index: off, as {exc}")
    following = threading.Event()
    threading.Thread(
        target=follow, args=(obj.home.catalog_location, index_path(obj.home.root), following),
        daemon=True,
    ).start()  # fmt: skip
    allowed = {"127.0.0.1", "localhost", "::1", bind, *host_names}
    replayer, replay_origin = None, None
    if public:
        click.echo("replay: off with --public (it is served on loopback only)")
    else:
        replayer = _replay_server(
            obj.home, port + 1 if port and replay_port is None else replay_port or 0
        )
        if replayer is not None:
            replay_origin = f"http://127.0.0.1:{replayer.port}"
            threading.Thread(target=replayer.serve_forever, daemon=True).start()
            click.echo(f"replay: ReplayWeb.page on its own origin, {replay_origin}")
    app = create_app(
        obj.home, allowed_hosts=allowed, token=token if public else None,
        replay_origin=replay_origin,
    )  # fmt: skip
    server = make_server(bind, port, app, threaded=True)
    shown = f"[{bind}]" if ":" in bind else bind
    click.echo(f"serving {obj.home.root} at http://{shown}:{server.port}/ (Ctrl-C to stop)")
    signal.signal(signal.SIGTERM, _stop)  # as Ctrl-C: close the socket and exit 0
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        following.set()
        server.server_close()
        if replayer is not None:
            replayer.shutdown()
            replayer.server_close()
            shutil.rmtree(replayer.app.config["CACHE"], ignore_errors=True)


def _replay_server(home, port: int):  # type: ignore[no-untyped-def]
    """The replay origin's server on loopback, or None (and why) without ReplayWeb.page."""
    from werkzeug.serving import make_server

    from archiver.web.replayserver import (
        RWP_ENV,
        RWP_VERSION,
        create_replay_app,
        has_replayweb,
        replayweb_dir,
    )

    folder = replayweb_dir(home.root)
    if not has_replayweb(folder):
        click.echo(
            f"replay: off, as ReplayWeb.page is not in {folder} (or {RWP_ENV}): fetch it with"
            f" npm pack replaywebpage@{RWP_VERSION} && mkdir -p {folder} && tar xzf"
            f" replaywebpage-{RWP_VERSION}.tgz -C {folder} --strip-components=1"
        )
        return None
    app = create_replay_app(home, folder, {"127.0.0.1", "localhost"})
    return make_server("127.0.0.1", port, app, threaded=True)


def _stop(*_: object) -> None:
    raise KeyboardInterrupt
