"""The IVR side of the records: refusing the recording by key (dialplans/menus.yaml), and a
repeat caller hearing a ticket's status and reopening it — real machine, dialplan, database."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.call.protocol import Digits, SetVar
from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.citizens import registry
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.console import dev_code, run_call
from ivr.records import recordings, tickets
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import AuditEntry, Call

MSK = ZoneInfo("Europe/Moscow")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)
DIALPLAN, MENUS = load_dialplan("dialplans"), load_menus("dialplans")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    monkeypatch.setenv("HOTLINE_SECRET", "ivr-paths-test-secret-0123456789")
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as db:
        people = registry.seed(db, 2, today=MONDAY_10.date())
    hotline = Hotline(DIALPLAN, MENUS, DbServices(factory, FixedWait(60)),
                      SpeechSpeaker(DIALPLAN.tz))
    yield hotline, factory, people, tmp_path
    engine.dispose()


def test_the_refuse_key_stops_recording_and_is_recorded(env):
    hotline, factory, _people, tmp = env
    call = hotline.new_call(did="88005553535", caller="+79161234567", call_id="c-no")
    start = call.start(MONDAY_10)
    assert "consent_recording" in start[0].prompts and call.recording_allowed
    cmds = call.feed(Digits("*"), MONDAY_10 + timedelta(seconds=5))
    assert cmds[0] == SetVar("HOTLINE_RECORDING", "0")
    assert "consent_refused" in cmds[1].prompts and not call.recording_allowed
    with factory.begin() as db, pytest.raises(recordings.RecordingRefused):
        recordings.open_writer(db, call_id=call.call_id, started_at=MONDAY_10,
                               allowed=call.recording_allowed, root=tmp / "rec")
    call.feed(Digits("4"), MONDAY_10 + timedelta(seconds=9))  # the menu still works
    yes = hotline.new_call(did="88005553535", caller="+79161234567", call_id="c-yes")
    yes.start(MONDAY_10)
    yes.feed(Digits("4"), MONDAY_10 + timedelta(seconds=5))
    yes.feed(Digits("*"), MONDAY_10 + timedelta(seconds=6))  # later, '*' is just "repeat"
    with factory() as db:
        rows = {c.call_id: (c.consent, c.menu_path) for c in db.scalars(select(Call))}
    assert rows["c-no"] == ("refused", ["consent:refused", "main:4:payments"])
    assert rows["c-yes"][0] == "given" and yes.recording_allowed


def test_a_repeat_caller_hears_the_ticket_status_and_reopens_it(env):
    hotline, factory, people, _tmp = env
    p = people[0]
    rules = tickets.load_rules("dialplans")
    with factory.begin() as db:
        cid = db.scalars(select(registry.Citizen.id).where(
            registry.Citizen.snils_hash == registry.number_hash("snils", p.snils))).one()
        t = tickets.open_ticket(db, kind="other_agency", now=MONDAY_10 - timedelta(days=3),
                                rules=rules, citizen_id=cid, summary="Запрос справки в ФНС")
        number, first_due = t.number, t.due_at
        other = tickets.open_ticket(db, kind="login", now=MONDAY_10, rules=rules,
                                    citizen_id=cid + 1).number
    said: list[str] = []
    keys = f"8 9 1 {p.snils}# {p.birth_date:%d%m%Y}# code {other}# {number}# 1 #"
    run_call(hotline.new_call(did="88005553535", caller=p.mobile), MONDAY_10,
             iter(keys.split()), echo=said.append, code=dev_code)
    text = " ".join(said)
    assert "ticket_not_found" in text  # someone else's ticket: not found
    assert "ticket_status_open" in text and "ticket_due" in text
    assert "ticket_status_reopened" in text
    with factory() as db:
        t = db.scalars(select(tickets.Ticket).where(tickets.Ticket.number == number)).one()
        assert (t.status, t.reopened, t.summary) == ("reopened", 1, "Запрос справки в ФНС")
        assert t.due_at > first_due
        actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions[-2:] == ["ticket_status_read", "ticket_reopened"]


def _no_mobile(factory, p) -> int:
    with factory.begin() as db:
        c = db.scalars(select(registry.Citizen).where(
            registry.Citizen.snils_hash == registry.number_hash("snils", p.snils))).one()
        c.mobile = None
        return c.id


def test_a_control_question_stands_in_for_the_sms_code(env):
    from ivr.records import factors

    hotline, factory, people, _tmp = env
    p = people[1]
    cid = _no_mobile(factory, p)
    qs = factors.load_questions("dialplans")
    with factory.begin() as db:
        factors.set_answer(db, cid, "registration_postcode", "190000", MONDAY_10, qs)
    said: list[str] = []
    keys = f"1 1 {p.snils}# {p.birth_date:%d%m%Y}# 190001# 190000#"
    run_call(hotline.new_call(did="88005553535", caller="+79990001122"), MONDAY_10,
             iter(keys.split()), echo=said.append, code=dev_code)
    text = " ".join(said)
    assert "control_registration_postcode" in text and "control_wrong" in text
    with factory() as db:
        call = db.scalars(select(Call)).one()
        assert call.identification == "ok" and call.skill == "account"
        assert call.menu_path[1:] == ["control:asked", "control:wrong", "control:ok", "id:ok"]
        attempts = db.scalars(select(registry.IdentAttempt.kind)).all()
        checks = [e.detail["result"] for e in db.scalars(select(AuditEntry).where(
            AuditEntry.action == "control_question_checked").order_by(AuditEntry.seq))]
        raw = db.scalars(select(factors.ControlAnswer.answer_hash)).one()
    assert attempts == ["control_wrong"] and checks == ["wrong", "ok"] and "190000" not in raw


def test_without_any_factor_an_email_confirmation_is_requested(env):
    from ivr.records import factors

    hotline, factory, people, _tmp = env
    p = people[1]
    cid = _no_mobile(factory, p)
    said: list[str] = []
    run_call(hotline.new_call(did="88005553535", caller="+79990001122"), MONDAY_10,
             iter(f"1 1 {p.snils}# {p.birth_date:%d%m%Y}#".split()), echo=said.append,
             code=dev_code)
    assert "email_requested" in " ".join(said)
    with factory() as db:
        req = db.scalars(select(factors.EmailRequest)).one()
        call = db.scalars(select(Call)).one()
        assert (req.citizen_id, req.status, req.call_id) == (cid, "requested", call.call_id)
        assert (call.outcome, call.identification) == ("id_failed", "failed")
        assert "email_confirmation_requested" in db.scalars(select(AuditEntry.action)).all()


def test_the_embedded_driver_records_only_with_consent(env):
    hotline, factory, _people, tmp = env
    root = tmp / "rec"
    frame = b"\x10\x00" * 160  # 20 ms of mono 16-bit at 8 kHz
    outcomes = {}
    for call_id, first_key in (("c-keep", "4"), ("c-refuse", "*")):
        call = hotline.new_call(did="88005553535", caller="+79161234567", call_id=call_id)
        call.start(MONDAY_10)
        rec = recordings.CallRecorder(factory, call, MONDAY_10, root=root)
        for _ in range(50):
            rec.audio(frame, frame)
        rec.commands(call.feed(Digits(first_key), MONDAY_10 + timedelta(seconds=3)),
                     MONDAY_10 + timedelta(seconds=3))
        rec.audio(frame, frame)
        rec.close(MONDAY_10 + timedelta(seconds=4))
        outcomes[call_id] = rec
    with factory() as db:
        stored = {r.call_id: r for r in db.scalars(select(recordings.Recording))}
        actions = db.scalars(select(AuditEntry.action)).all()
    assert set(stored) == {"c-keep"} and stored["c-keep"].seconds == pytest.approx(1.02)
    assert len(recordings.wav_bytes(root / stored["c-keep"].path)) > 44 + 4 * 8000
    assert len(list(root.rglob("*.enc"))) == 1 and "recording_discarded" in actions
