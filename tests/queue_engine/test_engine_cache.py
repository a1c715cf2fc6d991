"""The compiled engine's cache: a cold one is recognised (the CLI then says it compiles)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from queue_engine import compiled
from queue_engine.core_numba import cache_state
from queue_engine.sim import warm_compiled

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba not installed")


@pytest.mark.timeout(120)
def test_an_empty_cache_directory_is_cold(tmp_path) -> None:
    code = "from queue_engine.core_numba import cache_state; print(*cache_state(), sep='\\n')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}).stdout
    cached, where = out.splitlines()
    assert cached == "False" and where.startswith(str(tmp_path))


def test_a_warm_engine_loads_without_announcing() -> None:
    warm_compiled()  # compiles here if this process's cache was cold
    said: list[str] = []
    warm_compiled(said.append)
    assert said == [] and cache_state()[0] is True
