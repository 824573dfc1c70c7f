"""Run the real ``archiver`` command line in a subprocess, as a user does.

Import it from tests as ``from clihelp import run_cli`` (tests/ is on sys.path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["CLI_TIMEOUT", "job_json", "ok", "run_cli", "start_cli"]

CLI_TIMEOUT = 180  # seconds; a hung command fails the test instead of blocking the run

# Variables of the developer's shell that would change what the CLI does.
_SCRUBBED = ("ARCHIVER_HOME", "ARCHIVER_STORE")


def _default_cwd(home: Path | None) -> Path:
    """The nearest existing folder at or above ``home``'s parent (e.g. the test's tmp_path)."""
    if home is None:
        raise ValueError("run_cli(None, ...) needs cwd=: the folder to run in (e.g. tmp_path)")
    for folder in Path(home).absolute().parents:
        if folder.is_dir():
            return folder
    raise ValueError(f"no existing folder above {home}")


def _prepared(
    home: str | os.PathLike[str] | None,
    args: tuple[str, ...],
    env: Mapping[str, str | None] | None,
    cwd: str | os.PathLike[str] | None,
) -> tuple[list[str], dict[str, str], Path]:
    """The command, environment and folder ``run_cli`` and ``start_cli`` run in."""
    home_path = Path(home) if home is not None else None
    run_dir = Path(cwd) if cwd is not None else _default_cwd(home_path)
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    full_env["XDG_DATA_HOME"] = str(run_dir / ".xdg-data")
    full_env["PYTHONIOENCODING"] = "utf-8"
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    command = [sys.executable, "-m", "archiver"]
    if home_path is not None:
        command += ["--home", str(home_path)]
    command += list(args)
    return command, full_env, run_dir


def run_cli(
    home: str | os.PathLike[str] | None,
    *args: str,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m archiver [--home HOME] ARGS...`` and return the finished process.

    ``home=None`` leaves out ``--home`` (to test ``ARCHIVER_HOME``). ``env`` entries are
    added to a copy of this process's environment with ARCHIVER_HOME / ARCHIVER_STORE
    removed; a value of None removes that variable. ``cwd`` defaults to the nearest
    existing folder above ``home`` (never the repository root); it is required when
    ``home`` is None. ``XDG_DATA_HOME`` points into ``cwd`` so the default home can never
    be the developer's real one. Output is decoded as UTF-8 (undecodable bytes replaced).
    """
    command, full_env, run_dir = _prepared(home, args, env, cwd)
    return subprocess.run(
        command,
        cwd=run_dir,
        env=full_env,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=CLI_TIMEOUT,
        check=False,
    )


def start_cli(
    home: str | os.PathLike[str] | None,
    *args: str,
    env: Mapping[str, str | None] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    new_session: bool = False,
) -> subprocess.Popen[str]:
    """Start ``python -m archiver [--home HOME] ARGS...`` as ``run_cli`` runs it, without
    waiting: for commands that run until stopped (signal it, then ``communicate``).
    ``new_session``: in a session and process group of its own, as a command typed in a
    terminal is (``os.killpg(process.pid, signal.SIGINT)`` is then the terminal's Ctrl-C)."""
    command, full_env, run_dir = _prepared(home, args, env, cwd)
    return subprocess.Popen(
        command,
        cwd=run_dir,
        env=full_env,
        start_new_session=new_session,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """A command that succeeded, without a traceback; its output shown when it did not."""
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def job_json(home: Path, name: str) -> dict[str, Any]:
    """``archiver jobs show NAME --json``."""
    return json.loads(ok(run_cli(home, "jobs", "show", name, "--json")).stdout)
