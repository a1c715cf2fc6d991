"""AGI commands of the FAKE Asterisk in ``emulator.py`` (not Asterisk).

Results are formatted as res_agi does on Asterisk 22 (tests/data/asterisk transcripts and
README): STREAM FILE ``result=<ASCII code of the key> endpos=<samples>`` or ``result=0``,
``result=-1 endpos=0`` for a missing file; GET DATA ``result=<digits>`` with `` (timeout)``
when time ran out; HANGUP ``result=1`` then AGI ends; ASYNCAGI BREAK continues the dialplan
(``[hotline-ivr]`` of ``ivr.dialplan.asterisk``).
"""
from __future__ import annotations

import shlex
import time
from typing import Any

from ivr.drivers.ami.emulator_channel import Channel

SAMPLES_PER_S = 8000


class CallerLeft(Exception):
    """The caller hung up while an AGI command (or the queue) ran."""


class AgiCommands:
    """Mixin of ``CallRunner``: one method per AGI command family."""

    emu: Any

    async def _run_command(self, ch: Channel, command: str):
        """Returns (result line, callable to run after AsyncAGIExec or None)."""
        try:
            words = shlex.split(command)
        except ValueError:
            return "520 Invalid command syntax.  Proper usage not available.", None
        upper = [w.upper() for w in words[:2]]
        emu = self.emu
        if upper[:2] == ["STREAM", "FILE"] and len(words) >= 3:
            escape = words[3] if len(words) > 3 else ""
            return await self._stream(ch, words[2], escape), None
        if upper[:2] == ["GET", "DATA"] and len(words) >= 3:
            timeout_ms = int(words[3]) if len(words) > 3 and words[3].isdigit() else 5000
            max_digits = int(words[4]) if len(words) > 4 and words[4].isdigit() else 1024
            return await self._get_data(ch, words[2], timeout_ms or 5000, max_digits), None
        if upper[:2] in (["SAY", "NUMBER"], ["SAY", "DIGITS"]) and len(words) >= 3:
            escape = words[3] if len(words) > 3 else ""
            res = await self._stream(ch, "digits/" + words[2], escape)
            return res.rsplit(" endpos", 1)[0], None
        if upper[:2] == ["WAIT", "FOR"] and len(words) >= 4:
            self._start_presses(ch)
            ms = int(words[3]) if words[3].lstrip("-").isdigit() else 0
            d = await self._next_digit(ch, None if ms < 0 else ms / 1000)
            return f"200 result={ord(d) if d else 0}", None
        if upper[:2] == ["SET", "VARIABLE"] and len(words) >= 4:
            self.varset(ch, words[2], words[3])
            return "200 result=1", None
        if upper[:2] == ["GET", "VARIABLE"] and len(words) >= 3:
            v = ch.variables.get(words[2])
            return ("200 result=0" if v is None else f"200 result=1 ({v})"), None
        if upper[:1] == ["ANSWER"] or upper[:1] == ["NOOP"]:
            return "200 result=0", None
        if upper[:1] == ["EXEC"] and len(words) >= 2:
            app, data = words[1], " ".join(words[2:])
            if app.lower() == "queue":
                return await self._queue(ch, data), None
            if app.lower() == "playback":
                ok = emu.prompt_exists(data.split(",")[0])
                if ok:
                    await self._sleep(ch, emu.prompt_s)
                self.varset(ch, "PLAYBACKSTATUS", "SUCCESS" if ok else "FAILED")
                return "200 result=0", None
            if app.lower() in ("wait", "noop", "set"):
                return "200 result=0", None
            return "200 result=-2", None
        if upper[:1] == ["HANGUP"]:
            # originate_local_asyncagi: SoftHangupRequest 32, then AGI ends with AGISTATUS
            self.ev("call", "SoftHangupRequest", ch, ("Cause", "32"))
            ch.end_reason = ch.end_reason or "agi-hangup"

            def after() -> None:
                self._end_agi(ch, "HANGUP")
                self.ev("call", "SoftHangupRequest", ch, ("Cause", "16"))
                self._hangup(ch, "16", "Normal Clearing")
            return "200 result=1", after
        if upper[:2] == ["ASYNCAGI", "BREAK"]:
            return "200 result=0", lambda: self._after_break(ch)
        return "510 Invalid or unknown command", None

    async def _after_break(self, ch: Channel) -> None:
        """The ``[hotline-ivr]`` context after AGI (ivr/asterisk_export.py): into
        ``Queue(${HOTLINE_QUEUE},,,,${HOTLINE_QUEUE_TIMEOUT})`` when set, then ``Hangup()``."""
        self._end_agi(ch, "SUCCESS")
        queue = ch.variables.get("HOTLINE_QUEUE", "")
        ch.priority += 1
        self.newexten(ch, "GotoIf", f'$["{queue}" = ""]?done')
        if queue:
            timeout = ch.variables.get("HOTLINE_QUEUE_TIMEOUT", "")
            ch.priority += 1
            self.newexten(ch, "Set", f"QUEUE_PRIO={ch.variables.get('HOTLINE_PRIORITY', '')}")
            ch.priority += 1
            self.newexten(ch, "Queue", f"{queue},,,,{timeout}")
            q = self.emu.queues.get(queue)
            try:
                if q is None:
                    self.varset(ch, "QUEUESTATUS", "UNKNOWN")
                else:
                    ch.queue_result = await q.enter(ch, float(timeout) if timeout else None)
            except CallerLeft:  # queue_abandon: ... QueueCallerLeave, SoftHangupRequest, Hangup
                ch.end_reason = ch.end_reason or "caller-hangup"
                self.ev("call", "SoftHangupRequest", ch, ("Cause", "16"))
                self._hangup(ch, "0" if ch.queue_result == "ABANDON" else "16",
                             "Unknown" if ch.queue_result == "ABANDON" else "Normal Clearing")
                return
        ch.priority += 1
        self.newexten(ch, "Hangup", "")
        ch.end_reason = ch.end_reason or "dialplan-hangup"
        self.ev("call", "SoftHangupRequest", ch, ("Cause", "16"))
        self._hangup(ch, "16", "Normal Clearing")

    async def _stream(self, ch: Channel, path: str, escape: str) -> str:
        """STREAM FILE: result=<ASCII code> when a key in ``escape`` interrupts, else 0;
        ``result=-1 endpos=0`` when the file does not exist (README of the transcripts)."""
        emu = self.emu
        if not emu.prompt_exists(path):
            return "200 result=-1 endpos=0"
        total = emu.prompt_s
        if not escape:
            await self._sleep(ch, total)
            # res_agi: ast_waitstream with no escape digits reads DTMF and drops it — keys
            # pressed during a non-interruptible prompt never reach a later command
            while not ch.digits.empty():
                ch.digits.get_nowait()
            return f"200 result=0 endpos={int(total * SAMPLES_PER_S)}"
        self._start_presses(ch)
        t0 = time.monotonic()
        deadline = t0 + emu.scaled(total)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return f"200 result=0 endpos={int(total * SAMPLES_PER_S)}"
            d = await self._next_digit(ch, left / max(emu.time_scale, 1e-9))
            if d is None:
                continue
            if d in escape:
                played = (time.monotonic() - t0) / max(emu.time_scale, 1e-9)
                self.varset(ch, "PLAYBACKSTATUS", "FAILED")  # as recorded on Asterisk 22
                return f"200 result={ord(d)} endpos={int(min(played, total) * SAMPLES_PER_S)}"

    async def _get_data(self, ch: Channel, path: str, timeout_ms: int, max_digits: int) -> str:
        """GET DATA: digits up to ``max_digits`` or ``#``; ``(timeout)`` when time ran out."""
        emu = self.emu
        self._start_presses(ch)
        got = ""
        if emu.prompt_exists(path):
            d = await self._next_digit(ch, emu.prompt_s)
            if d is not None:
                got = d
        timeout = timeout_ms / 1000
        while len(got) < max_digits and not got.endswith("#"):
            d = await self._next_digit(ch, timeout)
            if d is None:
                return f"200 result={got} (timeout)"
            got += d
        return f"200 result={got.rstrip('#')}"

    # -- queue (queue_timeout / queue_abandon) ----------------------------------------------------
    async def _queue(self, ch: Channel, data: str) -> str:
        args = data.split(",")
        q = self.emu.queues.get(args[0])
        timeout = float(args[4]) if len(args) > 4 and args[4] else None
        if q is None:
            self.varset(ch, "QUEUESTATUS", "UNKNOWN")
            return "200 result=0"
        status = await q.enter(ch, timeout)
        ch.queue_result = status
        return "200 result=0"

    # -- originate (originate_local_simple / misc_errors_and_command) ------------------------------
