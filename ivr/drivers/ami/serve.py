"""``hotline serve --asterisk ami://user:secret@host:5038``: the bridge wired to the real IVR.

One bridge per Asterisk server; several may share one database (call ids are
``<server_id>:<Uniqueid>``, outcome rows are written once per call id). Configuration comes from
arguments or the environment: ``HOTLINE_AMI_URL``, ``HOTLINE_SERVER_ID``, ``HOTLINE_DB_URL``,
``HOTLINE_RECORDINGS``, ``HOTLINE_ENQUEUE_MODE`` (``exec``|``break``).
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from ivr.drivers.ami.agimap import AgiConfig
from ivr.drivers.ami.bridge import LOGIN_EVENTS, Bridge, CallInfo, CallRecord
from ivr.drivers.ami.connection import AMIConnection, parse_ami_url
from ivr.drivers.ami.dialler import CallbackSession, Dialler
from ivr.drivers.ami.transfers import detail_suffix, write_transfers

log = structlog.get_logger("ivr.drivers.ami.serve")


def build(url: str, hotline: Any, *, server_id: str | None = None,
          recordings: str | Path = "recordings", enqueue_mode: str = "break",
          events: str = LOGIN_EVENTS, clock: Any = None,
          writer: Any = None, max_calls: int | None = None, mixmonitor_dir: str | None = None,
          recordings_store: str | Path | None = None) -> tuple[AMIConnection, Bridge]:
    """Connection + bridge driving ``hotline`` (an ``ivr.call.session.Hotline``) calls.

    ``writer`` (an ``ivr.service.writer.RecordWriter``): rows written off the event loop, in
    order; without one they are written synchronously (tests, tools). ``mixmonitor_dir``: where
    Asterisk spools call audio (default ``$HOTLINE_MIXMONITOR_DIR``); ``recordings_store``: the
    encrypted store it is adopted into (default ``$HOTLINE_RECORDINGS_DIR`` or ``recordings``)."""
    conn = AMIConnection(**parse_ami_url(url), events=events, login_fatal=True)
    dialler: list[Dialler] = []  # set below; the factory needs it, it needs the bridge

    def new_session(info: CallInfo) -> Any:
        cb = dialler[0].callback_for(info) if dialler else None
        if cb is not None:  # the answered leg of one of our callbacks
            return CallbackSession(info, cb, write=lambda row: write_row(hotline, row))
        return hotline.new_call(did=info.dnid or "", caller=info.callerid, call_id=info.call_id)

    def on_end(rec: CallRecord) -> None:
        if rec.session_outcome is None:  # the session never recorded: keep the call anyway
            write_fallback_row(hotline, rec, writer)
            return
        fields = queue_final(rec)
        if fields is not None:  # the IVR wrote 'queued': the queue decides the true outcome
            from ivr.store.calls import clamp

            if rec.transfers and fields.get("detail"):
                fields["detail"] += detail_suffix(rec)
            write_final(hotline, rec.call_id, clamp(fields), writer)
        write_transfers(getattr(hotline.services, "factory", None), rec, writer)

    kw: dict[str, Any] = {"clock": clock} if clock is not None else {}
    # the IVR's wait estimator, when live, is fed by this bridge's queue events
    kw["centre"] = getattr(getattr(hotline.services, "waits", None), "centre", None)
    if max_calls is not None:
        kw["max_calls"] = max_calls
    bridge = Bridge(conn, new_session, on_call_end=on_end, server_id=server_id,
                    agi=AgiConfig(recordings=Path(recordings).resolve(),
                                  enqueue_mode=enqueue_mode), **kw)
    factory = getattr(hotline.services, "factory", None)
    if factory is not None:
        from ivr.drivers.ami.dialguard import load_prefixes

        dialplans = getattr(hotline.services, "dialplans_dir", None) or "dialplans"
        dialler.append(Dialler(bridge, factory, allow_prefixes=load_prefixes(dialplans),
                               **kw_clock(clock)))
        bridge.dialler = dialler[0]
        from ivr.drivers.ami.recording import AmiRecorder

        # MixMonitor for consenting callers; the spooled WAV is adopted encrypted at hang-up
        bridge.recorder = AmiRecorder(conn, factory, spool=mixmonitor_dir,
                                      root=recordings_store)
    return conn, bridge


def kw_clock(clock: Any) -> dict[str, Any]:
    return {"clock": clock} if clock is not None else {}


def write_row(hotline: Any, row: dict[str, Any]) -> None:
    """Write one outcome row (idempotent on call id) through the hotline's database."""
    factory = getattr(hotline.services, "factory", None)
    if factory is None:
        return
    from ivr.store.calls import record_call

    with factory() as db:
        record_call(db, row)
        db.commit()


def queue_final(rec: CallRecord) -> dict[str, Any] | None:
    """The fields that replace the IVR's ``queued`` row once the channel is gone: answered by
    agent X at T / abandoned after W s / timeout / callback (issue 13 item 1); None when the
    IVR's own outcome is final."""
    row = rec.session_outcome if isinstance(rec.session_outcome, dict) else {}
    if row.get("outcome") != "queued":
        return None
    if row.get("callback_requested") and rec.queue_result is None:
        return {"outcome": "callback", "ended_at": rec.ended_at,
                "detail": "callback requested instead of waiting"}
    queue = rec.queue or "?"
    since = rec.queued_at or rec.ended_at
    left = rec.left_queue_at or rec.ended_at
    waited = max(0.0, (left - since).total_seconds())
    joined = {"queued_at": rec.queued_at} if rec.queued_at is not None else {}
    if rec.queue_result == "answered":
        agent = (rec.agent or "unknown")[:32]
        return {"outcome": "answered", "agent_id": agent, **joined,
                "answered_at": rec.answered_at or left, "ended_at": rec.ended_at,
                "detail": f"answered by {agent} after {waited:.0f} s in {queue}"}
    if rec.queue_result == "timeout":
        return {"outcome": "timeout", "ended_at": left, **joined,
                "detail": f"queue timeout after {waited:.0f} s in {queue}"}
    if rec.queue_result == "abandoned":
        return {"outcome": "abandoned", "ended_at": left, **joined,
                "detail": f"abandoned after {waited:.0f} s in {queue}"}
    if rec.end_reason == "bridge_stopped_in_queue":  # Asterisk still holds the caller
        return {"detail": f"in {queue} when the bridge stopped; the result is in Asterisk's "
                          "CDR (hotline import cdr)"}
    if rec.queued_at is not None or rec.end_reason == "ended_while_disconnected":
        # joined but no result seen (the link was down when the caller left): not answered
        return {"outcome": "abandoned", "ended_at": rec.ended_at, **joined,
                "detail": f"left the queue, result not seen ({rec.end_reason})"[:500]}
    log.warning("call.queue_never_joined", call_id=rec.call_id, queue=rec.queue)
    return None  # Asterisk never put it in a queue (no such queue?): 'queued' stays


def write_final(hotline: Any, call_id: str, fields: dict[str, Any], writer: Any = None) -> None:
    """Update the call's row with its final outcome (after the row's insert, in order)."""
    if writer is not None:
        writer.final(call_id, **fields)
        return
    factory = getattr(hotline.services, "factory", None)
    if factory is None:
        return
    from sqlalchemy import update

    from ivr.store.models import Call

    try:
        with factory.begin() as db:
            db.execute(update(Call).where(Call.call_id == call_id).values(**fields))
    except Exception as exc:  # noqa: BLE001 - the IVR's row stays; say which call lost what
        log.error("call.final_outcome_lost", call_id=call_id, error=type(exc).__name__)


def write_fallback_row(hotline: Any, rec: CallRecord, writer: Any = None) -> None:
    """A bare outcome row for a call whose session wrote none (ended before it started,
    crashed while recording). Idempotent: a row already written for the call id wins."""
    if getattr(hotline.services, "factory", None) is None:
        return
    outcome = ("busy" if rec.end_reason == "over_capacity" else
               "error" if rec.error else "abandoned_ivr")
    row = {"call_id": rec.call_id, "caller_number": rec.callerid, "did": rec.dnid,
           "outcome": outcome, "detail": f"bridge: {rec.end_reason}"[:500],
           "started_at": rec.started_at, "answered_at": rec.started_at,
           "ended_at": rec.ended_at}
    if writer is not None:
        writer.insert(row)
        return
    try:
        write_row(hotline, row)
    except Exception:
        log.exception("call.fallback_row_failed", call_id=rec.call_id)


async def serve(url: str | None = None, *, dialplans: str = "dialplans",
                db_url: str | None = None, server_id: str | None = None,
                recordings: str | None = None, enqueue_mode: str | None = None,
                stop: asyncio.Event | None = None,
                off_loop_writes: Any = None) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM). ``off_loop_writes(services)`` →
    ``(writer, services)``: a writer thread (``ivr.service.writer``, handed in by the service
    layer, which drivers may not import) and the services routing rows to it."""
    from ivr.call.session import Hotline

    url = url or os.environ.get("HOTLINE_AMI_URL")
    if not url:
        raise ValueError("no Asterisk to drive: give --asterisk ami://user:secret@host:5038 "
                         "or set HOTLINE_AMI_URL")
    parse_ami_url(url)  # refuse a malformed URL before anything starts
    from ivr.citizens.secret import SecretError, check_against_database, require_secret

    try:
        secret = require_secret()
    except SecretError as exc:
        raise ValueError(str(exc)) from None
    hotline = Hotline.load(dialplans, db_url=db_url)
    from ivr.citizens.sms import gateway_from_env

    hotline.services.gateway = gateway_from_env()  # no clear codes unless asked for (item 13)
    from ivr.store.migrate import upgrade_needed

    problem = upgrade_needed(hotline.services.factory.kw["bind"])
    if problem:
        raise ValueError(problem)
    try:
        check_against_database(hotline.services.factory, secret)
    except SecretError as exc:
        raise ValueError(str(exc)) from None
    gc.freeze()  # dialplan/menus live forever: keep them out of the collector's scans (p99)
    writer = None
    if off_loop_writes is not None:  # rows leave the event loop (item 11)
        writer, hotline.services = off_loop_writes(hotline.services)
    cap = os.environ.get("HOTLINE_MAX_CALLS")
    conn, bridge = build(
        url, hotline, server_id=server_id or os.environ.get("HOTLINE_SERVER_ID"),
        recordings=recordings or os.environ.get("HOTLINE_RECORDINGS", "recordings"),
        enqueue_mode=enqueue_mode or os.environ.get("HOTLINE_ENQUEUE_MODE", "break"),
        writer=writer, max_calls=int(cap) if cap and cap.isdigit() else None)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await conn.start(wait=False)
    dial = getattr(bridge, "dialler", None)
    dial_task = asyncio.create_task(dial.run(stop)) if dial is not None else None
    recorder = getattr(bridge, "recorder", None)  # spool files a crashed bridge left behind
    sweeps = asyncio.create_task(recorder.run_sweeps(stop)) if recorder is not None else None
    log.info("bridge.serving", host=conn.host, port=conn.port, server_id=bridge.server_id,
             started=datetime.now(UTC).isoformat())
    conn.on_state(lambda state: write_health(state, bridge.server_id))
    failed = asyncio.create_task(conn.failed.wait())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({failed, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (failed, stopping, sweeps):
            if t is not None:
                t.cancel()
        await stop_bridge(conn, bridge, writer, dial_task)
    if conn.failed.is_set():
        raise AmiLoginRefused(f"Asterisk refused the AMI login of {conn.username!r} at "
                              f"{conn.host}:{conn.port} (check the user and secret)")


class AmiLoginRefused(RuntimeError):
    """Wrong AMI credentials: fatal, the process exits non-zero (a service manager sees it)."""


def write_health(state: str, server_id: str) -> None:
    """Health for a service manager or probe: ``HOTLINE_HEALTH_FILE`` holds the AMI link's
    state (connected / reconnecting / failed) as JSON, rewritten on every change."""
    path = os.environ.get("HOTLINE_HEALTH_FILE")
    if not path:
        return
    import json

    try:
        tmp = Path(path).with_suffix(".tmp")
        tmp.write_text(json.dumps({"ami": state, "server_id": server_id,
                                   "at": datetime.now(UTC).isoformat()}))
        tmp.replace(path)
    except OSError as exc:
        log.warning("health.write_failed", error=exc.strerror)


async def stop_bridge(conn: AMIConnection, bridge: Bridge, writer: Any,
                      dial_task: asyncio.Task | None, grace_s: float = 5.0) -> None:
    """SIGTERM: every call in progress gets its outcome, the writer flushes, the link closes —
    each step bounded, so a start flood or a dead link cannot hold the stop (issue 13 item 5)."""
    if dial_task is not None:
        try:
            await asyncio.wait_for(dial_task, grace_s)
        except (TimeoutError, asyncio.CancelledError):
            dial_task.cancel()
        except Exception:
            log.exception("dialler.failed")
    ended = await bridge.close(grace_s)
    with contextlib.suppress(Exception):  # calls starting until here were recorded at once
        await asyncio.wait_for(conn.close(), grace_s)
    if writer is None:
        log.info("bridge.stop_done", calls_ended=ended)
        return
    await asyncio.to_thread(writer.close, 4 * grace_s)
    log.info("bridge.stop_done", calls_ended=ended, rows_written=writer.written,
             rows_updated=writer.updated, rows_lost=writer.lost)


def register(sub: Any) -> None:
    """``hotline serve`` (``ivr.cli`` lists this module, or ``ivr.serve`` re-exports it)."""
    p = sub.add_parser("serve", help="drive Asterisk calls over AMI/AsyncAGI (the bridge)")
    p.add_argument("--asterisk", default=None, metavar="URL",
                   help="ami://user:secret@host:5038 (default: $HOTLINE_AMI_URL)")
    p.add_argument("--dialplans", default="dialplans", help="dialplan YAML directory")
    p.add_argument("--db", default=None, help="database URL (default: $HOTLINE_DB_URL)")
    p.add_argument("--server-id", default=None,
                   help="prefix of call ids, unique per Asterisk (default: host name)")
    p.add_argument("--recordings", default=None,
                   help="prompt directory as Asterisk sees it (default: ./recordings)")
    p.add_argument("--enqueue-mode", choices=("break", "exec"), default=None,
                   help="break: ASYNCAGI BREAK into the exported dialplan's Queue() (default); "
                        "exec: EXEC Queue from AGI")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: Any) -> int:
    import sys

    try:
        asyncio.run(serve(args.asterisk, dialplans=args.dialplans, db_url=args.db,
                          server_id=args.server_id, recordings=args.recordings,
                          enqueue_mode=args.enqueue_mode,
                          off_loop_writes=getattr(args, "off_loop_writes", None)))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AmiLoginRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
