"""The calls table read back as plain records, and `hotline fit` / `hotline report hourly` over
a real SQLite database filled the way the drivers fill it (issue 11)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pytest
from sqlalchemy import insert

from ivr.cli import main
from ivr.store.base import make_engine, session_factory
from ivr.store.call_records import read_calls
from ivr.store.migrate import upgrade
from ivr.store.models import Call
from queue_engine.model import Model
from queue_engine.records import CallRecords, from_simulation
from queue_engine.scenario import load_scenario
from queue_engine.sim import simulate

MONDAY = dt.date(2026, 11, 16)
KEEP = ("tech", "security", "orgs")


def _table_rows(rec: CallRecords) -> list[dict]:
    """What the IVR, the live ACD and the AMI bridge write: no queue column, the wait in
    ``detail``, the IVR's answer time in ``answered_at`` unless an agent answered."""
    out = []
    for r in rec.rows():
        q = r.pop("queued_at")
        w = None if q is None else ((r["answered_at"] if r["outcome"] == "answered"
                                     else r["ended_at"]) - q).total_seconds()
        if r["outcome"] == "answered":
            r["detail"] = f"answered by {r['agent_id']} after {w:.0f} s"
        elif r["outcome"] == "abandoned":
            r["detail"] = f"abandoned after {w:.0f} s in queue {r['skill']}"
        elif r["outcome"] == "queued":
            r["ended_at"] = q
        if r["answered_at"] is None:
            r["answered_at"] = r["started_at"]
        if r["ended_at"] is None:
            r["ended_at"] = r["started_at"]
        r["caller_hash"] = hashlib.sha256(r["caller_hash"].encode()).hexdigest()
        out.append(r)
    return out


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    sc = load_scenario()
    model = Model.from_scenario(sc)
    rec = from_simulation(model, simulate(model, seed=3), MONDAY)
    rec = rec.select(np.isin(rec.skill, KEEP))
    url = f"sqlite:///{tmp_path_factory.mktemp('calls') / 'calls.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        db.execute(insert(Call), _table_rows(rec))
        db.commit()
    return url, engine, rec


def test_records_read_back_with_their_queue_waits(filled) -> None:
    _, engine, rec = filled
    with session_factory(engine)() as db:
        back = read_calls(db)
    assert len(back) == len(rec)
    order = {c: i for i, c in enumerate(rec.call_id)}
    idx = np.array([order[c] for c in back.call_id])
    w0, w1 = rec.wait[idx], back.wait
    both = np.isfinite(w0)
    assert np.array_equal(both, np.isfinite(w1))
    assert np.abs(w0[both] - w1[both]).max() <= 0.5  # the drivers write whole seconds
    assert list(back.outcome) == list(rec.outcome[idx])


def test_fit_writes_a_normal_scenario(filled, tmp_path, monkeypatch, capsys) -> None:
    url, _, rec = filled
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    out = tmp_path / "fitted.yaml"
    assert main(["fit", "--from-calls", "--since", "2026-11-16", "--until", "2026-11-22",
                 "--out", str(out), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    sc = load_scenario(out)
    assert sc.source["records"] == figures["records"] == len(rec)
    assert sc.source["period"] == ["2026-11-16", "2026-11-22"]
    assert set(sc.arrivals.daily_calls) == set(KEEP)
    truth = load_scenario()
    tech = sc.arrivals.daily_calls["tech"] * sc.arrivals.days["tue"]
    assert tech == pytest.approx(truth.arrivals.daily_calls["tech"] * 1.04, rel=0.08)
    assert main(["simulate", "--scenario", str(out), "--json"]) == 0  # taken unchanged
    assert json.loads(capsys.readouterr().out)["scenario"] == "fitted"


def test_report_hourly_json_and_csv(filled, monkeypatch, capsys) -> None:
    url, _, _ = filled
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    assert main(["report", "hourly", "--date", "2026-11-18", "--skill", "tech", "--reps", "2",
                 "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    noon = next(r for r in rep["rows"] if r["hour"] == 12)
    assert noon["actual"]["offered"] > 50 and noon["forecast"]["offered"] > 50
    assert abs(noon["actual"]["offered"] / noon["forecast"]["offered"] - 1) < 0.35
    assert main(["report", "hourly", "--date", "2026-11-18", "--reps", "0", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("date,skill,hour") and len(lines) > 12


def test_queued_at_column_wins_and_old_rows_still_read(tmp_path) -> None:
    """Rows with ``queued_at`` (migration 0007) give the wait from the column, even when
    ``detail`` says nothing about it; rows written before it are read from ``detail``."""
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    upgrade(engine)
    t0 = dt.datetime(2026, 11, 18, 9, tzinfo=dt.UTC)
    s = dt.timedelta(seconds=1)
    rows = [
        {"call_id": "new:ans", "skill": "tech", "outcome": "answered", "agent_id": "a1",
         "detail": "answered by a1", "started_at": t0, "queued_at": t0 + 40 * s,
         "answered_at": t0 + 157 * s, "ended_at": t0 + 400 * s},
        {"call_id": "new:ab", "skill": "tech", "outcome": "abandoned", "detail": None,
         "started_at": t0, "queued_at": t0 + 30 * s, "answered_at": t0,
         "ended_at": t0 + 95 * s},
        {"call_id": "old:ab", "skill": "tech", "outcome": "abandoned",
         "detail": "abandoned after 61 s in queue tech", "started_at": t0 + 2 * s,
         "answered_at": t0 + 2 * s, "ended_at": t0 + 200 * s},
    ]
    with session_factory(engine)() as db:
        db.execute(insert(Call), rows)
        db.commit()
        back = read_calls(db)
    waits = dict(zip(back.call_id, back.wait, strict=True))
    assert waits == {"new:ans": 117.0, "new:ab": 65.0, "old:ab": 61.0}
