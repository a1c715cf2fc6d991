"""Who may see records, as plain functions the web pages and the CLI both call.

Only the ``auditor`` role may list, play or export call recordings (SPEC §7); every access —
granted or refused — is written to the audit log in the same transaction as the read, so there
is no access without its trace. The web layer checks the role at its gate too (its own helper);
these functions check again, so no page can forget. A caller's own copy of a call is
:func:`caller_copy` (within 30 days of the call, SPEC §7), asked through an auditor.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.records.recordings import Recording, root_dir, wav_bytes
from ivr.store import audit
from ivr.store.models import AuditEntry, Call
from ivr.store.timestamps import aware, utc

AUDITOR = "auditor"
COPY_WINDOW = timedelta(days=30)


_WHAT = {"recordings_listed": "list recordings", "recording_played": "play recordings",
         "recording_exported": "export recordings",
         "caller_copy_exported": "export a caller's copy"}


class AccessDenied(PermissionError):
    """The role may not do this (the refusal itself is audited)."""


def _gate(db: Session, *, actor: str, role: str, now: datetime, action: str,
          subject: str | None) -> None:
    if role != AUDITOR:
        audit.record(db, at=now, actor=actor, action=f"{action}_refused", subject=subject,
                     detail={"role": role})
        db.commit()  # the refusal is kept even though the caller's request fails
        raise AccessDenied(f"{actor} ({role}) may not {_WHAT.get(action, action)}: "
                           f"only the {AUDITOR} role may")


@dataclass(frozen=True)
class RecordingInfo:
    call_id: str
    started_at: datetime
    seconds: float | None
    state: str


def list_recordings(db: Session, *, actor: str, role: str, now: datetime,
                    since: datetime | None = None, limit: int = 100) -> list[RecordingInfo]:
    """Stored recordings, newest first (auditor only; the listing is audited)."""
    _gate(db, actor=actor, role=role, now=now, action="recordings_listed", subject=None)
    q = select(Recording).where(Recording.state == "stored") \
        .order_by(Recording.started_at.desc()).limit(limit)
    if since is not None:
        q = q.where(Recording.started_at >= utc(since))
    rows = [RecordingInfo(r.call_id, aware(r.started_at), r.seconds, r.state)  # type: ignore[arg-type]
            for r in db.scalars(q)]
    audit.record(db, at=now, actor=actor, action="recordings_listed",
                 detail={"count": len(rows)})
    return rows


def _stored(db: Session, call_id: str) -> Recording:
    row = db.scalars(select(Recording).where(Recording.call_id == call_id,
                                             Recording.state == "stored")).first()
    if row is None:
        raise LookupError(f"no stored recording for call {call_id}")
    return row


def play_recording(db: Session, call_id: str, *, actor: str, role: str, now: datetime,
                   root: str | Path | None = None) -> bytes:
    """The call's audio as WAV bytes, for the auditor's player (audited)."""
    _gate(db, actor=actor, role=role, now=now, action="recording_played",
          subject=f"call:{call_id}")
    data = wav_bytes(root_dir(root) / _stored(db, call_id).path)
    audit.record(db, at=now, actor=actor, action="recording_played", subject=f"call:{call_id}")
    return data


def export_recording(db: Session, call_id: str, dest: Path, *, actor: str, role: str,
                     now: datetime, root: str | Path | None = None) -> Path:
    """Write the call's audio as a plain WAV at ``dest`` (audited)."""
    _gate(db, actor=actor, role=role, now=now, action="recording_exported",
          subject=f"call:{call_id}")
    data = wav_bytes(root_dir(root) / _stored(db, call_id).path)
    dest.write_bytes(data)
    audit.record(db, at=now, actor=actor, action="recording_exported", subject=f"call:{call_id}",
                 detail={"bytes": len(data)})
    return dest


def caller_copy(db: Session, call_id: str, dest_dir: Path, *, actor: str, role: str,
                now: datetime, root: str | Path | None = None) -> list[Path]:
    """A caller's copy of their call (record + audio if any) into ``dest_dir``; refused after
    30 days (SPEC §7). Audited as ``caller_copy_exported``."""
    _gate(db, actor=actor, role=role, now=now, action="caller_copy_exported",
          subject=f"call:{call_id}")
    call = db.scalars(select(Call).where(Call.call_id == call_id)).first()
    if call is None:
        raise LookupError(f"no call {call_id}")
    started = aware(call.started_at)
    if utc(now) - started > COPY_WINDOW:  # type: ignore[operator]
        raise AccessDenied(f"call {call_id} is older than 30 days: a copy is no longer due")
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    record: dict[str, Any] = {
        "call_id": call.call_id, "caller_number": call.caller_number, "did": call.did,
        "started_at": started.isoformat(),  # type: ignore[union-attr]
        "ended_at": aware(call.ended_at).isoformat() if call.ended_at else None,  # type: ignore[union-attr]
        "agent_id": call.agent_id, "menu_path": call.menu_path, "outcome": call.outcome,
        "identification": call.identification, "consent": call.consent}
    out = [dest_dir / f"{_safe(call_id)}.json"]
    out[0].write_text(json.dumps(record, ensure_ascii=False, indent=1))
    rec = db.scalars(select(Recording).where(Recording.call_id == call_id,
                                             Recording.state == "stored")).first()
    if rec is not None:
        out.append(dest_dir / f"{_safe(call_id)}.wav")
        out[1].write_bytes(wav_bytes(root_dir(root) / rec.path))
    audit.record(db, at=now, actor=actor, action="caller_copy_exported",
                 subject=f"call:{call_id}", detail={"files": len(out)})
    return out


def _safe(call_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)


def audit_entries(db: Session, *, limit: int = 100, before_seq: int | None = None,
                  subject: str | None = None) -> list[AuditEntry]:
    """Newest audit rows (for the auditor's page; reading the log is not itself personal)."""
    q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        q = q.where(AuditEntry.seq < before_seq)
    if subject:
        q = q.where(AuditEntry.subject == subject)
    return list(db.scalars(q))
