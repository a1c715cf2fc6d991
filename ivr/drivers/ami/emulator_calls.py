"""Channels and the AsyncAGI loop of the FAKE Asterisk in ``emulator.py``.

Part of the AMI emulator (not Asterisk): every event sequence here copies the order recorded in
tests/data/asterisk/transcripts — see the comments naming the transcript each one follows.
"""
from __future__ import annotations

import asyncio
import contextlib
import time

from ivr.drivers.ami.codec import Message
from ivr.drivers.ami.emulator_agi import AgiCommands, CallerLeft
from ivr.drivers.ami.emulator_channel import (
    CallerScript,
    Channel,
    EmulatorHost,
    agi_env,
    agi_result,
)


class CallRunner(AgiCommands):
    """Runs emulated channels: the inbound dialplan, the AsyncAGI loop and its commands."""

    def __init__(self, emu: EmulatorHost) -> None:
        self.emu = emu

    # -- helpers --------------------------------------------------------------------------------
    def ev(self, cls: str, name: str, ch: Channel, *extra: tuple[str, str]) -> None:
        self.emu.emit(cls, [("Event", name), *ch.headers(), *extra])

    def newexten(self, ch: Channel, app: str, data: str) -> None:
        ch.app, ch.appdata = app, data
        self.ev("dialplan", "Newexten", ch, ("Extension", ch.exten), ("Application", app),
                ("AppData", data))

    def varset(self, ch: Channel, name: str, value: str) -> None:
        ch.variables[name] = value
        self.ev("dialplan", "VarSet", ch, ("Variable", name), ("Value", value))

    def new_channel(self, tech: str, callerid: str, cidname: str, context: str, exten: str,
                    language: str, uniqueid: str | None = None) -> Channel:
        emu = self.emu
        uid = uniqueid or emu.new_uniqueid()
        ch = Channel(f"{tech}-{emu.new_channel_suffix()}", uid, uid, callerid, cidname, context,
                     exten, language)
        emu.channels[ch.name] = ch
        return ch

    async def _sleep(self, ch: Channel, seconds: float) -> None:
        """Sleep scaled time; raise ``CallerLeft`` if the caller hangs up meanwhile."""
        if ch.hangup_evt.is_set():
            raise CallerLeft
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ch.hangup_evt.wait(), self.emu.scaled(seconds))
        if ch.hangup_evt.is_set():
            raise CallerLeft

    async def _next_digit(self, ch: Channel, seconds: float | None) -> str | None:
        """A key from the caller within ``seconds`` (scaled), None on timeout."""
        if ch.hangup_evt.is_set():
            raise CallerLeft
        get = asyncio.ensure_future(ch.digits.get())
        hang = asyncio.ensure_future(ch.hangup_evt.wait())
        timeout = None if seconds is None else self.emu.scaled(seconds)
        done, _ = await asyncio.wait({get, hang}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        hang.cancel()
        if get in done:
            return get.result()
        get.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await get
        if get.done() and not get.cancelled():  # raced: keep the key for later
            ch.digits.put_nowait(get.result())
        if hang in done:
            raise CallerLeft
        return None

    def press(self, ch: Channel, digit: str) -> None:
        """The caller presses a key: DTMFBegin/End (asyncagi_sip_dtmf) and queue it."""
        if not digit or ch.gone:
            return
        self.ev("dtmf", "DTMFBegin", ch, ("Digit", digit), ("Direction", "Received"))
        self.ev("dtmf", "DTMFEnd", ch, ("Digit", digit), ("DurationMs", "280"),
                ("Direction", "Received"))
        ch.digits.put_nowait(digit)

    def _start_presses(self, ch: Channel) -> None:
        """A command now listens for keys: feed the script's next entry (rule in CallerScript)."""
        script = ch.script
        if script is None or ch.feeding or not ch.digits.empty() or not script.presses:
            return
        entry = script.presses.pop(0)
        if entry:
            ch.feeding = True
            self.emu.spawn(self._feed(ch, entry, script.press_delay_s))

    async def _feed(self, ch: Channel, keys: str, delay: float) -> None:
        try:
            await self._sleep(ch, delay)
            for i, d in enumerate(keys):
                if i:
                    await self._sleep(ch, 0.4)
                self.press(ch, d)
        except CallerLeft:
            pass
        finally:
            ch.feeding = False

    # -- inbound call (asyncagi_sip_dtmf) ---------------------------------------------------------
    def inbound(self, dnid: str, callerid: str, script: CallerScript, cidname: str,
                language: str, agi_args: tuple[str, ...], variables: dict[str, str],
                agi_dnid: str | None) -> Channel:
        ch = self.new_channel("PJSIP/trunk", callerid, cidname, "from-trunk", dnid, language)
        ch.script = script
        self.emu.spawn(self._inbound(ch, agi_args, variables, agi_dnid))
        if script.hangup_after_s is not None:
            self.emu.spawn(self._hangup_timer(ch, script.hangup_after_s))
        return ch

    async def _hangup_timer(self, ch: Channel, after: float) -> None:
        await asyncio.sleep(self.emu.scaled(after))
        ch.hangup_evt.set()

    def hangup_from_ami(self, ch: Channel) -> None:
        ch.end_reason = ch.end_reason or "ami-hangup"
        ch.hangup_evt.set()

    async def _inbound(self, ch: Channel, agi_args: tuple[str, ...],
                       variables: dict[str, str] | None = None,
                       agi_dnid: str | None = None) -> None:
        self.ev("call", "Newchannel", ch)
        self.varset(ch, "SIPDOMAIN", "127.0.0.1")
        self.newexten(ch, "NoOp", f"IVR call to {ch.exten} from {ch.callerid_num}")
        ch.priority = 2
        self.newexten(ch, "Answer", "")
        ch.state = 6
        self.ev("call", "Newstate", ch)
        self.emu.emit("call", [("Event", "DeviceStateChange"), ("Device", "PJSIP/trunk"),
                               ("State", "INUSE")])
        ch.priority = 3
        self.newexten(ch, "Set", f"CHANNEL(language)={ch.language}")
        for k, v in (variables or {}).items():
            self.varset(ch, k, v)
        await self.run_agi(ch, priority=4, agi_args=agi_args, dnid=agi_dnid)

    def agi_env(self, ch: Channel, agi_args: tuple[str, ...], dnid: str) -> str:

        tech = ch.name.split("/", 1)[0]
        pairs = [
            ("agi_request", "async"), ("agi_channel", ch.name), ("agi_language", ch.language),
            ("agi_type", tech), ("agi_uniqueid", ch.uniqueid), ("agi_version", "22.10.1"),
            ("agi_callerid", ch.callerid_num), ("agi_calleridname", ch.callerid_name),
            ("agi_callingpres", "0"), ("agi_callingani2", "0"), ("agi_callington", "0"),
            ("agi_callingtns", "0"), ("agi_dnid", dnid), ("agi_rdnis", "unknown"),
            ("agi_context", ch.context), ("agi_extension", ch.exten),
            ("agi_priority", str(ch.priority)), ("agi_enhanced", "0.0"),
            ("agi_accountcode", ""), ("agi_threadid", str(140417721034432 + id(ch) % 100000)),
        ]
        pairs += [(f"agi_arg_{i}", a) for i, a in enumerate(agi_args, 1)]
        return agi_env(pairs)

    async def run_agi(self, ch: Channel, priority: int, agi_args: tuple[str, ...] = (),
                      dnid: str | None = None) -> None:
        """``AGI(agi:async)``: AsyncAGIStart, then run queued AGI commands until the end."""
        ch.priority = priority
        self.newexten(ch, "AGI", "agi:async" + "".join("," + a for a in agi_args))
        ch.in_agi = True
        self.ev("agi", "AsyncAGIStart", ch,
                ("Env", self.agi_env(ch, agi_args, ch.exten if dnid is None else dnid)))
        script = ch.script
        try:
            while True:
                if script and script.hangup_after_commands is not None \
                        and ch.commands_run >= script.hangup_after_commands:
                    await self._sleep(ch, script.press_delay_s)  # a moment, then BYE
                    ch.hangup_evt.set()
                    raise CallerLeft
                cmd, cmd_id = await self._next_command(ch)
                ch.commands_run += 1
                ended = await self._exec(ch, cmd, cmd_id)
                if ended:
                    return
        except CallerLeft:
            self._caller_hangup(ch)

    async def _next_command(self, ch: Channel) -> tuple[str, str | None]:
        if ch.hangup_evt.is_set():
            raise CallerLeft
        get = asyncio.ensure_future(ch.agi_queue.get())
        hang = asyncio.ensure_future(ch.hangup_evt.wait())
        done, _ = await asyncio.wait({get, hang}, return_when=asyncio.FIRST_COMPLETED)
        if get in done:
            hang.cancel()
            return get.result()
        get.cancel()
        raise CallerLeft

    def request_hangup(self, ch: Channel) -> None:
        """The far end's BYE queues ``HangupRequest``; an AMI ``Hangup`` action is a soft hang-up
        and Asterisk sends only ``SoftHangupRequest`` (channel.c, stasis_channels.c)."""
        if not ch.hangup_requested:
            ch.hangup_requested = True
            if ch.end_reason == "ami-hangup":
                self.ev("call", "SoftHangupRequest", ch, ("Cause", "16"))
            else:
                self.ev("call", "HangupRequest", ch)

    def _caller_hangup(self, ch: Channel) -> None:
        """Caller BYE while in AGI (asyncagi_sip_dtmf): HangupRequest → AsyncAGIEnd → VarSet
        AGISTATUS → SoftHangupRequest → Hangup with Cause 0."""
        if ch.gone:
            return
        ch.end_reason = ch.end_reason or "caller-hangup"
        self.request_hangup(ch)
        self._end_agi(ch, "HANGUP")
        self.ev("call", "SoftHangupRequest", ch, ("Cause", "16"))
        self._hangup(ch, "0", "Unknown")

    def _end_agi(self, ch: Channel, status: str) -> None:
        if ch.in_agi:
            ch.in_agi = False
            self.ev("agi", "AsyncAGIEnd", ch)
            self.varset(ch, "AGISTATUS", status)

    def _hangup(self, ch: Channel, cause: str, text: str) -> None:
        ch.gone = True
        ch.in_agi = False
        self.ev("call", "Hangup", ch, ("Cause", cause), ("Cause-txt", text))
        self.emu.emit("call", [("Event", "DeviceStateChange"), ("Device", ch.name.rsplit("-", 1)[0]),
                               ("State", "UNAVAILABLE")])
        self.emu.channels.pop(ch.name, None)
        self.emu.finished.append(ch)
        ch.hangup_evt.set()

    # -- AGI commands ---------------------------------------------------------------------------
    async def _exec(self, ch: Channel, command: str, cmd_id: str | None) -> bool:
        """Run one AGI command: AGIExecStart, work, AGIExecEnd, AsyncAGIExec. True = AGI over."""
        internal = str(self.emu.rng.randrange(10**8, 2 * 10**9))
        self.ev("agi", "AGIExecStart", ch, ("CommandId", internal), ("Command", command))
        hung = False
        t0 = time.monotonic()
        try:
            result, after = await self._run_command(ch, command)
        except CallerLeft:
            # the caller left mid-command: the command returns -1, then AGI ends; STREAM FILE
            # also says how far it played (res_agi handle_streamfile: "result=-1 endpos=<n>",
            # n > 0 — endpos=0 is only a missing file)
            self.request_hangup(ch)
            result, after, hung = "200 result=-1", None, True
            if command.upper().startswith("STREAM FILE"):
                played = (time.monotonic() - t0) / max(self.emu.time_scale, 1e-9)
                result += f" endpos={max(1, int(played * 8000))}"
        if self.emu.result_override is not None:
            override = self.emu.result_override(ch, command)
            if override is not None:
                result = override
        self._exec_end(ch, command, internal, cmd_id, result)
        if hung:
            ch.end_reason = ch.end_reason or "caller-hangup"
            self._end_agi(ch, "HANGUP")
            self.ev("call", "SoftHangupRequest", ch, ("Cause", "16"))
            self._hangup(ch, "0", "Unknown")
            return True
        if after is not None:
            res = after()
            if asyncio.iscoroutine(res):
                await res
            return True
        return False

    def _exec_end(self, ch: Channel, command: str, internal: str, cmd_id: str | None,
                  result: str) -> None:

        code = result[:3] if result[:3].isdigit() else "200"
        self.ev("agi", "AGIExecEnd", ch, ("CommandId", internal), ("Command", command),
                ("ResultCode", code), ("Result", "Success" if code == "200" else "Failure"))
        extra = [("CommandId", cmd_id)] if cmd_id is not None else []
        self.ev("agi", "AsyncAGIExec", ch, ("Result", agi_result(result)), *extra)

    async def originate(self, m: Message, action_id: str | None) -> None:
        emu = self.emu
        target = m.get("Channel", "")
        await asyncio.sleep(emu.scaled(0.5))
        reason = emu.originate_reason(target)
        cid = m.get("CallerID", "")
        num = cid.rsplit("<", 1)[-1].rstrip(">") if "<" in cid else (cid or "<unknown>")
        name = cid.split("<", 1)[0].strip().strip('"') if "<" in cid else "<unknown>"
        tail = ([("Application", m.get("Application", "")), ("Data", m.get("Data", ""))]
                if m.get("Application") else
                [("Context", m.get("Context", "")), ("Exten", m.get("Exten", ""))])
        head = [("ActionID", action_id)] if action_id is not None else []
        if reason != 4:
            emu.emit("call", [("Event", "OriginateResponse"), *head, ("Response", "Failure"),
                              ("Channel", target), *tail, ("Reason", str(reason)),
                              ("Uniqueid", "<unknown>"), ("CallerIDNum", "<unknown>"),
                              ("CallerIDName", "<unknown>")])
            return
        _tech, _, rest = target.partition("/")
        exten = rest.split("@", 1)[0]
        context = rest.split("@", 1)[1] if "@" in rest else m.get("Context", "default")
        ch = self.new_channel(target, num, name, context, exten, "ru", m.get("ChannelId"))
        ch.state = 6
        self.ev("call", "Newchannel", ch)
        for var in m.getall("Variable"):
            k, _, v = var.partition("=")
            self.varset(ch, k, v)
        self.ev("call", "Newstate", ch)
        emu.emit("call", [("Event", "OriginateResponse"), *head, ("Response", "Success"),
                          ("Channel", ch.name), *tail, ("Reason", "4"), ("Uniqueid", ch.uniqueid),
                          ("CallerIDNum", num), ("CallerIDName", name)])
        app, data = (m.get("Application") or "").lower(), m.get("Data") or ""

        ch.script = getattr(emu, "callee_script", None) or CallerScript()
        if app == "agi" and data.startswith("agi:async"):
            args = tuple(a for a in data.split(",")[1:])
            await self.run_agi(ch, priority=1, agi_args=args, dnid="unknown")
        elif (m.get("Exten") or "") == "answered":
            # [hotline-callback] answered → Set(CHANNEL(language)) → Goto(hotline-ivr,s,2)
            ch.context, ch.exten = m.get("Context") or context, "answered"
            ch.language = ch.variables.get("HOTLINE_LANGUAGE") or "ru"
            self.newexten(ch, "Set", f"CHANNEL(language)={ch.language}")
            ch.context, ch.exten = "hotline-ivr", "s"
            await self.run_agi(ch, priority=2, dnid="unknown")
        else:
            with contextlib.suppress(CallerLeft):
                await self._sleep(ch, float(data) if data.replace(".", "").isdigit() else 1.0)
            if not ch.gone:
                self.ev("call", "HangupRequest", ch, ("Cause", "0"))
                self._hangup(ch, "0", "Unknown")
