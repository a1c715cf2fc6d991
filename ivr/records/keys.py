"""Key rotation: a new data key becomes current, then every encrypted value is re-encrypted
under it in batches — one short transaction per batch, so the hotline keeps serving, a kill or
Ctrl-C loses nothing (old keys stay in the keyring until :func:`retire`), and running again
(``hotline keys rotate --resume``) picks up where it stopped: a value already under the current
key is never touched twice. A value changed by a call while its batch ran is left alone (the
UPDATE matches the old ciphertext) and caught by the next pass.
"""
from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, Integer, Text, column, select, table, update

from ivr.store.crypto import (
    SEP,
    Encrypted,
    Keyring,
    decrypt,
    encrypt,
    key_id_of,
    keyring,
    save_keyring,
)


def encrypted_columns() -> list[tuple[str, str, str]]:
    """(table, column, crypto context) of every :class:`Encrypted` column in the schema."""
    from ivr.store.schema import metadata

    return sorted((t.name, c.name, c.type.context) for t in metadata.tables.values()
                  for c in t.columns if isinstance(c.type, Encrypted))


def _raw(name: str, col: str):
    return table(name, column("id", Integer), column(col, Text))


def add_key(ring: Keyring | None = None) -> str:
    """A fresh data key, made current and saved (0600); returns its id."""
    ring = ring or keyring(reload=True)
    n = max(int(k[1:]) for k in ring.data if k[1:].isdigit()) + 1 if ring.data else 1
    new = f"k{n}"
    ring.data[new] = secrets.token_bytes(32)
    ring.current = new
    save_keyring(ring)
    return new


@dataclass
class Rotation:
    key: str
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    by_column: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def reencrypt(engine: Engine, *, batch: int = 500, pause: float = 0.0,
              on_batch: Callable[[Rotation], None] | None = None) -> Rotation:
    """Re-encrypt every value not under the current key, ``batch`` rows per transaction."""
    ring = keyring(reload=True)
    report = Rotation(ring.current)
    prefix = ring.current + SEP
    start = time.perf_counter()
    for name, col, ctx in encrypted_columns():
        t = _raw(name, col)
        last = 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(select(t.c.id, t.c[col]).where(
                    t.c.id > last, t.c[col].is_not(None), ~t.c[col].startswith(prefix))
                    .order_by(t.c.id).limit(batch)).all()
                if not rows:
                    break
                for rid, token in rows:
                    fresh = encrypt(decrypt(token, ctx), ctx, ring)
                    conn.execute(update(t).where(t.c.id == rid, t.c[col] == token)
                                 .values({col: fresh}))
                last = rows[-1][0]
            report.rows += len(rows)
            report.batches += 1
            report.by_column[f"{name}.{col}"] += len(rows)
            report.seconds = time.perf_counter() - start
            if on_batch:
                on_batch(report)
            if pause:
                time.sleep(pause)
    report.seconds = time.perf_counter() - start
    return report


def usage(engine: Engine, recordings_root: Path | None = None) -> dict[str, Counter]:
    """Key id -> how many values (per column, and recording files) it still encrypts."""
    out: dict[str, Counter] = {}
    with engine.connect() as conn:
        for name, col, _ctx in encrypted_columns():
            t = _raw(name, col)
            for (token,) in conn.execute(select(t.c[col]).where(t.c[col].is_not(None))):
                out.setdefault(key_id_of(token) or "?", Counter())[f"{name}.{col}"] += 1
    if recordings_root and recordings_root.exists():
        import json

        for f in recordings_root.rglob("*.wav.enc"):
            with f.open("rb") as fh:
                key = json.loads(fh.readline()[len(b"HLREC1"):]).get("key", "?")
            out.setdefault(key, Counter())["recordings"] += 1
    return out


def retire(engine: Engine, recordings_root: Path | None = None) -> list[str]:
    """Drop keys that encrypt nothing any more (never the current one); returns their ids."""
    ring = keyring(reload=True)
    used = usage(engine, recordings_root)
    gone = [k for k in ring.data if k != ring.current and not used.get(k)]
    for k in gone:
        del ring.data[k]
    if gone:
        save_keyring(ring)
    return gone
