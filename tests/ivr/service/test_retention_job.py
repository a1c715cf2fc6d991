"""serve's daily job: with the service clock set just before retention.yaml's ``daily_at`` it
runs once, in a worker thread (never on the loop), deletes what expired, and the board
snapshot and ``/metrics`` show that run."""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ivr.citizens import registry
from ivr.citizens.registry import OtpCode
from ivr.records import retention
from ivr.service.clock import Clock
from ivr.service.retention_job import RetentionJob
from ivr.store.base import make_engine, session_factory

MSK = ZoneInfo("Europe/Moscow")
JUST_BEFORE = datetime(2026, 11, 24, 2, 59, 59, 900000, tzinfo=MSK)  # daily_at: 03:00


def seed_codes(url: str, ages_days: list[int]) -> None:
    engine = make_engine(url)
    with session_factory(engine).begin() as db:
        registry.seed(db, 1, today=JUST_BEFORE.date())
        cid = db.scalars(select(registry.Citizen.id)).first()
        for i, age in enumerate(ages_days):
            at = JUST_BEFORE - timedelta(days=age)
            db.add(OtpCode(call_id=f"c{i}", citizen_id=cid, code_hmac="x" * 64, send_no=1,
                           created_at=at, expires_at=at + timedelta(minutes=5)))
    engine.dispose()


def otp_left(url: str) -> int:
    engine = make_engine(url)
    with session_factory(engine)() as db:
        n = db.scalar(select(func.count()).select_from(OtpCode))
    engine.dispose()
    return int(n)


@pytest.mark.timeout(60)
def test_serve_runs_the_daily_job_off_the_loop_at_the_moved_clock(db_url, tmp_path,
                                                                  monkeypatch):
    from ivr.service.serve import Options, Service
    from ivr.web.metrics import registry_for

    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    otp_days = retention.load_policy("dialplans")["otp_rows"]
    seed_codes(db_url, [otp_days + 5, otp_days + 1, 1])  # two expired, one not
    threads: list[int] = []
    real_daily = retention.daily

    def watched(*a, **kw):
        threads.append(threading.get_ident())
        return real_daily(*a, **kw)

    monkeypatch.setattr(retention, "daily", watched)
    monkeypatch.setattr("ivr.service.retention_job.POLL_S", 0.02)

    async def main():
        svc = Service(Options(sip=False, web=False, forecast=False,
                              start=JUST_BEFORE - timedelta(hours=5),
                              recordings=str(tmp_path / "rec"),
                              live_file=str(tmp_path / "live.json")))
        await svc.start()
        loop_thread = threading.get_ident()
        await asyncio.sleep(0.1)
        assert svc.retention.last is None  # 22:00: nothing yet
        svc.clock.move((JUST_BEFORE - svc.clock.now()).total_seconds())  # to 02:59:58
        try:
            for _ in range(1000):
                if svc.retention.last is not None:
                    break
                await asyncio.sleep(0.01)
            snap = svc.board.snapshot()
        finally:
            await svc.stop(0.5)
        return svc, snap, loop_thread

    svc, snap, loop_thread = asyncio.run(main())
    last = svc.retention.last
    assert last is not None and last["ok"], last
    assert datetime.fromisoformat(last["at"]) == datetime(2026, 11, 24, 3, 0, tzinfo=MSK)
    assert last["deleted"]["otp_rows"] == 2 and otp_left(db_url) == 1
    assert threads and loop_thread not in threads and svc.retention.runs == 1
    assert snap["retention"]["last"] == last
    assert datetime.fromisoformat(snap["retention"]["next_at"]) > JUST_BEFORE

    class Live:
        def snapshot(self):
            return snap

    metrics = {m.name: m for m in registry_for(Live()).collect()}
    assert metrics["hotline_retention_last_run_ok"].samples[0].value == 1.0
    deleted = {s.labels["kind"]: s.value for s in metrics["hotline_retention_deleted"].samples}
    assert deleted["otp_rows"] == 2.0


@pytest.mark.timeout(30)
def test_the_job_waits_for_daily_at_and_reads_it_from_the_yaml(db_url, tmp_path):
    (tmp_path / "retention.yaml").write_text(
        Path("dialplans/retention.yaml").read_text(encoding="utf-8").replace(
            'daily_at: "03:00"', 'daily_at: "04:30"'), encoding="utf-8")
    assert retention.load_daily_at(tmp_path) == (4, 30)
    clock = Clock(MSK, start=JUST_BEFORE, speed=1.0)
    job = RetentionJob(make_engine(db_url), clock, directory=tmp_path, poll_s=0.05)

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(job.run(stop))
        await asyncio.sleep(0.2)
        stop.set()
        await task

    asyncio.run(main())
    assert job.last is None and job.runs == 0  # 04:30 is 90 minutes away on this clock
    assert job.next_at == datetime(2026, 11, 24, 4, 30, tzinfo=MSK)
    assert retention.next_daily_run(job.next_at, MSK, 4, 30) == datetime(2026, 11, 25, 4, 30,
                                                                         tzinfo=MSK)
