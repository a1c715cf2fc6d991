"""POST /api/calls/{id}/transfer (agent/supervisor, CSRF or bearer, audited) and the call's
record page with its transfer history (issue 9, SPEC §4)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from ivr.records.transfers import (
    TransferError,
    UnknownGroup,
    record_transfer,
    transfer_answered,
)
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from tests.ivr.web.conftest import audit_actions, login

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class FakeAcd:
    """The running service's ``transfer`` as the web app calls it."""

    def __init__(self) -> None:
        self.done: list[tuple] = []

    def __call__(self, call_id: str, to: str, *, by: str, via: str, priority=None) -> None:
        if to != "senior":
            raise UnknownGroup(f"unknown group {to!r}")
        if call_id != "talking":
            raise TransferError(f"call {call_id} is not talking to an agent")
        self.done.append((call_id, to, by, via, priority))


@pytest.fixture
def acd() -> FakeAcd:
    return FakeAcd()


@pytest.fixture
def app_client(web_db, live, acd):
    from ivr.web.app import create_app
    from ivr.web.users import add_user

    engine = make_engine(web_db)
    with session_factory(engine).begin() as db:
        add_user(db, "agt", "agent", T0, "agent-pass-4444")
    engine.dispose()
    with TestClient(create_app(web_db, live, transfer=acd), follow_redirects=False) as c:
        yield c


def _csrf(c) -> str:
    """The session's CSRF token, as every page's forms carry it."""
    return c.get("/login").text.split('name="csrf" value="', 1)[1].split('"')[0]


def test_agent_transfers_with_csrf_and_every_attempt_is_audited(app_client, acd, web_db):
    c = app_client
    assert c.post("/api/calls/talking/transfer", json={"to": "senior"}).status_code == 401
    login(c, "agt", "agent-pass-4444")
    assert c.post("/api/calls/talking/transfer", json={"to": "senior"}).status_code == 403
    token = _csrf(c)
    h = {"X-CSRF-Token": token}
    r = c.post("/api/calls/talking/transfer", json={"to": "senior", "priority": 7}, headers=h)
    assert r.status_code == 200 and r.json()["queued"] is True
    assert acd.done == [("talking", "senior", "web:agt", "web", 7)]
    assert c.post("/api/calls/idle/transfer", json={"to": "senior"},
                  headers=h).status_code == 409
    assert c.post("/api/calls/talking/transfer", json={"to": "moon"},
                  headers=h).status_code == 400
    assert c.post("/api/calls/talking/transfer", json={"priority": 1},
                  headers=h).status_code == 400
    acts = [a for a in audit_actions(web_db) if a[1] == "call_transfer"]
    assert acts == [("web:agt", "call_transfer")] * 4  # csrf refusal, done, 409, 400


def test_auditor_may_not_transfer_and_a_token_needs_no_csrf(app_client, acd, web_db):
    from ivr.web.users import create_token

    c = app_client
    login(c, "aud")
    assert c.post("/api/calls/talking/transfer", json={"to": "senior"},
                  headers={"X-CSRF-Token": _csrf(c)}).status_code == 403
    engine = make_engine(web_db)
    with session_factory(engine).begin() as db:
        token = create_token(db, "sup", T0)
    engine.dispose()
    c.cookies.clear()
    r = c.post("/api/calls/talking/transfer", json={"to": "senior"},
               headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and acd.done[-1][2] == "web:sup"


def test_record_page_shows_the_history_that_travelled(app_client, web_db):
    engine = make_engine(web_db)
    with session_factory(engine).begin() as db:
        record_call(db, {"call_id": "c-77", "line": "federal", "region": "77",
                         "menu_path": ["MENU:1", "ID_NUMBER:ok", "MENU:0"],
                         "identification": "ok", "skill": "account", "outcome": "answered",
                         "agent_id": "agent-4", "started_at": T0,
                         "answered_at": T0 + timedelta(seconds=50)})
        record_transfer(db, "c-77", at=T0 + timedelta(seconds=200), by="agent-4", via="acd",
                        from_agent="agent-4", from_skill="account", to_skill="senior")
        transfer_answered(db, "c-77", to_agent="agent-31", at=T0 + timedelta(seconds=260))
    engine.dispose()
    c = app_client
    login(c, "sup")
    page = c.get("/calls/c-77")
    assert page.status_code == 200
    text = page.text
    for needle in ("MENU:1 → ID_NUMBER:ok → MENU:0", "agent-31", "senior", "agent-4",
                   "идентификация ok"):
        assert needle in text, needle
    assert c.get("/calls/nope").status_code == 404
    assert ("web:sup", "call_record_read") in audit_actions(web_db)
