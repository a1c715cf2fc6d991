"""``hotline call``: scripted calls through the CLI, the real machine and an SQLite file."""
from __future__ import annotations

import io
import json
import re
import sys

import pytest
from sqlalchemy import select

from ivr.call.protocol import CallerHangup, Collect, Digits, NoInput
from ivr.citizens import registry
from ivr.cli import main
from ivr.drivers.console import parse_tokens, prompt_texts, say, token_event
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

MONDAY_10 = "2026-11-23T10:00"


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'console.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_SECRET", "console-test-secret-0123456789")
    monkeypatch.delenv("HOTLINE_SMS_DEV_CODES", raising=False)
    engine = make_engine(url)
    upgrade(engine)  # the schema as `hotline db upgrade` makes it
    with session_factory(engine)() as db:
        registry.seed(db, 2)
        db.commit()
    engine.dispose()
    return url


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["--log-format", "json", "call", *argv])
    return code, capsys.readouterr().out


def rows(url: str) -> list[Call]:
    engine = make_engine(url)
    with session_factory(engine)() as db:
        out = list(db.scalars(select(Call)))
    engine.dispose()
    return out


def test_scripted_call_prints_prompt_texts(db_url, capsys):
    code, out = run(capsys, "8 800 555‑35‑35", "--at", MONDAY_10, "--keys", "3")
    assert code == 0
    assert "Разговор записывается" in out and "Документы и формы — 3" in out
    assert re.search(r"Ожидаемое время ожидания: \w+( \w+)? минут", out)  # queue engine's EWT
    assert "→ queue documents" in out and "outcome: queued" in out
    [row] = rows(db_url)
    assert (row.outcome, row.skill, row.did) == ("queued", "documents", "+78005553535")


def test_json_outcome_of_identified_status_call(db_url, capsys):
    demo = registry.fictitious_citizens(1)[0]
    done = next(n for n, s in demo.applications if s == "завершено")
    code, out = run(capsys, "88005553535", "--at", MONDAY_10, "--json", "--keys",
                    f"2 1 {demo.snils}# 01021980# code {done}# #")
    record = json.loads(out)
    assert code == 0
    assert record["identification"] == "ok" and "status:completed" in record["menu_path"]
    assert record["outcome"] == "self_served"  # silence after "#" … the script ran out: hang-up


def test_long_wait_offer_with_wait_override(db_url, capsys):
    code, out = run(capsys, "88005553535", "--at", MONDAY_10, "--wait", "25", "--keys", "5 1")
    assert code == 0
    assert "мы перезвоним вам, сохранив ваше место" in out
    assert "двадцать пять минут" in out
    [row] = rows(db_url)
    assert row.callback_requested and row.outcome == "queued"


def test_english_on_the_international_line(db_url, capsys):
    _, out = run(capsys, "+7 495 777-77-77", "--at", MONDAY_10, "--keys", "2 3")
    assert "For English, press 2" in out and "Documents and forms, 3" in out


def test_keys_from_stdin_when_not_a_terminal(db_url, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("9\n"))
    code, out = run(capsys, "88005553535", "--at", "2026-11-22T23:30")
    assert code == 0
    assert "службой безопасности" in out and "→ queue security" in out


def test_missing_tables_are_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOTLINE_DB_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code = main(["call", "88005553535", "--keys", "3"])
    assert code == 1 and "hotline db upgrade" in capsys.readouterr().err


def test_tokens():
    menu = Collect(("m",), max_digits=1, terminator="")
    number = Collect(("n",), max_digits=11, terminator="#")
    assert token_event("#", menu, lambda: None) == Digits("#")
    assert token_event("12345678901#", number, lambda: None) == Digits("12345678901")
    assert token_event("_", number, lambda: None) == NoInput()
    assert token_event("silence", menu, lambda: None) == NoInput()
    assert token_event("hangup", menu, lambda: None) == CallerHangup()
    assert token_event("code", number, lambda: "123456") == Digits("123456")
    assert parse_tokens(" 1  2 ") == ["1", "2"]


def test_every_prompt_has_text_in_both_languages():
    from ivr.dialplan.menus import load_menus

    texts = prompt_texts("dialplans")
    for lang in ("ru", "en"):
        missing = {p for p in load_menus("dialplans").used_prompt_ids() if p not in texts[lang]}
        assert not missing, (lang, missing)
    assert say(texts, ("num_5", "unit_minute_many"), "ru") == "пять минут"
