"""Recordings: encrypted on disk in a 0700 tree, a refusing caller is never recorded, only the
auditor lists, plays or exports — every access (and every refusal) audited — and a caller's copy
is honoured within 30 days only."""
from __future__ import annotations

import stat
import wave
from datetime import UTC, datetime, timedelta
from io import BytesIO

import numpy as np
import pytest
from sqlalchemy import select

from ivr.cli import main
from ivr.records import access, recordings
from ivr.store import audit
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.migrate import upgrade
from ivr.store.models import AuditEntry

T0 = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    root = tmp_path / "recordings"
    monkeypatch.setenv("HOTLINE_RECORDINGS_DIR", str(root))
    url = f"sqlite:///{tmp_path / 'rec.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, session_factory(engine), root
    engine.dispose()


def tone(n: int, freq: float) -> bytes:
    t = np.arange(n) / 8000
    return (8000 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def record(factory, root, call_id="srv1:1764.1", *, seconds=9.0):
    caller, ivr = tone(int(8000 * seconds), 440), tone(int(8000 * seconds), 300)
    with factory.begin() as db:
        record_call(db, {"call_id": call_id, "caller_number": "+79161234567", "started_at": T0,
                         "ended_at": T0 + timedelta(seconds=seconds), "consent": "given"})
        w = recordings.open_writer(db, call_id=call_id, started_at=T0, root=root)
        for i in range(0, len(caller), 320):  # 20 ms frames, as a media clock delivers them
            w.write(recordings.interleave(caller[i:i + 320], ivr[i:i + 320]))
        w.close(db, T0 + timedelta(seconds=seconds))
    return caller, ivr


def test_audio_is_encrypted_in_a_private_tree_and_reads_back(store):
    _url, factory, root = store
    caller, ivr = record(factory, root)
    path = root / "calls/2026/11/23/srv1_1764.1.wav.enc"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "calls").stat().st_mode) == 0o700
    blob = path.read_bytes()
    assert caller[1000:1064] not in blob and b"RIFF" not in blob
    with wave.open(BytesIO(recordings.wav_bytes(path))) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert pcm[0::2].tobytes() == caller and pcm[1::2].tobytes() == ivr
    path.write_bytes(blob[:-40])  # cut the final chunk: refused, unless read as a crash
    with pytest.raises(ValueError):
        recordings.wav_bytes(path)


def test_a_refusing_caller_is_not_recorded(store):
    _url, factory, root = store
    with factory.begin() as db, pytest.raises(recordings.RecordingRefused):
        recordings.open_writer(db, call_id="c-refused", started_at=T0, allowed=False, root=root)
    with factory.begin() as db:  # a refusal heard after the writer opened: nothing remains
        w = recordings.open_writer(db, call_id="c-late", started_at=T0, root=root)
        w.write(tone(1600, 440))
        w.discard(db, T0)
    with factory() as db:
        assert db.scalars(select(recordings.Recording)).all() == []
        assert db.scalars(select(AuditEntry.action)).all() == ["recording_discarded"]
    assert list(root.rglob("*.enc")) == []


def test_only_the_auditor_gets_recordings_and_every_access_is_audited(store, tmp_path):
    _url, factory, root = store
    record(factory, root)
    now = T0 + timedelta(days=1)
    with factory() as db, pytest.raises(access.AccessDenied):
        access.list_recordings(db, actor="sup:ivanova", role="supervisor", now=now)
    with factory() as db:
        assert [r.call_id for r in access.list_recordings(
            db, actor="aud:petrova", role="auditor", now=now)] == ["srv1:1764.1"]
        wav = access.play_recording(db, "srv1:1764.1", actor="aud:petrova", role="auditor",
                                    now=now)
        out = access.export_recording(db, "srv1:1764.1", tmp_path / "x.wav",
                                      actor="aud:petrova", role="auditor", now=now)
        db.commit()
    assert wav.startswith(b"RIFF") and out.read_bytes() == wav
    with factory() as db:
        trail = [(e.actor, e.action) for e in db.scalars(select(AuditEntry).order_by(
            AuditEntry.seq))]
    assert trail == [("sup:ivanova", "recordings_listed_refused"),
                     ("aud:petrova", "recordings_listed"), ("aud:petrova", "recording_played"),
                     ("aud:petrova", "recording_exported")]
    assert audit.verify(make_engine(store[0])).ok


def test_caller_copy_within_30_days_by_command(store, tmp_path, capsys, monkeypatch):
    from ivr.web.users import add_user

    url, factory, root = store
    record(factory, root)
    with factory.begin() as db:
        pw = {"petrova": add_user(db, "petrova", "auditor", T0),
              "ivanova": add_user(db, "ivanova", "supervisor", T0)}
    base = ["records", "--url", url, "--recordings", str(root)]
    as_petrova = [*base, "--user", "petrova"]
    monkeypatch.setenv("HOTLINE_PASSWORD", pw["petrova"])
    day29 = (T0 + timedelta(days=29)).isoformat()
    assert main([*as_petrova, "--at", day29, "export", "srv1:1764.1", "--out",
                 str(tmp_path / "copy")]) == 0
    files = sorted(p.name for p in (tmp_path / "copy").iterdir())
    assert files == ["srv1_1764.1.json", "srv1_1764.1.wav"]
    assert "+79161234567" in (tmp_path / "copy" / "srv1_1764.1.json").read_text()
    day31 = (T0 + timedelta(days=31)).isoformat()
    assert main([*as_petrova, "--at", day31, "export", "srv1:1764.1", "--out",
                 str(tmp_path / "late")]) == 1
    assert "older than 30 days" in capsys.readouterr().err
    # the role comes from the account: a supervisor with the right password is refused
    monkeypatch.setenv("HOTLINE_PASSWORD", pw["ivanova"])
    assert main([*base, "--user", "ivanova", "list"]) == 1
    # a wrong password (or an unknown name) never reaches the records, and is audited
    assert main([*as_petrova, "list"]) == 1
    assert main([*base, "--user", "nobody", "list"]) == 1
    assert capsys.readouterr().err.count("wrong user name or password") == 2
    with factory() as db:
        trail = [(e.actor, e.action) for e in db.scalars(select(AuditEntry).order_by(
            AuditEntry.seq))]
    assert trail == [("user:petrova", "caller_copy_exported"),
                     ("user:ivanova", "recordings_listed_refused"),
                     ("cli:petrova", "cli_login_failed"), ("cli:nobody", "cli_login_failed")]
    assert audit.verify(make_engine(url)).ok


def test_records_password_prompt_without_the_environment(store, monkeypatch, capsys):
    from ivr.web.users import add_user

    url, factory, root = store
    record(factory, root)
    with factory.begin() as db:
        pw = add_user(db, "petrova", "auditor", T0)
    monkeypatch.delenv("HOTLINE_PASSWORD", raising=False)
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or pw)
    assert main(["records", "--url", url, "--recordings", str(root), "--user", "petrova",
                 "list"]) == 0
    assert asked == ["password for petrova: "] and "srv1:1764.1" in capsys.readouterr().out


def test_asterisk_mode_mixmonitor_and_adoption(store, tmp_path):
    _url, factory, root = store
    action = recordings.mixmonitor_action("srv1:1764.2", "PJSIP/trunk-0000002a", T0)
    assert action["Action"] == "MixMonitor" and action["File"].endswith("srv1_1764.2.wav")
    assert recordings.stop_mixmonitor_action("PJSIP/trunk-0000002a") == {
        "Action": "StopMixMonitor", "Channel": "PJSIP/trunk-0000002a"}
    plain = tmp_path / "srv1_1764.2.wav"
    with wave.open(str(plain), "wb") as w:  # what MixMonitor leaves: mono mixed, 8 kHz
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(tone(8000, 440))
    with factory.begin() as db:
        row = recordings.adopt_file(db, call_id="srv1:1764.2", wav_path=plain, started_at=T0,
                                    now=T0 + timedelta(seconds=1), root=root)
    assert not plain.exists() and row.state == "stored" and row.seconds == pytest.approx(1.0)
