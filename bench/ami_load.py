"""1,000 concurrent emulated calls through the AsyncAGI bridge: events/s, latency, memory.

The AMI emulator (a fake Asterisk speaking the transcripts' wire format) runs in a child
process; the bridge runs here on one event loop, so the latency is the bridge's own: from the
read that delivered an AGI result (or AsyncAGIStart) to the write of the call's next AGI action.
Second run: the AMI link is killed five times mid-load; every call must still end with exactly
one record. Run: ``.venv/bin/python bench/ami_load.py [calls]``.
"""
from __future__ import annotations

import asyncio
import logging
import sys

import structlog

from ivr.drivers.ami.loadgen import run_split


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    res, emu = asyncio.run(run_split(n, ramp_s=1.0, time_scale=0.1))
    print("steady :", res.line())
    print("         emulator sent", emu["events_sent"], "events; end reasons", res.end_reasons)
    res, emu = asyncio.run(run_split(n, [0.5, 1.2, 2.0, 2.9, 3.5], ramp_s=1.0, time_scale=0.1))
    print(f"{res.drops_hit} drops:", res.line())
    print("         end reasons", res.end_reasons)
    ok = res.records == n and res.duplicates == 0 and res.missing == 0
    print("every call exactly one record:", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
