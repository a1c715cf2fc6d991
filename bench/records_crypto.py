"""What protecting the records costs (issue 9): encryption per call-record write, the audit
hash chain per append, and the key-rotation rate.

Peers run in the same process on the same SQLite file: the call record is written once into
``calls`` (caller number AES-GCM encrypted + its keyed lookup hash) and once into a peer table
with the same columns in clear; an audit row through the chain vs a plain insert into a peer
table. One transaction per write, as the IVR commits each step. Run:
``.venv/bin/python bench/records_crypto.py [--n 2000] [--rotate 20000]``.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.dialects import sqlite

from ivr.records import keys
from ivr.store import audit, crypto
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.migrate import upgrade
from ivr.store.models import Call
from ivr.store.timestamps import UtcDateTime

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def row(i: int) -> dict:
    return {"call_id": f"srv1:{i}", "caller_number": f"+7916{i:07d}", "did": "+78005553535",
            "line": "federal", "region": "all", "language": "ru",
            "menu_path": ["main:2:status", "id:ok"], "identification": "ok", "skill": "status",
            "priority": 1, "callback_requested": False, "outcome": "self_served",
            "detail": "hangup:normal", "started_at": T0 + timedelta(seconds=i),
            "answered_at": T0 + timedelta(seconds=i), "ended_at": T0 + timedelta(seconds=i + 90)}


def peers(engine) -> tuple[Table, Table]:
    md = MetaData()
    calls = Table("bench_calls_clear", md, Column("id", Integer, primary_key=True),
                  Column("call_id", String(64), unique=True), Column("caller_number", String(32)),
                  Column("caller_hash", String(64), index=True),
                  Column("consent", String(8)), Column("agent_id", String(32)),
                  Column("did", String(32)), Column("line", String(32), index=True),
                  Column("region", String(64)),
                  Column("language", String(8)), Column("menu_path", JSON),
                  Column("identification", String(16)), Column("skill", String(32)),
                  Column("priority", Integer), Column("callback_requested", Integer),
                  Column("outcome", String(32), index=True), Column("detail", Text),
                  Column("started_at", UtcDateTime), Column("answered_at", UtcDateTime),
                  Column("ended_at", UtcDateTime))
    log = Table("bench_audit_plain", md, Column("id", Integer, primary_key=True),
                Column("at", UtcDateTime), Column("actor", String(64)),
                Column("action", String(64)), Column("subject", String(128)),
                Column("detail", JSON))
    md.create_all(engine)
    return calls, log


def paired(f, g, n: int) -> tuple[float, float]:
    """µs per call of ``f`` and ``g``, interleaved so machine-load drift hits both alike."""
    tf = tg = 0.0
    for i in range(n):
        t = time.perf_counter()
        f(i)
        tf += time.perf_counter() - t
        t = time.perf_counter()
        g(i)
        tg += time.perf_counter() - t
    return tf / n * 1e6, tg / n * 1e6


def timed(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rotate", type=int, default=20000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hotline-bench-")
    os.environ["HOTLINE_KEYRING_FILE"] = f"{tmp}/hotline.keys"
    engine = make_engine(f"sqlite:///{tmp}/bench.db")
    upgrade(engine)
    factory = session_factory(engine)
    clear, plain_log = peers(engine)

    def enc_write(i: int) -> None:
        with factory.begin() as db:
            record_call(db, row(i))

    calls = Call.__table__

    def enc_core(i: int) -> None:  # like with like: the same Core statement as the peer
        r = row(i)
        r["caller_hash"] = r["caller_number"]
        with factory.begin() as db:
            db.execute(sqlite.insert(calls).values(**r).on_conflict_do_nothing(
                index_elements=["call_id"]).returning(calls.c.id)).first()

    def clear_write(i: int) -> None:  # the same statement record_call runs, values in clear
        r = row(i)
        r["caller_hash"] = r["caller_number"]
        with factory.begin() as db:
            db.execute(sqlite.insert(clear).values(**r).on_conflict_do_nothing(
                index_elements=["call_id"]).returning(clear.c.id)).first()

    def crypto_only(i: int) -> None:
        crypto.encrypt(f"+7916{i:07d}", "calls.caller_number")
        crypto.blind_index("phone", f"+7916{i:07d}")

    def chained(i: int) -> None:
        with factory.begin() as db:
            audit.record(db, at=T0, actor="ivr:srv1:1", action="application_status_read",
                         subject=f"application:{i}", detail={"citizen": i})

    def plain(i: int) -> None:
        with factory.begin() as db:
            db.execute(insert(plain_log).values(at=T0, actor="ivr:srv1:1",
                                                action="application_status_read",
                                                subject=f"application:{i}", detail={"citizen": i}))

    for fn in (enc_write, enc_core, clear_write, chained, plain):  # warm-up
        fn(10_000_000 + hash(fn) % 1000)
    e, c = paired(enc_core, lambda i: clear_write(i + args.n), args.n)
    orm = timed(lambda i: enc_write(i + 5 * args.n), args.n)
    a, p = paired(chained, plain, args.n)
    print(f"call record write, one transaction each (SQLite file, n={args.n}):")
    print(f"  encrypted caller number + lookup hash: {e:8.1f} µs/write "
          f"(record_call, ORM-enabled insert: {orm:.1f} µs)")
    print(f"  same row in clear (peer table)       : {c:8.1f} µs/write")
    print(f"  overhead {e - c:+.1f} µs/write ({e / c:.2f}x); of which AES-GCM + HMAC alone "
          f"{timed(crypto_only, args.n * 10):.1f} µs")
    print(f"audit append, one transaction each: chained {a:.1f} µs, plain insert {p:.1f} µs "
          f"({a / p:.2f}x)")

    with factory.begin() as db:  # rows to rotate: calls with a caller number
        base = 20_000_000
        for start in range(0, args.rotate, 1000):
            for i in range(start, min(start + 1000, args.rotate)):
                record_call(db, row(base + i))
    keys.add_key()
    rep = keys.reencrypt(engine, batch=500)
    print(f"key rotation: {rep.rows} values re-encrypted in {rep.seconds:.2f} s = "
          f"{rep.rate:,.0f} values/s (batches of 500, one transaction each)")

    from ivr.records import retention

    policy = retention.load_policy("dialplans")
    start = time.perf_counter()
    ret = retention.run(engine, T0 + timedelta(days=800), policy, root=f"{tmp}/rec", batch=500)
    secs = time.perf_counter() - start
    wiped = ret.done.get("call_record:calls", 0)
    print(f"retention: {wiped} call records anonymised (+ IVR inputs) in {secs:.2f} s = "
          f"{wiped / secs:,.0f} calls/s (batches of 500 with their audit rows)")


if __name__ == "__main__":
    main()
