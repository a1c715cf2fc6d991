"""Records tests write call audio only under their tmp_path (the AMI consent test runs the
bridge, which records consenting callers through MixMonitor)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_recording_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_MIXMONITOR_DIR", str(tmp_path / "mixmonitor"))
    monkeypatch.setenv("HOTLINE_RECORDINGS_DIR", str(tmp_path / "recordings-store"))
