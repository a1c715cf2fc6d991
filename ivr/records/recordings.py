"""Call audio: written only with the caller's consent, encrypted at rest, read only by auditors.

Layout: ``<root>/calls/YYYY/MM/DD/<call_id>.wav.enc`` (root ``recordings/`` by default, the
directories made 0700, files 0600). The file is a WAV's PCM in AES-256-GCM chunks under the
keyring's current data key (:mod:`ivr.store.crypto`): a header line (format, key id, rate,
channels), then ``len | nonce | ciphertext`` records, each authenticated with the call id, its
index and whether it is the last — a reordered, truncated or swapped file fails to open. A
chunk is written every ``CHUNK`` bytes, so a crash loses at most that much and the rest still
decrypts (``partial=True``). :func:`wav_bytes` gives the plain WAV back (for play/export).

Drivers: the embedded SIP endpoint opens a :class:`RecordingWriter` when the call is answered
and the caller has not refused (``CallSession.recording_allowed``), feeds interleaved 16-bit
frames (:func:`interleave` for the two directions) and closes it at hang-up; a refusal heard
later (the machine's ``SetVar("HOTLINE_RECORDING", "0")``) calls
:meth:`RecordingWriter.discard` (file and row removed, audited). Asterisk mode:
:func:`mixmonitor_action` is the AMI action the bridge sends (:func:`stop_mixmonitor_action` on
a refusal); :func:`adopt_file` then encrypts Asterisk's plain WAV into this store and removes
the plain copy.
"""
from __future__ import annotations

import io
import json
import os
import secrets
import struct
import wave
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import Float, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.store import audit
from ivr.store.base import Base
from ivr.store.crypto import keyring
from ivr.store.timestamps import UtcDateTime, utc

MAGIC = b"HLREC1"
CHUNK = 64 * 1024
DEFAULT_ROOT = Path("recordings")


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    path: Mapped[str] = mapped_column(String(255))  # relative to the recordings root
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    seconds: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="recording", index=True)
    # recording / stored / deleted
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RecordingRefused(RuntimeError):
    """The caller refused recording: nothing may be written."""


def root_dir(root: str | Path | None = None) -> Path:
    return Path(root or os.environ.get("HOTLINE_RECORDINGS_DIR", DEFAULT_ROOT))


def relative_path(call_id: str, started_at: datetime) -> str:
    day = utc(started_at)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)
    return f"calls/{day:%Y/%m/%d}/{safe}.wav.enc"


def _private_dirs(path: Path, root: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for p in [path, *path.parents]:
        if p == root.parent or not str(p).startswith(str(root)):
            break
        os.chmod(p, 0o700)


def _aad(call_id: str, index: int, last: bool) -> bytes:
    return f"recording:{call_id}:{index}:{int(last)}".encode()


class RecordingWriter:
    """Streams one call's audio to an encrypted file; ``close`` marks the row ``stored``."""

    def __init__(self, call_id: str, path: Path, rate: int, channels: int) -> None:
        self.call_id, self.path, self.rate, self.channels = call_id, path, rate, channels
        ring = keyring()
        self._key_id, self._aead = ring.current, ring.aead(ring.current)
        self._buf = bytearray()
        self._index = 0
        self._bytes = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._fh = os.fdopen(fd, "wb")
        header = {"key": self._key_id, "rate": rate, "channels": channels, "call_id": call_id}
        self._fh.write(MAGIC + b" " + json.dumps(header).encode() + b"\n")

    def write(self, pcm: bytes) -> None:
        """Interleaved signed 16-bit little-endian frames."""
        self._buf += pcm
        self._bytes += len(pcm)
        while len(self._buf) >= CHUNK:
            self._emit(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]

    def _emit(self, data: bytes, last: bool) -> None:
        nonce = secrets.token_bytes(12)
        ct = self._aead.encrypt(nonce, data, _aad(self.call_id, self._index, last))
        self._fh.write(struct.pack(">I", len(ct)) + nonce + ct)
        self._fh.flush()
        self._index += 1

    @property
    def seconds(self) -> float:
        return self._bytes / (2 * self.channels * self.rate)

    def close(self, db: Session, now: datetime) -> Recording:
        """Seal the file (final chunk) and mark the row stored, in ``db``'s transaction."""
        if not self._fh.closed:
            self._emit(bytes(self._buf), last=True)
            self._buf.clear()
            os.fsync(self._fh.fileno())
            self._fh.close()
        row = db.scalars(select(Recording).where(Recording.call_id == self.call_id)).one()
        row.ended_at, row.seconds, row.state = utc(now), self.seconds, "stored"
        db.flush()
        return row

    def discard(self, db: Session, now: datetime) -> None:
        """The caller refused after all: remove the file and its row (audited)."""
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)
        row = db.scalars(select(Recording).where(Recording.call_id == self.call_id)).first()
        if row is not None:
            db.delete(row)
            db.flush()
        audit.record(db, at=now, actor=f"ivr:{self.call_id}", action="recording_discarded",
                     subject=f"call:{self.call_id}", detail={"reason": "consent refused"})


def open_writer(db: Session, *, call_id: str, started_at: datetime, allowed: bool = True,
                root: str | Path | None = None, rate: int = 8000,
                channels: int = 2) -> RecordingWriter:
    """Start recording ``call_id`` (row ``recording`` + file). ``allowed`` False — the caller
    refused — raises :class:`RecordingRefused`: a refusing caller is never recorded."""
    if not allowed:
        raise RecordingRefused(call_id)
    base = root_dir(root)
    rel = relative_path(call_id, started_at)
    path = base / rel
    _private_dirs(path.parent, base)
    db.add(Recording(call_id=call_id, path=rel, started_at=utc(started_at), state="recording"))
    db.flush()
    return RecordingWriter(call_id, path, rate, channels)


def interleave(caller: bytes, agent: bytes) -> bytes:
    """Two mono 16-bit streams (equal length) as one stereo stream: caller left, IVR right."""
    import numpy as np

    a = np.frombuffer(caller, dtype="<i2")
    b = np.frombuffer(agent, dtype="<i2")
    n = min(len(a), len(b))
    out = np.empty(2 * n, dtype="<i2")
    out[0::2], out[1::2] = a[:n], b[:n]
    return out.tobytes()


def read_pcm(path: Path, *, partial: bool = False) -> tuple[dict[str, Any], bytes]:
    """Header and PCM of an encrypted recording; a file without its final chunk is refused
    unless ``partial`` (a crash mid-call)."""
    raw = path.read_bytes()
    first, _, rest = raw.partition(b"\n")
    if not first.startswith(MAGIC):
        raise ValueError(f"{path}: not a hotline recording")
    header = json.loads(first[len(MAGIC):])
    aead = keyring().aead(header["key"]) if header["key"] in keyring().data \
        else keyring(reload=True).aead(header["key"])
    out, pos, index, ended = bytearray(), 0, 0, False
    while pos < len(rest):
        (n,) = struct.unpack(">I", rest[pos:pos + 4])
        nonce, ct = rest[pos + 4:pos + 16], rest[pos + 16:pos + 16 + n]
        pos += 16 + n
        last = pos >= len(rest)
        try:
            out += aead.decrypt(nonce, ct, _aad(header["call_id"], index, last))
            ended = last
        except InvalidTag:
            if last and partial:  # a chunk that is not the final one ends the file: crash
                out += aead.decrypt(nonce, ct, _aad(header["call_id"], index, False))
                break
            raise ValueError(f"{path}: chunk {index} does not authenticate") from None
        index += 1
    if not ended and not partial:
        raise ValueError(f"{path}: recording is incomplete (the call is live or crashed)")
    return header, bytes(out)


def wav_bytes(path: Path, *, partial: bool = False) -> bytes:
    header, pcm = read_pcm(path, partial=partial)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(header["channels"])
        w.setsampwidth(2)
        w.setframerate(header["rate"])
        w.writeframes(pcm)
    return buf.getvalue()


# ---- Asterisk mode ----------------------------------------------------------------------------
def mixmonitor_action(call_id: str, channel: str, started_at: datetime, *,
                      spool: str = "/var/spool/asterisk/monitor/hotline") -> dict[str, str]:
    """The AMI ``MixMonitor`` action recording both directions of ``channel`` as a plain WAV
    in Asterisk's 0700 spool; the bridge sends it only when ``recording_allowed``.
    :func:`adopt_file` moves the finished file into the encrypted store."""
    name = relative_path(call_id, started_at).rsplit("/", 1)[1].removesuffix(".enc")
    # no options: the whole call (IVR and agent legs), both directions mixed by Asterisk
    return {"Action": "MixMonitor", "Channel": channel, "File": f"{spool}/{name}"}


def stop_mixmonitor_action(channel: str) -> dict[str, str]:
    """The caller refused after recording began: stop it (then delete the spool file)."""
    return {"Action": "StopMixMonitor", "Channel": channel}


def adopt_file(db: Session, *, call_id: str, wav_path: Path, started_at: datetime,
               now: datetime, root: str | Path | None = None) -> Recording:
    """Encrypt a plain WAV written by Asterisk into the store (audited ``recording_stored``);
    the plain file is removed."""
    with wave.open(str(wav_path), "rb") as w:
        rate, channels, pcm = w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())
    writer = open_writer(db, call_id=call_id, started_at=started_at, root=root, rate=rate,
                         channels=channels)
    writer.write(pcm)
    row = writer.close(db, now)
    audit.record(db, at=now, actor="asterisk", action="recording_stored",
                 subject=f"call:{call_id}", detail={"seconds": round(row.seconds or 0, 2),
                                                    "driver": "asterisk"})
    wav_path.unlink()
    return row


# ---- the driver's side in three calls ---------------------------------------------------------
class CallRecorder:
    """What an embedded driver (the SIP endpoint) needs, consent included::

        rec = CallRecorder(factory, session, now)    # after session.start(): notice played
        rec.audio(caller_pcm, ivr_pcm)               # each 20 ms: both directions, mono 16-bit
        rec.commands(cmds, now)                      # every batch of commands the call returns
        rec.close(now)                               # at hang-up (stored, or nothing)

    Nothing is written while the caller may not be recorded; a refusal (the machine's
    ``SetVar("HOTLINE_RECORDING", "0")``) discards what was written so far.
    """

    def __init__(self, factory: Any, session: Any, now: datetime, *,
                 root: str | Path | None = None) -> None:
        self.factory, self.session = factory, session
        self.writer: RecordingWriter | None = None
        if session.recording_allowed:
            with factory.begin() as db:
                self.writer = open_writer(db, call_id=session.call_id, started_at=now,
                                          root=root)

    def audio(self, caller: bytes, ivr: bytes) -> None:
        if self.writer is not None:
            self.writer.write(interleave(caller, ivr))

    def commands(self, cmds: list[Any], now: datetime) -> None:
        refused = any(getattr(c, "name", None) == "HOTLINE_RECORDING"
                      and getattr(c, "value", None) == "0" for c in cmds)
        if refused and self.writer is not None:
            with self.factory.begin() as db:
                self.writer.discard(db, now)
            self.writer = None

    def close(self, now: datetime) -> None:
        if self.writer is not None:
            with self.factory.begin() as db:
                self.writer.close(db, now)
            self.writer = None
