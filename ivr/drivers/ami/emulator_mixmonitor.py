"""The FAKE Asterisk's ``MixMonitor`` / ``StopMixMonitor`` manager actions (not Asterisk).

Answers as apps/app_mixmonitor.c does (``manager_mixmonitor``, ``manager_stop_mixmonitor``):

- no ``Channel`` → ``Response: Error`` / ``Message: No channel specified``; an unknown channel
  → ``No such channel``; a started monitor → ``Response: Success`` with the ``ActionID`` and
  **no Message** (``astman_append`` of the two lines only), then the ``MixMonitorStart`` event
  (class call, the channel block — the stasis ``mixmonitor_start`` message);
- ``StopMixMonitor`` on a channel without a monitor → ``Could not stop monitoring channel``
  (``stop_mixmonitor_full`` finds no datastore); otherwise ``Success`` (no Message), the file
  closed before the answer ("the file is available … after calling StopMixMonitor"), then
  ``MixMonitorStop``. A hang-up ends the monitor without a ``MixMonitorStop`` event; the file
  is closed when the monitor thread ends, just after the channel is gone.

What it "records": an 8 kHz 16-bit mono WAV (the ``.wav`` format Asterisk picks from the name)
with a 425 Hz tone as long as the call was monitored, in emulated seconds (at most 2), so a
test sees a real file to adopt. Directories are created as MixMonitor does.
"""
from __future__ import annotations

import math
import struct
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.drivers.ami.emulator_channel import Channel

RATE = 8000
MAX_S = 2.0  # a load test places thousands of calls: small files, written cheaply
_TONE = struct.pack(f"<{RATE}h", *(int(8000 * math.sin(2 * math.pi * 425 * i / RATE))
                                   for i in range(RATE)))  # one second, 425 Hz


@dataclass
class _Monitor:
    channel: Channel
    path: Path
    t0: float


class MixMonitorSim:
    """Monitors by channel name; ``files`` lists every file written (tests)."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.active: dict[str, _Monitor] = {}
        self.files: list[Path] = []
        self.log: list[tuple[str, str]] = []  # (action, channel) as received (tests)

    def start(self, m: Any, head: list) -> tuple[list[tuple[str, str]], Channel | None]:
        """The reply to ``Action: MixMonitor`` and the channel whose start event follows."""
        name = m.get("Channel") or ""
        self.log.append(("MixMonitor", name))
        if not name:
            return [("Response", "Error"), *head, ("Message", "No channel specified")], None
        ch = self.emu.channels.get(name)
        if ch is None or ch.gone:
            return [("Response", "Error"), *head, ("Message", "No such channel")], None
        file = m.get("File") or ""
        if not file:  # mixmonitor_exec: no file name → the application fails
            return [("Response", "Error"), *head,
                    ("Message", "Could not start monitoring channel")], None
        mon = _Monitor(ch, Path(file), time.monotonic())
        self.active[name] = mon
        self.emu.spawn(self._on_hangup(mon))
        return [("Response", "Success"), *head], ch

    def stop(self, m: Any, head: list) -> tuple[list[tuple[str, str]], Channel | None]:
        """The reply to ``Action: StopMixMonitor`` (the file is closed before it)."""
        name = m.get("Channel") or ""
        self.log.append(("StopMixMonitor", name))
        if not name:
            return [("Response", "Error"), *head, ("Message", "No channel specified")], None
        ch = self.emu.channels.get(name)
        if ch is None or ch.gone:
            return [("Response", "Error"), *head, ("Message", "No such channel")], None
        mon = self.active.pop(name, None)
        if mon is None:
            return [("Response", "Error"), *head,
                    ("Message", "Could not stop monitoring channel")], None
        self._write(mon)
        return [("Response", "Success"), *head], ch

    async def _on_hangup(self, mon: _Monitor) -> None:
        await mon.channel.hangup_evt.wait()
        if self.active.get(mon.channel.name) is mon:
            del self.active[mon.channel.name]
            self._write(mon)

    def _write(self, mon: _Monitor) -> None:
        seconds = (time.monotonic() - mon.t0) / max(self.emu.time_scale, 1e-9)
        n = int(RATE * min(MAX_S, max(0.02, seconds)))
        tone = (_TONE * (n // RATE + 1))[:2 * n]
        mon.path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(mon.path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(tone)
        self.files.append(mon.path)
