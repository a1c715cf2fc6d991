"""``hotline audit|keys|retention|tickets …``: the records' commands.

``hotline records`` is registered by :mod:`ivr.web.records_cli` (its user logs in against the
dashboard's accounts, which this package may not import); the ``cmd_records_*`` functions it
runs once the role is known stay here.

Heavy imports (SQLAlchemy, the models) stay inside the command functions: ``hotline --help``
must not pay for them.
"""
from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any


def _url(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", default=None, help="SQLAlchemy URL (overrides HOTLINE_DB_URL)")


def _now(args: argparse.Namespace) -> datetime:
    at = getattr(args, "at", None)
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _at(p: argparse.ArgumentParser) -> None:
    p.add_argument("--at", type=datetime.fromisoformat, default=None,
                   help="act as if it were this moment (ISO; UTC unless it has an offset)")


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("audit", help="audit log: verify the hash chain, show entries")
    _url(a)
    asub = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = asub.add_parser("verify", help="walk the hash chain; name the first broken row")
    _url(v)
    v.set_defaults(func=cmd_audit_verify)
    sh = asub.add_parser("show", help="newest audit entries")
    _url(sh)
    sh.add_argument("--limit", type=int, default=20)
    sh.set_defaults(func=cmd_audit_show)

    k = sub.add_parser("keys", help="data keys: rotate (re-encrypt in batches), status, retire")
    _url(k)
    ksub = k.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    r = ksub.add_parser("rotate", help="new current key, then re-encrypt every personal field "
                                       "(interruptible; --resume continues)")
    _url(r)
    r.add_argument("--resume", action="store_true", help="no new key: finish re-encrypting")
    r.add_argument("--batch", type=int, default=500, help="rows per transaction")
    r.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    r.set_defaults(func=cmd_keys_rotate)
    s = ksub.add_parser("status", help="which key encrypts how many values")
    _url(s)
    s.set_defaults(func=cmd_keys_status)
    rt = ksub.add_parser("retire", help="drop keys that encrypt nothing any more")
    _url(rt)
    rt.set_defaults(func=cmd_keys_retire)

    _register_records(sub)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from ivr.store import audit
    from ivr.store.base import make_engine

    verdict = audit.verify(make_engine(args.url))
    print(verdict)
    return 0 if verdict.ok else 1


def cmd_audit_show(args: argparse.Namespace) -> int:
    from ivr.records import access
    from ivr.store.base import make_engine, session_factory

    with session_factory(make_engine(args.url))() as db:
        for e in access.audit_entries(db, limit=args.limit):
            print(f"{e.seq:>6} {e.at:%Y-%m-%d %H:%M:%S} {e.actor:<24} {e.action:<28} "
                  f"{e.subject or ''}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from ivr.records import keys
    from ivr.store.base import make_engine

    engine = make_engine(args.url)
    if not args.resume:
        print(f"new current key {keys.add_key()}")

    def progress(rep: keys.Rotation) -> None:
        print(f"  {rep.rows} values re-encrypted ({rep.batches} batches)", file=sys.stderr)

    rep = keys.reencrypt(engine, batch=args.batch, pause=args.pause, on_batch=progress)
    print(f"re-encrypted {rep.rows} values under {rep.key} in {rep.seconds:.2f} s "
          f"({rep.rate:.0f} values/s); old keys stay until `hotline keys retire`")
    return 0


def cmd_keys_status(args: argparse.Namespace) -> int:
    from ivr.records import keys
    from ivr.records.recordings import root_dir
    from ivr.store.base import make_engine
    from ivr.store.crypto import keyring

    ring = keyring(reload=True)
    used = keys.usage(make_engine(args.url), root_dir())
    print(f"keyring {ring.source}: current {ring.current}")
    for key in sorted(set(ring.data) | set(used)):
        counts = ", ".join(f"{c}: {n}" for c, n in sorted(used.get(key, {}).items())) or "unused"
        mark = "*" if key == ring.current else " "
        print(f" {mark}{key}: {counts}{'' if key in ring.data else '  (NOT IN KEYRING)'}")
    return 0


def cmd_keys_retire(args: argparse.Namespace) -> int:
    from ivr.records import keys
    from ivr.records.recordings import root_dir
    from ivr.store.base import make_engine

    gone = keys.retire(make_engine(args.url), root_dir())
    print(f"retired: {', '.join(gone) or 'none (every old key still encrypts something)'}")
    return 0


def _register_records(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("retention", help="delete expired audio and personal fields")
    _url(r)
    rs = r.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = rs.add_parser("run", help="apply dialplans/retention.yaml now (idempotent, "
                                    "safe to interrupt)")
    _url(run)
    _at(run)
    run.add_argument("--dialplans", default="dialplans", help="directory of retention.yaml")
    run.add_argument("--recordings", default=None, help="recordings root (default recordings/)")
    run.add_argument("--batch", type=int, default=200, help="rows per transaction")
    run.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    run.set_defaults(func=cmd_retention_run)

    tk = sub.add_parser("tickets", help="written requests: deadlines in working time (SPEC §8)")
    _url(tk)
    tk.add_argument("--dialplans", default="dialplans", help="directory of tickets.yaml")
    _at(tk)
    ts = tk.add_subparsers(dest="tickets_command", metavar="ACTION", required=True)
    op = ts.add_parser("open", help="open a ticket; prints its number and deadline")
    op.add_argument("--kind", required=True, help="a kind of tickets.yaml (login, security, …)")
    op.add_argument("--call-id", default=None)
    op.add_argument("--citizen", type=int, default=None, help="citizen id (identified caller)")
    op.add_argument("--caller", default=None, help="caller's number (unidentified caller)")
    op.add_argument("--summary", default=None, help="the request's content (stored encrypted)")
    op.set_defaults(func=cmd_tickets_open)
    show = ts.add_parser("show", help="a ticket's status and deadline")
    show.add_argument("number")
    show.set_defaults(func=cmd_tickets_show)
    ro = ts.add_parser("reopen", help="reopen a ticket: a fresh deadline of its class")
    ro.add_argument("number")
    ro.set_defaults(func=cmd_tickets_reopen)
    esc = ts.add_parser("escalate", help="complaints past their escalation moment go to seniors")
    esc.set_defaults(func=cmd_tickets_escalate)


def cmd_tickets_open(args: argparse.Namespace) -> int:
    from ivr.records import tickets

    rules = tickets.load_rules(args.dialplans)
    with _db(args) as db:
        t = tickets.open_ticket(db, kind=args.kind, now=_now(args), rules=rules,
                                call_id=args.call_id, citizen_id=args.citizen,
                                caller=args.caller, summary=args.summary, actor="cli")
        db.commit()
        print(f"ticket {t.number}: {t.kind}, due {tickets.due_local(t, rules):%Y-%m-%d %H:%M %Z}")
    return 0


def _ticket(db: Any, number: str) -> Any:
    """The ticket with this number, or None (said on stderr)."""
    from sqlalchemy import select

    from ivr.records import tickets

    t = db.scalars(select(tickets.Ticket).where(tickets.Ticket.number == number)).first()
    if t is None:
        print(f"no ticket {number}", file=sys.stderr)
    return t


def cmd_tickets_show(args: argparse.Namespace) -> int:
    from ivr.records import tickets
    from ivr.store import audit

    rules = tickets.load_rules(args.dialplans)
    with _db(args) as db:
        t = _ticket(db, args.number)
        if t is None:
            return 1
        audit.record(db, at=_now(args), actor="cli", action="ticket_status_read",
                     subject=f"ticket:{t.id}")
        db.commit()
        print(f"ticket {t.number}: {t.kind}, {t.status}, reopened {t.reopened}x, "
              f"due {tickets.due_local(t, rules):%Y-%m-%d %H:%M %Z}")
    return 0


def cmd_tickets_reopen(args: argparse.Namespace) -> int:
    from ivr.records import tickets

    rules = tickets.load_rules(args.dialplans)
    with _db(args) as db:
        t = _ticket(db, args.number)
        if t is None:
            return 1
        tickets.reopen(db, t, now=_now(args), rules=rules, actor="cli")
        db.commit()
        print(f"ticket {t.number} reopened, due {tickets.due_local(t, rules):%Y-%m-%d %H:%M %Z}")
    return 0


def cmd_tickets_escalate(args: argparse.Namespace) -> int:
    from ivr.records import tickets

    with _db(args) as db:
        n = tickets.escalate_due(db, _now(args))
        db.commit()
    print(f"escalated {n} ticket(s)")
    return 0


def _db(args: argparse.Namespace):
    from ivr.store.base import make_engine, session_factory

    return session_factory(make_engine(args.url))()


def cmd_retention_run(args: argparse.Namespace) -> int:
    from ivr.records import retention
    from ivr.store.base import make_engine

    policy = retention.load_policy(args.dialplans)
    rep = retention.run(make_engine(args.url), _now(args), policy, root=args.recordings,
                        batch=args.batch, pause=args.pause)
    print(rep)
    return 0


def _access(args: argparse.Namespace, fn, *rest):
    from ivr.records import access

    with _db(args) as db:
        try:
            out = fn(db, *rest, actor=args.actor, role=args.role, now=_now(args),
                     root=args.recordings)
        except (access.AccessDenied, LookupError) as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return None
        db.commit()
        return out


def cmd_records_list(args: argparse.Namespace) -> int:
    from ivr.records import access

    def listing(db, *, root, **kw):
        return access.list_recordings(db, limit=args.limit, **kw)

    rows = _access(args, listing)
    if rows is None:
        return 1
    for r in rows:
        secs = f"{r.seconds:.0f} s" if r.seconds is not None else "-"
        print(f"{r.started_at:%Y-%m-%d %H:%M} {r.call_id} {secs}")
    return 0


def cmd_records_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ivr.records import access

    files = _access(args, access.caller_copy, args.call_id, Path(args.out))
    if files is None:
        return 1
    print("\n".join(str(f) for f in files))
    return 0


def cmd_records_play(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ivr.records import access

    out = _access(args, access.export_recording, args.call_id, Path(args.out))
    if out is None:
        return 1
    print(out)
    return 0
