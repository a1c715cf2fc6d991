"""Concurrent SIPp calls with DTMF against the SIP endpoint; pyVoIP's media beside it.

Each SIPp call walks the menu with RFC 2833 keys (``tests/sipp/walk_rfc2833.pcap``: 2, 1, the
demo SNILS with its repeated digits, #, the birth date, #), is held, then hangs up. A call's
digits are intact when its outcome row says the one-time code went out (``otp:sent``: every
key arrived once, in order, or the SNILS checksum / birth date would not match). The endpoint
runs in a child process with the real prompts, SQLite and the registry; its CPU time, peak
memory, media-clock time and peak concurrent dialogs are measured there. For each N the same
number of transmit-only streams is then run through bare pyVoIP 1.6.8 and through the media
clock (``bench/sip_media.py``). The services are ``hotline serve``'s: outcome rows through the
writer thread, the other requests in the calls' thread pool; ``--on-loop`` runs the session's
requests on the event loop instead (as before), the peer to compare with; ``--slow-db MS``
adds MS of waiting to every database request (a distant or slow database); ``--runs R``
repeats each N. Run: ``.venv/bin/python bench/sip_load.py [N ...] [--runs 5] [--no-peers]``
(default 100 300 500; needs ``sipp``).
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures as cf
import multiprocessing as mp
import os
import re
import socket
import statistics
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


class _Inline(cf.Executor):
    """Runs each job at once in the caller (the event loop): the on-loop peer."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001
            fut.set_exception(exc)
        return fut


class _Slow:
    """Every database request waits ``delay`` s first (a slow or locked database)."""

    def __init__(self, inner, delay: float) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.delay = inner, delay

    def execute(self, call, request, now):  # type: ignore[no-untyped-def]
        from ivr.call import requests as io

        if not isinstance(request, io.EstimateWait | io.RecordOutcome):
            time.sleep(self.delay)
        return self.inner.execute(call, request, now)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def _endpoint(db: str, ready: mp.Queue, done: mp.Event, out: mp.Queue, on_loop: bool = False,
              slow_ms: float = 0.0) -> None:
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
    from ivr.call.writes import QueuedWrites
    from ivr.citizens import registry
    from ivr.citizens.otp import OtpPolicy
    from ivr.drivers.sip import SipEndpoint
    from ivr.drivers.sip import call as sip_call
    from ivr.service.serve import _sqlite_for_serving
    from ivr.store.base import make_engine, session_factory
    from ivr.store.migrate import upgrade
    from ivr.store.models import Call
    from ivr.store.writer import RecordWriter

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
        _sqlite_for_serving(services.factory.kw["bind"])  # as hotline serve runs it
        writer = RecordWriter(services.factory)
        queued = QueuedWrites(services, writer)  # a slow database's wait: a round trip, not
        hotline = Hotline.load(  # time holding SQLite's lock
            "dialplans", services=_Slow(queued, slow_ms / 1000) if slow_ms else queued)
        if on_loop:
            sip_call._pool = _Inline()
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
        await asyncio.to_thread(writer.close, 60.0)
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


def run_level(n: int, on_loop: bool = False, slow_ms: float = 0.0) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    ready, out, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    with tempfile.TemporaryDirectory() as tmp:
        child = ctx.Process(target=_endpoint, args=(f"{tmp}/load.db", ready, done, out, on_loop,
                                                    slow_ms))
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("levels", type=int, nargs="*", default=[100, 300, 500])
    ap.add_argument("--runs", type=int, default=1, help="runs per N (and per mode)")
    ap.add_argument("--no-peers", action="store_true", help="skip pyVoIP / bare clock streams")
    ap.add_argument("--on-loop", action="store_true", help="requests on the event loop")
    ap.add_argument("--compare", action="store_true",
                    help="alternate pool and on-loop runs (peers in one process run)")
    ap.add_argument("--slow-db", type=float, default=0.0, metavar="MS")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sip_media import measure

    modes = [False, True] if args.compare else [args.on_loop]
    print(f"SIPp walk (23 RFC 2833 keys a call, {HOLD_MS / 1000:.0f} s hold, {RAMP_S:.0f} s ramp)"
          " against the endpoint (one process, one loop); database requests "
          f"+{args.slow_db:g} ms each")
    print(f"{'N':>5} {'requests':>8} {'load':>5} {'peak':>5} {'sipp ok/fail':>12} {'rows':>5} "
          f"{'keys ok':>8} {'cores':>6} {'media':>6} {'ms cpu/call':>11} {'KiB/call':>9} "
          f"{'late ticks':>10}")
    results: dict[tuple[int, bool], list[dict]] = {}
    for n in args.levels:
        for _ in range(args.runs):
            for on_loop in modes:
                load = os.getloadavg()[0]
                f = run_level(n, on_loop, args.slow_db)
                f["ok"] = f["rows"] == n and f["intact"] == n and f["sipp_failed"] == 0
                results.setdefault((n, on_loop), []).append(f)
                print(f"{n:>5} {'on loop' if on_loop else 'pool':>8} {load:>5.1f} "
                      f"{f['peak']:>5.0f} {f['sipp_ok']:>6}/{f['sipp_failed']:<5} "
                      f"{f['rows']:>5.0f} {f['intact'] / n:>8.1%} {f['cpu'] / f['wall']:>6.2f} "
                      f"{f['media'] / f['wall']:>6.2f} {1000 * f['cpu'] / n:>11.1f} "
                      f"{f['rss'] / 1024 / max(1, f['peak']):>9.0f} {f['late']:>10}",
                      flush=True)
                for path, count in f["broken"].most_common(3):
                    print(f"        calls without the code: {count} × {path}")
                for reason, count in f["reasons"].most_common(2):
                    print(f"        SIPp: {count} × {reason}")
        if not args.no_peers:
            if n <= PEER_MAX:  # 2 threads a stream: past this its start-up takes minutes
                py_cores, py_share = measure("pyvoip", n)
                print(f"        pyVoIP: {n} tx streams on {py_cores:.2f} cores, "
                      f"{py_share:.1%} delivered")
            ck_cores, ck_share = measure("clock", n)
            print(f"        media clock alone: {n} tx streams on {ck_cores:.2f} cores, "
                  f"{ck_share:.1%} delivered", flush=True)
    print("summary (medians over runs):")
    for (n, on_loop), runs in results.items():
        print(f"  N={n:<5} {'on loop' if on_loop else 'pool':<8} intact runs "
              f"{sum(r['ok'] for r in runs)}/{len(runs)}, keys ok "
              f"{statistics.median(r['intact'] / n for r in runs):.1%} "
              f"(worst {min(r['intact'] / n for r in runs):.1%}), CPU "
              f"{statistics.median(1000 * r['cpu'] / n for r in runs):.1f} ms/call, "
              f"{statistics.median(r['cpu'] / r['wall'] for r in runs):.2f} cores, late ticks "
              f"{statistics.median(r['late'] for r in runs):.0f}")
    print("cores = the endpoint process's CPU time / wall time over the whole run (SIP, IVR,"
          " SQLite, RTP in and out); media = the 20 ms clock's own share; load = 1-min load"
          " average at the run's start")


if __name__ == "__main__":
    main()
