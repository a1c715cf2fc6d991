"""Console driver throughput with SQLite: whole calls per second through session + database.

Every call is what ``hotline call`` runs — routing, the machine, registry look-ups, one-time
codes through the SMS outbox, application status, callbacks and the outcome row — on an SQLite
file (WAL), one short transaction per request; only the printing is left out. Run:
``.venv/bin/python bench/ivr_console.py [calls-per-journey]``.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait, PublishedWaits
from ivr.citizens import registry
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.console import dev_code, run_call
from ivr.logs import configure_logging
from ivr.store import schema
from ivr.store.base import make_engine, session_factory
from ivr.store.models import Call

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
SUNDAY_23 = datetime(2026, 11, 22, 23, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    configure_logging("json", logging.WARNING)  # one info line per step would dominate
    os.environ.setdefault("HOTLINE_SECRET", "bench-secret-0123456789abcdef")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        schema.metadata.create_all(engine)
        factory = session_factory(engine)
        with factory() as db:
            people = registry.seed(db, 20, today=MONDAY_10.date())
            db.commit()
        dialplan = load_dialplan("dialplans")
        hotline = Hotline(dialplan, load_menus("dialplans"),
                          DbServices(factory, PublishedWaits()), SpeechSpeaker(dialplan.tz))
        journeys = {
            "menu → queue": (MONDAY_10, lambda i: "3"),
            "after hours → callback": (SUNDAY_23, lambda i: "4 1"),
            "identify + OTP + status": (MONDAY_10, lambda i: (
                f"2 1 {people[i % 20].snils}# {people[i % 20].birth_date:%d%m%Y}# code "
                f"{people[i % 20].applications[0][0]}# #")),
        }
        for name, (at, keys) in journeys.items():
            hotline.services.waits = FixedWait(120) if at is MONDAY_10 else PublishedWaits()
            t0 = time.perf_counter()
            for i in range(calls):
                session = hotline.new_call(did="88005553535", caller=f"+7999{i:07d}")
                row = run_call(session, at, iter(keys(i).split()), code=dev_code)
                assert row is not None and row["outcome"] != "error", row
            dt = time.perf_counter() - t0
            print(f"{name:28s} {calls / dt:8,.0f} calls/s  {1000 * dt / calls:6.1f} ms/call")
        with factory() as db:
            print(f"rows in calls: {db.scalar(select(func.count(Call.id)))}")
        engine.dispose()


if __name__ == "__main__":
    main()
