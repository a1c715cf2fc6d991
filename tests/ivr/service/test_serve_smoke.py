"""``hotline serve`` as a process: SIPp callers reach the IVR and the live ACD's virtual agents;
SIGTERM mid-call ends every call with exactly one outcome row, and the process exits 0."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.banner import read_banner
from tests.ivr.drivers.sip.conftest import short_prompts  # noqa: F401 - fixture
from tests.ivr.service.conftest import call_rows

ROOT = Path(__file__).resolve().parents[3]
SIPP = ROOT / "tests" / "sipp"
pytestmark = [pytest.mark.real("sipp"), pytest.mark.timeout(120)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(port: int, recordings: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "--log-format", "json", "serve", "--sip",
         f"127.0.0.1:{port}", "--no-web", "--at", "2026-11-23T10:00", "--drain", "1",
         "--recordings", str(recordings)],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    banner = read_banner(proc, 60)
    if banner and banner[-1].strip().startswith("figures"):
        return proc
    proc.kill()
    pytest.fail(f"serve did not start: {''.join(banner)}")


def sipp(port: int, scenario: str, calls: int) -> subprocess.Popen:
    return subprocess.Popen(
        ["sipp", f"127.0.0.1:{port}", "-sf", str(SIPP / scenario), "-s", "88005553535",
         "-m", str(calls), "-l", str(calls), "-r", "20", "-nostdin", "-timeout", "60s",
         "-timeout_error", "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
         "-recv_timeout", "60000"],
        cwd=SIPP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigterm_mid_call_gives_every_call_one_outcome(db_url, short_prompts):  # noqa: F811
    port = free_port()
    serve = start_serve(port, short_prompts)
    try:
        queued = sipp(port, "shipped_digit_queue.xml", 4)  # key 3: documents, then an agent
        silent = sipp(port, "no_digits.xml", 2)  # still in the IVR when the stop comes
        time.sleep(4.0)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(30) == 0
        out = serve.stdout.read()
        assert queued.wait(30) == 0 and silent.wait(30) == 0  # each got its BYE
    finally:
        for p in (serve,):
            if p.poll() is None:
                p.kill()
    rows = call_rows(db_url)
    assert len(rows) == 6 and max(Counter(r.call_id for r in rows).values()) == 1
    by = Counter(r.outcome for r in rows)
    assert "queued" not in by
    answered = [r for r in rows if r.skill == "documents"]
    assert len(answered) == 4
    for r in answered:  # virtual agents on Monday 10:00 took them at once
        assert r.outcome == "answered" and r.agent_id.startswith("agent-")
        assert r.answered_at is not None and r.ended_at >= r.answered_at
    assert "0 lost" in out
