"""``hotline serve`` on embedded defaults: SIP endpoint, live ACD, web app, database — one loop.

    svc = Service(Options(sip_port=0, web_port=0))
    await svc.start()          # prints nothing; svc.banner() says where each part listens
    ...
    await svc.stop()           # every call in progress gets its outcome, within a bounded time

Start-up order: the database (refused if behind the newest migration), the live ACD with its
agents logged in by the roster, the writer thread, then the SIP endpoint (``ivr.drivers.sip``)
and the web app (``ivr.web.app.create_app``) when those packages are installed — a part that is
missing is named in the banner, the rest runs. The week forecast the dashboard plots beside
today's figures is computed in a worker *process* at start (a 6-replication simulation takes
seconds of CPU: never on the loop, never at the first queued call); the wait the IVR announces
is the live estimator over the ACD's state (``ivr.call.waits.LiveWaits``).

Stop (SIGINT/SIGTERM or :meth:`Service.stop`): the ACD gives every queued or talking caller
its outcome, SIP calls still in the IVR get ``drain_timeout`` seconds to finish and are then
ended with an outcome, the writer flushes every row, and only then does the process exit.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from ivr.call.protocol import CallerHangup
from ivr.service.clock import Clock

log = structlog.get_logger("ivr.service.serve")


@dataclass
class Options:
    dialplans: str = "dialplans"
    db_url: str | None = None
    recordings: str = "recordings"
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    sip: bool = True
    sip_outbound: str | None = None  # sip:[user:password@]host:port for placed calls
    web: bool = True
    speed: float = 1.0
    start: datetime | None = None  # simulated start (demo); None = now
    seed: int = 0
    drain_timeout: float = 5.0
    scenario: str | None = None
    escalate: float | None = None  # share of answered calls agents escalate (None: scenario's)
    forecast: bool = True
    live_file: str | None = None  # the snapshot `hotline stats` reads (default var/live.json)
    extra: dict[str, Any] = field(default_factory=dict)


def _compute_forecast(scenario: str | None) -> Any:
    """Worker process: the scenario's week forecast (mean figures by hour × skill)."""
    from queue_engine.forecast import run_forecast
    from queue_engine.model import Model
    from queue_engine.scenario import load_scenario

    model = Model.from_scenario(load_scenario(scenario))
    fc = run_forecast(model, reps=6, seed=0, workers=1)
    return {"skills": list(model.skills),
            "mean": {k: v.tolist() for k, v in fc.summary.mean.items()}}


def _compute_whatif(scenario: str | None, skill: str, agents: dict[int, int],
                    weekday: int) -> Any:
    """Worker process: the forecast with ``skill``'s own team staffed ``agents[hour]`` on
    ``weekday`` (the what-if of the dashboard)."""
    import numpy as np

    from queue_engine.forecast import run_forecast
    from queue_engine.model import Model
    from queue_engine.scenario import load_scenario

    model = Model.from_scenario(load_scenario(scenario))
    g = model.skills.index(skill)
    qualified = [t for t in range(len(model.teams)) if model.prof[t, g] > 0]
    team = min(qualified, key=lambda t: (int((model.prof[t] > 0).sum()), -model.prof[t, g]))
    staff = np.array(model.staff, copy=True)
    for hour, n in agents.items():
        staff[team, weekday * 24 + int(hour)] = int(n)
    fc = run_forecast(model.with_staff(staff), reps=4, seed=0, workers=1)
    return {"skills": list(model.skills),
            "mean": {k: v.tolist() for k, v in fc.summary.mean.items()}}


def _sqlite_for_serving(engine: Any) -> None:
    """WAL with ``synchronous=NORMAL`` for the long-running service: a commit no longer waits
    for an fsync (a crash of the process loses nothing; a power cut may lose the last
    transactions), so identification and the writer's batches stop queueing behind the disk."""
    if engine.dialect.name != "sqlite" or ":memory:" in str(engine.url):
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _normal(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def _child(send: Any, fn: Any, args: tuple) -> None:
    """Worker process body: one answer (or the error) through the pipe. The parent's asyncio
    signal handlers came with the fork: restore the defaults so ``terminate()`` ends it."""
    import signal

    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        send.send((True, fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - the parent shows it
        send.send((False, RuntimeError(f"{type(exc).__name__}: {exc}"[:500])))
    finally:
        send.close()


class Service:
    """One running hotline (embedded mode). See the module docstring."""

    def __init__(self, opts: Options | None = None) -> None:
        self.opts = opts or Options()
        self.stop_event = asyncio.Event()
        self.sip: Any = None
        self.callbacks: Any = None  # ivr.service.callbacks.CallbackDialler, once started
        self.web_server: Any = None
        self.web_port: int | None = None
        self.missing: dict[str, str] = {}
        self.forecast: Any = None
        self.first_password: str | None = None
        self._tasks: list[asyncio.Task] = []
        self._procs: list[Any] = []
        self.stopped = False

    # ---- start ----------------------------------------------------------------------------------
    async def start(self) -> None:
        from ivr.call.session import Hotline
        from ivr.call.waits import LiveWaits
        from ivr.call.writes import QueuedWrites
        from ivr.citizens.sms import gateway_from_env
        from ivr.dialplan.asterisk_queues import queue_defaults
        from ivr.service.acd import AcdService
        from ivr.service.board import LiveBoard, load_figure_rules
        from ivr.store.migrate import upgrade_needed
        from ivr.store.writer import RecordWriter
        from queue_engine.acd import LiveAcd
        from queue_engine.live import LiveCentre
        from queue_engine.live_figures import LiveFigures
        from queue_engine.scenario import load_scenario

        o = self.opts
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        scenario = load_scenario(o.scenario)
        if o.escalate is not None:  # a senior group the agents transfer that share to
            from queue_engine.escalation import with_escalation

            scenario = with_escalation(scenario, o.escalate)
        self.centre = LiveCentre(scenario)
        hotline = Hotline.load(o.dialplans, db_url=o.db_url, waits=LiveWaits(self.centre))
        # no one-time code in clear unless asked for (HOTLINE_SMS_DEV_CODES=1); a real provider
        # through HOTLINE_SMS_GATEWAY=module:Class
        hotline.services.gateway = gateway_from_env()
        self.factory = hotline.services.factory
        problem = upgrade_needed(self.factory.kw["bind"])
        if problem:
            raise ValueError(problem)
        self.db_url = str(self.factory.kw["bind"].url.render_as_string(hide_password=True))
        _sqlite_for_serving(self.factory.kw["bind"])
        self.clock = Clock(hotline.dialplan.tz, start=o.start, speed=o.speed)
        figures = LiveFigures(self.centre.model, load_figure_rules(o.dialplans,
                                                                 self.centre.model))
        self.writer = RecordWriter(self.factory)
        # agents pause between calls as app_queue's wrapuptime (dialplans/asterisk.yaml) says
        acd = LiveAcd(self.centre, seed=o.seed, figures=figures,
                      wrap_s=float(queue_defaults(o.dialplans).wrapuptime))
        self.acd = AcdService(acd, self.clock, write=self.writer.final)
        self.acd.on_transfer = self._transfer_event
        self.board = LiveBoard(self.acd, hotline.dialplan)
        self.acd.on_change = self.board.notify
        self.acd.start()
        hotline.services = QueuedWrites(hotline.services, self.writer, on_outcome=self._outcome)
        new_call = hotline.new_call

        def tracked_call(**kw: Any) -> Any:
            session = new_call(**kw)
            self.board.call_started(session)
            feed = session.feed

            def feed_watching_hangups(event: Any, now: Any) -> Any:
                if isinstance(event, CallerHangup) and session.done:
                    if threading.get_ident() != self._loop_thread:
                        self._loop.call_soon_threadsafe(self.acd.left_before_queue,
                                                        session.call_id)
                    else:
                        self.acd.left_before_queue(session.call_id)
                return feed(event, now)

            session.feed = feed_watching_hangups
            return session

        hotline.new_call = tracked_call  # type: ignore[method-assign]
        self.hotline = hotline
        self._tasks.append(asyncio.create_task(self.acd.run(self.stop_event), name="acd"))
        self._tasks.append(asyncio.create_task(
            self.board.poll_callbacks(self.factory, self.stop_event), name="callbacks"))
        from ivr.service.callbacks import for_service

        self.callbacks = for_service(self)  # virtual hold + the embedded callback dialler
        self._tasks.append(asyncio.create_task(self.callbacks.run(self.stop_event),
                                               name="callback-dialler"))
        self._tasks.append(asyncio.create_task(self._publish(), name="publish"))
        from ivr.service.retention_job import RetentionJob

        # once a day (retention.yaml's daily_at, service clock): retention + escalation, in a
        # worker thread; the board and /metrics show the last run
        self.retention = RetentionJob(self.factory.kw["bind"], self.clock,
                                      directory=o.dialplans, root=o.recordings)
        self.board.retention = self.retention.snapshot
        self._tasks.append(asyncio.create_task(self.retention.run(self.stop_event),
                                               name="retention"))
        if o.forecast:
            self._start_forecast()
        if o.sip:
            await self._start_sip()
        else:
            self.missing["sip"] = "disabled (--no-sip)"
        self.callbacks.attach(self.sip)  # its outbound route, if one is configured
        if o.web:
            await self._start_web()
        else:
            self.missing["web"] = "disabled (--no-web)"
        gc.collect()
        gc.freeze()  # dialplan, scenario, models live forever: out of the collector's scans
        log.info("serve.started", sip=self.sip is not None, web=self.web_server is not None,
                 db=self.db_url, speed=o.speed)

    def _transfer_event(self, event: dict[str, Any]) -> None:
        """A transfer or a senior's answer: written after the call's own row."""
        from ivr.records.transfers import apply_event

        self.writer.call(lambda db: apply_event(db, event))

    def _outcome(self, row: dict[str, Any]) -> None:
        """An IVR outcome row, from the loop or from a driver's database worker thread."""
        if threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._outcome_here, row)
        else:
            self._outcome_here(row)

    def _outcome_here(self, row: dict[str, Any]) -> None:
        if row.get("callback_requested"):
            self.callbacks.wake()  # a new request: its virtual place now, not at the next poll
        if row.get("outcome") == "queued" and row.get("callback_requested"):
            # the caller left a request instead of waiting: that is this call's final outcome
            self.writer.final(row["call_id"], outcome="callback",
                              detail="callback requested instead of waiting")
        elif row.get("outcome") == "queued":
            self.acd.ivr_queued(row["call_id"])
        self.board.ivr_done(row)

    def _start_forecast(self) -> None:
        def done(f: asyncio.Future) -> None:
            if not f.cancelled() and f.exception() is None:
                self.forecast = f.result()
                log.info("serve.forecast_ready")

        self._in_process(_compute_forecast, self.opts.scenario).add_done_callback(done)

    def _in_process(self, fn: Any, *args: Any) -> asyncio.Future:
        """``fn(*args)`` in a forked worker process; the result arrives through a pipe the loop
        watches (no thread, nothing to join at exit; :meth:`stop` terminates what still runs)."""
        import multiprocessing

        loop = asyncio.get_running_loop()
        ctx = multiprocessing.get_context("fork")
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(send, fn, args), daemon=True,
                           name=f"hotline-{fn.__name__}")
        proc.start()
        send.close()
        self._procs.append(proc)
        fut: asyncio.Future = loop.create_future()

        def ready() -> None:
            loop.remove_reader(recv.fileno())
            try:
                ok, value = recv.recv()
            except (EOFError, OSError):
                ok, value = False, RuntimeError("the worker process ended without an answer")
            recv.close()
            proc.join(0.1)
            if not fut.done():
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)

        loop.add_reader(recv.fileno(), ready)
        return fut

    async def _publish(self, every: float = 1.0) -> None:
        """The board's snapshot to the shared file ``hotline stats`` reads, once a second."""
        from ivr.service.stats import live_file, publish

        path = live_file(self.opts.live_file)
        while not self.stop_event.is_set():
            try:
                await asyncio.to_thread(publish, path, self.board.snapshot())
            except OSError as exc:
                log.warning("serve.snapshot_not_written", path=str(path), error=str(exc))
            try:
                await asyncio.wait_for(self.stop_event.wait(), every)
            except TimeoutError:
                pass
        with contextlib.suppress(OSError):
            path.unlink()

    def forecast_provider(self) -> Any:
        """The week forecast once the worker has it (None while it is computed)."""
        return self.forecast

    def whatif(self, skill: str, agents: dict[int, int]) -> Any:
        """An awaitable forecast with other agent numbers for ``skill`` today (worker process,
        never the loop that carries calls)."""
        return self._in_process(_compute_whatif, self.opts.scenario, skill, dict(agents),
                                self.clock.now().weekday())

    async def _start_sip(self) -> None:
        if importlib.util.find_spec("ivr.drivers.sip") is None:
            self.missing["sip"] = "ivr.drivers.sip is not installed"
            return
        from ivr.drivers.sip import SipEndpoint
        from ivr.service.agents import sip_hook

        o = self.opts
        from ivr.records.recordings import CallRecorder

        factory = self.factory  # calls are recorded (encrypted) unless the caller refuses
        self.sip = SipEndpoint(self.hotline, host=o.sip_host, port=o.sip_port,
                               recordings=o.recordings, clock=self.clock.now,
                               on_enqueue=sip_hook(self.acd, self.hotline),
                               recorder=lambda session, now: CallRecorder(factory, session, now),
                               outbound=o.sip_outbound,
                               caller_id=os.environ.get("HOTLINE_SIP_CALLER_ID") or None)
        try:
            await self.sip.start()
        except OSError as exc:
            self.missing["sip"] = f"cannot listen on {o.sip_host}:{o.sip_port}: {exc.strerror}"
            self.sip = None

    async def _start_web(self) -> None:
        if importlib.util.find_spec("ivr.web") is None or \
                importlib.util.find_spec("ivr.web.app") is None:
            self.missing["web"] = "ivr.web is not installed yet (dashboard off)"
            return
        if importlib.util.find_spec("uvicorn") is None:
            self.missing["web"] = "uvicorn is not installed (pip install uvicorn)"
            return
        import uvicorn

        from ivr.web.app import create_app

        o = self.opts
        db_url = self.factory.kw["bind"].url.render_as_string(hide_password=False)
        app = create_app(db_url, self.board, forecast_provider=self.forecast_provider,
                         whatif=self.whatif, dialplans=o.dialplans, transfer=self.acd.transfer)
        with contextlib.suppress(ImportError):
            from ivr.web.users import ensure_first_admin

            self.first_password = await asyncio.to_thread(ensure_first_admin, db_url)

        class _Server(uvicorn.Server):  # the service owns the signals, not uvicorn
            def install_signal_handlers(self) -> None:  # uvicorn < 0.29
                pass

            @contextlib.contextmanager
            def capture_signals(self):  # uvicorn >= 0.29
                yield

        import socket

        family = socket.AF_INET6 if ":" in o.web_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:  # bound here: a busy port is a message in the banner, not uvicorn's sys.exit
            sock.bind((o.web_host, o.web_port))
        except OSError as exc:
            sock.close()
            self.missing["web"] = f"cannot listen on {o.web_host}:{o.web_port}: {exc.strerror}"
            return
        config = uvicorn.Config(app, host=o.web_host, port=o.web_port, log_level="warning",
                                access_log=False, lifespan="auto")
        server = _Server(config)

        async def serve_web() -> None:
            try:
                await server.serve(sockets=[sock])
            except SystemExit as exc:  # uvicorn exits the process on a start-up failure
                raise RuntimeError(f"uvicorn start-up failed ({exc.code})") from None

        task = asyncio.create_task(serve_web(), name="web")
        for _ in range(200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.025)
        if task.done() or not server.started:
            exc = task.exception() if task.done() and not task.cancelled() else None
            self.missing["web"] = f"web app did not start: {exc!r}"[:200]
            return
        self.web_server = server
        self._tasks.append(task)
        sock = server.servers[0].sockets[0] if server.servers else None
        self.web_port = int(sock.getsockname()[1]) if sock is not None else o.web_port

    def banner(self) -> str:
        o = self.opts
        lines = ["hotline is running (embedded mode)"]
        if self.sip is not None:
            lines.append(f"  SIP     sip:88005553535@{o.sip_host}:{self.sip.port}  (UDP; dial any "
                         "hotline number, e.g. hotline softphone call "
                         f"sip:88005553535@{o.sip_host}:{self.sip.port} --dtmf 3)")
        else:
            lines.append(f"  SIP     off: {self.missing.get('sip', '?')}")
        if self.web_server is not None:
            lines.append(f"  web     http://{o.web_host}:{self.web_port}/  (supervisor dashboard)")
            if self.first_password:
                lines.append(f"          first run: login admin / {self.first_password}  "
                             "(shown once; hotline user add NAME --role supervisor for more)")
        else:
            lines.append(f"  web     off: {self.missing.get('web', '?')}")
        lines.append(f"  ACD     {len(self.acd.acd.agents)} virtual agents on duty now, "
                     f"{len(self.acd.acd.skills)} skill groups (roster: "
                     f"{self.centre.scenario.name})")
        lines.append(f"  db      {self.db_url}")
        if o.speed != 1.0:
            lines.append(f"  clock   {self.clock.now():%Y-%m-%d %H:%M} local, x{o.speed:g}")
        lines.append("  figures hotline stats [--watch]   stop: Ctrl-C")
        return "\n".join(lines)

    # ---- stop -----------------------------------------------------------------------------------
    async def stop(self, drain_timeout: float | None = None) -> dict[str, int]:
        """Every call gets its outcome; the writer flushes; bounded by ``drain_timeout``."""
        if self.stopped:
            return {}
        self.stopped = True
        drain = self.opts.drain_timeout if drain_timeout is None else drain_timeout
        self.stop_event.set()
        self.acd.closing = True
        closed = self.acd.close("service stopped")
        if self.sip is not None:
            try:
                await asyncio.wait_for(self.sip.stop(drain_timeout=drain), drain + 5.0)
            except TimeoutError:
                log.error("serve.sip_stop_timeout")
        if self.web_server is not None:
            self.web_server.should_exit = True
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 3.0)
        ivr_left = [s for s in self.board.sessions.values() if not s.done]
        now = self.clock.now()
        for s in ivr_left:  # any driver's call still in the IVR: its outcome, not silence
            s.fail(now, "service stopped")
        flushed = await asyncio.to_thread(self.writer.close, 30.0)
        for proc in self._procs:  # a forecast still running must not hold up the exit
            if proc.is_alive():
                proc.terminate()
        summary = {"queued_closed": closed, "ivr_closed": len(ivr_left),
                   "rows_written": self.writer.written, "outcomes_updated": self.writer.updated,
                   "lost": self.writer.lost, "flushed": int(flushed)}
        log.info("serve.stopped", **summary)
        return summary


async def run(opts: Options, *, ready: Any = None, extra_task: Any = None) -> dict[str, int]:
    """Start, print the banner, run until SIGINT/SIGTERM (or ``extra_task`` ends), stop."""
    import signal

    svc = Service(opts)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before start: a stop during start-up is clean
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, svc.stop_event.set)
    await svc.start()
    print(svc.banner(), flush=True)
    if ready is not None:
        ready(svc)
    side = asyncio.create_task(extra_task(svc)) if extra_task is not None else None
    waiter = asyncio.create_task(svc.stop_event.wait())
    await asyncio.wait({t for t in (side, waiter) if t is not None},
                       return_when=asyncio.FIRST_COMPLETED)
    svc.acd.closing = True
    svc.acd.close("service stopped")  # queued callers: this outcome, before drivers hang up
    svc.stop_event.set()
    if side is not None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(side, opts.drain_timeout + 5.0)
    summary = await svc.stop()
    waiter.cancel()
    print(f"stopped: {summary.get('rows_written', 0)} call records written, "
          f"{summary.get('outcomes_updated', 0)} queue outcomes, {summary.get('lost', 0)} lost",
          flush=True)
    return summary


def env_db_url(arg: str | None) -> str | None:
    return arg or os.environ.get("HOTLINE_DB_URL")
