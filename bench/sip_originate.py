"""Calls the SIP endpoint places (``SipEndpoint.originate``), N at a time, to a SIPp UAS.

For each N the endpoint places N calls spread over one second to SIPp answering with
``bench/data/uas_answer_at_once.xml`` (200 + SDP at once — why not 100/180 first: see the
file; then our ACK and BYE).
Each answered call runs a two-command session (the 4 s ``connecting`` prompt, then hang-up),
the shape of a callback leg. Printed: answered share, setup time (INVITE built → 200 handled
and the session started: what ``originate`` awaits) p50/p99, the endpoint's CPU (cores during
the run, ms per call) and the media clock's share. Peer, same run, same UAS scenario: SIPp 3.6.1
itself as the UAC (its built-in ``uac`` scenario, ``-d 4000``) — its INVITE→200 times from
``-trace_rtt`` (whole milliseconds) and its CPU. Run: ``.venv/bin/python bench/sip_originate.py [N ...]``
(default 50 200 500; needs ``sipp``).
"""
from __future__ import annotations

import asyncio
import glob
import os
import resource
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
UAS = ROOT / "bench" / "data" / "uas_answer_at_once.xml"
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Greeting:
    """A callback leg's shape: one prompt, then hang up (no database)."""

    def __init__(self, n: int) -> None:
        self.call_id, self.done, self.ended = f"bench-{n}", False, None

    def start(self, now: datetime) -> list[Any]:
        from ivr.call.protocol import Hangup, Play

        return [Play(("connecting",), "ru", barge_in=False), Hangup("normal")]

    def feed(self, event: Any, now: datetime) -> list[Any]:
        self.done, self.ended = True, type(event).__name__
        return []

    def fail(self, now: datetime, detail: str) -> list[Any]:
        self.done, self.ended = True, detail
        return []


async def _uas(port: int, n: int, workdir: str) -> asyncio.subprocess.Process:
    args = ["sipp", "-sf", str(UAS), "-m", str(n), "-nostdin", "-i", "127.0.0.1", "-p",
            str(port), "-mp", str(_free_port()), "-timeout", "120s", "-max_socket", "4096"]
    proc = await asyncio.create_subprocess_exec(*args, cwd=workdir,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    await asyncio.sleep(0.5)
    return proc


async def ours(n: int) -> dict[str, float]:
    from ivr.drivers.sip import SipEndpoint

    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        uas = await _uas(port, n, tmp)
        ep = SipEndpoint(None, "127.0.0.1", 0, clock=lambda: datetime.now(UTC),
                         outbound=f"sip:127.0.0.1:{port}", rtp_timeout=60)
        await ep.start()
        ep.prompts.get("connecting", "ru", 0)  # pre-encoded, as a service does at start
        setups: list[float] = []

        async def one(i: int) -> str:
            await asyncio.sleep(i / n)  # N calls over one second
            began = time.perf_counter()
            res = await ep.originate(f"+7916{i:07d}", Greeting(i), timeout_s=30)
            setups.append(time.perf_counter() - began)
            return res.reason

        t0, c0, m0 = time.monotonic(), time.process_time(), ep.media.busy
        reasons = Counter(await asyncio.gather(*(one(i) for i in range(n))))
        calls = [d.call.task for d in ep.dialogs.values() if d.call and d.call.task]
        if calls:
            await asyncio.wait(calls, timeout=60)
        while ep.dialogs and time.monotonic() - t0 < 90:  # the BYEs' 200s
            await asyncio.sleep(0.05)
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        media = ep.media.busy - m0
        await ep.stop(drain_timeout=0)
        try:
            await asyncio.wait_for(uas.wait(), 30)
        except TimeoutError:
            uas.kill()
    ms = np.array(setups) * 1000
    return {"answered": reasons["answered"] / n, "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99)), "cores": cpu / wall, "media": media / wall,
            "cpu_call": 1000 * cpu / n,
            "sipp_rc": float(uas.returncode or 0), "reasons": dict(reasons)}


async def peer(n: int) -> dict[str, float]:
    """SIPp's own UAC against the same UAS scenario."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        uas = await _uas(port, n, tmp)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        uac = await asyncio.create_subprocess_exec(
            "sipp", f"127.0.0.1:{port}", "-sn", "uac", "-m", str(n), "-r", str(n), "-rp", "1000",
            "-d", "4000", "-nostdin", "-i", "127.0.0.1", "-p", str(_free_port()), "-mp",
            str(_free_port()), "-trace_rtt", "-rtt_freq", "1", "-timeout", "120s",
            cwd=tmp, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await uac.wait()
        wall = time.monotonic() - t0
        try:
            await asyncio.wait_for(uas.wait(), 30)
        except TimeoutError:
            uas.kill()
            await uas.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rtts: list[float] = []
        for path in glob.glob(os.path.join(tmp, "*_rtt.csv")):
            for line in Path(path).read_text().splitlines()[1:]:
                cols = line.split(";")  # Date_ms;response_time_ms;rtd_no (whole ms)
                if len(cols) >= 2 and cols[1].strip():
                    rtts.append(float(cols[1]))
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    ms = np.array(rtts or [np.nan])
    return {"answered": len(rtts) / n, "p50": float(np.nanpercentile(ms, 50)),
            "p99": float(np.nanpercentile(ms, 99)), "cores": cpu / wall,
            "cpu_call": 1000 * cpu / n, "uac_rc": float(uac.returncode or 0)}


def main() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    levels = [int(a) for a in sys.argv[1:]] or [50, 200, 500]
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} cores")
    print("setup: originate() called → answered and the session started (SIPp: INVITE sent →"
          " 200 received, whole ms); cpu/call: the whole call, 4 s of RTP included for us (none"
          " for SIPp); media: the media clock's ticks, wall time (over 'cores' when the box is"
          " loaded)")
    print(f"{'N':>5} {'who':<9} {'answered':>8} {'setup p50':>10} {'p99':>8} {'cores':>6} "
          f"{'media':>6} {'ms cpu/call':>11}")
    for n in levels:
        for name, run in (("hotline", ours), ("sipp-uac", peer)):
            f = asyncio.run(run(n))
            print(f"{n:>5} {name:<9} {f['answered']:>8.1%} {_ms(f['p50']):>10} "
                  f"{_ms(f['p99']):>8} {f['cores']:>6.2f} {f.get('media', float('nan')):>6.2f} "
                  f"{f['cpu_call']:>11.2f}"
                  f"{'  ' + str(f['reasons']) if f['answered'] < 1 and 'reasons' in f else ''}",
                  flush=True)


def _ms(value: float) -> str:
    return "<1ms" if value == 0 else f"{value:.2f}ms"


if __name__ == "__main__":
    main()
