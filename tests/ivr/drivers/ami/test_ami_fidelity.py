"""Issue 13 items 2 and 4 and the emulator made faithful to res_agi (Asterisk 22).

* GET DATA returns the moment it has ``max`` digits (``ast_app_getdata_full``), so the ``#`` a
  prompt asks for after an 11-digit SNILS reaches the next command: the bridge asks one more.
* STREAM FILE: ``result=-1 endpos=0`` is a missing file; a hang-up mid-prompt is
  ``result=-1 endpos=<n>``, n > 0 (``handle_streamfile``) — not a missing prompt.
* Keys pressed during a non-interruptible prompt are read and dropped by ``ast_waitstream``.
"""
from __future__ import annotations

import asyncio

import pytest
from ami_support import MONDAY_10
from structlog.testing import capture_logs

from ivr.citizens import registry
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript
from ivr.drivers.ami.serve import build

pytestmark = pytest.mark.timeout(60)


async def _call(hl, presses, **emu_kw):
    records, cmds, results = [], [], []
    async with AMIEmulator(time_scale=0.002, **emu_kw) as emu:
        conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hl, server_id="a",
                             clock=lambda: MONDAY_10)
        conn.subscribe(lambda m: m.event == "AGIExecStart" and cmds.append(m["Command"]))
        conn.subscribe(lambda m: m.event == "AsyncAGIExec" and results.append(m["Result"]))
        inner = bridge.on_call_end
        bridge.on_call_end = lambda r: (records.append(r), inner(r))
        await conn.start()
        emu.place_call(script=presses if isinstance(presses, CallerScript)
                       else CallerScript(presses=presses))
        for _ in range(3000):
            if records:
                break
            await asyncio.sleep(0.01)
        await bridge.close()
        await conn.close()
    return records, cmds, results


def test_hash_after_a_full_length_entry_ends_that_entry(hotline):
    hl, _ = hotline
    p = registry.fictitious_citizens(3)[0]  # the fixture seeded these
    dob = p.birth_date.strftime("%d%m%Y")
    _, cmds, _ = asyncio.run(_call(hl, [None, "2", "1", f"{p.snils}#", f"{dob}#"]))
    snils_at = next(i for i, c in enumerate(cmds) if "id_enter_snils" in c)
    # SNILS, then date of birth, then straight to the code: no '#' left over to empty an entry
    assert "id_enter_dob" in cmds[snils_at + 1]
    assert "otp_sent" in cmds[snils_at + 2], cmds[snils_at:snils_at + 4]


def test_hang_up_during_a_prompt_is_not_a_missing_prompt(hotline):
    hl, _ = hotline
    with capture_logs() as logs:
        (rec,), _, results = asyncio.run(_call(hl, CallerScript(hangup_after_s=1.0)))
    assert any(r.startswith("200%20result%3D-1%20endpos%3D") and "endpos%3D0%0A" not in r
               for r in results), results
    assert rec.end_reason == "caller_hangup"
    assert not [e for e in logs if e["event"] == "call.prompt_missing"]


def test_missing_prompt_file_is_still_reported(hotline):
    hl, _ = hotline
    with capture_logs() as logs:
        asyncio.run(_call(hl, [], prompt_exists=lambda p: "welcome" not in p))
    assert [e for e in logs if e["event"] == "call.prompt_missing"]


def test_keys_during_a_non_interruptible_prompt_are_dropped():
    """A key pressed while ``STREAM FILE x ""`` plays never reaches the following GET DATA."""
    from urllib.parse import unquote

    from ivr.drivers.ami.connection import AMIConnection

    async def agi(conn, ch, command, results):
        n = len(results)
        await conn.send_action("AGI", {"Channel": ch.name, "Command": command,
                                       "CommandID": f"c{n}"})
        while len(results) == n:
            await asyncio.sleep(0.002)
        return unquote(results[-1]).strip()

    async def main():
        async with AMIEmulator(time_scale=0.01, prompt_s=2.0) as emu:
            conn = AMIConnection("127.0.0.1", emu.port, "ivr", "ivrsecret", events="agi")
            results = []
            conn.subscribe(lambda m: m.event == "AsyncAGIExec" and results.append(m["Result"]))
            await conn.start()
            ch = emu.place_call(script=CallerScript())
            while not ch.in_agi:
                await asyncio.sleep(0.002)
            play = asyncio.ensure_future(agi(conn, ch, 'STREAM FILE welcome ""', results))
            await asyncio.sleep(0.005)
            emu.calls.press(ch, "5")  # during the prompt
            played = await play
            got = await agi(conn, ch, "GET DATA beep 500 1", results)
            await conn.close()
            return played, got
    played, got = asyncio.run(main())
    assert played == "200 result=0 endpos=16000"
    assert got == "200 result= (timeout)"
