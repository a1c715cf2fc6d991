"""Media engines side by side in one run: N transmit-only RTP streams for a few seconds.

``pyvoip``: pyVoIP 1.6.8's ``RTPClient`` as its ``VoIPPhone`` uses it (two threads per stream,
10 ms polling sleeps). ``clock``: the hotline's single 20 ms media clock
(:mod:`ivr.drivers.sip.media`) with pre-encoded payloads. Each engine runs in its own child
process; a receiver process counts the packets that arrived. Figures: cores used (process CPU
time / wall time) and the share of the packets that should have been sent (50 per stream per
second) that arrived. Run: ``.venv/bin/python bench/sip_media.py [N ...]`` (default 200 500 1000).
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import socket
import sys
import time
import warnings

SECONDS = 5.0


def _receiver(port_q: mp.Queue, n_ports: int, window: mp.Event, stop: mp.Event,
              out: mp.Queue) -> None:
    """Count packets arriving while ``window`` is set (the sender's measured seconds)."""
    socks = []
    for _ in range(n_ports):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    port_q.put([s.getsockname()[1] for s in socks])
    import selectors

    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    count = 0
    while not stop.is_set():
        for key, _ in sel.select(0.05):
            try:
                while True:
                    key.fileobj.recv(2048)  # type: ignore[union-attr]
                    count += window.is_set()
            except BlockingIOError:
                pass
    out.put(count)


def _pyvoip(ports: list[int], window: mp.Event, out: mp.Queue) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyVoIP.VoIP  # noqa: F401 - before pyVoIP.RTP (circular import)
        from pyVoIP.RTP import PayloadType, RTPClient, TransmitType
    clients = []
    for port in ports:
        c = RTPClient({0: PayloadType.PCMU}, "127.0.0.1", 0, "127.0.0.1", port,
                      TransmitType.SENDRECV)
        c.start()
        c.write(b"\x80" * 8000 * int(SECONDS + 2))  # 8-bit audio: enough for the run
        clients.append(c)
    time.sleep(1.0)  # settle
    window.set()
    t0, c0 = time.monotonic(), time.process_time()
    time.sleep(SECONDS)
    window.clear()
    out.put((time.process_time() - c0, time.monotonic() - t0))
    out.close()
    out.join_thread()  # flush before the hard exit below
    for c in clients:
        c.NSD = False
    os._exit(0)  # its threads would linger in 10 ms sleeps


def _clock(ports: list[int], window: mp.Event, out: mp.Queue) -> None:
    from ivr.drivers.sip.media import MediaClock

    async def main() -> tuple[float, float]:
        clock = MediaClock()
        prompt = [b"\xff" * 160] * int(50 * (SECONDS + 2))
        for port in ports:
            stream = await clock.open("127.0.0.1", ("127.0.0.1", port), 0, None, inband=False)
            stream.play(prompt)
        await asyncio.sleep(1.0)  # settle
        window.set()
        t0, c0 = time.monotonic(), time.process_time()
        await asyncio.sleep(SECONDS)
        window.clear()
        used = (time.process_time() - c0, time.monotonic() - t0)
        await clock.stop()
        return used
    out.put(asyncio.run(main()))


def measure(engine: str, n: int) -> tuple[float, float]:
    """(cores, delivered share) for ``n`` streams of ``engine``."""
    ctx = mp.get_context("spawn")
    port_q, out, counts = ctx.Queue(), ctx.Queue(), ctx.Queue()
    stop, window = ctx.Event(), ctx.Event()
    rx = ctx.Process(target=_receiver, args=(port_q, n, window, stop, counts))
    rx.start()
    ports = port_q.get()
    proc = ctx.Process(target=_pyvoip if engine == "pyvoip" else _clock,
                       args=(ports, window, out))
    proc.start()
    cpu, wall = out.get(timeout=300)
    proc.join(10)
    stop.set()
    received = counts.get(timeout=30)
    rx.join(10)
    return cpu / wall, received / (n * 50 * wall)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [200, 500, 1000]
    print(f"{'streams':>8} {'engine':>7} {'cores':>6} {'delivered':>9}")
    for n in sizes:
        for engine in ("pyvoip", "clock"):
            cores, share = measure(engine, n)
            print(f"{n:>8} {engine:>7} {cores:6.2f} {share:9.1%}", flush=True)


if __name__ == "__main__":
    main()
