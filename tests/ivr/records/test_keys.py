"""Key rotation: every personal value ends under the new key, an interrupted rotation leaves
every value readable and resumes where it stopped, an old key is retired only when unused."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from ivr.call.callbacks import request_callback
from ivr.citizens import registry
from ivr.cli import main
from ivr.records import keys
from ivr.store import crypto
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.migrate import upgrade

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
pytestmark = pytest.mark.real("postgresql")


@pytest.fixture
def filled(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    monkeypatch.setenv("HOTLINE_SECRET", "keys-test-secret-0123456789")
    monkeypatch.setenv("HOTLINE_RECORDINGS_DIR", str(tmp_path / "rec"))
    url = db_url
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as db:
        people = registry.seed(db, 30, today=T0.date())
        for i, p in enumerate(people):
            record_call(db, {"call_id": f"c{i}", "caller_number": p.mobile, "started_at": T0})
            request_callback(db, call_id=f"c{i}", number=p.mobile, skill="general", priority=0,
                             now=T0 + timedelta(seconds=i))
    yield url, engine, people
    engine.dispose()


def _key_ids(engine) -> set[str]:
    with engine.connect() as conn:
        return {crypto.key_id_of(v) for t, c, _ in keys.encrypted_columns()
                for (v,) in conn.execute(text(f"SELECT {c} FROM {t} WHERE {c} IS NOT NULL"))}


def test_rotate_reencrypts_everything_and_retires_the_old_key(filled, capsys):
    url, engine, people = filled
    assert _key_ids(engine) == {"k1"}
    assert main(["keys", "rotate", "--url", url, "--batch", "7"]) == 0
    out = capsys.readouterr().out
    assert "new current key k2" in out and "re-encrypted 150 values" in out  # 30 × 5 columns
    assert _key_ids(engine) == {"k2"}
    assert main(["keys", "retire", "--url", url]) == 0
    assert "retired: k1" in capsys.readouterr().out
    with session_factory(engine)() as db:
        got = {(c.full_name, c.birth_date, c.mobile)
               for c in db.scalars(select(registry.Citizen))}
    assert got == {(p.full_name, p.birth_date, p.mobile) for p in people}


def test_an_interrupted_rotation_stays_readable_and_resumes(filled, capsys):
    url, engine, people = filled
    keys.add_key()

    def stop_after_two(rep: keys.Rotation) -> None:
        if rep.batches == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keys.reencrypt(engine, batch=10, on_batch=stop_after_two)
    assert _key_ids(engine) == {"k1", "k2"}  # half way: both keys in use
    with session_factory(engine)() as db:  # ... and every value still reads back
        assert sorted(c.mobile for c in db.scalars(select(registry.Citizen))) == \
            sorted(p.mobile for p in people)
    assert keys.retire(engine) == []  # k1 still encrypts rows: kept
    rep = keys.reencrypt(engine, batch=10)
    assert rep.rows == 150 - 20 and _key_ids(engine) == {"k2"}
    assert keys.reencrypt(engine).rows == 0  # nothing left: idempotent
    assert main(["keys", "status", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "k1: unused" in out and "calls.caller_number: 30" in out
