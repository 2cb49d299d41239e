"""`openfloor run`'s process supervisor: start every child, restart the ones that die."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("openfloor")
#: A child that ran this long before dying is restarted at once again (its back-off resets).
STABLE_SECONDS = 30.0
#: ``prctl`` option: the signal the kernel sends a process when its parent dies (Linux).
PR_SET_PDEATHSIG = 1


def _ends_with_parent() -> Callable[[], None] | None:
    """Run in a new child before it starts: SIGTERM for it when the supervisor dies (Linux).

    However the supervisor ends (``kill -9`` included), the kernel then stops its children,
    so no web server, worker or Redis is left running without it.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the supervisor died before this ran
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


@dataclass
class Child:
    """One supervised process; ``ready`` (optional) waits until it serves after a start.

    ``detached``: the process runs in a session of its own, so a Ctrl-C at the terminal (sent
    to the whole foreground process group) does not reach it; the supervisor stops it in its
    turn. For the embedded Redis, which the other children need until they have stopped.
    Every child is sent SIGTERM by the kernel if the supervisor dies (see
    :func:`_ends_with_parent`).
    """

    name: str
    command: list[str]
    ready: Callable[[], object] | None = None
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    delay: float = 1.0
    detached: bool = False

    def start(self, env: dict[str, str]) -> None:
        """Start (or restart) the process and wait until it is ready."""
        self.proc = subprocess.Popen(
            self.command,
            env=env,
            start_new_session=self.detached,
            # preexec_fn is unsafe only with threads; the supervisor has none
            preexec_fn=_ends_with_parent(),
        )
        self.started = time.monotonic()
        if self.ready is not None:
            self.ready()

    def died(self) -> bool:
        """True once the process has exited."""
        return self.proc is not None and self.proc.poll() is not None


def supervise(children: list[Child], env: dict[str, str]) -> None:
    """Run every child (already started ones are kept); restart one that dies, with back-off.

    Returns on Ctrl-C or SIGTERM, after stopping the children in reverse order (so the
    embedded Redis, started first, stops last).
    """
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for child in children:
            if child.proc is None:
                child.start(env)
        while not stopping:
            time.sleep(0.25)
            for child in children:
                if stopping or not child.died():
                    continue
                assert child.proc is not None
                if time.monotonic() - child.started > STABLE_SECONDS:
                    child.delay = 0.25
                log.warning(
                    "%s exited with %s; restarting in %.1fs",
                    child.name, child.proc.returncode, child.delay,
                )  # fmt: skip
                time.sleep(child.delay)
                child.delay = min(max(child.delay, 0.5) * 2, 30.0)
                child.start(env)
    finally:
        for child in reversed(children):
            _stop(child)


def _stop(child: Child) -> None:
    if child.proc is None or child.proc.poll() is not None:
        return
    child.proc.terminate()
    try:
        child.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.proc.kill()
        child.proc.wait()
