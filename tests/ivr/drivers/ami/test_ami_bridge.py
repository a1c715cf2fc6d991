"""The AsyncAGI bridge driving IVR sessions through the emulator."""
from __future__ import annotations

import asyncio

import pytest
from ami_support import Harness

from ivr.call.protocol import CallerHangup, Digits, DriverError, NoInput
from ivr.drivers.ami.agimap import AgiConfig
from ivr.drivers.ami.codec import Message
from ivr.drivers.ami.emulator import CallerScript


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_full_ivr_path_with_barge_in_and_digits():
    async def main():
        async with Harness() as h:
            cmds: list[str] = []
            h.conn.subscribe(lambda m: m.event == "AGIExecStart" and cmds.append(m["Command"]))
            h.emu.place_call(script=CallerScript(presses=["1", "2345"]))
            await h.wait_records(1)
            (rec,) = h.records
            s = h.sessions[rec.call_id]
            assert rec.call_id.startswith("test:") and rec.dnid == "88005553535"
            assert rec.callerid == "79161234567"
            # "1" barged into the greeting and answered the menu without hearing it
            assert s.fed == [Digits("1"), Digits("2345")]
            assert s.outcome == "status:2345"
            assert rec.end_reason == "ivr_hangup:normal" and rec.error is None
            assert cmds[0].startswith("SET VARIABLE HOTLINE_CALL")
            assert cmds[1] == 'STREAM FILE /opt/hotline/recordings/ru/greeting "0123456789*#"'
            # a 4-digit entry ending at '#' asks for 5, so the '#' ends it (issue 13 item 2)
            assert cmds[2] == "GET DATA /opt/hotline/recordings/ru/enter_number 5000 5"
            assert cmds[3:5] == ['STREAM FILE /opt/hotline/recordings/ru/status_ok ""',
                                 'STREAM FILE /opt/hotline/recordings/ru/goodbye ""']
            assert cmds[-1] == "HANGUP"
            assert h.bridge.calls == {} and h.duplicates() == []
    run(main())


def test_silence_then_no_input_and_missing_prompt_goes_on():
    async def main():
        async with Harness(prompt_exists=lambda p: "greeting" not in p) as h:
            h.emu.place_call(script=CallerScript(presses=[None, None]))
            await h.wait_records(1)
            s = next(iter(h.sessions.values()))
            assert s.fed == [NoInput(), NoInput()] and s.outcome == "no_input"
    run(main())


def test_caller_hangup_mid_ivr_feeds_callerhangup_once():
    async def main():
        async with Harness() as h:
            h.emu.place_call(script=CallerScript(presses=[None], hangup_after_commands=2))
            await h.wait_records(1)
            (rec,) = h.records
            s = h.sessions[rec.call_id]
            assert isinstance(s.fed[-1], CallerHangup) and s.outcome == "abandoned_ivr"
            assert rec.end_reason == "caller_hangup"
    run(main())


@pytest.mark.parametrize("mode", ["break", "exec"])
def test_enqueue_answered_by_agent_and_timeout(mode):
    async def main():
        async with Harness() as h:
            h.bridge.agi = AgiConfig(recordings=h.bridge.agi.recordings, enqueue_mode=mode)
            h.emu.add_queue("hotline-test", ["alice"], ring_s=0.5, talk_s=1.0)
            h.emu.place_call(script=CallerScript(presses=["2"]))
            await h.wait_records(1)
            assert h.records[0].queue_result == "answered"
            assert h.records[0].agent == "PJSIP/alice"
            assert h.bridge.queues.queues["hotline-test"].answered == 1
        async with Harness() as h:
            h.emu.add_queue("hotline-test", [])
            h.bridge.agi = AgiConfig(recordings=h.bridge.agi.recordings, enqueue_mode=mode,
                                     queue_timeout_s=3)
            h.emu.place_call(script=CallerScript(presses=["2"]))
            await h.wait_records(1)
            assert h.records[0].queue_result == "timeout"
            assert h.records[0].end_reason == "enqueued"
        async with Harness() as h:
            h.bridge.agi = AgiConfig(recordings=h.bridge.agi.recordings, enqueue_mode=mode)
            h.emu.add_queue("hotline-test", [])
            h.emu.place_call(script=CallerScript(presses=["2"], hangup_after_s=30))
            await h.wait_records(1)
            assert h.records[0].queue_result == "abandoned"
    run(main())


def test_misbehaving_call_is_isolated():
    async def main():
        def garbage(ch, command):
            return "garbage \x00 here" if ch.callerid_num == "70000000001" and \
                command.startswith("GET DATA") else None
        async with Harness(result_override=garbage) as h:
            h.session_kw["70000000002"] = {"boom_on": "1"}
            h.emu.place_call(callerid="70000000001", script=CallerScript(presses=["", "5"]))
            h.emu.place_call(callerid="70000000002", script=CallerScript(presses=["1"]))
            for i in range(5):
                h.emu.place_call(callerid=f"7916000000{i}",
                                 script=CallerScript(presses=["1", "1234"]))
            await h.wait_records(7)
            by_caller = {r.callerid: r for r in h.records}
            bad = h.sessions[by_caller["70000000001"].call_id]
            assert isinstance(bad.fed[0], DriverError) and bad.outcome == "error"
            boom = by_caller["70000000002"]
            assert boom.end_reason == "error" and "machine bug" in boom.error
            assert h.sessions[boom.call_id].outcome == "error"
            ok = [r for r in h.records if r.callerid.startswith("7916")]
            assert len(ok) == 5
            assert all(h.sessions[r.call_id].outcome == "status:1234" for r in ok)
            assert h.duplicates() == []
    run(main())


def test_originate_callback_outcomes():
    async def main():
        async with Harness() as h:
            good = await h.bridge.originate("Local/79161234567@callbacks", application="AGI",
                                            data="agi:async,callback,42",
                                            caller_id='"Hotline" <88005553535>', timeout_s=5)
            assert good.answered and good.reason == 4 and good.uniqueid
            bad = await h.bridge.originate("Local/555@nonexistent-context", application="Wait",
                                           data="1", timeout_s=5)
            assert not bad.answered and bad.reason == 0 and bad.uniqueid is None
            # the answered callback runs AsyncAGI and becomes a bridged IVR call
            await h.wait_records(1)
            assert h.records[0].uniqueid == good.uniqueid
            assert h.conn.pending_count == 0 and h.bridge.originator.pending == 0
    run(main())


def test_reconnect_mid_call_resumes_and_closes_calls_that_ended():
    async def main():
        async with Harness() as h:
            # a caller who keeps silent (long GET DATA) and one who hangs up while we are away
            h.emu.place_call(callerid="71111111111",
                             script=CallerScript(presses=[None, "1", "4321"]))
            h.emu.place_call(callerid="72222222222",
                             script=CallerScript(presses=[None, None], hangup_after_s=8))
            await asyncio.sleep(0.03)
            await h.emu.drop_connections()
            await asyncio.sleep(0.08)
            await h.conn.wait_ready(5)
            await h.wait_records(2)
            assert h.conn.connects >= 2
            by_caller = {r.callerid: r for r in h.records}
            assert h.duplicates() == []
            assert len(by_caller) == 2
            assert by_caller["72222222222"].end_reason in ("ended_while_disconnected",
                                                           "caller_hangup")
    run(main())


def test_call_started_while_disconnected_is_adopted():
    async def main():
        async with Harness() as h:
            await h.emu.drop_connections()
            ch = h.emu.place_call(callerid="73333333333", script=CallerScript(presses=["1", "77"]))
            await h.conn.wait_ready(5)
            await h.wait_records(1)
            (rec,) = h.records
            assert rec.uniqueid == ch.uniqueid and rec.dnid == "88005553535"
            assert h.sessions[rec.call_id].info.adopted
    run(main())


def test_listener_exception_does_not_kill_reader():
    async def main():
        async with Harness() as h:
            def bad(m: Message):
                raise ValueError("listener bug")
            h.conn.subscribe(bad)
            h.emu.place_call(script=CallerScript(presses=["3"]))
            await h.wait_records(1)
            assert h.sessions[h.records[0].call_id].outcome == "other"
    run(main())
