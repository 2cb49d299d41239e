"""`openfloor run` keeps its embedded Redis alive and serves on the port it is given."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from redis import Redis

from openfloor.embedded import socket_path
from tests.support.processes import child_pids, wait_for
from tests.support.servers import free_port


def _redis_pid(sock: Path) -> int | None:
    client = Redis(unix_socket_path=str(sock), socket_connect_timeout=1)
    try:
        return int(client.info("server")["process_id"])
    except Exception:
        return None
    finally:
        client.close()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_run_restarts_a_killed_embedded_redis_and_honours_port(tmp_path: Path) -> None:
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(INSTANCE_PATH=str(instance), PORT=str(port), QUEUE_PREFIX="runtest")
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "openfloor", "run", "--no-demo"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    sock = socket_path(str(instance))
    try:
        wait_for(lambda: _healthy(port), timeout=90, interval=0.25)  # PORT from the environment
        first = wait_for(lambda: _redis_pid(sock), timeout=10)
        Redis(unix_socket_path=str(sock)).set("runtest:kept", "yes")
        os.kill(first, signal.SIGKILL)  # not a clean stop
        second = wait_for(lambda: _redis_pid(sock), timeout=30, interval=0.2)
        assert second != first
        # restarted from its append-only file, and the web process talks to it again
        assert Redis(unix_socket_path=str(sock)).get("runtest:kept") == b"yes"
        assert _healthy(port)
    finally:
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0
        log.close()
    # stopping `openfloor run` stops its Redis too
    assert _redis_pid(sock) is None


def test_run_refuses_a_port_in_use_before_starting_anything(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env.update(INSTANCE_PATH=str(instance), PORT=str(port))
        done = subprocess.run(
            [sys.executable, "-m", "openfloor", "run", "--no-demo"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode != 0
    assert f"127.0.0.1:{port} is already in use" in done.stderr
    assert not instance.exists()  # no database, no Redis: nothing was started


def test_ctrl_c_at_the_terminal_stops_everything_cleanly_redis_last(tmp_path: Path) -> None:
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(INSTANCE_PATH=str(instance), PORT=str(port), QUEUE_PREFIX="ctrlc")
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "openfloor", "run", "--no-demo"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for(lambda: _healthy(port), timeout=90, interval=0.25)
            wait_for(lambda: _redis_pid(socket_path(str(instance))), timeout=10)
        finally:
            # as a terminal does on Ctrl-C: SIGINT to every process of the foreground group
            os.killpg(run.pid, signal.SIGINT)
            assert run.wait(timeout=60) == 0
    output = log_path.read_text(errors="replace")
    # the workers and the scheduler stopped while Redis was still there to hear them
    assert "Traceback" not in output, output[-3000:]
    assert "could not connect to Redis" not in output
    assert _redis_pid(socket_path(str(instance))) is None


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting for a parent that will never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _descendants(pid: int) -> list[int]:
    kids = child_pids(pid)
    return kids + [pid for kid in kids for pid in _descendants(kid)]


def test_a_killed_supervisor_leaves_nothing_running(tmp_path: Path) -> None:
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(INSTANCE_PATH=str(instance), PORT=str(port), QUEUE_PREFIX="killed")
    with (tmp_path / "run.log").open("wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "openfloor", "run", "--no-demo"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    kids: list[int] = []
    try:
        wait_for(lambda: _healthy(port), timeout=90, interval=0.25)
        assert len(child_pids(run.pid)) == 5  # redis, worker, collector, scheduler, web
        kids = _descendants(run.pid)  # gunicorn's workers too
        assert len(kids) >= 7
        # the children were started with a pre-exec hook, which is safe only without threads
        assert len(list(Path(f"/proc/{run.pid}/task").iterdir())) == 1
        run.kill()  # no chance to stop anything itself
        run.wait(timeout=10)
        wait_for(lambda: not any(_alive(pid) for pid in kids), timeout=60, interval=0.25)
    finally:
        for pid in [run.pid, *kids]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert _redis_pid(socket_path(str(instance))) is None
    assert not _healthy(port)
