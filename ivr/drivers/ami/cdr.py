"""Records from Asterisk itself: ``hotline import cdr FILE`` closes the disconnected-bridge gap.

A call that starts and ends while the bridge is away from AMI never reaches it; Asterisk still
writes it to its own CDR/CEL files. This module reads them and writes the missing call records
with the bridge's call ids (``<server-id>:<Uniqueid>`` of the caller's channel), so a call the
bridge recorded is never counted twice and importing the same file twice changes nothing
(``ivr.store.calls.record_call`` inserts once per call id).

Formats, as Asterisk 22 writes them (cdr/cdr_csv.c, cel/cel_custom.c, main/cel.c):

* ``cdr_csv`` **Master.csv** — every field double-quoted (``"`` doubled inside), no header, in
  this order: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
  start, answer, end (``%Y-%m-%d %H:%M:%S``, the server's local time unless ``usegmtime=yes``;
  an empty field when unset), duration, billsec, disposition (``ANSWERED``, ``NO ANSWER``,
  ``BUSY``, ``FAILED``, ``CONGESTION``), amaflags; then ``uniqueid`` if ``loguniqueid=yes``,
  ``userfield`` if ``loguserfield=yes``, and peeraccount, linkedid, sequence if
  ``newcdrcolumns=yes``. Without ``loguniqueid`` no row can be matched to the bridge's: such a
  file is refused. Used here: src (caller), dst (DID), dcontext, channel, dstchannel (the agent's
  channel), lastapp, start/answer/end, disposition, uniqueid, linkedid.
* ``cel_custom`` CSV with the sample's legacy mapping — eventtype, eventtime (``sec.usec``
  unless ``dateformat`` is set in cel.conf; both are read), CALLERID(name), CALLERID(num), ANI,
  RDNIS, DNID, exten, context, channame, appname, appdata, amaflags, accountcode, uniqueid,
  linkedid, BRIDGEPEER, userfield, userdeftype, eventextra. One call is the events of one
  linkedid; the caller's channel is the one whose uniqueid is the linkedid. Used: eventtype
  (CHAN_START, APP_START, BRIDGE_ENTER, HANGUP, CHAN_END), eventtime, CALLERID(num), DNID, exten,
  context, channame, appname, uniqueid, linkedid, BRIDGEPEER.

Outcome of an imported call: ``answered`` (the caller's leg was bridged to an agent in
``Queue``: agent id from the agent's channel), ``abandoned`` (it reached ``Queue`` and was never
bridged), ``abandoned_ivr`` (it ended before the queue). The IVR path is unknown to Asterisk's
files and left empty; ``detail`` says the record was imported.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

MASTER_FIELDS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
                 "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
                 "disposition", "amaflags")
CEL_FIELDS = ("eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid",
              "exten", "context", "channame", "appname", "appdata", "amaflags", "accountcode",
              "uniqueid", "linkedid", "peer", "userfield", "userdeftype", "eventextra")
CEL_EVENTS = {"CHAN_START", "CHAN_END", "ANSWER", "HANGUP", "APP_START", "APP_END", "PARK_START",
              "PARK_END", "USER_DEFINED", "BRIDGE_ENTER", "BRIDGE_EXIT", "BLINDTRANSFER",
              "ATTENDEDTRANSFER", "PICKUP", "FORWARD", "LINKEDID_END", "LOCAL_OPTIMIZE",
              "LOCAL_OPTIMIZE_BEGIN", "STREAM_BEGIN", "STREAM_END", "DTMF"}
MAX_FIELD = 32  # calls.caller_number / did / agent_id are String(32)


class CdrFormatError(ValueError):
    """The file is not a CDR/CEL CSV this importer can read; the message says why and where."""


@dataclass(frozen=True)
class ImportedCall:
    """One caller's call as Asterisk's files tell it."""

    uniqueid: str
    caller: str | None
    did: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    agent: str | None
    reached_queue: bool
    queued_at: datetime | None = None  # CEL's APP_START of Queue (Master.csv has no such time)

    @property
    def outcome(self) -> str:
        if self.agent:
            return "answered"
        return "abandoned" if self.reached_queue else "abandoned_ivr"

    def record(self, server_id: str, source: str) -> dict[str, Any]:
        """The row for ``calls``, in the bridge's call-id convention."""
        return {"call_id": f"{server_id}:{self.uniqueid}", "caller_number": _cut(self.caller),
                "did": _cut(self.did), "outcome": self.outcome, "agent_id": _cut(self.agent),
                "started_at": self.started_at,
                "answered_at": self.answered_at or self.started_at, "ended_at": self.ended_at,
                "queued_at": self.queued_at, "menu_path": [], "detail": f"imported from {source}"}


def _cut(value: str | None) -> str | None:
    return value[:MAX_FIELD] if value else None


def agent_of(channel: str) -> str | None:
    """``PJSIP/agent17-0000002a`` → ``agent17``; ``Local/1017@agents-00000003;1`` → ``1017``."""
    if not channel:
        return None
    name = channel.split("/", 1)[-1]
    name = re.sub(r"-[0-9a-f]{8}(;\d)?$", "", name)
    return name.split("@", 1)[0] or None


def _time(text: str, tz: tzinfo, field: str, line: int) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):  # CEL's default: seconds.microseconds since epoch
            return datetime.fromtimestamp(float(text), UTC)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise CdrFormatError(f"line {line}: {field}: not a time: {text[:40]!r}") from None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(UTC)


MAX_CSV_BYTES = 2_000_000_000  # a year of a busy server's Master.csv fits; /dev/zero does not


def read_text(path: Path) -> str:
    """A regular file's text (``/dev/zero`` or a FIFO would never end: refused)."""
    if not path.is_file():
        raise OSError(21, "not a regular file")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise OSError(27, "file too large")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # a caller's name in CP1251 must not stop the import
        return data.decode("utf-8", errors="replace")


def sniff(text: str) -> str:
    """``master`` or ``cel``, from the first record."""
    first = next(csv.reader(io.StringIO(text)), None)
    if not first:
        raise CdrFormatError("the file holds no record")
    if first[0] in CEL_EVENTS:
        return "cel"
    if len(first) >= len(MASTER_FIELDS):
        return "master"
    raise CdrFormatError(f"line 1: {len(first)} fields: neither cdr_csv Master.csv "
                         f"({len(MASTER_FIELDS)}+ fields) nor cel_custom (first field an event)")


def master_calls(text: str, tz: tzinfo) -> list[ImportedCall]:
    """Calls from a cdr_csv Master.csv; one per caller channel (its CDRs merged)."""
    legs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        extra = len(row) - len(MASTER_FIELDS)
        if extra not in (1, 2, 4, 5):
            raise CdrFormatError(
                f"line {line}: {len(row)} fields; this import needs loguniqueid=yes in cdr.conf "
                f"[csv] ({len(MASTER_FIELDS)} fields + uniqueid [+ userfield] "
                "[+ peeraccount, linkedid, sequence])")
        rec = dict(zip(MASTER_FIELDS, row, strict=False))
        rec["uniqueid"] = row[len(MASTER_FIELDS)]
        rec["linkedid"] = row[-2] if extra in (4, 5) else rec["uniqueid"]
        rec["line"] = line
        for field in ("start", "answer", "end"):
            rec[field] = _time(rec[field], tz, field, line)
        if rec["start"] is None or rec["end"] is None:
            raise CdrFormatError(f"line {line}: a CDR without start or end time")
        legs[rec["linkedid"]].append(rec)
    calls = []
    for linkedid, recs in legs.items():
        first = min(recs, key=lambda r: (r["uniqueid"] != linkedid, r["start"]))
        queue = [r for r in recs if r["lastapp"] == "Queue"]
        agent_rec = next((r for r in queue if r["disposition"] == "ANSWERED"
                          and r["dstchannel"]), None)
        calls.append(ImportedCall(
            uniqueid=first["uniqueid"], caller=first["src"] or None, did=first["dst"] or None,
            started_at=min(r["start"] for r in recs), ended_at=max(r["end"] for r in recs),
            answered_at=agent_rec["answer"] if agent_rec else None,
            agent=agent_of(agent_rec["dstchannel"]) if agent_rec else None,
            reached_queue=bool(queue)))
    return calls


def cel_calls(text: str, tz: tzinfo) -> list[ImportedCall]:
    """Calls from a cel_custom CSV: the events of each linkedid, seen from the caller's channel."""
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        if len(row) < 16 or row[0] not in CEL_EVENTS:
            raise CdrFormatError(f"line {line}: not a cel_custom record (first field "
                                 f"{row[0][:20]!r}, {len(row)} fields)")
        ev = dict(zip(CEL_FIELDS, row, strict=False))
        ev["at"] = _time(ev["eventtime"], tz, "eventtime", line)
        events[ev["linkedid"]].append(ev)
    calls = []
    for linkedid, evs in events.items():
        evs.sort(key=lambda e: e["at"])
        own = [e for e in evs if e["uniqueid"] == linkedid]
        if not own or not any(e["eventtype"] in ("HANGUP", "CHAN_END") for e in own):
            continue  # the call is still going on (or the file was cut): not a finished call
        start = own[0]
        bridged = next((e for e in own if e["eventtype"] == "BRIDGE_ENTER"
                        and e["appname"] == "Queue" and e["peer"]), None)
        end = next(e for e in own if e["eventtype"] in ("HANGUP", "CHAN_END"))
        joined = next((e for e in own if e["eventtype"] == "APP_START"
                       and e["appname"] == "Queue"), None)
        calls.append(ImportedCall(
            uniqueid=linkedid, caller=start["cid_num"] or None,
            did=start["cid_dnid"] or start["exten"] or None,
            started_at=start["at"], ended_at=end["at"],
            answered_at=bridged["at"] if bridged else None,
            agent=agent_of(bridged["peer"]) if bridged else None,
            reached_queue=any(e["appname"] == "Queue" for e in own),
            queued_at=joined["at"] if joined else None))
    return calls


@dataclass
class ImportReport:
    read: int = 0
    inserted: int = 0
    already: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"calls_read": self.read, "inserted": self.inserted, "already_recorded": self.already}


def import_calls(db: Any, calls: Iterable[ImportedCall], server_id: str,
                 source: str) -> ImportReport:
    """Write the calls the database does not hold yet (by call id); flush, never commit."""
    from ivr.store.calls import record_call

    report = ImportReport()
    for call in calls:
        report.read += 1
        if record_call(db, call.record(server_id, source)):
            report.inserted += 1
        else:
            report.already += 1
    return report


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="records from Asterisk's own files (CDR/CEL CSV)")
    ps = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    c = ps.add_parser("cdr", help="cdr_csv Master.csv or cel_custom CSV → call records, "
                                  "idempotent, never counting a call twice")
    c.add_argument("file", type=Path)
    c.add_argument("--format", choices=("auto", "master", "cel"), default="auto")
    c.add_argument("--server-id", default=None,
                   help="the bridge's server id (HOTLINE_SERVER_ID, default ast1)")
    c.add_argument("--gmt", action="store_true",
                   help="times in the file are GMT (cdr.conf usegmtime=yes); default: the "
                        "dialplan's zone, as Asterisk writes local time")
    c.add_argument("--url", default=None, help="database URL (default HOTLINE_DB_URL)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_import_cdr)


def cmd_import_cdr(args: Any) -> int:
    import json
    import os
    import sys

    from ivr.dialplan.model import load_dialplan
    from ivr.store.base import make_engine, session_factory
    from ivr.store.migrate import upgrade_needed

    try:
        text = read_text(args.file)
    except OSError as exc:
        print(f"error: import cdr: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    tz = UTC if args.gmt else load_dialplan().tz
    try:
        kind = sniff(text) if args.format == "auto" else args.format
        calls = master_calls(text, tz) if kind == "master" else cel_calls(text, tz)
    except CdrFormatError as exc:
        print(f"error: import cdr: {args.file}: {exc}", file=sys.stderr)
        return 1
    server_id = args.server_id or os.environ.get("HOTLINE_SERVER_ID") or "ast1"
    engine = make_engine(args.url)
    try:
        if (msg := upgrade_needed(engine)) is not None:
            print(f"error: {msg}", file=sys.stderr)
            return 1
        with session_factory(engine)() as db:
            report = import_calls(db, calls, server_id, f"{kind} {args.file.name}")
            db.commit()
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(f"{report.read} calls in {args.file.name} ({kind}): {report.inserted} recorded now, "
              f"{report.already} already recorded")
    return 0
