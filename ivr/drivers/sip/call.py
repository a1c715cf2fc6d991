"""One SIP call driving one :class:`ivr.call.session.CallSession`, as the console does.

The call's task executes the session's commands in order: ``Play`` sends the prompt's
pre-encoded payloads through the call's RTP stream, ``Collect`` plays its prompts and gathers
keys (RFC 4733 or in-band) up to ``max_digits`` / the terminator / the timeout, ``Enqueue``
hands the call to the ``on_enqueue`` hook (or ends it: the session has already recorded the
outcome ``queued``), ``Hangup`` ends it. Keys are typed ahead: a key during a prompt with
barge-in stops the batch's prompts; a key during one without barge-in waits for the next
``Collect`` (the caller need not time his presses). Whoever hangs up — caller (BYE, RTP
silence) or IVR — the session is fed exactly one ``CallerHangup`` or nothing, so it writes
exactly one outcome row.

The session runs its database requests (identification, codes, application status, the
outcome) inside ``start``/``feed``/``fail``, so the call's task hands each of those to a small
thread pool (:data:`IVR_THREADS` workers, shared by every call) and awaits the answer: a slow
database delays only the call that asked, never the media clock or other calls' keys. A call
has at most one operation on its session at a time, in order — a hang-up that arrives during a
feed is fed after it. A thread hop per key is not free on a busy process (the worker waits for
the GIL behind 1,000 calls' media), so keys in a machine state whose keys never needed the
database in :data:`LEARN_FEEDS` tries (a menu choice, before any one-time code) are fed on the
loop; the services must
count their requests (``ivr.call.writes.QueuedWrites``) for this to be learnt, and a state that
needs the database once goes back to the pool for good (that one request ran on the loop).
"""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from ivr.call.protocol import CallerHangup, Collect, Digits, Enqueue, Hangup, NoInput, Play, SetVar

if TYPE_CHECKING:
    from ivr.call.session import CallSession
    from ivr.drivers.sip.media import RtpStream

log = structlog.get_logger("ivr.drivers.sip.call")
TERMINATOR_GRACE = 0.5
IVR_THREADS = 8  # waiting on the database costs no CPU; a key with no request need not queue
LEARN_FEEDS = 20  # feeds from a state without a database request before it runs on the loop
# machine state (keys, no code sent) -> [feeds with no database request, 1 once one had one]
_steps: dict[str, list[int]] = {}
_pool: cf.ThreadPoolExecutor | None = None
_inflight: set[cf.Future[Any]] = set()  # every call's queued operations (settle_calls)
_pool_lock = threading.Lock()
EnqueueHook = Callable[["SipCall", Enqueue], Awaitable[None]]
Recorder = Callable[["CallSession", datetime], Any]


class SipCall:
    """The IVR side of one answered call (the SIP dialog is the endpoint's business)."""

    def __init__(self, session: CallSession, stream: RtpStream, *, prompts: Any,
                 clock: Callable[[], datetime], hangup: Callable[[SipCall], None],
                 on_enqueue: EnqueueHook | None = None, timeout_scale: float = 1.0,
                 recorder: Recorder | None = None,
                 executor: cf.Executor | None = None) -> None:
        self.session, self.stream, self.prompts = session, stream, prompts
        self.executor = executor or ivr_pool()
        self._last_op: cf.Future[Any] | None = None
        self.clock, self._hangup, self.on_enqueue = clock, hangup, on_enqueue
        self.timeout_scale = timeout_scale
        self.vars: dict[str, str] = {}
        self.keys: deque[str] = deque()
        self._key_arrived = asyncio.Event()
        self._barge = False
        self.task: asyncio.Task[None] | None = None
        self.ended_by: str | None = None
        self.recorder, self._recording = recorder, None
        stream.on_digit = self.key

    @property
    def call_id(self) -> str:
        return self.session.call_id

    def _log(self, level: str, event: str, **fields: Any) -> None:
        """Through the session's logger (call id bound) if it has one: a placed call's session
        (a callback leg) may not."""
        own = getattr(self.session, "log", None)
        if own is not None:
            own(level, event, **fields)
        else:
            getattr(log, level)(event, call_id=self.call_id, **fields)

    # ---- events from the network -------------------------------------------------------------
    def key(self, key: str) -> None:
        self.keys.append(key)
        self._key_arrived.set()
        if self._barge:
            self.stream.stop_playback()

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=self.call_id)
        return self.task

    def caller_gone(self, cause: str) -> None:
        """BYE, CANCEL after answer, RTP timeout: record the hang-up once, stop the task."""
        if self.ended_by is None:
            self.ended_by = "caller"
            self._submit(self.session.feed, CallerHangup(cause), self.clock())
        self.stream.close()
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def shutdown(self, detail: str) -> None:
        """The endpoint is stopping: the call gets its outcome (``error``) and a BYE."""
        if self.ended_by is None:
            self.ended_by = "hotline"
            self._submit(self.session.fail, self.clock(), detail)  # after a request in flight
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self._hangup(self)

    # ---- the session's operations, off the loop, one at a time --------------------------------
    def _submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        """Run ``fn(*args)`` in the pool after this call's previous operation (per-call order;
        the previous one was queued first, so it is running or done and this never deadlocks)."""
        prev = self._last_op

        def job() -> Any:
            if prev is not None and not prev.done():
                cf.wait([prev])
            return fn(*args)

        self._last_op = fut = self.executor.submit(job)
        _inflight.add(fut)
        fut.add_done_callback(_inflight.discard)
        return fut

    async def _feed(self, event: Any, now: datetime) -> list[Any]:
        """On the loop if the machine's state has proven database-free, else in the pool."""
        from ivr.call.writes import db_requests_here

        services = getattr(getattr(self.session, "hotline", None), "services", None)
        machine = getattr(self.session, "machine", None)
        state = getattr(getattr(machine, "state", None), "name", None) \
            if getattr(services, "counts_requests", False) else None
        if not isinstance(event, Digits) or getattr(machine, "codes_sent", 0):
            state = None  # silence may exhaust the retries, and once a code went out any step
            # that ends the call drops it (DropCode): those always go to the pool
        seen = _steps.get(state, (0, 1)) if state is not None else (0, 1)
        if seen[1] == 0 and seen[0] >= LEARN_FEEDS and \
                (self._last_op is None or self._last_op.done()):
            before = db_requests_here()
            commands = self.session.feed(event, now)
            if db_requests_here() != before:  # it did need the database after all
                _steps[state][1] = 1  # type: ignore[index]
            return commands

        def counted() -> list[Any]:
            before = db_requests_here()
            commands = self.session.feed(event, now)
            if state is not None:
                entry = _steps.setdefault(state, [0, 0])
                if db_requests_here() != before:
                    entry[1] = 1
                else:
                    entry[0] += 1
            return commands

        return await self._session(counted)

    async def _session(self, fn: Callable[..., Any], *args: Any) -> Any:
        # shielded: a hang-up cancelling the task must not drop an operation already queued
        # (a start dropped so would leave the call without its outcome row)
        return await asyncio.shield(asyncio.wrap_future(self._submit(fn, *args)))

    # ---- the IVR's commands ------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            commands = await self._session(self._start, self.clock())
            while commands:
                event = await self._execute(commands)
                if event is None or self.session.done:
                    break
                commands = await self._feed(event, self.clock())
                self._record_commands(commands)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - this call fails alone (ARCHITECTURE rule 7)
            await self._session(self.session.fail, self.clock(),
                                f"sip driver: {type(exc).__name__}")
        finally:
            self.stream.tap = None  # the media clock stops feeding the recording now
            self._submit(self._record_close, self.clock())  # after any start still queued
        if self.ended_by is None:
            self.ended_by = "hotline"
            if not self.session.done:  # defensive: the IVR stopped talking without an outcome
                self._submit(self.session.fail, self.clock(), "sip driver: no more commands")
            self._hangup(self)

    async def _execute(self, commands: list[Any]) -> Any:
        skip_plays = False
        for cmd in commands:
            if isinstance(cmd, Play):
                if not skip_plays:
                    skip_plays = not await self._play(cmd.prompts, cmd.lang, cmd.barge_in)
            elif isinstance(cmd, Collect):
                if not self.keys:
                    await self._play(cmd.prompts, cmd.lang, True)
                return await self._collect(cmd)
            elif isinstance(cmd, SetVar):
                self.vars[cmd.name] = cmd.value
            elif isinstance(cmd, Enqueue):
                if self.on_enqueue is not None:
                    await self.on_enqueue(self, cmd)
                return None
            elif isinstance(cmd, Hangup):
                return None
        return None

    async def _play(self, prompts: tuple[str, ...], lang: str, barge_in: bool) -> bool:
        """Play prompts in order; False if a key stopped them (barge-in)."""
        if barge_in and self.keys:
            return False
        for prompt in prompts:
            payloads = self.prompts.get(prompt, lang, self.stream.codec)
            if payloads is None:
                self._log("warning", "prompt_missing", prompt=prompt, lang=lang)
                continue
            self._barge = barge_in
            try:
                finished = await self.stream.play(payloads)
            finally:
                self._barge = False
            if not finished:
                return False
        return True

    async def _collect(self, cmd: Collect) -> Digits | NoInput:
        got = ""
        timeout = cmd.timeout_s * self.timeout_scale
        while True:
            while self.keys:
                key = self.keys.popleft()
                if cmd.terminator and key == cmd.terminator:
                    return Digits(got or key)  # '#' alone is a key of its own ('back')
                got += key
                if len(got) >= cmd.max_digits:
                    await self._swallow_terminator(cmd.terminator)
                    return Digits(got)
            self._key_arrived.clear()
            try:
                await asyncio.wait_for(self._key_arrived.wait(), timeout)
            except TimeoutError:
                return Digits(got) if got else NoInput()

    # ---- call recording (a recorder such as ivr.records.recordings.CallRecorder) ---------------
    # Opening and closing write the recording's row: in the pool with the session's operations.
    # A refusal (rare, once a call) discards on the loop, where the media clock feeds the file.
    def _start(self, now: datetime) -> list[Any]:
        commands = self.session.start(now)
        if self.recorder is not None and self.ended_by is None:
            self._record_start(commands, now)
        return commands

    def _record_start(self, commands: list[Any], now: datetime) -> None:
        try:
            self._recording = self.recorder(self.session, now)
            self._recording.commands(commands, now)
            self.stream.tap = self._recording.audio
        except Exception:  # noqa: BLE001 - no recording is no reason to drop the call
            self._log("exception", "recording_failed")
            self._recording, self.stream.tap = None, None

    def _record_commands(self, commands: list[Any]) -> None:
        if self._recording is not None:
            try:
                self._recording.commands(commands, self.clock())
            except Exception:  # noqa: BLE001
                self._log("exception", "recording_failed")

    def _record_close(self, now: datetime) -> None:
        recording, self._recording, self.stream.tap = self._recording, None, None
        if recording is not None:
            try:
                recording.close(now)
            except Exception:  # noqa: BLE001
                self._log("exception", "recording_failed")

    async def _swallow_terminator(self, terminator: str) -> None:
        """A full entry followed by its terminator ("11223344595#"): the ``#`` belongs to this
        entry, not to the next question (where it would mean 'back')."""
        if not terminator:
            return
        if not self.keys:
            self._key_arrived.clear()
            try:
                await asyncio.wait_for(self._key_arrived.wait(), TERMINATOR_GRACE)
            except TimeoutError:
                return
        if self.keys and self.keys[0] == terminator:
            self.keys.popleft()


def ivr_pool() -> cf.ThreadPoolExecutor:
    """The process's pool for calls' session operations (created on first use)."""
    from ivr.store.writer import prompt_gil_handoff  # SQLAlchemy: not at import time

    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = cf.ThreadPoolExecutor(IVR_THREADS, thread_name_prefix="hotline-ivr")
            prompt_gil_handoff()  # a busy loop would hold the workers 5 ms a turn
        return _pool


async def settle_calls(timeout: float) -> bool:
    """Wait until every operation queued for calls' sessions (a hang-up's outcome, a stop's
    ``error``) is done; False if some were still running after ``timeout`` s."""
    pending = [asyncio.wrap_future(f) for f in list(_inflight)]
    if not pending:
        return True
    _, not_done = await asyncio.wait(pending, timeout=timeout)
    return not not_done
