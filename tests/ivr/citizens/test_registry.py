"""Citizen registry on a real SQLite file: lookup by keyed hash, attempts, locks, applications."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import structlog
from sqlalchemy import select, text

from ivr.citizens import registry
from ivr.citizens.checksums import parse_inn, parse_passport, parse_snils
from ivr.citizens.registry import Application, Citizen, IdentPolicy
from ivr.store.base import make_engine, session_factory
from ivr.store.schema import metadata

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SECRET = b"test-secret-0123456789abcdef"


@pytest.fixture
def db(db_url, monkeypatch):
    """A fresh database on SQLite and on PostgreSQL (``db_url`` from tests/conftest.py)."""
    monkeypatch.setenv("HOTLINE_SECRET", SECRET.decode())
    engine = make_engine(db_url)
    metadata.create_all(engine)
    with session_factory(engine)() as session:
        registry.seed(session, 12, seed=7, today=NOW.date())
        session.commit()
        yield session
    engine.dispose()


@pytest.fixture
def people():
    return registry.fictitious_citizens(12, seed=7)


def test_seeded_numbers_pass_the_checksums_and_are_unique(people):
    assert people[0].snils == "11223344595" and people[0].birth_date == date(1980, 2, 1)
    for p in people:
        assert parse_snils(p.snils).ok and parse_passport(p.passport).ok
        assert parse_inn(p.inn, lengths=(12,)).ok
    assert len({p.snils for p in people}) == len(people)
    assert registry.fictitious_citizens(12, seed=7) == people  # deterministic
    assert registry.fictitious_citizens(12, seed=8)[1:] != people[1:]


def test_seed_is_idempotent_and_covers_every_status(db):
    before = db.scalar(text("select count(*) from applications"))
    registry.seed(db, 12, seed=7, today=NOW.date())
    db.commit()
    assert db.scalar(text("select count(*) from applications")) == before
    assert db.scalar(text("select count(*) from citizens")) == 12
    statuses = set(db.scalars(select(Application.status)))
    assert statuses == set(registry.STATUSES)
    for app in db.scalars(select(Application).where(Application.status == "отклонено")):
        assert app.rejection_reason


def test_no_personal_number_is_stored_in_clear(db, people):
    dump = "\n".join(str(row) for row in db.execute(text("select * from citizens")))
    for p in people:
        for number in (p.snils, p.passport, p.inn):
            assert number not in dump


def test_identify_by_snils_or_passport(db, people):
    p = people[3]
    ok = registry.identify(db, snils=p.snils, birth_date=p.birth_date, now=NOW)
    assert ok.status == "ok"
    assert registry.identify(db, passport=p.passport, birth_date=p.birth_date, now=NOW,
                             inn=p.inn).citizen_id == ok.citizen_id
    assert registry.identify(db, snils=p.snils, birth_date=p.birth_date, now=NOW,
                             inn=people[4].inn).reason == "inn_mismatch"
    unknown = registry.identify(db, snils="00100199800", birth_date=p.birth_date, now=NOW)
    assert (unknown.status, unknown.citizen_id, unknown.reason) == ("failed", None, "not_found")


def test_five_failures_in_window_lock_and_the_lock_survives_a_restart(db, people, db_url):
    p, policy = people[2], IdentPolicy(max_failures=5, window=timedelta(hours=1),
                                       lock_for=timedelta(hours=2))
    wrong = p.birth_date + timedelta(days=1)
    results = [registry.identify(db, snils=p.snils, birth_date=wrong, now=NOW + timedelta(
        minutes=i), call_id=f"c{i}", policy=policy) for i in range(5)]
    # the 5th wrong date locks, yet the caller is told only "failed", exactly as for an unknown
    # SNILS: "locked" would reveal that the SNILS exists (issue 13 item 6)
    assert [r.status for r in results] == ["failed"] * 5
    assert results[3].failures == 4 and results[3].locked_until is None
    assert results[4].locked_until == NOW + timedelta(minutes=4, hours=2)
    db.commit()
    # a fresh engine/session: the lock is in the database, not in memory
    engine = make_engine(db_url)
    with session_factory(engine)() as fresh:
        right = registry.identify(fresh, snils=p.snils, birth_date=p.birth_date,
                                  now=NOW + timedelta(hours=1), policy=policy)
        assert right.status == "locked"
        assert right.locked_until == NOW + timedelta(minutes=4, hours=2)
        later = registry.identify(fresh, snils=p.snils, birth_date=p.birth_date,
                                  now=NOW + timedelta(hours=3), policy=policy)
        assert later.status == "ok"
    engine.dispose()


def test_failures_outside_the_window_do_not_add_up(db, people):
    p, policy = people[5], IdentPolicy(max_failures=3, window=timedelta(minutes=30))
    wrong = date(1901, 1, 1)
    for i in range(6):  # one every 20 minutes: never 3 inside 30 minutes
        r = registry.identify(db, snils=p.snils, birth_date=wrong,
                              now=NOW + timedelta(minutes=20 * i), policy=policy)
        assert r.status == "failed", i


def test_times_in_other_zones_compare_correctly(db, people):
    msk = timezone(timedelta(hours=3))
    cid = registry.identify(db, snils=people[1].snils, birth_date=people[1].birth_date,
                            now=NOW).citizen_id
    registry.lock_account(db, cid, NOW, IdentPolicy(lock_for=timedelta(minutes=10)))
    assert registry.is_locked(db, cid, (NOW + timedelta(minutes=9)).astimezone(msk))
    assert not registry.is_locked(db, cid, (NOW + timedelta(minutes=11)).astimezone(msk))
    with pytest.raises(ValueError):
        registry.is_locked(db, cid, datetime(2026, 1, 1))


def test_lock_is_never_shortened(db, people):
    cid = db.scalars(select(Citizen.id)).first()
    long = registry.lock_account(db, cid, NOW, IdentPolicy(lock_for=timedelta(days=2)))
    assert registry.lock_account(db, cid, NOW, IdentPolicy(lock_for=timedelta(hours=1))) == long


def test_application_status_only_for_its_owner(db, people):
    owner = registry.identify(db, snils=people[0].snils, birth_date=people[0].birth_date,
                              now=NOW).citizen_id
    other = registry.identify(db, snils=people[1].snils, birth_date=people[1].birth_date,
                              now=NOW).citizen_id
    views = {}
    for number, status in people[0].applications:
        view = registry.application_status(db, citizen_id=owner, number=number)
        assert view is not None and view.status == status
        views[status] = view
        assert registry.application_status(db, citizen_id=other, number=number) is None
    assert views["отклонено"].rejection_reason and views["отклонено"].status_en == "rejected"
    assert views["в работе"].expected_on > NOW.date()
    assert registry.application_status(db, citizen_id=owner, number="0000000000") is None


def test_status_constraint_refuses_unknown_status(db):
    cid = db.scalars(select(Citizen.id)).first()
    db.add(Application(number="1", citizen_id=cid, service="x", status="потеряно",
                       submitted_on=NOW.date()))
    with pytest.raises(Exception, match="(?i)check"):
        db.flush()


@pytest.fixture
def cli(capsys):
    """``hotline`` in-process; structlog is reset after, since main() binds it to the captured
    stderr that pytest closes when the test ends."""
    from ivr.cli import main

    yield main
    structlog.reset_defaults()


def test_cli_seed_and_outbox(tmp_path, monkeypatch, capsys, cli):
    main = cli
    monkeypatch.setenv("HOTLINE_SECRET", SECRET.decode())
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["registry", "--url", url, "seed", "--count", "2"]) == 1
    assert "hotline db upgrade" in capsys.readouterr().err
    engine = make_engine(url)
    metadata.create_all(engine)
    assert main(["registry", "--url", url, "seed", "--count", "3", "--json"]) == 0
    people = json.loads(capsys.readouterr().out)
    assert [p["snils"] for p in people] == [p.snils for p in registry.fictitious_citizens(3)]
    assert main(["sms", "--url", url, "outbox"]) == 0
    assert "(outbox empty)" in capsys.readouterr().out
    engine.dispose()


def test_locks_and_disclosures_are_audited(db, people):
    from ivr.store.models import AuditEntry

    p = people[0]
    cid = registry.identify(db, snils=p.snils, birth_date=p.birth_date, now=NOW).citizen_id
    number = p.applications[0][0]
    assert registry.application_status(db, citizen_id=cid, number=number, now=NOW,
                                       actor="ivr:c1")
    registry.lock_account(db, cid, NOW, actor="ivr:c1", reason="test")
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(r.actor, r.action) for r in rows] == [("ivr:c1", "application_status_read"),
                                                   ("ivr:c1", "account_locked")]
    assert number not in str([(r.subject, r.detail) for r in rows])
