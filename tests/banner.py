"""Start a ``hotline serve``/``demo`` subprocess and read its banner (for end-to-end tests)."""
from __future__ import annotations

import time
from subprocess import Popen


def read_banner(proc: Popen, timeout: float) -> list[str]:
    """The banner lines up to its last one ("figures …"), or what came before EOF/timeout."""
    banner: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.strip().startswith("figures"):
            break
    return banner
