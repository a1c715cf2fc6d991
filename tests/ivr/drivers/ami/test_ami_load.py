"""1,000 concurrent emulated calls through the bridge, with the AMI link killed mid-load."""
from __future__ import annotations

import asyncio

from ivr.drivers.ami.loadgen import run_inprocess


def test_thousand_calls_each_end_with_exactly_one_record():
    res = asyncio.run(run_inprocess(1000, ramp_s=1.0, timeout=60))
    assert (res.records, res.duplicates, res.missing) == (1000, 0, 0), res.line()
    assert res.connects == 1
    assert set(res.end_reasons) <= {"caller_hangup", "ivr_hangup:normal", "enqueued",
                                    "ivr_hangup:no_input"}, res.end_reasons


def test_link_killed_five_times_mid_load_no_call_lost_or_doubled():
    drops = [0.5, 1.2, 2.0, 2.9, 3.5]
    res = asyncio.run(run_inprocess(1000, drops, ramp_s=1.0, timeout=60))
    assert (res.records, res.duplicates, res.missing) == (1000, 0, 0), res.line()
    assert res.drops_hit >= 3, res.line()
    assert res.connects == 1 + res.drops_hit  # back after each drop, within the backoff
    assert "error" not in res.end_reasons
