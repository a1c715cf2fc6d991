"""Ticket deadlines in working time across the holiday calendar (dialplans/holidays.yaml), with
numpy's business-day arithmetic as an independent oracle for working days; reopening and
complaint escalation."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ivr.records import tickets
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[3]
RULES = tickets.load_rules(ROOT / "dialplans")
MSK = ZoneInfo("Europe/Moscow")
HOLIDAYS = sorted(d.isoformat() for d in RULES.holidays)


def at(y, mo, d, h=10, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=MSK)


def test_security_12_working_hours_skip_the_new_year_break():
    # Wed 30 Dec 16:00: 2 h that day; 31 Dec and 1–8 Jan off, 9–10 Jan a weekend;
    # Mon 11 Jan 09–18 gives 9 h, the last hour ends Tue 12 Jan 10:00
    due, esc = tickets.deadline("security", at(2026, 12, 30, 16), RULES)
    assert due == at(2027, 1, 12, 10) and esc is None


def test_five_working_days_end_on_a_short_pre_holiday_day():
    # Thu 30 Apr: 1 May (Fri) off, 2–3 May weekend; 4, 5, 6, 7 May, then Fri 8 May — a day
    # shortened to 17:00 before the 9 May holiday
    due, _ = tickets.deadline("other_agency", at(2026, 4, 30), RULES)
    assert due == at(2026, 5, 8, 17)


def test_calendar_hour_classes_ignore_the_calendar():
    opened = at(2026, 12, 31, 23, 30)  # a holiday night: 24/48/72 h are plain hours
    assert tickets.deadline("login", opened, RULES)[0] == opened + timedelta(hours=24)
    assert tickets.deadline("technical", opened, RULES)[0] == opened + timedelta(hours=48)
    assert tickets.deadline("access_restore", opened, RULES)[0] == opened + timedelta(hours=72)


@given(st.dates(min_value=datetime(2026, 1, 1).date(), max_value=datetime(2027, 10, 1).date()),
       st.integers(1, 20))
def test_working_days_agree_with_numpy_business_days(day, n):
    opened = at(day.year, day.month, day.day, 12)
    due = tickets.add_working_days(opened, n, RULES).astimezone(MSK)
    want = np.busday_offset(np.datetime64(day.isoformat()), n, roll="backward",
                            holidays=HOLIDAYS)
    assert np.datetime64(due.date().isoformat()) == want
    assert due.hour in (17, 18) and due.minute == 0


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 10, 1)),
       st.integers(1, 40))
@example(datetime(2026, 1, 12, 16, 0, 0, 1), 2)  # a microsecond past the hour: no float drift
def test_working_hours_add_up(start, hours):
    opened = start.replace(tzinfo=MSK)
    due = tickets.add_working_hours(opened, hours, RULES)
    a = tickets.add_working_hours(opened, hours / 2, RULES)
    assert tickets.add_working_hours(a, hours / 2, RULES) == due  # additive
    last = (due - timedelta(microseconds=1)).astimezone(MSK)  # the last instant counted
    assert RULES.schedule.is_open(last.replace(second=0, microsecond=0), RULES.holidays)


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    upgrade(engine)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def test_reopen_and_complaint_escalation(db):
    opened = at(2026, 12, 28, 11)
    t = tickets.open_ticket(db, kind="complaint", now=opened, rules=RULES, call_id="c1",
                            caller="+79161234567", summary="Жалоба на работу отделения")
    assert len(t.number) == RULES.number_digits and t.number.isdigit()
    want = np.busday_offset("2026-12-28", 15, roll="backward", holidays=HOLIDAYS)
    assert np.datetime64(t.escalate_at.astimezone(MSK).date().isoformat()) == want
    assert tickets.find_for_caller(db, t.number, citizen_id=None, caller="89161234567") is t
    assert tickets.find_for_caller(db, t.number, citizen_id=None, caller="+79990000000") is None
    assert tickets.escalate_due(db, t.escalate_at - timedelta(minutes=1)) == 0
    assert tickets.escalate_due(db, t.escalate_at) == 1 and t.status == "escalated"
    t.status = "resolved"
    later = at(2027, 3, 1, 9)
    tickets.reopen(db, t, now=later, rules=RULES)
    assert (t.status, t.reopened) == ("reopened", 1) and t.due_at > later


def test_tickets_command_opens_and_shows(tmp_path, monkeypatch, capsys):
    from ivr.cli import main
    from ivr.store import audit

    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(make_engine(url))
    base = ["tickets", "--url", url, "--dialplans", str(ROOT / "dialplans")]
    assert main([*base, "--at", "2026-12-30T16:00+03:00", "open", "--kind", "security",
                 "--summary", "Взлом учётной записи"]) == 0
    out = capsys.readouterr().out
    assert "due 2027-01-12 10:00" in out
    number = out.split()[1].rstrip(":")
    assert main([*base, "show", number]) == 0 and "security, open" in capsys.readouterr().out
    assert main([*base, "show", "1"]) == 1
    assert main([*base, "--at", "2027-02-01T10:00+03:00", "reopen", number]) == 0
    assert "due 2027-02-02 13:00" in capsys.readouterr().out  # 12 working hours: 10-18, 9-13
    assert audit.verify(make_engine(url)).rows == 3  # opened, status read, reopened
