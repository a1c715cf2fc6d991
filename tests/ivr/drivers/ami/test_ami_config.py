"""Issue 13 item 12: the exported manager.conf has no default secret and only the rights used."""
from __future__ import annotations

import re

from ivr.dialplan.asterisk import manager_conf


def _user(text: str) -> dict[str, str]:
    section = text.split("[hotline]", 1)[1]
    return dict(re.split(r"\s*=\s*", line, maxsplit=1) for line in section.splitlines()
                if "=" in line and not line.startswith(";"))


def test_manager_conf_never_has_a_default_secret(monkeypatch):
    monkeypatch.delenv("HOTLINE_AMI_SECRET", raising=False)
    one, two = _user(manager_conf())["secret"], _user(manager_conf())["secret"]
    assert one != two and len(one) >= 24 and "change-me" not in manager_conf()


def test_manager_conf_grants_only_what_the_bridge_uses():
    """AGI (agi), Originate (originate), Hangup and StopMixMonitor (call), CoreShowChannels
    (reporting), MixMonitor (system: app_mixmonitor registers it with EVENT_FLAG_SYSTEM only —
    call recording); QueueStatus, Events, Ping need none (manager.c, res_agi.c, app_queue.c,
    app_mixmonitor.c registrations). Never ``command`` (shell-like CLI access)."""
    user = _user(manager_conf("s3cret-for-test-0123456789"))
    assert set(user["write"].split(",")) == {"agi", "originate", "call", "reporting", "system"}
    assert "command" not in user["read"] and "command" not in user["write"]


def _serve_args(url=None, db=None):
    import argparse

    return argparse.Namespace(asterisk=url, dialplans="dialplans", db=db, server_id="t",
                              recordings=None, enqueue_mode=None)


def _db(tmp_path):
    from ivr.store.base import make_engine
    from ivr.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cfg.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_wrong_ami_credentials_are_fatal_with_health_failed(tmp_path, monkeypatch, capsys):
    import asyncio
    import json
    import threading

    from ivr.drivers.ami.emulator import AMIEmulator
    from ivr.drivers.ami.serve import cmd_serve

    monkeypatch.setenv("HOTLINE_SECRET", "ami-config-test-secret-0123456789")
    monkeypatch.setenv("HOTLINE_HEALTH_FILE", str(tmp_path / "health.json"))
    monkeypatch.setenv("HOTLINE_AMI_SECRET", "wrong-secret")
    db = _db(tmp_path)
    port, ready, done = [], threading.Event(), threading.Event()

    def emulator():
        async def run():
            async with AMIEmulator() as emu:
                port.append(emu.port)
                ready.set()
                while not done.is_set():
                    await asyncio.sleep(0.02)
        asyncio.run(run())
    t = threading.Thread(target=emulator, daemon=True)
    t.start()
    ready.wait(10)
    try:  # the secret comes from the environment: nothing on the command line
        code = cmd_serve(_serve_args(f"ami://ivr@127.0.0.1:{port[0]}", db))
    finally:
        done.set()
        t.join(10)
    err = capsys.readouterr().err
    assert code == 1 and "refused the AMI login" in err and "wrong-secret" not in err
    assert json.loads((tmp_path / "health.json").read_text())["ami"] == "failed"


def test_malformed_url_never_prints_the_secret(monkeypatch, capsys):
    from ivr.drivers.ami.serve import cmd_serve

    for url in ("http://ivr:Sup3rS3cret@127.0.0.1:5038", "ami://ivr:Sup3rS3cret@[::1:bad",
                "ami://ivr:Sup3rS3cret@host:99999"):
        assert cmd_serve(_serve_args(url)) == 2
        err = capsys.readouterr().err
        assert "Sup3rS3cret" not in err and "Traceback" not in err, err


def test_serve_refuses_a_missing_secret_and_a_secret_the_database_does_not_know(
        tmp_path, monkeypatch, capsys):
    from ivr.citizens.secret import check_against_database
    from ivr.drivers.ami.serve import cmd_serve
    from ivr.store.base import make_engine, session_factory

    db = _db(tmp_path)
    monkeypatch.delenv("HOTLINE_SECRET", raising=False)
    monkeypatch.setenv("HOTLINE_SECRET_FILE", str(tmp_path / "nowhere" / "hotline.secret"))
    assert cmd_serve(_serve_args("ami://ivr:x@127.0.0.1:1", db)) == 2
    assert "no server secret" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()  # not silently made
    engine = make_engine(db)
    check_against_database(session_factory(engine), b"the-first-secret-0123456789")
    engine.dispose()
    monkeypatch.setenv("HOTLINE_SECRET", "another-secret-entirely-0123456789")
    assert cmd_serve(_serve_args("ami://ivr:x@127.0.0.1:1", db)) == 2
    err = capsys.readouterr().err
    assert "does not match" in err and "another-secret" not in err
