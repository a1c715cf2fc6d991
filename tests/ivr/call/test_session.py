"""Scripted calls through the real machine, dialplan and database, checked in the DB.

Every test runs on SQLite and on a real PostgreSQL server, with the schema made by the
migrations (`hotline db upgrade`), as in production."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.call.callbacks import Callback
from ivr.call.protocol import CallerHangup, Collect, Digits, Enqueue, Hangup, Play
from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.citizens import registry
from ivr.citizens.registry import Citizen, OtpCode
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.console import dev_code, run_call
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

MSK = ZoneInfo("Europe/Moscow")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)
SUNDAY_23 = datetime(2026, 11, 22, 23, 0, tzinfo=MSK)
FEDERAL = "8 800 555-35-35"
DIALPLAN = load_dialplan("dialplans")
MENUS = load_menus("dialplans")


@pytest.fixture
def env(db_url, monkeypatch):
    monkeypatch.setenv("HOTLINE_SECRET", "session-test-secret-0123456789")
    monkeypatch.delenv("HOTLINE_SMS_DEV_CODES", raising=False)
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as db:
        people = registry.seed(db, 3, today=MONDAY_10.date())
        db.commit()
    services = DbServices(factory, FixedWait(180))
    hotline = Hotline(DIALPLAN, MENUS, services, SpeechSpeaker(DIALPLAN.tz))
    yield hotline, factory, people
    engine.dispose()


def call(hotline, keys: str, *, at=MONDAY_10, number=FEDERAL, caller="+79161234567"):
    session = hotline.new_call(did=number, caller=caller)
    transcript: list[str] = []
    row = run_call(session, at, iter(keys.split()), echo=transcript.append, code=dev_code)
    return session, row, transcript


def stored(factory, call_id) -> Call:
    with factory() as db:
        return db.scalars(select(Call).where(Call.call_id == call_id)).one()


def test_menu_choice_queues_with_plain_record(env):
    hotline, factory, _ = env
    session = hotline.new_call(did=FEDERAL, caller="+79161234567", call_id="t-1")
    cmds = session.start(MONDAY_10)
    assert isinstance(cmds[-1], Collect) and all(isinstance(c, Play) for c in cmds[:-1])
    cmds = session.feed(Digits("4"), MONDAY_10 + timedelta(seconds=20))
    enq = cmds[-1]
    assert isinstance(enq, Enqueue) and enq.skill == "payments"
    assert {"call_id", "line", "region", "language", "skill", "priority", "identified",
            "arrival_time"} <= set(enq.record)
    row = stored(factory, "t-1")
    assert (row.outcome, row.skill, row.line) == ("queued", "payments", "federal")
    assert row.menu_path == ["main:4:payments"] and row.identification == "none"
    assert session.done and session.feed(Digits("1"), MONDAY_10) == []


def test_regional_line_carries_its_region(env):
    hotline, factory, _ = env
    session, row, _ = call(hotline, "3", number="8 800 555-35-37")
    assert stored(factory, session.call_id).region == row["region"] == "spb"


def test_identified_status_self_service(env):
    hotline, factory, people = env
    demo = people[0]
    rejected = next(n for n, s in demo.applications if s == "отклонено")
    in_work = next(n for n, s in demo.applications if s == "в работе")
    session, row, transcript = call(
        hotline, f"2 1 {demo.snils}# 01021980# code {rejected}# 1 {in_work}# #")
    assert row["identification"] == "ok"
    assert "status:rejected" in row["menu_path"] and "status:in_progress" in row["menu_path"]
    said = " ".join(transcript)
    assert "app_status_rejected" in said and "app_expected_date" in said
    session.feed(CallerHangup(), MONDAY_10 + timedelta(minutes=3))
    assert stored(factory, session.call_id).outcome == "self_served"


def test_unknown_application_reveals_nothing(env):
    hotline, _, people = env
    other = people[1].applications[0][0]  # someone else's application
    _, row, transcript = call(hotline, f"2 1 {people[0].snils}# 01021980# code {other}# hangup")
    assert "app_not_found" in " ".join(transcript) and "status:" not in str(row["menu_path"])


def test_passport_identification_for_account_queue(env):
    hotline, _factory, people = env
    p = people[1]
    _session, row, _ = call(hotline, f"1 2 {p.passport}# {p.birth_date:%d%m%Y}# code")
    assert (row["outcome"], row["identification"], row["skill"]) == ("queued", "ok", "account")


def test_bad_checksums_fail_identification_and_count(env):
    hotline, factory, people = env
    bad = people[0].snils[:-1] + str((int(people[0].snils[-1]) + 1) % 10)
    _session, row, transcript = call(hotline, f"2 1 {bad}# {bad}# {bad}#")
    assert (row["outcome"], row["identification"]) == ("id_failed", "failed")
    assert transcript.count("♪ id_bad_number") == 2
    with factory() as db:
        assert db.scalars(select(Citizen)).first().locked_until is None


def test_wrong_birth_dates_pause_the_account_across_calls(env):
    hotline, _factory, people = env
    p = people[0]
    _, row, _ = call(hotline, f"2 1 {p.snils}# 02021980# {p.snils}# 02021980# {p.snils}# 02021980#")
    assert row["outcome"] == "id_failed"
    later = MONDAY_10 + timedelta(minutes=5)
    _, row, transcript = call(hotline, f"2 1 {p.snils}# 02021980# {p.snils}# 02021980# "
                                       f"{p.snils}# 02021980#", at=later)
    # the 5th wrong date pauses the account, but a caller without the right date hears what an
    # unknown SNILS gets: "locked" would say the SNILS exists (issue 13 item 6)
    assert (row["outcome"], row["identification"]) == ("id_failed", "failed")
    assert "id_locked" not in " ".join(transcript)
    # the pause holds against the right answers, and says so to whoever knows them
    _, row, transcript = call(hotline, f"2 1 {p.snils}# 01021980# code",
                              at=later + timedelta(minutes=5))
    assert row["outcome"] == "locked" and "id_locked" in " ".join(transcript)
    # a pause, not a day-long lockout an attacker could impose (SPEC §6)
    _, row, _ = call(hotline, f"2 1 {p.snils}# 01021980# code", at=later + timedelta(hours=2))
    assert row["identification"] == "ok"


def test_three_wrong_codes_lock(env):
    hotline, factory, people = env
    p = people[0]
    _session, row, _ = call(hotline, f"1 1 {p.snils}# 01021980# 000000# 000001# 000002#")
    assert (row["outcome"], row["identification"]) == ("locked", "locked")
    with factory() as db:
        assert db.scalars(select(Citizen).where(  # the name is encrypted: look up by SNILS hash
                Citizen.snils_hash == registry.number_hash("snils", p.snils))).one() \
            .locked_until is not None


def test_code_expiry_and_resend_schedule(env):
    hotline, factory, people = env
    p = people[0]
    # code expires after 5 min; * too soon after the first send; after 1 min a new code works
    session, row, transcript = call(
        hotline, f"1 1 {p.snils}# 01021980# +6m 123456# * +70 * code")
    said = "\n".join(transcript)
    assert "otp_expired" in said and "otp_resend_later" in said
    assert row["identification"] == "ok" and row["outcome"] == "queued"
    with factory() as db:
        sends = db.scalars(select(OtpCode).where(OtpCode.call_id == session.call_id)).all()
        assert [c.state for c in sends] == ["void", "used"]


def test_hangup_during_code_entry_voids_the_code(env):
    hotline, factory, people = env
    session, row, _ = call(hotline, f"1 1 {people[0].snils}# 01021980# hangup")
    assert row["outcome"] == "abandoned_ivr"
    with factory() as db:
        codes = db.scalars(select(OtpCode).where(OtpCode.call_id == session.call_id)).all()
        assert codes and all(c.state != "live" for c in codes)


def test_after_hours_callback_for_first_working_hour(env):
    hotline, factory, _ = env
    session, row, _transcript = call(hotline, "4 1", at=SUNDAY_23)
    assert (row["outcome"], row["callback_requested"]) == ("after_hours", True)
    with factory() as db:
        cb = db.scalars(select(Callback).where(Callback.call_id == session.call_id)).one()
        due = cb.due_at.replace(tzinfo=cb.due_at.tzinfo or ZoneInfo("UTC")).astimezone(MSK)
        assert (due.weekday(), due.hour, cb.skill, cb.number) == (0, 8, "payments",
                                                                  "+79161234567")


def test_after_hours_retries_end_with_message(env):
    hotline, _factory, _ = env
    _, row, transcript = call(hotline, "_ _ x _", at=SUNDAY_23)
    assert row["outcome"] == "after_hours" and "after_hours" in transcript[-2]


def test_in_hours_retries_reach_general_operator(env):
    hotline, _, _ = env
    _, row, _ = call(hotline, "_ _ _ _")
    assert (row["outcome"], row["skill"]) == ("queued", "general")


def test_emergency_path_at_night_top_priority(env):
    hotline, _factory, _ = env
    _session, row, _ = call(hotline, "9", at=SUNDAY_23)
    assert (row["outcome"], row["skill"], row["priority"]) == ("queued", "security", 10)


def test_long_wait_callback_keeps_place(env):
    hotline, factory, _ = env
    hotline.services.waits = FixedWait(25 * 60)
    session, row, transcript = call(hotline, "5 1")
    assert "long_wait_offer" in " ".join(transcript)
    assert (row["outcome"], row["callback_requested"]) == ("queued", True)
    with factory() as db:
        cb = db.scalars(select(Callback).where(Callback.call_id == session.call_id)).one()
        arrival = cb.arrival_at.replace(tzinfo=cb.arrival_at.tzinfo or ZoneInfo("UTC"))
        assert arrival < row["ended_at"] and cb.skill == "tech"


def test_international_line_in_english(env):
    hotline, _, _ = env
    _, row, _transcript = call(hotline, "2 3", number="+7 495 777-77-77")
    assert (row["language"], row["skill"]) == ("en", "documents")


def test_unknown_number_is_recorded_not_raised(env):
    hotline, factory, _ = env
    session = hotline.new_call(did="8 800 000-00-00", caller=None)
    cmds = session.start(MONDAY_10)
    assert isinstance(cmds[-1], Hangup) and session.done
    assert stored(factory, session.call_id).outcome == "error"


def test_service_failure_ends_that_call_with_error(env):
    hotline, factory, _ = env

    class Broken:
        def expected_wait(self, *a, **k):
            raise RuntimeError("queue engine down")

    hotline.services.waits = Broken()
    session = hotline.new_call(did=FEDERAL, caller="+79161234567")
    session.start(MONDAY_10)
    cmds = session.feed(Digits("3"), MONDAY_10)
    assert cmds[-1] == Hangup("error")
    row = stored(factory, session.call_id)
    assert row.outcome == "error" and "queue engine down" in row.detail
    assert row.menu_path == ["main:3:documents"]
    assert session.feed(Digits("1"), MONDAY_10) == []


def test_driver_gives_up_records_error_once(env):
    hotline, factory, _ = env
    session = hotline.new_call(did=FEDERAL, caller="+79161234567")
    session.start(MONDAY_10)
    assert session.fail(MONDAY_10, "AGI garbage")[-1] == Hangup("error")
    assert session.fail(MONDAY_10, "again") == [] and session.feed(CallerHangup(), MONDAY_10) == []
    row = stored(factory, session.call_id)
    assert (row.outcome, row.detail) == ("error", "AGI garbage")


def test_withheld_number_keys_no_number_gets_no_callback_but_stays_in_line(env):
    hotline, factory, _ = env
    hotline.services.waits = FixedWait(25 * 60)
    _, row, transcript = call(hotline, "5 1 _ _ _ _ _ _", caller=None)
    assert "callback_number_enter" in " ".join(transcript)  # asked to leave a number
    assert "callback_failed" in " ".join(transcript) and "→ queue tech" in transcript[-1]
    assert (row["outcome"], row["callback_requested"]) == ("queued", False)
    with factory() as db:
        assert db.scalars(select(Callback)).first() is None


def test_withheld_number_leaves_a_keyed_number_to_be_called_back(env):
    """SPEC §4 "leave your number": a caller whose number is withheld keys one; the request
    is stored with it, already confirmed (pending), and nobody is asked to confirm again."""
    hotline, factory, _ = env
    hotline.services.waits = FixedWait(25 * 60)
    _, row, transcript = call(hotline, "5 1 123 89161234567", caller=None)
    said = " ".join(transcript)
    assert "callback_number_bad" in said  # 3 digits are not a number to ring
    assert "callback_accepted" in said and "callback_number_is" not in said
    assert (row["outcome"], row["callback_requested"]) == ("queued", True)
    with factory() as db:
        cb = db.scalars(select(Callback)).one()
        assert (cb.number, cb.status, cb.skill) == ("+79161234567", "pending", "tech")


def test_enqueue_record_feeds_the_queue_engine_and_its_live_wait(env):
    from dataclasses import fields

    from ivr.call.waits import LiveWaits
    from queue_engine.live import LiveCentre
    from queue_engine.records import QueueCall

    hotline, _, _ = env
    centre = LiveCentre()
    hotline.services.waits = LiveWaits(centre)
    before = LiveWaits(centre).expected_wait("documents", MONDAY_10)
    for i in range(30):  # thirty callers choose documents; each is handed to the ACD
        session = hotline.new_call(did=FEDERAL, caller=f"+7999000{i:04d}")
        session.start(MONDAY_10)
        enq = session.feed(Digits("3"), MONDAY_10)[-1]
        if isinstance(enq, Collect):  # the wait grew past 10 min: callback offered, stay on
            assert enq.prompts == ("long_wait_offer",)
            enq = session.feed(Digits("2"), MONDAY_10)[-1]
        names = {f.name for f in fields(QueueCall)}
        centre.join(QueueCall(**{k: v for k, v in enq.record.items() if k in names}))
    after = LiveWaits(centre).expected_wait("documents", MONDAY_10)
    assert after > before
    assert LiveWaits(centre).expected_wait("no_such_skill", MONDAY_10) is None


def _menu_cases():
    lines = {}
    for e164, num in sorted(DIALPLAN.numbers.items()):
        line = DIALPLAN.lines[num.line]
        if len(line.languages) == 1:
            lines.setdefault(line.menu, e164)
    for menu_id, menu in MENUS.menus.items():
        prefix, number = (["8"], lines["main"]) if menu_id == "more" else ([], lines[menu_id])
        for key, item in menu.items.items():
            yield pytest.param(number, [*prefix, key], item, id=f"{menu_id}-{key}-{item.label}")


@pytest.mark.parametrize(("number", "keys", "item"), list(_menu_cases()))
def test_every_menu_item_in_hours(env, number, keys, item):
    hotline, factory, _ = env
    session = hotline.new_call(did=number, caller="+79161234567")
    cmds = session.start(MONDAY_10)
    for key in keys:
        cmds = session.feed(Digits(key), MONDAY_10)
    last = cmds[-1]
    if item.identify is not None:
        assert isinstance(last, Collect) and last.prompts[0].startswith("id_")
        session.feed(CallerHangup(), MONDAY_10)
        assert stored(factory, session.call_id).outcome == "abandoned_ivr"
    elif item.action in ("queue", "emergency"):
        assert isinstance(last, Enqueue) and last.skill == (item.skill or "security")
        assert stored(factory, session.call_id).skill == last.skill
    elif item.action == "info":
        assert set(item.prompts) <= {p for c in cmds for p in getattr(c, "prompts", ())}
        session.feed(CallerHangup(), MONDAY_10)
        assert stored(factory, session.call_id).outcome == "self_served"
    elif item.action == "callback":  # "the number ending in 45 67?": 1 confirms it
        assert isinstance(last, Collect) and last.prompts[0] == "callback_number_is"
        last = session.feed(Digits("1"), MONDAY_10)[-1]
        assert isinstance(last, Hangup)
        row = stored(factory, session.call_id)
        assert row.callback_requested and row.skill == item.skill
    elif item.action == "menu":
        assert isinstance(last, Collect) and last.prompts[0] == f"menu_{item.menu}"
    elif item.action == "request":  # a written request: its number and deadline read back
        assert isinstance(last, Collect) and last.prompts == ("request_next",)
        heard = [p for c in cmds for p in getattr(c, "prompts", ())]
        assert heard[0] == "ticket_opened" and "ticket_due" in heard
        session.feed(CallerHangup(), MONDAY_10)
        assert stored(factory, session.call_id).outcome == "self_served"
    else:  # pragma: no cover
        pytest.fail(f"untested action {item.action}")
