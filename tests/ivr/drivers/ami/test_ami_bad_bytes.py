"""Issue 13 item 8: invalid UTF-8 in any AMI message never ends the link.

Asterisk passes a caller's display name through as bytes; a CP1251 name is enough (the caller
controls it). It reaches us in ``Newchannel``/``Newstate``/… headers, the URL-encoded AGI
``Env`` and, after a reconnect, the ``CoreShowChannels`` list of the resync.
"""
from __future__ import annotations

import asyncio

import pytest
from ami_support import Harness

from ivr.drivers.ami.emulator import CallerScript

pytestmark = pytest.mark.timeout(60)
CP1251_NAME = "Иван Петров".encode("cp1251").decode("utf-8", "surrogateescape")  # raw bytes


def test_cp1251_caller_name_keeps_the_link_and_the_call():
    async def main():
        async with Harness() as h:
            h.emu.place_call(callerid="71111111111", callerid_name=CP1251_NAME,
                             script=CallerScript(presses=["1", "4321"]))
            await h.wait_records(1)
            (rec,) = h.records
            assert rec.error is None and rec.end_reason != "error"
            assert h.conn.connects == 1  # never dropped
            assert h.sessions[rec.call_id].outcome not in (None, "error")
    asyncio.run(main())


def test_resync_with_a_live_cp1251_channel_completes():
    """The channel is still up when the link comes back: the resync lists it, and the IVR goes
    on (before: every resync crashed again, 7 reconnects in 40 s and no AGI commands)."""
    async def main():
        async with Harness() as h:
            h.emu.place_call(callerid="72222222222", callerid_name=CP1251_NAME,
                             script=CallerScript(presses=[None, "1", "4321"]))
            await asyncio.sleep(0.03)
            await h.emu.drop_connections()
            await h.conn.wait_ready(5)
            await h.wait_records(1)
            assert h.conn.connects == 2 and h.duplicates() == []
            assert h.records[0].end_reason != "error"
    asyncio.run(main())
