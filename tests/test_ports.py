"""tests/ports.py: a port for a bot to listen on, outside the range outgoing connections use."""

from __future__ import annotations

import socket

from tests.ports import LOWEST, _ephemeral_start, free_port


def test_the_port_is_free_and_below_the_ephemeral_range():
    top = _ephemeral_start()
    for _ in range(20):
        port = free_port()
        if top - LOWEST >= 1_000:
            assert LOWEST <= port < top
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # still free: nothing kept it
