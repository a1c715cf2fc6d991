"""Verify, against our AMI emulator, the faults reported for the `asterisk-ami` 0.1.7 client.

Prints what happens to the client-chosen library (and to our connection, side by side) when
(1) the link is idle for longer than the client's socket timeout, and (2) an event listener
raises. Run: ``.venv/bin/python bench/ami_client_faults.py``.
"""
from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from ivr.drivers.ami.connection import AMIConnection
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript


def start_emulator() -> tuple[AMIEmulator, asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    emu = AMIEmulator(time_scale=0.01)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(emu.start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(5)
    return emu, loop


def place_call(emu: AMIEmulator, loop) -> None:
    loop.call_soon_threadsafe(lambda: emu.place_call(
        script=CallerScript(presses=[], hangup_after_commands=0)))


def wait_for(pred, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def asterisk_ami_idle(emu, loop, idle: float) -> str:
    from asterisk.ami import AMIClient

    client = AMIClient(address="127.0.0.1", port=emu.port)  # library default timeout
    client.login(username="ivr", secret="ivrsecret")
    events: list = []
    client.add_event_listener(lambda event, **kw: events.append(event.name))
    time.sleep(idle)
    place_call(emu, loop)
    got = wait_for(lambda: "Hangup" in events, 3)
    alive = any(t.name.startswith("Thread") and t.is_alive() for t in threading.enumerate())
    with contextlib.suppress(Exception):  # a dead client may fail to log off: we only report
        client.logoff()
    return f"events after {idle:.0f} s idle: {'received' if got else 'LOST'} ({len(events)})" + \
        ("" if alive else "; no reader thread alive")


def asterisk_ami_raising_listener(emu, loop) -> str:
    from asterisk.ami import AMIClient

    client = AMIClient(address="127.0.0.1", port=emu.port, timeout=30)
    client.login(username="ivr", secret="ivrsecret")
    events: list = []

    def bad(event, **kw):
        events.append(event.name)
        if len(events) == 1:
            raise RuntimeError("listener bug")

    client.add_event_listener(bad)
    place_call(emu, loop)
    wait_for(lambda: len(events) > 1, 2)
    n_first = len(events)
    place_call(emu, loop)
    got = wait_for(lambda: len(events) > n_first, 3)
    with contextlib.suppress(Exception):
        client.logoff()
    return f"after a listener raised once: {'later events received' if got else 'EVENTS LOST'}" \
        f" ({len(events)} delivered)"


def ours(emu, loop, idle: float) -> str:
    async def run() -> str:
        conn = AMIConnection(host="127.0.0.1", port=emu.port, username="ivr", secret="ivrsecret")
        events: list = []

        def bad(msg) -> None:
            events.append(msg.event)
            if len(events) == 1:
                raise RuntimeError("listener bug")

        conn.subscribe(bad)
        await conn.start()
        await asyncio.sleep(idle)
        place_call(emu, loop)
        for _ in range(150):
            if "Hangup" in events:
                break
            await asyncio.sleep(0.02)
        await conn.close()
        return (f"idle {idle:.0f} s + a listener that raised: "
                f"{'events received' if 'Hangup' in events else 'LOST'} ({len(events)})")

    return asyncio.run(run())


def main() -> None:
    from ivr.logs import configure_logging

    configure_logging("console")  # our connection's log lines go to stderr, figures to stdout
    emu, loop = start_emulator()
    print("asterisk-ami 0.1.7:")
    print("  ", asterisk_ami_idle(emu, loop, idle=4))
    print("  ", asterisk_ami_raising_listener(emu, loop))
    print("ivr.drivers.ami.connection:")
    print("  ", ours(emu, loop, idle=4))


if __name__ == "__main__":
    main()
