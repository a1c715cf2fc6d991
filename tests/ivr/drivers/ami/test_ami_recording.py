"""Recording in Asterisk mode, through the real bridge and the emulator answering MixMonitor and
StopMixMonitor as apps/app_mixmonitor.c does: a consenting caller's spooled WAV is adopted into
the encrypted store (row stored, audited, plain copy gone); a caller who refuses has the monitor
stopped and the file discarded (audited); nothing of theirs is kept."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from ivr.drivers.ami.connection import AMIConnection
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript
from ivr.records.recordings import Recording, wav_bytes
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import AuditEntry, Call
from tests.ivr.drivers.ami.ami_support import db_hotline, run_bridge_calls

ALLOW, REFUSE = "79161234561", "79161234560"


@pytest.fixture
def ami_db(tmp_path, monkeypatch):
    """A migrated SQLite database with its own keyring; the MixMonitor spool and the store."""
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    engine = make_engine(f"sqlite:///{tmp_path / 'ami.db'}")
    upgrade(engine)
    yield session_factory(engine), tmp_path / "spool", tmp_path / "store"
    engine.dispose()


@pytest.mark.timeout(90)
def test_consenting_call_recorded_and_adopted_refusing_call_not_kept(ami_db):
    factory, spool, store = ami_db
    seen = {}

    def place(emu):
        seen["emu"] = emu
        emu.place_call(callerid=REFUSE, script=CallerScript(presses=["*", "4"]))
        emu.place_call(callerid=ALLOW, script=CallerScript(presses=["4"]))

    records = run_bridge_calls(db_hotline(factory), place, 2, mixmonitor_dir=str(spool),
                               recordings_store=str(store))
    emu = seen["emu"]
    assert len(records) == 2
    by_caller = {r.callerid: r for r in records}
    chan = {n: by_caller[n].channel for n in (ALLOW, REFUSE)}
    # both callers were monitored from the consent notice on; only the refusing one stopped
    assert sorted(emu.mixmonitor.log) == sorted([("MixMonitor", chan[ALLOW]),
                                                 ("MixMonitor", chan[REFUSE]),
                                                 ("StopMixMonitor", chan[REFUSE])])
    assert len(emu.mixmonitor.files) == 2  # Asterisk wrote two files ...
    assert not any(p.exists() for p in emu.mixmonitor.files)  # ... no plain copy is left
    with factory() as db:
        recs = list(db.scalars(select(Recording)))
        consent = {c.caller_number: c.consent for c in db.scalars(select(Call))}
        audit = [(a.action, a.subject) for a in db.scalars(select(AuditEntry))
                 if a.action.startswith("recording_")]
    assert consent == {ALLOW: "given", REFUSE: "refused"}
    assert [(r.call_id, r.state) for r in recs] == [(by_caller[ALLOW].call_id, "stored")]
    enc = store / recs[0].path
    raw = enc.read_bytes()
    assert b"RIFF" not in raw[:64] and enc.stat().st_mode & 0o777 == 0o600
    plain = wav_bytes(enc)
    assert plain[:4] == b"RIFF" and len(plain) > 44 + 160  # a real WAV with audio in it
    assert sorted(audit) == sorted([("recording_stored", f"call:{by_caller[ALLOW].call_id}"),
                                    ("recording_discarded",
                                     f"call:{by_caller[REFUSE].call_id}")])


@pytest.mark.timeout(30)
def test_emulator_answers_mixmonitor_actions_as_app_mixmonitor(tmp_path):
    async def main():
        async with AMIEmulator(time_scale=0.01) as emu:
            conn = AMIConnection("127.0.0.1", emu.port, "ivr", "ivrsecret", events="call")
            events: list = []
            conn.subscribe(lambda m: events.append(m) if (m.event or "").startswith(
                "MixMonitor") else None)
            await conn.start()
            ch = emu.place_call(script=CallerScript(hangup_after_s=1000))
            for _ in range(100):
                if ch.in_agi:
                    break
                await asyncio.sleep(0.01)
            send = lambda action, **kw: conn.send_action(action, kw, check=False)
            out = {
                "no_channel": await send("MixMonitor", File=str(tmp_path / "x.wav")),
                "unknown": await send("MixMonitor", Channel="PJSIP/nobody-0001", File="x.wav"),
                "stop_idle": await send("StopMixMonitor", Channel=ch.name),
                "start": await send("MixMonitor", Channel=ch.name,
                                    File=str(tmp_path / "m" / "a.wav")),
                "stop": await send("StopMixMonitor", Channel=ch.name),
            }
            await asyncio.sleep(0.05)
            await conn.close()
        return out, [(m.event, m.get("Channel")) for m in events], ch.name

    out, events, name = asyncio.run(main())
    assert [(out[k].response, out[k].get("Message")) for k in out] == [
        ("Error", "No channel specified"), ("Error", "No such channel"),
        ("Error", "Could not stop monitoring channel"), ("Success", None), ("Success", None)]
    assert events == [("MixMonitorStart", name), ("MixMonitorStop", name)]
    assert (tmp_path / "m" / "a.wav").read_bytes()[:4] == b"RIFF"  # closed before the answer


def test_a_call_left_in_the_queue_at_stop_keeps_its_file_in_the_spool(tmp_path):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    import structlog

    from ivr.drivers.ami.recording import AmiRecorder

    rec = AmiRecorder(conn=None, factory=None, spool=str(tmp_path))
    wav = tmp_path / "ast1_7.wav"
    wav.write_bytes(b"RIFF....")  # Asterisk is still writing it
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    rec.files["ast1:7"] = (wav, now)
    call = SimpleNamespace(info=SimpleNamespace(call_id="ast1:7"),
                           end_reason="bridge_stopped_in_queue", log=structlog.get_logger())
    assert rec.finished(call, now) is None and wav.exists() and not rec.files


def test_spool_files_a_crashed_bridge_left_are_adopted_or_discarded_once_quiet(ami_db):
    """A bridge that died mid-call never adopted its MixMonitor files: the next bridge's sweep
    adopts those whose call has its final record (encrypted, plain copy gone), discards a
    refusing caller's, and keeps a file still being written or whose call it cannot find."""
    import os
    import time
    import wave
    from datetime import UTC, datetime, timedelta

    from ivr.drivers.ami.recording import AmiRecorder
    from ivr.records.recordings import relative_path
    from ivr.store.calls import record_call

    factory, spool, store = ami_db
    spool.mkdir()
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    files = {}
    for cid, consent, outcome, age in [("ast1:100.1", "given", "answered", 900),
                                       ("ast1:100.2", "refused", "answered", 900),
                                       ("ast1:100.3", "given", "queued", 900),
                                       ("ast1:100.4", "given", "answered", 5),
                                       ("ast9:999.9", None, None, 900)]:
        if outcome is not None:
            with factory.begin() as db:
                record_call(db, {"call_id": cid, "outcome": outcome, "consent": consent,
                                 "started_at": start, "ended_at": start + timedelta(minutes=3)})
        path = spool / relative_path(cid, start).rsplit("/", 1)[1].removesuffix(".enc")
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
            w.writeframes(b"\x01\x00" * 8000)
        os.utime(path, (time.time() - age, time.time() - age))
        files[cid] = path
    rec = AmiRecorder(None, factory, spool=str(spool), root=store, settle_s=1.0)
    done = rec.sweep(start + timedelta(hours=1))
    # .3's call is still queued, ast9's is unknown: kept; .4 is too fresh to be looked at
    assert done == {"adopted": 1, "discarded": 1, "left": 2}
    assert [cid for cid, p in files.items() if p.exists()] == ["ast1:100.3", "ast1:100.4",
                                                                "ast9:999.9"]
    with factory() as db:
        recs = [(r.call_id, r.state) for r in db.scalars(select(Recording))]
        audit = sorted(a.action for a in db.scalars(select(AuditEntry))
                       if a.action.startswith("recording_"))
    assert recs == [("ast1:100.1", "stored")]
    assert audit == ["recording_discarded", "recording_stored"]
    assert rec.sweep(start + timedelta(hours=2)) == {"adopted": 0, "discarded": 0, "left": 2}
