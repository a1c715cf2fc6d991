"""Personal data at rest: the AES-GCM columns, the keyring file, keyed-hash lookups, and the
raw-file check — a seeded registry and real calls leave no personal value in clear, in any
notation, in the SQLite file or in a pg_dump of the real PostgreSQL server."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import date, datetime, timedelta
from glob import glob
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, text

from ivr.call.callbacks import Callback
from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.citizens import registry
from ivr.citizens.registry import Citizen
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.console import dev_code, run_call
from ivr.store import audit, crypto
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

MSK = ZoneInfo("Europe/Moscow")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)


@pytest.fixture(autouse=True)
def keyring_file(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "keys" / "hotline.keys"))
    monkeypatch.setenv("HOTLINE_SECRET", "crypto-test-secret-0123456789")
    return tmp_path / "keys" / "hotline.keys"


def test_round_trip_is_randomised_and_bound_to_its_column(keyring_file):
    a = crypto.encrypt("+79161234567", "calls.caller_number")
    b = crypto.encrypt("+79161234567", "calls.caller_number")
    assert a != b and "9161234567" not in a
    assert crypto.decrypt(a, "calls.caller_number") == "+79161234567"
    with pytest.raises(InvalidTag):  # moved to another column: refused, not leaked
        crypto.decrypt(a, "callbacks.number")
    assert stat.S_IMODE(keyring_file.stat().st_mode) == 0o600


def test_a_keyring_readable_by_others_is_refused(keyring_file):
    crypto.keyring()
    os.chmod(keyring_file, 0o644)
    with pytest.raises(crypto.KeyringError, match="chmod 600"):
        crypto.keyring(reload=True)


def test_encrypted_columns_refuse_comparison_and_phone_lookups_ignore_notation():
    with pytest.raises(TypeError, match="keyed-hash"):
        select(Citizen).where(Citizen.full_name == "Иванов Иван Иванович")
    assert select(Citizen).where(Citizen.mobile.is_(None)) is not None
    assert len({crypto.blind_index("phone", n) for n in (
        "+79161234567", "89161234567", "+7 (916) 123-45-67", "9161234567")}) == 1


# ---- the raw-file grep ------------------------------------------------------------------------
def notations(p: registry.FictitiousCitizen) -> set[str]:
    """Every way a person's values could be written down."""
    s, d, m = p.snils, p.birth_date, p.mobile[2:]  # m: 10 digits after +7
    out = {p.full_name, *(w for w in p.full_name.split() if len(w) >= 4),
           d.strftime("%d.%m.%Y"), d.isoformat(), d.strftime("%d%m%Y"), d.strftime("%Y%m%d"),
           d.strftime("%d/%m/%Y"),
           s, f"{s[:3]}-{s[3:6]}-{s[6:9]} {s[9:]}", f"{s[:3]}-{s[3:6]}-{s[6:9]}-{s[9:]}",
           f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}",
           p.passport, f"{p.passport[:2]} {p.passport[2:4]} {p.passport[4:]}",
           f"{p.passport[:4]} {p.passport[4:]}", p.inn,
           p.mobile, "7" + m, "8" + m, m, f"+7 {m[:3]} {m[3:6]}-{m[6:8]}-{m[8:]}",
           f"+7 ({m[:3]}) {m[3:6]}-{m[6:8]}-{m[8:]}", f"{m[:3]}-{m[3:6]}-{m[6:8]}-{m[8:]}"}
    return out


def leaks(blob: bytes, people) -> list[str]:
    found = []
    for p in people:
        for value in notations(p):
            for enc in ("utf-8", "utf-16-le"):
                if value.encode(enc) in blob:
                    found.append(f"{p.full_name[:3]}…: {value!r} ({enc})")
    return found


def _pg_dump(url: str) -> bytes:
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)
    exe = candidates[0] if candidates else shutil.which("pg_dump")
    assert exe, "pg_dump is installed with the PostgreSQL server"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run([exe, "--dbname", plain], check=True, capture_output=True,
                          timeout=120).stdout


@pytest.mark.real("postgresql")
@pytest.mark.timeout(180)
def test_no_personal_value_in_clear_in_a_raw_dump(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as db:
        people = registry.seed(db, 8, today=MONDAY_10.date())
        db.commit()
    dialplan, menus = load_dialplan("dialplans"), load_menus("dialplans")
    hotline = Hotline(dialplan, menus, DbServices(factory, FixedWait(1800)),
                      SpeechSpeaker(dialplan.tz))
    for i, p in enumerate(people[:4]):  # identified status calls, then a callback request
        app = p.applications[0][0]
        run_call(hotline.new_call(did="88005553535", caller=p.mobile), MONDAY_10,
                 iter(f"2 1 {p.snils}# {p.birth_date:%d%m%Y}# code {app}# hangup".split()),
                 echo=lambda _s: None, code=dev_code)
        run_call(hotline.new_call(did="88005553535", caller=p.mobile),
                 MONDAY_10 + timedelta(minutes=5 + i), iter(["5", "1"]),
                 echo=lambda _s: None, code=dev_code)
    from ivr.records import tickets

    with factory.begin() as db:  # request content is personal too
        for p in people[4:]:
            tickets.open_ticket(db, kind="login", now=MONDAY_10, caller=p.mobile,
                                rules=tickets.load_rules("dialplans"),
                                summary=f"{p.full_name}, {p.birth_date:%d.%m.%Y}, тел. {p.mobile}")
    with factory() as db:
        assert db.scalar(select(Callback.number).limit(1)) in {p.mobile for p in people}
        assert db.scalars(select(Call).where(Call.caller_hash == "8" + people[0].mobile[2:])
                          ).first() is not None
        assert db.get(Citizen, 1).birth_date == people[0].birth_date
        kinds = set(db.scalars(text("SELECT action FROM audit_log")))
    assert {"identification_ok", "otp_sent", "application_status_read"} <= kinds
    engine.dispose()
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        blob = b"".join(Path(f).read_bytes() for f in glob(path + "*"))  # db, -wal, -shm
    else:
        blob = _pg_dump(db_url)
    assert len(blob) > 10_000
    assert leaks(blob, people) == []
    assert audit.verify(make_engine(db_url)).ok


@pytest.mark.real("postgresql")
def test_migration_encrypts_rows_written_in_clear(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0003")
    p = registry.fictitious_citizens(1)[0]
    t0 = "2026-11-23 10:00:00" + ("+00" if engine.dialect.name == "postgresql" else ".000000")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO citizens (full_name, birth_date, snils_hash, mobile) "
                          "VALUES (:n, :b, 'h', :m)"),
                     {"n": p.full_name, "b": p.birth_date.isoformat(), "m": p.mobile})
        conn.execute(text("INSERT INTO applications (number, citizen_id, service, status, "
                          "submitted_on) VALUES ('1234567890', 1, 'x', 'принято', '2026-11-01')"))
        conn.execute(text("INSERT INTO calls (call_id, caller_number, identification, priority,"
                          " callback_requested, started_at) VALUES ('c1', :m, 'none', 0, :f, :t)"),
                     {"m": p.mobile, "f": False, "t": t0})
        conn.execute(text("INSERT INTO callbacks (call_id, number, skill, priority, language, "
                          "requested_at, arrival_at, due_at, next_attempt_at, attempts, status)"
                          " VALUES ('c1', :m, 'general', 0, 'ru', :t, :t, :t, :t, 0, 'pending')"),
                     {"m": p.mobile, "t": t0})
        conn.execute(text("INSERT INTO audit_log (at, actor, action, subject) "
                          "VALUES (:t, 'ivr', 'account_locked', 'citizen:1')"), {"t": t0})
    upgrade(engine)
    with session_factory(engine)() as db:
        c = db.scalars(select(Citizen)).one()
        assert (c.full_name, c.birth_date, c.mobile) == (p.full_name, p.birth_date, p.mobile)
        assert db.scalars(select(Call).where(Call.caller_hash == p.mobile)).one().caller_number \
            == p.mobile
        assert db.scalars(select(Callback)).one().number == p.mobile
    with engine.connect() as conn:
        raw = " ".join(str(v) for t in ("citizens", "calls", "callbacks")
                       for row in conn.execute(text(f"SELECT * FROM {t}")) for v in row)
    assert p.mobile[2:] not in raw and p.full_name not in raw and "1980" not in raw
    verdict = audit.verify(engine)
    assert verdict.ok and verdict.rows == 1, verdict
    downgrade(engine, "0003")  # and back: the values in clear again, then encrypted again
    with engine.connect() as conn:
        assert conn.execute(text("SELECT mobile FROM citizens")).scalar() == p.mobile
        assert str(conn.execute(text("SELECT birth_date FROM citizens")).scalar()) == \
            p.birth_date.isoformat()
    upgrade(engine)
    with session_factory(engine)() as db:
        assert db.scalars(select(Citizen.birth_date)).one() == p.birth_date
    assert isinstance(p.birth_date, date)


def downgrade(engine, revision: str) -> None:
    from alembic import command

    from ivr.store.migrate import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
