"""Concurrent SIPp calls with DTMF against the SIP endpoint; pyVoIP's media beside it.

Each SIPp call walks the menu with RFC 2833 keys (``tests/sipp/walk_rfc2833.pcap``: 2, 1, the
demo SNILS with its repeated digits, #, the birth date, #), is held, then hangs up. A call's
digits are intact when its outcome row says the one-time code went out (``otp:sent``: every
key arrived once, in order, or the SNILS checksum / birth date would not match). The endpoint
runs in a child process with the real prompts, SQLite and the registry; its CPU time, peak
memory, media-clock time and peak concurrent dialogs are measured there. For each N the same
number of transmit-only streams is then run through bare pyVoIP 1.6.8 and through the media
clock (``bench/sip_media.py``). Run: ``.venv/bin/python bench/sip_load.py [N ...]``
(default 100 300 500; needs ``sipp``).
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import re
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SIPP_DIR = ROOT / "tests" / "sipp"
HOLD_MS, RAMP_S = 20_000, 10.0
PEER_MAX = 500


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def _endpoint(db: str, ready: mp.Queue, done: mp.Event, out: mp.Queue) -> None:
    """Child: seed a database, serve SIP until ``done``, report figures and outcomes."""
    os.chdir(ROOT)
    os.environ["HOTLINE_DB_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("HOTLINE_SECRET", "bench-secret-0123456789abcdef0123")
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    from sqlalchemy import select

    from ivr.call.services import DbServices
    from ivr.call.session import Hotline
    from ivr.call.waits import FixedWait
    from ivr.citizens import registry
    from ivr.citizens.otp import OtpPolicy
    from ivr.drivers.sip import SipEndpoint
    from ivr.store.base import make_engine, session_factory
    from ivr.store.migrate import upgrade
    from ivr.store.models import Call

    engine = make_engine(os.environ["HOTLINE_DB_URL"])
    upgrade(engine)
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    with session_factory(engine)() as s:
        registry.seed(s, 3, today=monday.date())
        s.commit()

    async def main() -> dict[str, float]:
        # every call identifies the same demo citizen at the same instant: lift the per-account
        # OTP budget (SPEC §6 limits a person, not a load test) so each call's code goes out
        policy = OtpPolicy(resend_gaps=(timedelta(0),), account_max_sends=10**9)
        services = DbServices.from_url(None, FixedWait(180), otp_policy=policy)
        hotline = Hotline.load("dialplans", services=services)
        ep = SipEndpoint(hotline, "127.0.0.1", 0, clock=lambda: monday, rtp_timeout=60)
        await ep.start()
        for lang in ("ru", "en"):  # pre-encode every prompt, as a service would at start
            for wav in (ROOT / "recordings" / lang).glob("*.wav"):
                ep.prompts.get(wav.stem, lang, 0)
        base_rss = _vm("VmRSS")
        ready.put(ep.port)
        loop = asyncio.get_running_loop()
        t0, c0, peak = time.monotonic(), time.process_time(), 0
        while not done.is_set():
            peak = max(peak, sum(1 for d in ep.dialogs.values() if d.call is not None))
            await asyncio.sleep(0.25)
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        busy = ep.media.busy
        await ep.stop(drain_timeout=5)
        del loop
        return {"wall": wall, "cpu": cpu, "media": busy, "peak": peak,
                "rss": (_vm("VmHWM") - base_rss), "late": ep.media.late_ticks}

    figures = asyncio.run(main())
    with session_factory(engine)() as s:
        calls = list(s.scalars(select(Call)))
    figures["rows"] = len(calls)
    figures["intact"] = sum(1 for c in calls if "otp:sent" in (c.menu_path or []))
    figures["broken"] = Counter(" ".join(c.menu_path or []) + f" → {c.outcome}" for c in calls
                                if "otp:sent" not in (c.menu_path or []))
    out.put(figures)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_level(n: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    ready, out, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    with tempfile.TemporaryDirectory() as tmp:
        child = ctx.Process(target=_endpoint, args=(f"{tmp}/load.db", ready, done, out))
        child.start()
        port = ready.get(timeout=120)
        scenario = (SIPP_DIR / "walk_rfc2833.xml").read_text()
        scenario = scenario.replace('play_pcap_audio="walk_rfc2833.pcap"',
                                    f'play_pcap_audio="{SIPP_DIR / "walk_rfc2833.pcap"}"')
        scenario = re.sub(r'<pause milliseconds="\d+"/>', f'<pause milliseconds="{HOLD_MS}"/>',
                          scenario)
        Path(tmp, "load.xml").write_text(scenario)
        rate = max(1.0, n / RAMP_S)
        cmd = ["sipp", f"127.0.0.1:{port}", "-sf", f"{tmp}/load.xml", "-s", "88005553535",
               "-m", str(n), "-l", str(n), "-r", f"{rate:.1f}", "-nostdin", "-i", "127.0.0.1",
               "-p", str(_free_port()), "-mp", str(_free_port()), "-timeout", "180s",
               "-timeout_error", "-max_socket", "4096", "-trace_err", "-error_file",
               f"{tmp}/errors.log"]
        t0 = time.monotonic()
        proc = __import__("subprocess").run(cmd, capture_output=True, text=True, cwd=tmp,
                                            timeout=240)
        sipp_wall = time.monotonic() - t0
        text = "".join(p.read_text(errors="replace") for p in Path(tmp).glob("*err*"))
        reasons = Counter(re.sub(r"\d+", "#", line.strip())[:100] for line in text.splitlines()
                          if line.strip() and not line.startswith(("-", " "))
                          and "SIP/2.0" not in line)
        time.sleep(1.0)
        done.set()
        figures = out.get(timeout=120)
        child.join(30)
    ok = re.search(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", proc.stdout)
    failed = re.search(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", proc.stdout)
    figures.update(sipp_ok=int(ok.group(1)) if ok else -1,
                   sipp_failed=int(failed.group(1)) if failed else -1, sipp_wall=sipp_wall,
                   reasons=reasons)
    return figures


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sip_media import measure

    levels = [int(a) for a in sys.argv[1:]] or [100, 300, 500]
    print(f"SIPp walk (23 RFC 2833 keys a call, {HOLD_MS / 1000:.0f} s hold, {RAMP_S:.0f} s ramp)"
          " against the endpoint (one process, one loop)")
    print(f"{'N':>5} {'peak':>5} {'sipp ok/fail':>12} {'rows':>5} {'keys ok':>8} "
          f"{'cores':>6} {'media':>6} {'ms cpu/call':>11} {'KiB/call':>9} | "
          f"{'pyVoIP tx cores':>15} {'delivered':>9} | {'clock tx cores':>14} {'delivered':>9}")
    best = 0
    for n in levels:
        f = run_level(n)
        intact = f["rows"] == n and f["intact"] == n and f["sipp_failed"] == 0
        best = n if intact else best
        print(f"{n:>5} {f['peak']:>5.0f} {f['sipp_ok']:>6}/{f['sipp_failed']:<5} "
              f"{f['rows']:>5.0f} {f['intact'] / n:>8.1%} {f['cpu'] / f['wall']:>6.2f} "
              f"{f['media'] / f['wall']:>6.2f} {1000 * f['cpu'] / n:>11.1f} "
              f"{f['rss'] / 1024 / max(1, f['peak']):>9.0f} | ", end="", flush=True)
        if n > PEER_MAX:  # 2 threads a stream: past this its start-up alone takes minutes
            print(f"{'(not run)':>15} {'':>9} | ", end="")
        else:
            py_cores, py_share = measure("pyvoip", n)
            print(f"{py_cores:>15.2f} {py_share:>9.1%} | ", end="")
        ck_cores, ck_share = measure("clock", n)
        print(f"{ck_cores:>14.2f} {ck_share:>9.1%}", flush=True)
        if f["late"]:
            print(f"        media clock fell behind and restarted its schedule {f['late']} times")
        for path, count in f["broken"].most_common(3):
            print(f"        calls without the code: {count} × {path}")
        for reason, count in f["reasons"].most_common(3):
            print(f"        SIPp: {count} × {reason}")
    print(f"highest N with every key and outcome intact: {best}")
    print("cores = the endpoint process's CPU time / wall time over the whole run (SIP, IVR,"
          " SQLite, RTP in and out); media = the 20 ms clock's own share")


if __name__ == "__main__":
    main()
