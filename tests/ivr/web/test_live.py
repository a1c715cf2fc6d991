"""Server-sent events from a real uvicorn: a change of the live source reaches the stream as a
new board fragment (and as JSON for wallboards); the stream needs a session or a token."""
from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime

import pytest

from ivr.store.base import make_engine, session_factory
from ivr.web.app import create_app
from tests.ivr.web.conftest import Served

pytestmark = pytest.mark.timeout(60)


def _token(url: str) -> str:
    from ivr.web.users import create_token

    engine = make_engine(url)
    with session_factory(engine).begin() as db:
        token = create_token(db, "sup", datetime.now(UTC))
    engine.dispose()
    return token


def _events(resp: http.client.HTTPResponse):
    event, data = None, []
    while True:
        line = resp.readline().decode()
        if not line:
            return
        line = line.rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and event:
            yield event, "\n".join(data)
            event, data = None, []


@pytest.mark.parametrize("fmt", ["html", "json"])
def test_a_change_reaches_the_event_stream(web_db, live, fmt):
    served = Served(create_app(web_db, live, whatif=False))
    try:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=20)
        conn.request("GET", "/events" + ("?format=json" if fmt == "json" else ""),
                     headers={"Authorization": f"Bearer {_token(web_db)}"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("content-type").startswith("text/event-stream")
        stream = _events(resp)
        first = next(stream)
        assert first[0] == ("snapshot" if fmt == "json" else "board")
        live.change(lambda s: s["groups"][0].update(waiting=17, answered=41))
        for event, data in stream:
            if fmt == "json":
                if json.loads(data)["groups"][0]["waiting"] == 17:
                    break
            elif 'class="big waiting">17<' in data and 'class="answered">41<' in data:
                break
        else:
            pytest.fail("the change never reached the stream")
        conn.close()
        anon = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
        anon.request("GET", "/events")
        assert anon.getresponse().status == 401
    finally:
        served.close()


def test_stop_streams_ends_open_event_streams(web_db, live):
    from ivr.web.app import stop_streams

    app = create_app(web_db, live, whatif=False)
    served = Served(app)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=20)
        conn.request("GET", "/events", headers={"Authorization": f"Bearer {_token(web_db)}"})
        stream = _events(conn.getresponse())
        next(stream)
        stop_streams(app)
        live.change(lambda s: s.update(at="2026-11-23T10:00:01+03:00"))
        assert len(list(stream)) <= 1  # at most the snapshot in flight, then the end
    finally:
        served.close()


def test_the_board_keeps_the_busiest_line_rows_on_one_screen(client, live):
    from ivr.web.pages import LINE_ROWS
    from tests.ivr.web.conftest import login

    def many(s):
        s["lines"] = [{"line": "regional", "region": f"r{i:02d}", "in_ivr": 0, "queued": 0,
                       "self_service_share": None} for i in range(LINE_ROWS + 5)]
        s["lines"][-1].update(in_ivr=4)  # the busiest one is last in the board's order

    live.change(many)
    login(client, "sup")
    page = client.get("/").text
    assert f"r{LINE_ROWS + 4:02d}" in page and "Ещё 5 строк" in page
    assert page.count('<td class="in_ivr">') == LINE_ROWS


def test_the_board_says_when_retention_last_ran_what_it_deleted_or_why_it_failed(client, live):
    from tests.ivr.web.conftest import login

    login(client, "sup")
    assert "retention" not in client.get("/").text  # a source without the daily job
    live.change(lambda s: s.update(retention={"last": None, "next_at": "2026-11-24T03:00:00"}))
    assert "not run yet" in client.get("/").text and "2026-11-24 03:00" in client.get("/").text
    live.change(lambda s: s.update(retention={
        "last": {"at": "2026-11-24T03:00:00+03:00", "ok": True,
                 "deleted": {"audio": 12, "otp": 340}, "files": 12},
        "next_at": "2026-11-25T03:00:00"}))
    page = client.get("/").text
    assert "2026-11-24 03:00" in page and "audio 12, otp 340" in page
    live.change(lambda s: s.update(retention={
        "last": {"at": "2026-11-25T03:00:00+03:00", "ok": False, "error": "disk full",
                 "deleted": {}, "files": 0}, "next_at": None}))
    assert "failed</small>: disk full" in client.get("/").text
