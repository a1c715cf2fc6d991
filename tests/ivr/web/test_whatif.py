"""What-if: the form hands agents per hour to the service's callable (CSRF-checked); the
default one runs the real simulator in a spawned worker and the forecast moves."""
from __future__ import annotations

import asyncio
from datetime import date

import numpy as np
import pytest

from ivr.web.whatif import WhatIf, restaff
from tests.ivr.web.conftest import login

pytestmark = pytest.mark.timeout(120)
MONDAY = date(2026, 11, 23)


def test_restaff_shares_heads_among_qualified_teams_in_proportion():
    staff = np.array([[6, 6], [3, 3], [9, 9]])
    restaff(staff, np.array([True, True, False]), 1, 10)
    assert staff[:, 1].tolist()[:2] == [7, 3] and staff[2, 1] == 9  # 6:3 → 6.67:3.33
    assert staff[:, 0].tolist() == [6, 3, 9]  # other hours untouched
    restaff(staff, np.array([True, True, False]), 0, 0)
    assert staff[:2, 0].tolist() == [0, 0]


def test_form_runs_the_services_whatif_and_plots_it(web_db, live):
    from starlette.testclient import TestClient

    from ivr.web.app import create_app

    asked = []

    skills = ["documents"]

    def at_ten(asa: float) -> dict:
        rows = [[float("nan")] * 2 for _ in range(168)]  # as the simulator leaves empty hours
        rows[MONDAY.weekday() * 24 + 10] = [asa, asa]
        return {"skills": skills, "mean": {"offered": [[5.0, 5.0]] * 168, "asa": rows}}

    async def whatif(skill, agents):
        asked.append((skill, agents))
        return at_ten(420.0)

    live.change(lambda s: s.update(at="2026-11-23T10:00:00+03:00"))
    app = create_app(web_db, live, whatif=whatif, forecast_provider=lambda: at_ten(60.0))
    with TestClient(app, follow_redirects=False) as c:
        login(c, "sup")
        form = c.get("/whatif").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = c.post("/whatif", data={"csrf": csrf, "skill": "documents", "h10": "4", "h11": ""})
        assert r.status_code == 200, r.text
        assert asked == [("documents", {10: 4})]
        assert 'id="whatif-charts"' in r.text
        assert r.text.count('class="actual"') == 1  # the hour with a figure, in the wait chart
        bad = c.post("/whatif", data={"csrf": csrf, "skill": "documents", "h10": "four"})
        assert bad.status_code == 400 and len(asked) == 1


def test_default_whatif_fewer_agents_longer_wait():
    monday = MONDAY
    w = WhatIf(day=lambda: monday, reps=2)
    try:
        few = asyncio.run(w("documents", {10: 1}))
        many = asyncio.run(w("documents", {10: 40}))
    finally:
        w.close()
    col = few["skills"].index("documents")
    wh = monday.weekday() * 24 + 10
    assert few["mean"]["asa"][wh][col] > many["mean"]["asa"][wh][col]
