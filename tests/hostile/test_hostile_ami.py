"""A hostile AMI peer (issue 13): garbage between real traffic never costs a call its record.

Invalid UTF-8, 200 kB lines, header lines without a colon, NUL bytes, an AsyncAGIStart for a
channel that does not exist with a broken Env, results for commands nobody sent, answers to
actions nobody asked — sent to the bridge while 20 real callers go through the IVR.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ivr" / "drivers" / "ami"))
from ami_support import Harness

from ivr.drivers.ami.emulator import CallerScript

pytestmark = pytest.mark.timeout(120)

GARBAGE = [
    b"Event: Newchannel\r\nCallerIDName: \xff\xfe\xc8\xe2\r\nUniqueid: g.1\r\n\r\n",
    b"Event: VarSet\r\nValue: " + b"A" * 200_000 + b"\r\n\r\n",
    b"\r\n\r\n\r\n",
    b"Event: Hangup\r\nthis is not a header\r\nUniqueid: \xff\x00\r\n\r\n",
    b"Event: AsyncAGIStart\r\nUniqueid: evil.1\r\nChannel: PJSIP/evil-1\r\nEnv: %ZZ%%%E0%\r\n\r\n",
    b"Event: AsyncAGIExec\r\nCommandId: nobody-1\r\nResult: 200%20result%3Dabc\r\n\r\n",
    b"Response: Success\r\nActionID: never-asked\r\nMessage: \xc0\xc1\r\n\r\n",
    b"Event: QueueCallerAbandon\r\nQueue: \xff\r\nUniqueid: \r\n\r\n",
    b"Event: DTMFEnd\r\nUniqueid: \r\nDigit: \x00\r\n\r\n",
    b"Event: \x00\x00\x00\r\n\r\n",
]


def test_garbage_from_the_ami_peer_loses_no_call(capsys):
    async def main():
        async with Harness(time_scale=0.005) as h:
            calls = [h.emu.place_call(callerid=f"7916{i:07d}",
                                      script=CallerScript(presses=["1", "4321"]))
                     for i in range(20)]
            for round_ in range(5):
                for s in list(h.emu.sessions):
                    for blob in GARBAGE:
                        s.writer.write(blob)
                await asyncio.sleep(0.02 * (round_ + 1))
            want = {f"test:{c.uniqueid}" for c in calls}
            for _ in range(2000):
                if want <= {r.call_id for r in h.records}:
                    break
                await asyncio.sleep(0.01)
            got = {r.call_id for r in h.records}
            return want, got, h.duplicates(), h.conn.connects, h.conn.protocol_errors
    want, got, dups, connects, errors = asyncio.run(main())
    lost = want - got
    with capsys.disabled():
        print(f"\nhostile AMI: {len(GARBAGE) * 5} garbage frames, {len(want)} calls, "
              f"{len(lost)} lost records, {len(dups)} duplicates, {connects} connects, "
              f"{errors} frames refused")
    assert not lost and not dups and connects == 1
