"""Consent through the Asterisk driver: a caller who presses the refuse key at the first menu
prompt, over AMI/AsyncAGI (the emulator speaking Asterisk's wire format), is recorded as having
refused — the bridge's calls carry the same consent as the embedded ones."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.drivers.ami.emulator import CallerScript
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call
from tests.ivr.drivers.ami.ami_support import db_hotline, run_bridge_calls


@pytest.mark.timeout(60)
def test_refusal_over_ami_is_recorded(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    engine = make_engine(f"sqlite:///{tmp_path / 'ami.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    records = run_bridge_calls(db_hotline(factory), lambda emu: (
        emu.place_call(callerid="79161234560", script=CallerScript(presses=["*", "4"])),
        emu.place_call(callerid="79161234561", script=CallerScript(presses=["4"]))), 2,
        recordings="/srv/recordings")
    with factory() as db:
        rows = {c.caller_number: c for c in db.scalars(select(Call))}
    assert len(records) == 2
    assert rows["79161234560"].consent == "refused"
    assert rows["79161234560"].menu_path[0] == "consent:refused"
    assert rows["79161234561"].consent == "given"
    engine.dispose()
