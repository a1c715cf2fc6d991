"""The bridge driving the real IVR session (dialplans/, the real store) through the AMI emulator."""
from __future__ import annotations

import asyncio

from ami_support import MONDAY_10
from sqlalchemy import select

from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript
from ivr.drivers.ami.serve import build
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call


def _rows(factory) -> dict[str, Call]:
    with factory() as db:
        return {c.call_id: c for c in db.scalars(select(Call))}


async def _run_calls(hotline, scripts, *, wait_for: int, **emu_kw):
    records = []
    async with AMIEmulator(time_scale=0.002, **emu_kw) as emu:
        conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline,
                             server_id="ast1", recordings="/srv/recordings",
                             clock=lambda: MONDAY_10)
        inner = bridge.on_call_end
        bridge.on_call_end = lambda r: (records.append(r), inner(r))
        await conn.start()
        chans = [emu.place_call(callerid=f"7916123456{i}", script=s)
                 for i, s in enumerate(scripts)]
        for _ in range(2000):
            if len(records) >= wait_for:
                break
            await asyncio.sleep(0.01)
        await bridge.close()
        await conn.close()
    return records, chans


def test_real_session_menu_choice_is_queued_and_recorded(hotline):
    hl, factory = hotline
    records, chans = asyncio.run(_run_calls(hl, [CallerScript(presses=["4"])], wait_for=1))
    (rec,) = records
    assert rec.call_id == f"ast1:{chans[0].uniqueid}" and rec.dnid == "88005553535"
    assert rec.end_reason == "enqueued"
    row = _rows(factory)[rec.call_id]
    assert (row.outcome, row.skill, row.did) == ("queued", "payments", "+78005553535")


def test_hash_alone_reaches_the_menu_as_back(hotline):
    """GET DATA ends on '#': "200 result=" (no "(timeout)") is the '#' key, not silence."""
    hl, factory = hotline
    # silent through each menu prompt (STREAM FILE), keys at the GET DATA that follows it
    script = CallerScript(presses=[None, "8", None, "#", None, "4"])
    records, _ = asyncio.run(_run_calls(hl, [script], wait_for=1))
    row = _rows(factory)[records[0].call_id]
    assert (row.outcome, row.skill) == ("queued", "payments")
    assert row.menu_path[0].startswith("main:8") and row.menu_path[-1].startswith("main:4")


def test_real_session_caller_hangs_up_and_row_is_written_once(hotline):
    hl, factory = hotline
    scripts = [CallerScript(presses=[], hangup_after_commands=2),
               CallerScript(presses=[None, None, None, None, None], hangup_after_s=2000)]
    records, _ = asyncio.run(_run_calls(hl, scripts, wait_for=2))
    rows = _rows(factory)
    assert len(records) == 2 and len(rows) == 2
    by_caller = {r.callerid: rows[r.call_id] for r in records}
    assert by_caller["79161234560"].outcome == "abandoned_ivr"  # hung up during the greeting
    silent = by_caller["79161234561"]  # silence until the menu gives up: to an operator
    assert (silent.outcome, silent.skill) == ("queued", "general")


def test_unknown_number_and_missing_prompts_still_end_cleanly(hotline):
    hl, factory = hotline

    async def main():
        records = []
        async with AMIEmulator(time_scale=0.002, prompt_exists=lambda p: False) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hl,
                                 server_id="ast1", clock=lambda: MONDAY_10)
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            emu.place_call(dnid="999", script=CallerScript())
            emu.place_call(script=CallerScript(presses=["4"]))
            for _ in range(2000):
                if len(records) >= 2:
                    break
                await asyncio.sleep(0.01)
            await bridge.close()
            await conn.close()
        return records
    records = asyncio.run(main())
    rows = _rows(factory)
    assert len(records) == 2 and len(rows) == 2
    outcomes = sorted(r.outcome for r in rows.values())
    assert outcomes == ["error", "queued"]


def test_serve_runs_the_bridge_until_stopped(tmp_path, monkeypatch):
    """``hotline serve --asterisk ami://…`` end to end: emulator call → outcome row in the DB."""
    from ivr.drivers.ami.serve import serve

    monkeypatch.setenv("HOTLINE_SECRET", "ami-serve-test-secret-0123456789")
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    upgrade(engine)  # the schema as `hotline db upgrade` makes it
    factory = session_factory(engine)

    async def main():
        async with AMIEmulator(time_scale=0.002) as emu:
            stop = asyncio.Event()
            task = asyncio.create_task(serve(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}",
                                             db_url=url, server_id="srv", stop=stop))
            for _ in range(500):
                if emu.sessions and all(s.mask is not None for s in emu.sessions):
                    break
                await asyncio.sleep(0.01)
            ch = emu.place_call(script=CallerScript(presses=[], hangup_after_commands=3))
            for _ in range(1000):
                if f"srv:{ch.uniqueid}" in _rows(factory):
                    break
                await asyncio.sleep(0.01)
            stop.set()
            await asyncio.wait_for(task, 10)
            return ch
    ch = asyncio.run(main())
    row = _rows(factory)[f"srv:{ch.uniqueid}"]
    assert row.outcome == "abandoned_ivr" and row.did == "+78005553535"
    engine.dispose()


def test_dnid_missing_from_env_is_read_from_hotline_did(hotline):
    """Trunks that send no DNID: the route comes from the HOTLINE_DID channel variable."""
    hl, factory = hotline

    async def main():
        records = []
        async with AMIEmulator(time_scale=0.002) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hl,
                                 server_id="ast1", clock=lambda: MONDAY_10)
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            emu.place_call(dnid="s", agi_dnid="unknown", variables={"HOTLINE_DID": "+78005553536"},
                           script=CallerScript(presses=["4"]))
            for _ in range(2000):
                if records:
                    break
                await asyncio.sleep(0.01)
            await bridge.close()
            await conn.close()
        return records
    (rec,) = asyncio.run(main())
    row = _rows(factory)[rec.call_id]
    assert rec.dnid == "+78005553536" and row.did == "+78005553536" and row.outcome == "queued"


def test_serve_refuses_bad_configuration_with_a_message(capsys, monkeypatch):
    """A malformed URL through ``hotline serve``; no URL at all through the bridge's own entry
    (``hotline serve`` without ``--asterisk`` is the embedded mode)."""
    import argparse

    from ivr.cli import main
    from ivr.drivers.ami.serve import cmd_serve

    monkeypatch.delenv("HOTLINE_AMI_URL", raising=False)
    assert main(["serve", "--asterisk", "http://127.0.0.1:5038"]) == 2
    err = capsys.readouterr().err
    assert "expected ami://" in err and "Traceback" not in err
    assert cmd_serve(argparse.Namespace(asterisk=None, dialplans="dialplans", db=None,
                                        server_id=None, recordings=None,
                                        enqueue_mode=None)) == 2
    err = capsys.readouterr().err
    assert "no Asterisk to drive" in err and "Traceback" not in err


def test_two_bridges_share_one_database(db_url, monkeypatch):
    """Scale-out: two Asterisk servers, one bridge each, one database (PostgreSQL in production).
    Both emulators hand out the same Uniqueids; the server-id prefix keeps every call apart."""
    monkeypatch.setenv("HOTLINE_SECRET", "ami-scale-out-test-secret-0123456789")
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    dp = load_dialplan("dialplans")

    def hotline() -> Hotline:  # each bridge process has its own Hotline over the shared DB
        return Hotline(dp, load_menus("dialplans"), DbServices(factory, FixedWait(180)),
                       SpeechSpeaker(dp.tz))

    async def one_server(server_id: str, epoch: int, n: int):
        records = []
        async with AMIEmulator(time_scale=0.002) as emu:
            emu._epoch = epoch  # two servers started in the same second
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline(),
                                 server_id=server_id, clock=lambda: MONDAY_10)
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            chans = [emu.place_call(script=CallerScript(presses=[None, str(1 + i % 7)]))
                     for i in range(n)]
            for _ in range(3000):
                if len(records) >= n:
                    break
                await asyncio.sleep(0.01)
            await bridge.close()
            await conn.close()
        return records, [c.uniqueid for c in chans]

    async def both():
        return await asyncio.gather(one_server("ast1", 1795300000, 20),
                                    one_server("ast2", 1795300000, 20))

    (rec1, uids1), (rec2, uids2) = asyncio.run(both())
    assert set(uids1) & set(uids2), "the emulators were meant to reuse Uniqueids"
    rows = _rows(factory)
    assert len(rec1) == len(rec2) == 20 and len(rows) == 40
    assert {r.call_id for r in rec1 + rec2} == set(rows)
    assert {cid.split(":")[0] for cid in rows} == {"ast1", "ast2"}
    outcomes = {row.outcome for row in rows.values()}
    assert None not in outcomes and "error" not in outcomes, outcomes
    engine.dispose()
