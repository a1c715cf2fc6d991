"""The real IVR over a fresh migrated SQLite database, shared by the bridge-to-database tests."""
from __future__ import annotations

import pytest
from ami_support import MONDAY_10

from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.citizens import registry
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade


@pytest.fixture(autouse=True)
def _private_recording_dirs(tmp_path, monkeypatch):
    """Real IVR sessions consent to recording: the bridge sends MixMonitor and the emulator
    writes the WAV to the spool — both under the test's tmp_path, never /var/spool or ./recordings."""
    monkeypatch.setenv("HOTLINE_MIXMONITOR_DIR", str(tmp_path / "mixmonitor"))
    monkeypatch.setenv("HOTLINE_RECORDINGS_DIR", str(tmp_path / "recordings-store"))


@pytest.fixture
def hotline(tmp_path, monkeypatch):
    """(Hotline over dialplans/, session factory) with three seeded citizens."""
    monkeypatch.setenv("HOTLINE_SECRET", "ami-session-test-secret-0123456789")
    engine = make_engine(f"sqlite:///{tmp_path / 'ivr.db'}")
    upgrade(engine)  # the schema as `hotline db upgrade` makes it
    factory = session_factory(engine)
    with factory() as db:
        registry.seed(db, 3, today=MONDAY_10.date())
        db.commit()
    dp = load_dialplan("dialplans")
    yield Hotline(dp, load_menus("dialplans"), DbServices(factory, FixedWait(180)),
                  SpeechSpeaker(dp.tz)), factory
    engine.dispose()
