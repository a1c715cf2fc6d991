"""IVR machine throughput: events per second through the pure state machine (no I/O).

Three journeys, each replayed many times with fresh machines: a menu choice queued after the
wait announcement; identification by SNILS + DOB + one-time code and two application statuses;
three silences falling back to the operator. Service answers are fed back directly, as the
session would. Run: ``.venv/bin/python bench/ivr_machine.py [calls]``.
"""
from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime

from ivr.call import requests as io
from ivr.call.machine import IvrMachine
from ivr.call.protocol import CallerHangup, Digits, NoInput
from ivr.call.session import SpeechSpeaker
from ivr.citizens.checksums import snils_check_digits
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 10:00 Moscow
SNILS = "112233445" + snils_check_digits("112233445")
ANSWERS = {
    io.EstimateWait: io.WaitResult(180), io.Identify: io.IdentifyResult("ok", 1),
    io.SendCode: io.SendCodeResult("sent"), io.CheckCode: io.CheckCodeResult("ok"),
    io.FindApplication: io.ApplicationResult("in_progress", date(2026, 12, 1)),
    io.RequestCallback: io.CallbackResult(True, None, 3),
}
JOURNEYS = {
    "menu → queue": ["3"],
    "identify + OTP + 2 statuses": ["2", "1", SNILS, "01021980", "123456", "1001", "1",
                                    "1002", "hangup"],
    "3 silences → operator": ["_", "_", "_", "_"],
}


def run(menus, route, speaker, script) -> int:
    m = IvrMachine(menus, route, speaker, call_id="bench", caller="+79161234567",
                   did=route.e164, emergency=("security", 10))
    steps = 1
    pending = list(m.start(NOW))
    for token in script:
        if m.done:
            break
        ev = CallerHangup() if token == "hangup" else NoInput() if token == "_" else Digits(token)
        pending = m.feed(ev, NOW)
        steps += 1
        while pending and type(pending[-1]) in ANSWERS:
            pending = m.feed(ANSWERS[type(pending[-1])], NOW)
            steps += 1
    return steps


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    dialplan = load_dialplan("dialplans")
    menus = load_menus("dialplans")
    route = dialplan.route("88005553535", NOW)
    speaker = SpeechSpeaker(dialplan.tz)
    total_steps, total_time = 0, 0.0
    for name, script in JOURNEYS.items():
        t0 = time.perf_counter()
        steps = sum(run(menus, route, speaker, script) for _ in range(calls))
        dt = time.perf_counter() - t0
        total_steps += steps
        total_time += dt
        print(f"{name:30s} {calls / dt:10,.0f} calls/s {steps / dt:12,.0f} steps/s")
    print(f"{'all':30s} {'':>17s} {total_steps / total_time:12,.0f} steps/s")


if __name__ == "__main__":
    main()
