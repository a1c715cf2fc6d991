"""Queue feed: timeout vs hang-up as the transcripts show, and the live ACD state it drives."""
from __future__ import annotations

import asyncio

from ami_support import Harness
from ami_transcripts import server_bytes

from ivr.drivers.ami.codec import Decoder, Message
from ivr.drivers.ami.emulator import CallerScript
from ivr.drivers.ami.queuefeed import QueueFeed


def _feed(name: str) -> QueueFeed:
    feed = QueueFeed(clock=lambda: 1000.0)
    for m in Decoder().feed(server_bytes(name)):
        if isinstance(m, Message):
            feed.apply(m)
    return feed


def test_queue_timeout_transcript_is_a_timeout():
    feed = _feed("queue_timeout")
    assert feed.results == {"1795304343.7": "timeout"}
    q = feed.queues["test"]
    assert (q.timed_out, q.abandoned, q.waiting) == (1, 0, {})


def test_queue_abandon_transcript_is_a_caller_hangup():
    feed = _feed("queue_abandon")
    assert feed.results == {"1795304357.8": "abandoned"}
    assert feed.queues["test"].abandoned == 1


def test_queue_status_during_the_wait_rebuilds_waiting_list():
    feed = QueueFeed(clock=lambda: 1000.0)
    msgs = [m for m in Decoder().feed(server_bytes("queue_timeout")) if isinstance(m, Message)]
    during = [m for m in msgs if m.action_id == "qs-during" and m.event]
    for m in during:
        feed.apply(m)
    assert list(feed.queues["test"].waiting) == ["1795304343.7"]
    assert feed.queues["test"].waiting["1795304343.7"]["since"] == 999.0


def test_live_centre_fed_by_bridge_with_ivr_record():
    from queue_engine.live import LiveCentre

    centre = LiveCentre()

    async def main():
        async with Harness() as h:
            h.bridge.queues.centre = centre
            live = centre.queues["test"] = centre.queues["payments"]  # MenuSession uses "test"
            h.emu.add_queue("hotline-test", ["alice"], ring_s=2, talk_s=2)
            h.emu.place_call(script=CallerScript(presses=["2"]))
            for _ in range(500):
                if live.waiting:
                    break
                await asyncio.sleep(0.005)
            (cid,) = live.waiting  # joined with the IVR's record, under the IVR's call id
            assert cid.startswith("test:") and live.waiting[cid][0] == 1
            await h.wait_records(1)
            assert live.waiting == {} and live.answered == 1 and live.abandoned == 0
            assert "PJSIP/alice" in live.agents and "PJSIP/alice" not in live.busy
    asyncio.run(asyncio.wait_for(main(), 30))
