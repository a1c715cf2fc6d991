"""What bare pyVoIP 1.6.8 does as a server, re-measured (why ivr.drivers.sip owns the SIP layer).

A. ``VoIPPhone.start()`` with no registrar listening: how long it blocks, and what it ends in.
B. With a registrar (the hotline's own endpoint, which also counts every stray response sent
   to it), SIPp's built-in ``uac`` scenario calls the pyVoIP phone directly: how many INVITEs
   SIPp had to send, which responses reached SIPp, and how many of the phone's responses went
   to the registrar instead of the caller's Via.
C. The same SIPp call against the hotline's endpoint, for comparison.
Run: ``.venv/bin/python bench/sip_pyvoip_facts.py`` (about 45 s; needs ``sipp``).
"""
from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pyVoIP.VoIP  # noqa: F401 - first: pyVoIP.SIP alone is a circular import
    from pyVoIP.VoIP import VoIPPhone


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sipp_call(port: int) -> Counter[str]:
    """SIPp's uac calling 127.0.0.1:port; what it sent and received, by first line."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "msg.log")
        subprocess.run(["sipp", f"127.0.0.1:{port}", "-sn", "uac", "-s", "88005553535", "-m", "1",
                        "-nostdin", "-i", "127.0.0.1", "-p", str(free_port()), "-mp",
                        str(free_port()), "-d", "1000", "-timeout", "20s", "-trace_msg",
                        "-message_file", str(log)], check=False,  # a failed call is a finding
                       capture_output=True, timeout=60, cwd=tmp)
        text = log.read_text(errors="replace") if log.exists() else ""
    seen: Counter[str] = Counter()
    for direction, first in re.findall(r"UDP message (sent|received).*?:\s*\n\s*\n?([^\r\n]+)",
                                       text):
        seen[f"{direction}: {first.split(' sip:')[0][:24]}"] += 1
    return seen


class Registrar:
    """The hotline's endpoint in a thread, counting responses that were not meant for it."""

    def __init__(self) -> None:
        from ivr.call.session import Hotline
        from ivr.drivers.sip import SipEndpoint

        self.stray: Counter[int] = Counter()
        hotline = Hotline.load("dialplans", db_url="sqlite://")
        outer = self

        class Counting(SipEndpoint):
            def _response(self, msg):  # type: ignore[no-untyped-def]
                outer.stray[msg.status] += 1

        self.endpoint = Counting(hotline, "127.0.0.1", 0)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self.endpoint.start(), self.loop).result(10)


def main() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    phone = VoIPPhone("127.0.0.1", free_port(), "bench", "bench", myIP="127.0.0.1",
                      sipPort=free_port())
    t0 = time.monotonic()
    try:
        phone.start()
        outcome = f"status {phone.get_status()}"
    except Exception as exc:  # noqa: BLE001 - what it raises is the finding
        outcome = f"{type(exc).__name__}"
    print(f"A. VoIPPhone.start() with no registrar: blocked {time.monotonic() - t0:.1f} s, "
          f"then {outcome}")
    phone.stop()

    registrar = Registrar()

    def answer(call) -> None:  # type: ignore[no-untyped-def]
        call.answer()

    phone = VoIPPhone("127.0.0.1", registrar.endpoint.port, "bench", "bench",
                      myIP="127.0.0.1", sipPort=free_port(), callCallback=answer)
    phone.start()
    seen = sipp_call(phone.sip.myPort)
    phone.stop()
    print("B. SIPp calls pyVoIP directly (registrar = our endpoint):")
    for line, n in sorted(seen.items()):
        print(f"     {n:>2} × {line}")
    print(f"     responses the phone sent to its registrar instead: {dict(registrar.stray)}")
    seen = sipp_call(registrar.endpoint.port)
    print("C. The same SIPp call against the hotline's endpoint:")
    for line, n in sorted(seen.items()):
        print(f"     {n:>2} × {line}")


if __name__ == "__main__":
    main()
