"""Telling someone about a confirmed event: a command and/or a webhook, per event.

Both get the event as JSON (``archiver events --json`` keys). They run in a thread
so a slow receiver never holds up the crawl; a failure is logged, never fatal, and
the event stays in the catalog either way.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import threading
import urllib.request

from archiver import SOFTWARE
from archiver.watch.status import Event

logger = logging.getLogger(__name__)
TIMEOUT = 30


def _run(event: Event, command: str | None, webhook: str | None) -> None:
    data = json.dumps(event.to_json(), ensure_ascii=False).encode("utf-8")
    if command:
        try:
            done = subprocess.run(
                shlex.split(command), input=data, capture_output=True, timeout=TIMEOUT
            )
            if done.returncode != 0:
                logger.warning(
                    "event command %r exited %s: %s", command, done.returncode,
                    done.stderr.decode("utf-8", "replace")[:500],
                )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("event command %r could not run: %s", command, exc)
    if webhook:
        request = urllib.request.Request(
            webhook, data=data, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": SOFTWARE},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                response.read(1024)
        except (OSError, ValueError) as exc:
            logger.warning("event webhook %s failed: %s", webhook, exc)


def notify(event: Event, command: str | None, webhook: str | None) -> threading.Thread | None:
    if not command and not webhook:
        return None
    thread = threading.Thread(
        target=_run, args=(event, command, webhook), name="archiver-event", daemon=False
    )
    thread.start()
    return thread
