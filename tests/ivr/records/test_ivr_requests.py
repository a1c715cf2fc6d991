"""A caller leaves a written request from the IVR (SPEC §8): the menu branch's deadline class
(tickets.yaml by_skill), the number read back digit by digit and the answer deadline in working
time across the New Year holidays — real machine, dialplan and database."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.call import requests as io
from ivr.call.protocol import CallerHangup, Collect, Digits, Play
from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.citizens import registry
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.console import dev_code, run_call
from ivr.records import tickets
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import AuditEntry, Call

MSK = ZoneInfo("Europe/Moscow")
DIALPLAN, MENUS = load_dialplan("dialplans"), load_menus("dialplans")
SPEAK = SpeechSpeaker(DIALPLAN.tz)
TECH, COMPLAINTS = "88005556666", "88005558888"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    monkeypatch.setenv("HOTLINE_SECRET", "ivr-requests-test-secret-0123456789")
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as db:
        people = registry.seed(db, 2, today=datetime(2026, 11, 23).date())
    hotline = Hotline(DIALPLAN, MENUS, DbServices(factory, FixedWait(60)), SPEAK)
    yield hotline, factory, people
    engine.dispose()


def prompts_heard(cmds) -> list[str]:
    return [p for c in cmds if isinstance(c, Play | Collect) for p in c.prompts]


def read_back(number: str, due: datetime) -> list[str]:
    """What the caller must hear: the number digit by digit, then the deadline."""
    digits = [p for d in number for p in SPEAK.number(int(d), "ru")]
    return ["ticket_opened", *digits, "ticket_due", *SPEAK.moment(due.astimezone(MSK), "ru")]


def test_unidentified_caller_leaves_a_technical_request_48_calendar_hours(env):
    hotline, factory, people = env
    mobile = people[0].mobile
    friday_19 = datetime(2026, 11, 27, 19, 0, tzinfo=MSK)  # the tech line is open 24/7
    call = hotline.new_call(did=TECH, caller=mobile, call_id="req-tech")
    call.start(friday_19)
    heard = prompts_heard(call.feed(Digits("5"), friday_19 + timedelta(seconds=20)))
    with factory() as db:
        t = db.scalars(select(tickets.Ticket)).one()
        number, kind, citizen, call_id = t.number, t.kind, t.citizen_id, t.call_id
        opened = [e.action for e in db.scalars(select(AuditEntry))]
    assert (kind, citizen, call_id) == ("technical", None, "req-tech")
    # 48 calendar hours (tickets.yaml: technical): Sunday 19:20
    due = datetime(2026, 11, 29, 19, 0, 20, tzinfo=MSK)
    assert heard[:len(read_back(number, due))] == read_back(number, due)
    assert heard[-1] == "request_next" and opened == ["ticket_opened"]
    again = prompts_heard(call.feed(Digits("*"), friday_19 + timedelta(seconds=50)))
    assert again == [*read_back(number, due), "request_next"]  # * repeats the number
    call.feed(CallerHangup("normal"), friday_19 + timedelta(minutes=1))
    with factory() as db:  # tied to the calling number: the same phone finds it, others not
        outcome = db.scalars(select(Call.outcome).where(Call.call_id == "req-tech")).one()
        assert tickets.find_for_caller(db, number, citizen_id=None, caller=mobile) is not None
        assert tickets.find_for_caller(db, number, citizen_id=None,
                                       caller=people[1].mobile) is None
    assert outcome == "self_served"


def test_identified_complaint_is_due_after_15_working_days_across_the_new_year(env):
    hotline, factory, people = env
    p = people[0]
    wed_10 = datetime(2026, 12, 23, 10, 0, tzinfo=MSK)
    said: list[str] = []
    keys = f"4 1 {p.snils}# {p.birth_date:%d%m%Y}# code * #"
    run_call(hotline.new_call(did=COMPLAINTS, caller=p.mobile, call_id="req-compl"), wed_10,
             iter(keys.split()), echo=said.append, code=dev_code)
    with factory() as db:
        t = db.scalars(select(tickets.Ticket)).one()
        cid = db.scalars(select(registry.Citizen.id).where(
            registry.Citizen.snils_hash == registry.number_hash("snils", p.snils))).one()
        row = db.scalars(select(Call).where(Call.call_id == "req-compl")).one()
    assert (t.kind, t.citizen_id) == ("complaint", cid)
    # counted by hand over the back office's Mon-Fri days: Dec 24, 25, 28, 29, 30 (5); Dec 31
    # and Jan 1-8 are holidays; Jan 11-15 (10), Jan 18-22 (15): the end of Friday Jan 22
    due = datetime(2027, 1, 22, 18, 0, tzinfo=MSK)
    assert tickets.due_local(t, tickets.load_rules("dialplans")) == due
    assert t.escalate_at is not None  # complaints escalate after 15 working days
    text = " ".join(said)
    assert " ".join(read_back(t.number, due)) in text
    assert text.count("ticket_opened") == 2  # heard, then repeated with *
    assert "id:ok" in row.menu_path and "request:opened" in row.menu_path
    assert row.menu_path.index("id:ok") < row.menu_path.index("request:opened")


def test_the_request_action_needs_a_skill_and_a_failure_is_said():
    from ivr.dialplan.menus import Item

    with pytest.raises(ValueError, match="needs 'skill'"):
        Item(label="x", action="request")
    call_menus = MENUS
    from ivr.call.machine import IvrMachine

    route = DIALPLAN.route("+78005556666", datetime(2026, 11, 27, 19, 0, tzinfo=MSK))
    m = IvrMachine(call_menus, route, SPEAK, call_id="m", caller=None, did=TECH,
                   emergency=("security", 10))
    m.start(datetime(2026, 11, 27, 19, 0, tzinfo=MSK))
    out = m.feed(Digits("5"), datetime(2026, 11, 27, 19, 0, 10, tzinfo=MSK))
    assert out == [io.OpenTicket("tech", None)]
    out = m.feed(io.TicketOpened(None), datetime(2026, 11, 27, 19, 0, 11, tzinfo=MSK))
    assert prompts_heard(out)[0] == "ticket_open_failed" and m.state.value == "menu"
