"""gunicorn settings of the bare endpoint: the server `openfloor web` runs, around a bare app.

Each worker keeps to a core of its own and switches threads every millisecond, as
``openfloor.server`` sets up openfloor's, so the two servers differ only by their application.
"""

from __future__ import annotations

import sys
from typing import Any

from openfloor.server import SWITCH_INTERVAL, choose_cpu, pin_worker

pre_fork = choose_cpu


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: its core, and the thread switch interval of `openfloor web`."""
    pin_worker(server, worker)
    sys.setswitchinterval(SWITCH_INTERVAL)
