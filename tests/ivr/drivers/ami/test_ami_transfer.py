"""Escalation through Asterisk (issue 9, SPEC §4): an agent blind-transfers the caller to
``[hotline-senior]``; the bridge reads Asterisk's ``BlindTransfer`` (fields as
``main/stasis_bridges.c`` writes them) and the senior queue's events, and the record keeps one
row per call — the first answer — plus the transfer with the senior and the IVR history."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from ami_support import MONDAY_10
from sqlalchemy import select

from ivr.drivers.ami.codec import Decoder, Message, encode
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript
from ivr.drivers.ami.emulator_channel import Channel
from ivr.drivers.ami.emulator_transfer import blind_transfer
from ivr.drivers.ami.serve import build
from ivr.records.transfers import CallTransfer
from ivr.store.models import Call

pytestmark = pytest.mark.timeout(60)
SCALE = 0.002

_CH = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
       "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context", "Exten",
       "Priority", "Uniqueid", "Linkedid")
# blind_transfer_to_ami: Result, Transferer block, Transferee block, bridge block, IsExternal,
# Context, Extension (ast_manager_event_blob_create adds Event and Privilege first)
BLIND_SHAPE = ("Event", "Privilege", "Result", *("Transferer" + k for k in _CH),
               *("Transferee" + k for k in _CH), "BridgeUniqueid", "BridgeType",
               "BridgeTechnology", "BridgeCreator", "BridgeName", "BridgeNumChannels",
               "BridgeVideoSourceMode", "IsExternal", "Context", "Extension")


async def _transferred_call(hl):
    t0 = time.monotonic()

    def clock():
        return MONDAY_10 + timedelta(seconds=(time.monotonic() - t0) / SCALE)

    records, seen = [], []
    async with AMIEmulator(time_scale=SCALE) as emu:
        emu.add_queue("hotline-payments", ["alice"], ring_s=5, talk_s=60,
                      transfer_to=("hotline-senior", "s"))
        emu.add_queue("hotline-senior", ["boris"], ring_s=3, talk_s=90)
        conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hl, server_id="ast1",
                             clock=clock)
        inner = bridge.on_call_end
        bridge.on_call_end = lambda r: (records.append(r), inner(r))
        conn.subscribe(lambda m: seen.append(m) if m.event == "BlindTransfer" else None)
        await conn.start()
        emu.place_call(script=CallerScript(presses=["4"]))
        for _ in range(4000):
            if records:
                break
            await asyncio.sleep(0.005)
        await bridge.close()
        await conn.close()
    return records, seen


def test_blind_transfer_to_the_senior_queue_is_recorded(hotline):
    hl, factory = hotline
    (rec,), seen = asyncio.run(_transferred_call(hl))
    [ev] = seen
    assert tuple(ev.keys()) == BLIND_SHAPE
    assert ev.get("Context") == "hotline-senior" and ev.get("Result") == "Success"
    assert ev.get("TransfereeUniqueid") == rec.uniqueid
    with factory() as db:
        row = db.scalars(select(Call).where(Call.call_id == rec.call_id)).one()
        [tr] = db.scalars(select(CallTransfer)).all()
    assert (row.outcome, row.agent_id) == ("answered", "PJSIP/alice")  # the first answer
    assert row.queued_at == rec.queued_at and row.answered_at == rec.answered_at
    assert "transferred to senior by alice, answered by boris after" in row.detail
    assert (tr.call_id, tr.via, tr.by, tr.from_agent) == (rec.call_id, "ami", "alice",
                                                          "PJSIP/alice")
    assert (tr.from_skill, tr.to_skill, tr.to_agent) == ("payments", "senior", "boris")
    assert tr.at > row.answered_at and tr.answered_at > tr.at
    # the history that travelled: the IVR's path and identification from the call's row
    assert tr.history["menu_path"] == row.menu_path and tr.history["menu_path"]
    assert tr.history["identification"] == row.identification
    assert tr.history["first_agent"] == "PJSIP/alice"


def test_a_failed_transfer_is_not_a_transfer():
    from ivr.drivers.ami.transfers import transferee

    a = Channel("PJSIP/alice-00000001", "1.2", "1.2", "alice", "alice", "agents", "s")
    c = Channel("PJSIP/trunk-00000000", "1.1", "1.1", "79161234567", "x", "hotline-ivr", "s")
    ok = blind_transfer(a, c, "hotline-senior", "s")
    [m] = [x for x in Decoder().feed(encode(ok)) if isinstance(x, Message)]
    assert transferee(m) == "1.1"
    bad = [(k, "Invalid" if k == "Result" else v) for k, v in ok]
    [m] = [x for x in Decoder().feed(encode(bad)) if isinstance(x, Message)]
    assert transferee(m) is None


def test_attended_transfer_names_the_senior_who_already_answered():
    """AttendedTransfer (attended_transfer_to_ami): OrigTransferer… (the agent with the caller),
    SecondTransferer… (his call to the senior queue), Transferee…, TransferTarget…."""
    from datetime import UTC, datetime

    from ivr.drivers.ami.calls import CallState
    from ivr.drivers.ami.transfers import seen, transferee

    agent = Channel("PJSIP/alice-00000001", "1.2", "1.1", "alice", "alice", "agents", "s")
    consult = Channel("PJSIP/alice-00000003", "1.4", "1.4", "alice", "alice", "hotline-senior",
                      "s")
    caller = Channel("PJSIP/trunk-00000000", "1.1", "1.1", "79161234567", "x", "hotline-ivr",
                     "s")
    senior = Channel("PJSIP/boris-00000004", "1.5", "1.4", "boris", "boris", "agents", "s")
    pairs = [("Event", "AttendedTransfer"), ("Result", "Success"),
             *[("OrigTransferer" + k, v) for k, v in agent.headers()],
             *[("SecondTransferer" + k, v) for k, v in consult.headers()],
             ("IsExternal", "No"), ("DestType", "Bridge"), ("DestBridgeUniqueid", "b-1"),
             *[("Transferee" + k, v) for k, v in caller.headers()],
             *[("TransferTarget" + k, v) for k, v in senior.headers()]]
    [m] = [x for x in Decoder().feed(encode(pairs)) if isinstance(x, Message)]
    assert transferee(m) == "1.1"
    call = CallState(info=None, started_at=MONDAY_10, log=None, queue="hotline-payments")
    now = datetime(2026, 11, 23, 7, 5, tzinfo=UTC)
    t = seen(call, m, now, "PJSIP/alice", "hotline-")
    assert (t.kind, t.by, t.from_queue, t.to, t.to_agent) == (
        "attended", "alice", "payments", "senior", "boris")
    assert t.answered_at == now and call.transfers == [t]


def test_transfer_to_senior_in_the_agents_context_is_named_by_the_queue_joined():
    """The exported dialplan: an agent transfers to senior@hotline-agents, which goes to
    [hotline-senior]; the queue the caller joins names the group."""
    from datetime import UTC, datetime

    from ivr.drivers.ami.calls import CallState
    from ivr.drivers.ami.transfers import after_transfer, seen

    agent = Channel("PJSIP/alice-00000001", "1.2", "1.1", "alice", "alice", "hotline-agents",
                    "s")
    caller = Channel("PJSIP/trunk-00000000", "1.1", "1.1", "79161234567", "x", "hotline-ivr",
                     "s")
    now = datetime(2026, 11, 23, 7, 5, tzinfo=UTC)
    call = CallState(info=None, started_at=now, log=None, queue="hotline-tax")
    [m] = [x for x in Decoder().feed(encode(blind_transfer(agent, caller, "hotline-agents",
                                                           "senior")))
           if isinstance(x, Message)]
    t = seen(call, m, now, "PJSIP/alice", "hotline-")
    assert t.to == "senior@hotline-agents" and t.from_queue == "tax"
    raw = encode([("Event", "QueueCallerJoin"), *caller.headers(), ("Queue", "hotline-senior"),
                  ("Position", "1"), ("Count", "1")])
    [join] = [x for x in Decoder().feed(raw) if isinstance(x, Message)]
    assert after_transfer(call, "QueueCallerJoin", join, now, "hotline-")
    assert t.to == "senior" and call.queue == "hotline-tax"  # the first queue stays the call's
