"""A small asyncio AMI client on top of the sans-IO codec.

Why our own: the measured failures of ``asterisk-ami`` (reader thread dies on a quiet socket or a
listener exception, leaked futures, no asyncio) and ``panoramisk`` (AsyncAGI results never
resolve on Asterisk >= 12, UTF-8 split across reads dropped) are all in this layer. The rules:

* One reader task per connection feeds ``Decoder`` and routes each message: a response or list
  event whose ``ActionID`` is pending resolves that action; everything else goes to subscribers.
* Actions get a unique ``ActionID`` (``<prefix>-<n>``, prefix random per process, so several
  bridges on one Asterisk never collide). Every pending future is removed on answer, timeout,
  cancellation or disconnect: nothing leaks.
* A subscriber that raises is logged and skipped; it never stops the reader.
* Lost connection: every pending action fails with ``AMIDisconnected``; the client reconnects
  with exponential backoff and jitter, logs in again and runs the ``on_connect`` hooks (resync:
  ``CoreShowChannels``, ``QueueStatus``) before it reports itself ready.
* Keep-alive: a ``Ping`` every ``ping_interval`` s; no answer within ``action_timeout`` drops the
  connection (a half-open TCP socket is otherwise only noticed when the next write fails).
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from ivr.drivers.ami.codec import Banner, Decoder, Fields, Message, ProtocolError, encode_action

log = structlog.get_logger("ivr.drivers.ami")

Listener = Callable[[Message], Any]
ConnectHook = Callable[["AMIConnection"], Awaitable[None]]


class AMIError(Exception):
    """Asterisk answered ``Response: Error``; ``message`` is the response."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.get("Message", "AMI error"))
        self.message = message


class AMIDisconnected(ConnectionError):
    """The connection went away before the action was answered."""


class AMILoginFailed(AMIError):
    pass


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future
    is_list: bool
    response: Message | None = None
    events: list[Message] = field(default_factory=list)


@dataclass(slots=True)
class ListResult:
    """A list action's answer: the ``EventList: start`` response and the events that followed."""

    response: Message
    events: list[Message]
    complete: Message | None


class AMIConnection:
    """Asyncio AMI client. ``await start()``, then ``send_action`` / ``subscribe``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str = "",
        secret: str = "",
        *,
        events: str = "on",
        ping_interval: float = 20.0,
        action_timeout: float = 10.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        connect_timeout: float = 5.0,
        id_prefix: str | None = None,
        rng: random.Random | None = None,
        login_fatal: bool = False,
    ) -> None:
        self.host, self.port = host, port
        # a refused login is a configuration error: with login_fatal the loop stops in state
        # "failed" (serve exits non-zero) instead of retrying for ever (issue 13 item 12)
        self.login_fatal = login_fatal
        self.state = "connecting"  # connecting / connected / reconnecting / failed / closed
        self.failed = asyncio.Event()
        self._on_state: list[Callable[[str], Any]] = []
        self.username, self.secret = username, secret
        self.events = events
        self.ping_interval = ping_interval
        self.action_timeout = action_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connect_timeout = connect_timeout
        self.id_prefix = id_prefix or secrets.token_hex(4)
        self._ids = itertools.count(1)
        self._rng = rng or random.Random()
        self._listeners: list[Listener] = []
        self._on_connect: list[ConnectHook] = []
        self._on_disconnect: list[Callable[[], Any]] = []
        self._pending: dict[str, _Pending] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._runner: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self.banner: str | None = None
        self.connects = 0
        self.disconnects = 0
        self.protocol_errors = 0
        self.messages_in = 0
        self.last_read_t = 0.0

    # -- public API ----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(message)`` for every message not consumed as an action's answer."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def on_connect(self, hook: ConnectHook) -> None:
        """``await hook(conn)`` after every successful login, before ``wait_ready`` returns."""
        self._on_connect.append(hook)

    def on_state(self, callback: Callable[[str], Any]) -> None:
        """``callback(state)`` on every health change (connected / reconnecting / failed)."""
        self._on_state.append(callback)

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        log.info("ami.state", state=state)
        for cb in list(self._on_state):
            try:
                cb(state)
            except Exception:
                log.exception("ami.state_hook_failed")

    def on_disconnect(self, callback: Callable[[], Any]) -> None:
        self._on_disconnect.append(callback)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    async def start(self, wait: bool = True, timeout: float | None = 30.0) -> None:
        """Start the connect/read loop; with ``wait``, return once logged in and resynced."""
        if self._runner is None:
            self._closing = False
            self._runner = asyncio.create_task(self._run(), name="ami-connection")
        if wait:
            await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def close(self) -> None:
        """Log off politely if possible and stop reconnecting."""
        self._closing = True
        if self._writer is not None and self.ready:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.send_action("Logoff"), 1.0)
        await self._drop()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None

    def next_action_id(self) -> str:
        return f"{self.id_prefix}-{next(self._ids)}"

    def send_action_nowait(
        self, action: str, fields: Fields = (), *, action_id: str | None = None,
        is_list: bool = False,
    ) -> asyncio.Future:
        """Write the action now; the returned future gets the response (or list result)."""
        if self._writer is None or self._writer.transport.is_closing():
            raise AMIDisconnected("not connected")
        aid = action_id or self.next_action_id()
        fut = asyncio.get_running_loop().create_future()
        self._pending[aid] = _Pending(fut, is_list)
        fut.add_done_callback(lambda _f, aid=aid: self._pending.pop(aid, None))
        try:
            self._writer.write(encode_action(action, fields, aid))
        except Exception:
            self._pending.pop(aid, None)
            fut.cancel()
            raise
        return fut

    async def send_action(
        self, action: str, fields: Fields = (), *, timeout: float | None = None,
        action_id: str | None = None, check: bool = True,
    ) -> Message:
        """Send and await the response; ``Response: Error`` raises ``AMIError`` if ``check``."""
        fut = self.send_action_nowait(action, fields, action_id=action_id)
        try:
            resp = await asyncio.wait_for(fut, timeout or self.action_timeout)
        finally:
            if not fut.done():
                fut.cancel()
        if check and resp.response == "Error":
            raise AMIError(resp)
        return resp

    async def send_list_action(
        self, action: str, fields: Fields = (), *, timeout: float | None = None,
    ) -> ListResult:
        """Send a list action (``CoreShowChannels``, ``QueueStatus``…) and collect its events
        until the one with ``EventList: Complete``."""
        fut = self.send_action_nowait(action, fields, is_list=True)
        try:
            return await asyncio.wait_for(fut, timeout or self.action_timeout)
        finally:
            if not fut.done():
                fut.cancel()

    def drop(self) -> None:
        """Abort the socket as if the network failed (tests, ping failure); reconnect follows."""
        if self._writer is not None:
            self._writer.transport.abort()

    # -- internals -----------------------------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self._connect_and_login()
                attempt = 0
                await self._read_loop()
            except asyncio.CancelledError:
                raise
            except AMILoginFailed as exc:
                log.error("ami.login_failed", reason=str(exc))
                if self.login_fatal:
                    await self._drop()
                    self._set_state("failed")
                    self.failed.set()
                    return
            except (TimeoutError, OSError, AMIDisconnected, EOFError) as exc:
                if not self._closing:
                    log.warning("ami.connection_lost", error=repr(exc), attempt=attempt)
            except Exception:
                log.exception("ami.connection_crashed")
            await self._drop()
            if self._closing:
                break
            self._set_state("reconnecting")
            delay = self._backoff(attempt)
            attempt += 1
            log.info("ami.reconnect_in", delay_s=round(delay, 3), attempt=attempt)
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped."""
        base = min(self.backoff_max, self.backoff_initial * (2 ** min(attempt, 30)))
        return base / 2 + self._rng.uniform(0, base / 2)

    async def _connect_and_login(self) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket

            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader, self._writer = reader, writer
        self._decoder = Decoder()
        self._read_task = asyncio.create_task(self._reader_task(reader), name="ami-reader")
        self._read_task.add_done_callback(self._reader_done)
        resp = await self.send_action(
            "Login", {"Username": self.username, "Secret": self.secret, "Events": self.events},
            check=False, timeout=self.connect_timeout)
        if resp.response != "Success":
            raise AMILoginFailed(resp)
        self.connects += 1
        log.info("ami.connected", host=self.host, port=self.port, banner=self.banner,
                 connects=self.connects)
        for hook in self._on_connect:
            try:
                await hook(self)
            except (AMIDisconnected, OSError):
                raise
            except Exception:
                log.exception("ami.on_connect_hook_failed", hook=getattr(hook, "__name__", hook))
        self._ready.set()
        self._set_state("connected")
        self._ping_task = asyncio.create_task(self._pinger(), name="ami-ping")

    async def _read_loop(self) -> None:
        await self._read_task  # returns on EOF, raises on error

    async def _reader_task(self, reader: asyncio.StreamReader) -> None:
        decoder = self._decoder
        clock = time.perf_counter
        while True:
            data = await reader.read(65536)
            self.last_read_t = clock()  # latency is measured from here, not from parsing
            if not data:
                for item in decoder.close():
                    self._handle(item)
                raise EOFError("AMI connection closed by peer")
            for item in decoder.feed(data):
                try:
                    self._handle(item)
                except Exception:  # one odd message must never end the link
                    self.protocol_errors += 1
                    log.exception("ami.message_failed")

    def _reader_done(self, task: asyncio.Task) -> None:
        """The socket is gone: fail every pending action at once (not at its timeout)."""
        if not task.cancelled():
            task.exception()  # retrieved here; _read_loop re-raises it
        self._fail_pending()

    def _fail_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(AMIDisconnected("AMI connection lost"))
                p.future.exception()  # mark retrieved: a timed-out waiter may be gone

    def _handle(self, item: Message | Banner | ProtocolError) -> None:
        if isinstance(item, Message):
            self.messages_in += 1
            if item.bad_utf8:
                # never ``event=``: that is structlog's message argument (issue 13 item 8)
                log.warning("ami.bad_utf8", ami_event=item.event, action_id=item.action_id)
            if self._pending and item.mentions("ActionID"):
                pending = self._pending.get(item.get("ActionID") or "")
                if pending is not None and self._route_answer(pending, item):
                    return
            self._dispatch(item)
        elif isinstance(item, Banner):
            self.banner = item.text
        else:
            self.protocol_errors += 1
            log.warning("ami.protocol_error", reason=item.reason, size=item.size,
                        head=item.head[:40])

    def _route_answer(self, p: _Pending, msg: Message) -> bool:
        """True when ``msg`` belongs to the pending action (and is consumed by it)."""
        if p.future.done():
            return False
        if msg.event is None:  # a response
            if not p.is_list or msg.response == "Error" or not msg.is_list_start:
                if p.is_list:
                    p.future.set_result(ListResult(msg, [], None))
                else:
                    p.future.set_result(msg)
            else:
                p.response = msg
            return True
        if not p.is_list or p.response is None:
            return False  # e.g. OriginateResponse after the "queued" response: an event
        if msg.is_list_complete:
            p.future.set_result(ListResult(p.response, p.events, msg))
        else:
            p.events.append(msg)
        return True

    def _dispatch(self, msg: Message) -> None:
        for listener in list(self._listeners):
            try:
                res = listener(msg)
                if asyncio.iscoroutine(res):
                    task = asyncio.ensure_future(res)
                    task.add_done_callback(_log_task_error)
            except Exception:
                log.exception("ami.listener_failed", listener=getattr(listener, "__name__", "?"),
                              ami_event=msg.event, uniqueid=msg.get("Uniqueid"))

    async def _pinger(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self.send_action("Ping", timeout=self.action_timeout)
            except (AMIDisconnected, asyncio.CancelledError):
                return
            except (AMIError, TimeoutError, OSError) as exc:
                log.warning("ami.ping_failed", error=repr(exc))
                self.drop()  # the reader sees EOF and reconnects
                return

    async def _drop(self) -> None:
        self._ready.clear()
        for name in ("_ping_task", "_read_task"):
            task = getattr(self, name, None)
            if task is not None and task is not asyncio.current_task() and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            setattr(self, name, None)
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.transport.abort()
        self._fail_pending()
        if writer is not None:
            self.disconnects += 1
            for cb in self._on_disconnect:
                try:
                    cb()
                except Exception:
                    log.exception("ami.on_disconnect_failed")


def _log_task_error(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("ami.listener_task_failed", error=repr(task.exception()))


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs (never print a secret)."""
    import re

    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def ami_secret_from_env() -> str:
    """``HOTLINE_AMI_SECRET`` or the file named by ``HOTLINE_AMI_SECRET_FILE`` (so the secret
    need not sit on a command line, visible in ``ps``)."""
    value = os.environ.get("HOTLINE_AMI_SECRET", "")
    path = os.environ.get("HOTLINE_AMI_SECRET_FILE")
    if not value and path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read HOTLINE_AMI_SECRET_FILE {path}: "
                             f"{getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    return value


def parse_ami_url(url: str) -> dict[str, Any]:
    """``ami://user[:secret]@host:5038`` → keyword arguments for ``AMIConnection``; without a
    secret in the URL it comes from :func:`ami_secret_from_env`. Errors never echo a secret."""
    from urllib.parse import unquote, urlsplit

    if not isinstance(url, str) or len(url) > 2000 or any(c in url for c in "\r\n\0"):
        raise ValueError("expected ami://user@host:port (malformed URL)")
    try:
        parts = urlsplit(url)
        port = parts.port or 5038
    except ValueError:
        raise ValueError(f"expected ami://user@host:port, got {redact_url(url)!r}") from None
    if parts.scheme != "ami":
        raise ValueError(f"expected ami://user@host:port, got {redact_url(url)!r}")
    secret = unquote(parts.password or "") or ami_secret_from_env()
    if not secret:
        raise ValueError("no AMI secret: put it in HOTLINE_AMI_SECRET or a file named by "
                         "HOTLINE_AMI_SECRET_FILE")
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": port,
        "username": unquote(parts.username or ""),
        "secret": secret,
    }


def fields(*pairs: tuple[str, str], **kw: str) -> Iterable[tuple[str, str]]:
    """Ordered fields helper for actions that repeat a header (``Variable``)."""
    return [*pairs, *kw.items()]
