"""A proxy URL with a user and no password, as curl takes it: a crawl at a terminal asks
for the password (hidden) and keeps it for that run only; without a terminal nothing is
asked, and the proxy's 407 fails the capture with the reason ``proxy``. Run as a user
runs it: the crawl in a pseudo-terminal of its own, a real HTTP proxy with a password
(pproxy on 127.0.0.2), and the password looked for in everything the crawl wrote."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import termios
import threading
from pathlib import Path

from clihelp import CLI_TIMEOUT, _prepared, run_cli
from seedcli import ok
from vantagesites import (
    HTTP_VANTAGE,
    PASSWORD,
    Origin,
    Pproxy,
    captures,
    everything_written,
)

PROMPT = "proxy password for alice at vantage point hk-1 (its URL has none; it is not stored):"


def _take_terminal() -> None:
    """In the crawl's process, its own session already: its stdin, the pseudo-terminal,
    becomes its controlling terminal, as a shell's is."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_at_terminal(home: Path, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a pseudo-terminal as its stdin and controlling terminal; type
    ``answer`` once it asks for the password there. Returns it with what the terminal
    showed as its stdout (its own stdout and stderr are left out)."""
    command, env, cwd = _prepared(home, args, None, None)
    main, terminal = os.openpty()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=terminal, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_take_terminal,
    )  # fmt: skip
    os.close(terminal)
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(process.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    shown = b""
    # The prompt comes on the terminal once its echo is off (what is typed before that
    # is flushed, as at a real terminal): then the answer is typed.
    while PROMPT.encode() not in shown and select.select([main], [], [], CLI_TIMEOUT)[0]:
        try:
            shown += os.read(main, 1024)
        except OSError:  # the terminal closed: the command ended without asking
            break
    os.write(main, answer.encode() + b"\n")
    code = process.wait(CLI_TIMEOUT)
    reader.join(CLI_TIMEOUT)
    os.close(main)
    return subprocess.CompletedProcess(command, code, shown.decode(), b"".join(err).decode())


def test_a_crawl_at_a_terminal_asks_for_the_password_and_stores_it_nowhere(
    home: Path, origin: Origin, http_proxy: Pproxy
) -> None:
    proxy = f"http://alice@{http_proxy.host}:{http_proxy.port}"
    added = ok(run_cli(home, "vantage", "add", "hk-1", "--proxy", proxy, "--country", "HK"))
    assert added.stdout == f"added vantage point hk-1: http {proxy} (HK)\n"
    assert added.stderr == (
        "archiver: note: no password for alice: a crawl at a terminal asks for it and keeps it"
        " for that run only (never stored); for unattended crawls (run-due, workers) give it"
        " as alice:env:VARIABLE instead\n"
    )

    # No terminal (cron, a worker): nothing is asked, and the proxy refuses.
    unattended = run_cli(home, "crawl", "--profile", "test", origin.url + "a", "--via", "hk-1")
    assert unattended.returncode == 1
    assert "proxy password" not in unattended.stderr
    assert origin.log == []
    [row] = [row for row in captures(home) if row["url"] == origin.url + "a"]
    assert row["error"].startswith("proxy: vantage point 'hk-1' (http proxy) refused the")

    result = run_at_terminal(
        home, PASSWORD, "crawl", "--profile", "test", origin.url + "b", "--via", "hk-1"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == PROMPT + " "  # on the terminal; what is typed is not shown
    assert [entry["peer"] for entry in origin.log if entry["line"] == "GET /b HTTP/1.1"] == [
        HTTP_VANTAGE
    ]
    [row] = [row for row in captures(home) if row["url"] == origin.url + "b"]
    assert (row["http_status"], row["vantage"]["name"]) == (200, "hk-1")
    assert PASSWORD.encode() not in everything_written(home, added, unattended, result)

    # Several vantage points: asked once, and each job's crawl gets it from the run.
    several = run_at_terminal(
        home, PASSWORD, "crawl", "--profile", "test", origin.url + "c", "--via", "hk-1,direct"
    )
    assert several.returncode == 0, several.stderr
    assert several.stdout == PROMPT + " "
    peers = [entry["peer"] for entry in origin.log if entry["line"] == "GET /c HTTP/1.1"]
    assert peers == [HTTP_VANTAGE, "127.0.0.1"]
    assert PASSWORD.encode() not in everything_written(home, several)
