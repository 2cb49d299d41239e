"""`openfloor web` refuses a port another server listens on (its workers use SO_REUSEPORT)."""

from __future__ import annotations

import socket

import pytest

from openfloor.server import ensure_port_free


def _listener(*, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.mark.parametrize("reuse_port", [True, False])
def test_a_port_in_use_is_refused_with_a_clear_message(reuse_port: bool) -> None:
    with _listener(reuse_port=reuse_port) as other:
        port = other.getsockname()[1]
        with pytest.raises(SystemExit, match=f"127.0.0.1:{port} is already in use"):
            ensure_port_free("127.0.0.1", port)


def test_a_free_port_is_accepted_even_after_a_server_left_it() -> None:
    with _listener(reuse_port=True) as gone:
        port = gone.getsockname()[1]
    ensure_port_free("127.0.0.1", port)
