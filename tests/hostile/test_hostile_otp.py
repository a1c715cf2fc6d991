"""OTP guessing across calls through the whole IVR (issue 13 item 6, the probe replayed).

40 calls of "identify with the victim's SNILS and date of birth, key two wrong codes, hang
up", one a minute. Before: 80 guesses compared, no lock, 40 SMS to the victim.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.citizens import registry, sms
from ivr.citizens.registry import OtpCode
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.console import run_call
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

pytestmark = pytest.mark.timeout(300)
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def test_forty_guessing_calls_through_the_ivr(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOTLINE_SECRET", "hostile-otp-secret-0123456789")
    engine = make_engine(f"sqlite:///{tmp_path / 'otp.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as db:
        victim = registry.seed(db, 2, today=MONDAY_10.date())[0]
        db.commit()
    dp = load_dialplan("dialplans")
    hl = Hotline(dp, load_menus("dialplans"), DbServices(factory, FixedWait(60)),
                 SpeechSpeaker(dp.tz))
    dob = victim.birth_date.strftime("%d%m%Y")
    calls, rows = 40, []
    for i in range(calls):
        session = hl.new_call(did="88005553535", caller=f"+7999000{i:04d}")
        keys = f"1 1 {victim.snils}# {dob}# 000000# 000001#".split()
        rows.append(run_call(session, MONDAY_10 + timedelta(minutes=i), iter(keys)))
    with factory() as db:
        guesses = db.scalar(select(func.sum(OtpCode.tries))) or 0
        texts = db.scalar(select(func.count(sms.SmsOutbox.id))) or 0
        stored = db.scalar(select(func.count(Call.id))) or 0
        locked_long = registry.is_locked(db, 1, MONDAY_10 + timedelta(hours=3))
    with capsys.disabled():
        print(f"\nhostile OTP: {calls} calls, {guesses} guesses compared, {texts} SMS, "
              f"{stored} records ({calls - stored} lost)")
    assert guesses <= 5 and texts <= 5
    assert stored == calls and None not in rows  # every guessing call keeps its record
    assert locked_long is None  # no day-long lockout of the victim
    engine.dispose()
