"""AsyncAGI bridge: Asterisk calls ↔ IVR sessions, over one ``AMIConnection``.

Rules:

1. ``AsyncAGIStart`` (or, after a reconnect, a channel found in ``AGI`` by ``CoreShowChannels``)
   creates one IVR session per call; the call id is ``<server_id>:<Uniqueid>``, unique across
   bridges sharing one database.
2. Each call runs as one asyncio task that executes the session's commands in order through
   ``agimap`` (the only IVR→AGI table) and feeds back ``Digits``/``NoInput``/``DriverError``.
   ``Action: AGI`` carries our ``CommandID``; the result is the ``AsyncAGIExec`` event whose
   ``CommandId`` (lower-case d) matches.
3. ``Hangup``/``AsyncAGIEnd`` end the call's AGI part: the waiting command fails, the session
   is fed ``CallerHangup`` (if it still runs) and the call record is emitted **exactly once**,
   when both the task is finished and the channel is gone (so the queue result is included).
4. A lost AMI connection fails the in-flight commands as *lost*; after the reconnect's resync a
   lost ``Play`` counts as played and a lost ``Collect`` as ``NoInput`` (the caller is asked
   again). Calls that vanished meanwhile are closed with ``ended_while_disconnected``.
5. Anything a call does wrong (garbage AGI result, an exception in its session) is logged with
   its call id and ends that call with outcome ``error``; no other call notices.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from ivr.call.protocol import (
    CallerHangup,
    Collect,
    Digits,
    DriverError,
    Enqueue,
    Hangup,
    NoInput,
    Play,
    SetVar,
)
from ivr.drivers.ami import agimap, transfers
from ivr.drivers.ami.calls import CallGone, CallInfo, CallRecord, CallState, CommandLost
from ivr.drivers.ami.codec import AgiResult, Message, parse_agi_env, parse_agi_result
from ivr.drivers.ami.connection import AMIConnection, AMIDisconnected, AMIError
from ivr.drivers.ami.originate import OriginateResult, Originator
from ivr.drivers.ami.queuefeed import QueueFeed

__all__ = ["LOGIN_EVENTS", "Bridge", "CallGone", "CallInfo", "CallRecord", "CommandLost",
           "OriginateResult"]

log = structlog.get_logger("ivr.drivers.ami.bridge")

LOGIN_EVENTS = "system,call,agi,dtmf,agent"  # dialplan (VarSet/Newexten) is most of the noise
_CALL_EVENTS = frozenset({"DTMFEnd", "AsyncAGIEnd", "Hangup", "QueueCallerJoin", "AgentConnect",
                          "QueueCallerAbandon"})


def _clip(value: str | None, n: int) -> str | None:
    """Caller-controlled identifiers are cut to what a phone number or DID can be (item 9)."""
    return value[:n] if value is not None and len(value) > n else value


class Bridge:
    """Drive IVR sessions for every AsyncAGI call on one Asterisk server."""

    def __init__(
        self,
        conn: AMIConnection,
        session_factory: Callable[[CallInfo], Any],
        *,
        on_call_end: Callable[[CallRecord], Any] | None = None,
        on_queue_change: Callable[[str, dict[str, Any]], None] | None = None,
        server_id: str | None = None,
        agi: agimap.AgiConfig | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        command_guard_s: float = 600.0,
        centre: Any = None,
        max_latency_samples: int = 200_000,
        max_calls: int | None = None,
        busy_prompt: str = "service_error",
    ) -> None:
        self.conn = conn
        self.session_factory = session_factory
        self.on_call_end = on_call_end
        self.server_id = server_id or socket.gethostname()
        self.agi = agi or agimap.AgiConfig()
        self.clock = clock
        self.command_guard_s = command_guard_s
        self.calls: dict[str, CallState] = {}  # by Uniqueid
        self._by_cmd: dict[str, CallState] = {}  # CommandID -> call
        self._finished: dict[str, None] = {}  # call ids already recorded (bounded, ordered)
        self.originator = Originator(conn)
        self._bg: set[asyncio.Task] = set()
        self.dialler: Any = None  # ivr.drivers.ami.dialler.Dialler, when serve() wires one
        self.recorder: Any = None  # ivr.drivers.ami.recording.AmiRecorder: MixMonitor, consent
        self.queues = QueueFeed(on_change=on_queue_change, centre=centre,
                                call_id=lambda uid: f"{self.server_id}:{uid}",
                                queue_prefix=self.agi.queue_prefix)
        self.latencies: list[float] = []
        self._max_lat = max_latency_samples
        self.records_emitted = 0
        self.max_calls = max_calls  # beyond it a call hears ``busy_prompt`` and is hung up
        self.busy_prompt = busy_prompt
        self.rejected_busy = 0
        self.closing = False  # stop() began: new calls are recorded and hung up at once
        conn.subscribe(self._on_message)
        conn.on_connect(self._resync)
        conn.on_disconnect(self._on_disconnect)

    # -- AMI events -----------------------------------------------------------------------------
    def _on_message(self, m: Message) -> None:
        ev = m.event
        if ev is None:
            return
        if ev == "AsyncAGIExec":
            call = self._by_cmd.get(m.get("CommandId") or "")
            if call is not None:
                call.last_event_t = self.conn.last_read_t or time.perf_counter()
                fut = call.waiters.get(m.get("CommandId") or "")
                if fut is not None and not fut.done():
                    fut.set_result(parse_agi_result(m))
            return
        if ev == "AsyncAGIStart":
            self._start_call(m)
            return
        self.queues.apply(m)
        if ev in transfers.TRANSFER_EVENTS:
            self._on_transfer(m)
            return
        if ev not in _CALL_EVENTS:
            return  # most traffic: never split into headers (the codec parses lazily)
        uid = m.get("Uniqueid")
        call = self.calls.get(uid) if uid else None
        if call is None:
            return
        if call.transfers and transfers.after_transfer(call, ev, m, self.clock(),
                                                        self.agi.queue_prefix):
            return  # the senior group's join/answer: the first queue's stay the call's
        if ev == "QueueCallerJoin":
            call.queue, call.queued_at = m.get("Queue"), self.clock()
        elif ev in ("AgentConnect", "QueueCallerAbandon"):
            call.left_queue_at = self.clock()
            if ev == "AgentConnect":
                call.answered_at = call.left_queue_at
        elif ev == "DTMFEnd":
            if call.busy == 0:  # a key between commands: keep it for the next Collect
                call.typeahead += m.get("Digit", "")
        elif ev == "AsyncAGIEnd":
            call.agi_ended = True
            self._fail_waiters(call, CallGone("AsyncAGIEnd"))
        elif ev == "Hangup":
            call.gone = True
            call.end_reason = call.end_reason or "caller_hangup"
            self._fail_waiters(call, CallGone("Hangup"))
            self._maybe_finish(call)

    def _on_transfer(self, m: Message) -> None:
        """BlindTransfer / AttendedTransfer of one of our queued callers (to a senior)."""
        call = self.calls.get(transfers.transferee(m) or "")
        if call is None:
            return
        t = transfers.seen(call, m, self.clock(), self.queues.agents.get(call.info.uniqueid),
                           self.agi.queue_prefix)
        call.log.info("call.transferred", kind=t.kind, by=t.by, to=t.to)

    def _start_call(self, m: Message, adopted: bool = False) -> None:
        uid = m.get("Uniqueid") or ""
        call_id = f"{self.server_id}:{uid}"
        if not uid or uid in self.calls or call_id in self._finished:
            return
        env = parse_agi_env(m) if not adopted else {}
        dnid = env.get("agi_dnid") if env else None
        if dnid in ("", "unknown"):
            dnid = None  # resolved from HOTLINE_DID (or the extension) when the call starts
        info = CallInfo(
            call_id=call_id, uniqueid=uid, channel=env.get("agi_channel") or m.get("Channel", ""),
            dnid=_clip(dnid, 32),
            callerid=_clip(env.get("agi_callerid") or m.get("CallerIDNum"), 32),
            callerid_name=_clip(env.get("agi_calleridname") or m.get("CallerIDName"), 80),
            language=env.get("agi_language") or m.get("Language"), env=env, adopted=adopted,
            exten=m.get("Exten"))
        call = CallState(info, self.clock(), log.bind(call_id=call_id, channel=info.channel))
        call.last_event_t = self.conn.last_read_t or time.perf_counter()
        self.calls[uid] = call
        if self.closing:  # a start flood during stop: one record each, the caller released
            call.end_reason, call.error = "bridge_stopped", "bridge stopping"
            call.task_done = call.gone = True
            self._background(self._release(call))
            self._maybe_finish(call)
            return
        busy = self.max_calls is not None and len(self.calls) > self.max_calls
        run = self._reject_busy(call) if busy else self._run(call)
        call.task = asyncio.create_task(run, name=f"call-{call_id}")

    # -- one call ---------------------------------------------------------------------------------
    async def _run(self, call: CallState) -> None:
        clog = call.log
        clog.info("call.start", dnid=call.info.dnid, adopted=call.info.adopted)
        try:
            if call.info.dnid in (None, "", "unknown"):
                await self._dnid_from_channel(call)
            call.session = self.session_factory(call.info)
            cmds = list(call.session.start(self.clock()))
            if self.recorder is not None:  # MixMonitor if the session allows recording
                await self.recorder.begin(call, self.clock())
            while True:
                event = None
                for i, cmd in enumerate(cmds):
                    event = await self._execute(call, cmd, last=i == len(cmds) - 1)
                if event is not None:
                    cmds = list(call.session.feed(event, self.clock()))
                    continue
                if call.session.done or not cmds or isinstance(cmds[-1], (Enqueue, Hangup)):
                    break
                raise RuntimeError(f"session batch ended without Collect/Enqueue/Hangup: {cmds!r}")
            if not call.gone and not call.agi_ended and not (
                    cmds and isinstance(cmds[-1], (Enqueue, Hangup))):
                await self._hangup_quietly(call, "session_done")
        except CallGone as exc:
            call.end_reason = call.end_reason or "caller_hangup"
            self._tell_session(call, CallerHangup(str(exc)))
        except asyncio.CancelledError:
            call.end_reason = call.end_reason or "bridge_stopped"
            self._fail_session(call, "bridge stopped during the call")
            raise
        except Exception as exc:  # noqa: BLE001 - isolation: this call ends, others carry on
            call.error = repr(exc)
            call.end_reason = "error"
            clog.exception("call.failed")
            self._fail_session(call, repr(exc))
            await self._hangup_quietly(call, "error")
        finally:
            call.task_done = True
            for cid in list(call.waiters):
                self._by_cmd.pop(cid, None)
            call.waiters.clear()
            self._maybe_finish(call)

    async def _dnid_from_channel(self, call: CallState) -> None:
        """No DNID in the Env (Local channels, some trunks, adopted calls): the exported
        dialplan also sets ``HOTLINE_DID`` on the channel before AGI — ask for it."""
        res = await self._agi_lossy(call, "GET VARIABLE HOTLINE_DID")
        if res is not None and res.ok and res.result == "1" and res.data:
            dnid: str | None = res.data
        else:  # not our exported dialplan: the extension dialled is the best we have
            dnid = call.info.env.get("agi_extension") or call.info.exten
        call.info = replace(call.info, dnid=_clip(dnid, 32))

    def _tell_session(self, call: CallState, event: Any) -> None:
        try:
            if call.session is not None and not call.session.done:
                call.session.feed(event, self.clock())
        except Exception:
            call.log.exception("call.session_failed_on_hangup")

    def _fail_session(self, call: CallState, detail: str) -> None:
        fail = getattr(call.session, "fail", None)
        if fail is None:
            return
        try:
            fail(self.clock(), detail)
        except Exception:
            call.log.exception("call.session_fail_failed")

    async def _hangup_quietly(self, call: CallState, reason: str) -> None:
        if call.gone or call.agi_ended:
            return
        call.end_reason = call.end_reason or reason
        with contextlib.suppress(Exception):
            for line in agimap.hangup(reason):
                await self._agi(call, line)

    # -- command execution (mapping lives in agimap) ----------------------------------------------
    async def _execute(self, call: CallState, cmd: Any, last: bool) -> Any:
        """Run one IVR command; returns the event to feed back (``Collect``) or None."""
        cfg = self.agi
        if isinstance(cmd, Play):
            if call.barge and cmd.barge_in:
                return None  # a key already skipped the rest of this batch's plays
            for prompt in cmd.prompts:
                escape = cfg.barge_keys if cmd.barge_in else ""
                res = await self._agi_lossy(call, agimap.stream_file(cfg, cmd.lang, prompt,
                                                                     escape))
                if res is None:
                    return None
                self._check_play(call, res, prompt)
                if res.digit and cmd.barge_in:
                    call.barge += res.digit
                    return None
            return None
        if isinstance(cmd, Collect):
            return await self._collect(call, cmd)
        if isinstance(cmd, SetVar):
            if cmd.name == "HOTLINE_RECORDING" and cmd.value == "0" and self.recorder:
                await self.recorder.refused(call, self.clock())  # StopMixMonitor + discard
            await self._agi_lossy(call, agimap.set_variable(cmd.name, cmd.value))
            return None
        if isinstance(cmd, Enqueue):
            call.end_reason = "enqueued"
            self.queues.expect(call.info.uniqueid, {"priority": cmd.priority,
                                                    **(cmd.record or {})})
            for line in agimap.enqueue(cfg, cmd.skill, cmd.priority):
                await self._agi_lossy(call, line)
            if cfg.enqueue_mode == "exec" and not call.gone and not call.agi_ended:
                await self._hangup_quietly(call, "queue_done")
            return None
        if isinstance(cmd, Hangup):
            call.end_reason = call.end_reason or f"ivr_hangup:{cmd.reason}"
            for line in agimap.hangup(cmd.reason):
                await self._agi_lossy(call, line)
            return None
        call.log.warning("call.unknown_command", command=type(cmd).__name__)
        return None

    def _check_play(self, call: CallState, res: AgiResult, prompt: str) -> None:
        if not res.ok:
            raise RuntimeError(f"AGI answered {res.raw!r} to STREAM FILE {prompt}")
        if res.int_result == -1:
            # res_agi: "result=-1 endpos=0" is a missing file; endpos > 0 is a hang-up while
            # the prompt played — not an operator's problem (issue 13 item 4)
            if (res.extra.get("endpos") or "0") != "0":
                raise CallGone("hang-up during the prompt")
            call.log.warning("call.prompt_missing", prompt=prompt)

    async def _collect(self, call: CallState, cmd: Collect) -> Any:
        cfg = self.agi
        keys, call.barge, call.typeahead = call.barge + call.typeahead, "", ""
        prompts = list(cmd.prompts)
        last_prompt = prompts.pop() if prompts else None
        if not keys:
            for prompt in prompts:
                res = await self._agi_lossy(call, agimap.stream_file(cfg, cmd.lang, prompt,
                                                                     cfg.barge_keys))
                if res is None:
                    return NoInput()
                self._check_play(call, res, prompt)
                if res.digit:
                    keys = res.digit
                    break
        if keys:
            last_prompt = None  # the caller is already typing: no more prompts
        term = cmd.terminator
        if term and term in keys:
            return Digits(keys.split(term, 1)[0])
        if len(keys) >= cmd.max_digits:
            return Digits(keys[: cmd.max_digits])
        # GET DATA returns the moment it has max digits, so the "#" the prompt asks for would
        # reach the next command (cut its prompt, empty its entry: issue 13 item 2). Asking one
        # more digit lets that "#" end this entry; 12 digits for 11 is still the caller's entry.
        want = cmd.max_digits - len(keys) + (1 if term == "#" and cmd.max_digits > 1 else 0)
        res = await self._agi_lossy(call, agimap.get_data(
            cfg, cmd.lang, last_prompt, cmd.timeout_s, want))
        if res is None:
            return Digits(keys) if keys else NoInput()
        if not res.ok or res.result is None:
            call.log.warning("call.bad_agi_result", raw=res.raw[:80])
            return DriverError(f"GET DATA answered {res.raw.strip()[:60]!r}")
        if res.int_result == -1 and res.data is None:
            return Digits(keys) if keys else NoInput()
        got = keys + res.result
        if not got and res.data != "timeout":
            # GET DATA stops at '#': res_agi answers "200 result=" for '#' alone and
            # "200 result= (timeout)" for silence, so an empty answer without "(timeout)" is
            # the '#' key — "back" in a single-key menu.
            return Digits("" if cmd.terminator == "#" else "#")
        return Digits(got) if got else NoInput()

    async def _agi_lossy(self, call: CallState, line: str) -> AgiResult | None:
        """``_agi`` where a result lost to a reconnect is None (rule 4)."""
        try:
            return await self._agi(call, line)
        except CommandLost:
            call.log.info("call.command_lost", command=line.split(" ", 2)[:2])
            return None

    async def _agi(self, call: CallState, line: str) -> AgiResult:
        """Send one AGI command and await its ``AsyncAGIExec`` result."""
        if call.gone or call.agi_ended:
            raise CallGone("channel gone")
        if not self.conn.ready:
            await self._await_link(call)
            call.last_event_t = None  # a reconnect wait is not bridge latency
        call.seq += 1
        cid = f"{call.info.uniqueid}-{call.seq}"
        fut = asyncio.get_running_loop().create_future()
        call.waiters[cid] = fut
        self._by_cmd[cid] = call
        call.busy += 1
        call.commands += 1
        try:
            if call.last_event_t is not None:
                self._latency(time.perf_counter() - call.last_event_t)
                call.last_event_t = None
            for _attempt in range(5):
                try:
                    resp = await self.conn.send_action(
                        "AGI", {"Channel": call.info.channel, "Command": line,
                                "CommandID": cid}, check=False)
                    break
                except AMIDisconnected:
                    # not acknowledged, so (almost surely) never queued: send it again
                    await self._await_link(call)
            else:
                raise CommandLost(line)
            if resp.response == "Error":
                raise CallGone(resp.get("Message", "AGI refused"))
            try:
                return await asyncio.wait_for(fut, self.command_guard_s)
            except TimeoutError:
                raise CommandLost(line) from None
            except CommandLost:
                await self._await_link(call)
                raise
        finally:
            call.busy -= 1
            call.waiters.pop(cid, None)
            self._by_cmd.pop(cid, None)

    async def _await_link(self, call: CallState) -> None:
        """Wait for reconnect + resync; raise CallGone if the call did not survive."""
        await self.conn.wait_ready()
        if call.gone or call.agi_ended:
            raise CallGone("ended while disconnected")

    def _latency(self, seconds: float) -> None:
        if len(self.latencies) < self._max_lat:
            self.latencies.append(seconds)

    @staticmethod
    def _fail_waiters(call: CallState, exc: Exception) -> None:
        for fut in call.waiters.values():
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()

    # -- end of a call: exactly one record ---------------------------------------------------------
    def _maybe_finish(self, call: CallState) -> None:
        if not (call.task_done and call.gone):
            return  # after ASYNCAGI BREAK the channel lives on in the queue: wait for Hangup
        uid = call.info.uniqueid
        if self.calls.get(uid) is not call:
            return
        del self.calls[uid]
        self._finished[call.info.call_id] = None
        while len(self._finished) > 100_000:
            self._finished.pop(next(iter(self._finished)))
        queue_result, agent = transfers.final_result(call, *self.queues.forget(uid))
        record = CallRecord(
            call_id=call.info.call_id, uniqueid=uid, channel=call.info.channel,
            dnid=call.info.dnid, callerid=call.info.callerid, started_at=call.started_at,
            ended_at=self.clock(), end_reason=call.end_reason or "unknown",
            session_outcome=getattr(call.session, "outcome", None),
            queue_result=queue_result, agent=agent, error=call.error, commands=call.commands,
            queue=call.queue, queued_at=call.queued_at, answered_at=call.answered_at,
            left_queue_at=call.left_queue_at, transfers=tuple(call.transfers))
        self.records_emitted += 1
        adopt = self.recorder.finished(call, record.ended_at) if self.recorder else None
        if adopt is not None:  # the spooled WAV into the encrypted store, off the loop
            self._background(adopt)
        call.log.info("call.end", reason=record.end_reason, queue=record.queue_result,
                      commands=record.commands)
        if self.on_call_end is not None:
            try:
                res = self.on_call_end(record)
                if asyncio.iscoroutine(res):
                    asyncio.ensure_future(res)
            except Exception:
                call.log.exception("call.record_failed")

    # -- reconnect ----------------------------------------------------------------------------------
    def _on_disconnect(self) -> None:
        for call in self.calls.values():
            self._fail_waiters(call, CommandLost("AMI link lost"))

    async def _resync(self, conn: AMIConnection) -> None:
        """After (re)login: close calls that ended meanwhile, adopt AGI calls we never saw."""
        res = await conn.send_list_action("CoreShowChannels", timeout=30)
        live = {m.get("Uniqueid"): m for m in res.events}
        for uid, call in list(self.calls.items()):
            if uid not in live:
                call.gone = True
                call.end_reason = call.end_reason or "ended_while_disconnected"
                self._fail_waiters(call, CallGone("ended while disconnected"))
                self._maybe_finish(call)
        for uid, m in live.items():
            in_agi = (m.get("Application") or "").upper() == "AGI"
            call = self.calls.get(uid)
            if uid and call is None and in_agi:
                self._start_call(m, adopted=True)
            elif call is not None and call.task_done and in_agi and not call.agi_ended:
                # our last command (HANGUP) was lost with the link: the caller would wait
                task = asyncio.create_task(self._hangup_quietly(call, call.end_reason or "resync"))
                self._bg.add(task)
                task.add_done_callback(self._bg.discard)
        with contextlib.suppress(AMIError, TimeoutError):
            qs = await conn.send_list_action("QueueStatus", timeout=30)
            for m in qs.events:
                self.queues.apply(m)
        log.info("bridge.resynced", live=len(live), calls=len(self.calls))

    # -- capacity and stopping ----------------------------------------------------------------------
    async def _reject_busy(self, call: CallState) -> None:
        """Over ``max_calls``: the busy prompt, then hang up; the call keeps its record."""
        self.rejected_busy += 1
        call.end_reason = "over_capacity"
        call.log.warning("call.over_capacity", limit=self.max_calls)
        try:
            lang = call.info.language or "ru"
            await self._agi(call, agimap.stream_file(self.agi, lang, self.busy_prompt, ""))
            await self._hangup_quietly(call, "over_capacity")
        except (CallGone, CommandLost, AMIError, OSError):
            pass
        finally:
            call.task_done = True
            self._maybe_finish(call)

    def _background(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    async def _release(self, call: CallState) -> None:
        """Hang up a channel left in our AGI without waiting for the result (stopping)."""
        with contextlib.suppress(Exception):
            await self.conn.send_action("AGI", {"Channel": call.info.channel,
                                                "Command": "HANGUP"}, check=False, timeout=2)

    async def close(self, grace_s: float = 5.0) -> int:
        """Stop: every call in progress ends now with its outcome and exactly one record,
        within about ``2 * grace_s`` whatever the link does. Calls still in IVR: the session
        records ``error`` (bridge stopped) and the channel is hung up; calls already in
        Asterisk's queue keep waiting there and are recorded as still queued. Returns how many
        calls were ended."""
        self.closing = True
        calls = list(self.calls.values())
        running = [c.task for c in calls if c.task is not None and not c.task.done()]
        for call in calls:
            if not call.task_done:
                call.end_reason = call.end_reason or "bridge_stopped"
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=grace_s)
        releases = [asyncio.create_task(self._release(c)) for c in calls
                    if not c.gone and not c.agi_ended and c.end_reason == "bridge_stopped"
                    and self.conn.ready]
        if releases:
            await asyncio.wait(releases, timeout=grace_s)
        for call in calls:
            if self.calls.get(call.info.uniqueid) is call:
                if call.end_reason == "enqueued":
                    call.end_reason = "bridge_stopped_in_queue"
                call.task_done = call.gone = True
                self._maybe_finish(call)
        if self._bg:
            await asyncio.wait(list(self._bg), timeout=grace_s)
        log.info("bridge.stopped", calls_ended=len(calls), records=self.records_emitted)
        return len(calls)

    async def originate(self, channel: str, **kw: Any) -> OriginateResult:
        """See ``Originator.originate`` (kept here: callers hold the bridge)."""
        return await self.originator.originate(channel, **kw)
