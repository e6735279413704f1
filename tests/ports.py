"""A TCP port for a bot under test to listen on (its dashboard, its metrics).

Why not the usual "bind to port 0, read the port, close": that port comes from the kernel's
ephemeral range, which every outgoing connection of the run (bots, the emulator, PostgreSQL
clients, on several pytest workers) also draws from, and the bot binds it only later, after it
starts; another connection can take it meanwhile (seen in CI: the dashboard's bind failed with
"address already in use"). A port below that range is never handed to an outgoing connection,
so only another test choosing the same free port at the same moment could collide, and the
choice is random over thousands of ports.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000


def _ephemeral_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port() -> int:
    """A port on 127.0.0.1 free now, outside the ephemeral range when there is room below."""
    top = _ephemeral_start()
    if top - LOWEST < 1_000:  # no room below the range: fall back to the kernel's choice
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    for _ in range(200):
        port = random.randrange(LOWEST, top)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port found between {LOWEST} and {top}")
