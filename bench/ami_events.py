"""End-to-end AMI event throughput over TCP: our AMIConnection vs asterisk-ami vs panoramisk.

A child process plays Asterisk: banner, accepts the Login, then writes the *events* of the real
Asterisk 22 transcripts ~N times as fast as the socket takes them, then ``Event: BenchEnd``.
Each client logs in with its own code, counts events delivered to a listener and stops at
BenchEnd. Printed: events/s per client and the ratios. Run:
``.venv/bin/python bench/ami_events.py [events]``.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import sys
import threading
import time
from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "asterisk" / "transcripts"


def event_feed(n_events: int) -> tuple[bytes, int]:
    frames = []
    for p in sorted(TRANSCRIPTS.glob("*.server.txt")):
        body = p.read_bytes().split(b"\r\n", 1)[1]
        frames += [f for f in body.split(b"\r\n\r\n") if f.startswith(b"Event: ")]
    one = b"".join(f + b"\r\n\r\n" for f in frames)
    reps = max(1, n_events // len(frames))
    return one * reps, reps * len(frames)


def _server(pipe, n_events: int) -> None:
    feed, count = event_feed(n_events)

    async def handle(reader, writer):
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await reader.read(4096)
            if not chunk:
                return
            data += chunk
        aid = b""
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"actionid:"):
                aid = line.split(b":", 1)[1].strip()
        writer.write(b"Response: Success\r\nActionID: " + aid +
                     b"\r\nMessage: Authentication accepted\r\n\r\n"
                     b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 1\r\n"
                     b"LastReload: 1\r\nStatus: Fully Booted\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.3)  # let the client register its listener
        step = 1 << 20
        for i in range(0, len(feed), step):
            writer.write(feed[i:i + step])
            await writer.drain()
        writer.write(b"Event: BenchEnd\r\nPrivilege: system,all\r\n\r\n")
        await writer.drain()
        with_timeout = asyncio.wait_for(reader.read(), 30)
        try:
            await with_timeout
        except (TimeoutError, ConnectionError):
            pass
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        pipe.send((server.sockets[0].getsockname()[1], count))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        server.close()

    asyncio.run(main())


async def ours(port: int) -> tuple[int, float]:
    from ivr.drivers.ami.connection import AMIConnection

    done = asyncio.Event()
    n = 0
    t0 = 0.0

    def on(m):
        nonlocal n, t0
        if m.event == "BenchEnd":
            done.set()
        elif m.event != "FullyBooted":
            if n == 0:
                t0 = time.perf_counter()
            n += 1
    conn = AMIConnection("127.0.0.1", port, "u", "p")
    conn.subscribe(on)
    await conn.start()
    await asyncio.wait_for(done.wait(), 120)
    dt = time.perf_counter() - t0
    conn._closing = True
    conn.drop()
    await conn.close()
    return n, dt


def asterisk_ami(port: int) -> tuple[int, float]:
    from asterisk.ami import AMIClient

    done = threading.Event()
    n = 0
    t0 = 0.0

    def on(event, **_kw):
        nonlocal n, t0
        if event.name == "BenchEnd":
            done.set()
        elif event.name != "FullyBooted":
            if n == 0:
                t0 = time.perf_counter()
            n += 1
    client = AMIClient(address="127.0.0.1", port=port, timeout=30)
    client.add_event_listener(on)
    client.login(username="u", secret="p")
    done.wait(120)
    dt = time.perf_counter() - t0
    client.disconnect()
    return n, dt


async def panoramisk(port: int) -> tuple[int, float]:
    from panoramisk import Manager

    done = asyncio.Event()
    n = 0
    t0 = 0.0

    def on(_manager, event):
        nonlocal n, t0
        name = event.event
        if name == "BenchEnd":
            done.set()
        elif name != "FullyBooted":
            if n == 0:
                t0 = time.perf_counter()
            n += 1
    m = Manager(loop=asyncio.get_running_loop(), host="127.0.0.1", port=port, username="u",
                secret="p", ping_delay=1000)
    m.register_event("*", on)
    await m.connect()
    await asyncio.wait_for(done.wait(), 120)
    dt = time.perf_counter() - t0
    m.close()
    return n, dt


def run_one(name: str, n_events: int) -> tuple[int, float, int]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_server, args=(child, n_events))
    proc.start()
    port, sent = parent.recv()
    try:
        if name == "ours":
            got, dt = asyncio.run(ours(port))
        elif name == "panoramisk":
            got, dt = asyncio.run(panoramisk(port))
        else:
            got, dt = asterisk_ami(port)
    finally:
        parent.send("stop")
        proc.join(10)
    return got, dt, sent


def main() -> None:
    n_events = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    rates = {}
    for name in ("ours", "asterisk_ami", "panoramisk"):
        got, dt, sent = run_one(name, n_events)
        rates[name] = got / dt
        print(f"{name:>13}: {got:>8}/{sent} events in {dt:6.2f}s = {got / dt:>9,.0f} events/s")
    print(f"ratio ours/asterisk-ami = {rates['ours'] / rates['asterisk_ami']:.2f}x   "
          f"ours/panoramisk = {rates['ours'] / rates['panoramisk']:.2f}x")


if __name__ == "__main__":
    main()
