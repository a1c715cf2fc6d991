"""Access to the dashboard: no session → redirect/401; roles gate pages; wrong passwords are
throttled; CSRF tokens checked; every login attempt in the audit log; bearer tokens for APIs."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr.store.base import make_engine, session_factory
from ivr.web.auth import MAX_FAILURES
from tests.ivr.web.conftest import PASSWORD, audit_actions, login

pytestmark = pytest.mark.timeout(60)
PAGES = ("/", "/hourly", "/whatif", "/records", "/audit")
APIS = ("/api/queues", "/api/hourly?date=2026-11-23", "/metrics", "/events")


def test_without_a_session_pages_redirect_to_login_and_apis_answer_401(client):
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=" + path.split("?")[0])
    for path in APIS:
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/queues", headers={"Authorization": "Bearer hl_forged"}
                      ).status_code == 401


def test_login_opens_the_board_and_is_audited(client, web_db):
    r = login(client, "sup")
    assert r.status_code == 303 and r.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Документы и формы" in page.text and "answered within 20 s" in page.text
    assert "content-security-policy" in page.headers
    assert ("sup", "web_login") in audit_actions(web_db)
    assert client.get("/api/queues").json()["groups"][0]["skill"] == "documents"


def test_a_supervisor_cannot_open_auditor_pages_and_an_auditor_not_the_stats(client, web_db):
    login(client, "sup")
    for path in ("/records", "/audit"):
        assert client.get(path).status_code == 403
    assert ("sup", "web_forbidden") in audit_actions(web_db)
    client.cookies.clear()
    assert login(client, "aud").headers["location"] == "/records"
    assert client.get("/records").status_code == 200
    audit_page = client.get("/audit")
    assert audit_page.status_code == 200 and "web_login" in audit_page.text
    for path in ("/", "/hourly"):
        assert client.get(path).status_code == 403
    assert client.get("/api/queues").status_code == 403


def test_wrong_passwords_are_rate_limited_and_every_attempt_audited(client, web_db):
    for _ in range(MAX_FAILURES):
        assert login(client, "sup", "wrong-password").status_code == 401
    r = login(client, "sup")  # the right password, too late
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert client.get("/").status_code == 303  # still not logged in
    actions = audit_actions(web_db)
    assert actions.count(("sup", "web_login_failed")) == MAX_FAILURES
    assert ("sup", "web_login_throttled") in actions
    assert ("sup", "web_login") not in actions


def test_the_throttle_lifts_after_its_window():
    from ivr.web.auth import LoginThrottle

    now = [0.0]
    t = LoginThrottle(max_failures=2, window_s=60, clock=lambda: now[0])
    t.failed("user:a", "ip:x")
    t.failed("user:a", "ip:x")
    assert t.retry_after("user:a") == 60 and t.retry_after("user:b", "ip:x") == 60
    now[0] = 61.0
    assert t.retry_after("user:a", "ip:x") == 0


def test_csrf_token_is_checked_on_every_form(client, web_db):
    client.get("/login")
    r = client.post("/login", data={"username": "sup", "password": PASSWORD["sup"],
                                    "csrf": "forged"})
    assert r.status_code == 403 and client.get("/").status_code == 303
    assert ("sup", "web_login_failed") in audit_actions(web_db)
    login(client, "sup")
    assert client.post("/whatif", data={"skill": "documents", "csrf": "x"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/").status_code == 200  # the refused logout left the session alone
    page = client.get("/")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/").status_code == 303


def test_login_never_redirects_off_site(client):
    page = client.get("/login?next=//evil.example/x")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", data={"username": "sup", "password": PASSWORD["sup"],
                                    "csrf": csrf, "next": "//evil.example/x"})
    assert r.headers["location"] == "/"


def test_bearer_token_opens_the_apis_and_metrics(client, web_db, live):
    from ivr.web.users import create_token

    engine = make_engine(web_db)
    with session_factory(engine).begin() as db:
        token = create_token(db, "sup", datetime.now(UTC))
    engine.dispose()
    auth = {"Authorization": f"Bearer {token}"}
    live.change(lambda s: s["groups"][0].update(waiting=7, answered=12))
    got = client.get("/api/queues", headers=auth)
    assert got.status_code == 200 and got.json() == live.snapshot()
    metrics = client.get("/metrics", headers=auth)
    assert metrics.status_code == 200
    assert 'hotline_queue_waiting{skill="documents"} 7.0' in metrics.text
    assert 'hotline_agents{skill="security",state="available"} 3.0' in metrics.text
    hourly = client.get("/api/hourly?date=2026-11-23", headers=auth)
    assert hourly.status_code == 200 and hourly.json()["date"] == "2026-11-23"
    assert client.get("/api/hourly?date=yesterday", headers=auth).status_code == 400
