"""Issue 13 item 13: no live OTP in clear unless asked for; database and var/ private."""
from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from ivr.citizens import sms
from ivr.store.base import make_engine
from ivr.store.migrate import upgrade

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_service_gateway_keeps_no_clear_code_by_default(monkeypatch):
    monkeypatch.delenv("HOTLINE_SMS_DEV_CODES", raising=False)
    monkeypatch.delenv("HOTLINE_SMS_GATEWAY", raising=False)
    assert sms.gateway_from_env().reveal_codes is False
    monkeypatch.setenv("HOTLINE_SMS_DEV_CODES", "1")
    assert sms.gateway_from_env().reveal_codes is True


class _Provider:
    sent: ClassVar[list[str]] = []

    def send(self, db, message, now):
        self.sent.append(message.render())
        return "provider:1"


def test_a_real_provider_plugs_in(monkeypatch):
    monkeypatch.setenv("HOTLINE_SMS_GATEWAY", f"{__name__}:_Provider")
    gw = sms.gateway_from_env()
    msg = sms.SmsMessage(to="+79161234567", text="code {code}", secret_part="123456",
                         expires_at=NOW + timedelta(minutes=5))
    assert gw.send(None, msg, NOW) == "provider:1" and _Provider.sent == ["code 123456"]


def test_sqlite_database_and_its_directory_are_private(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOTLINE_DB_URL", raising=False)
    old = os.umask(0o022)  # a typical umask: files would be 0644
    try:
        engine = make_engine()
        upgrade(engine)
        engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    for f in (tmp_path / "var").iterdir():
        if f.name.startswith("hotline.db"):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
