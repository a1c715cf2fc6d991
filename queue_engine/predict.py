"""Expected wait (EWT) of a caller, from the live state of a skill group.

Predictors, all answering "how long until an agent picks up a caller with ``n``
callers ahead":

* :func:`ql_m` — Ibrahim & Whitt (2009) queue-length predictor with abandonment:
  E[W | n ahead] = Σ_{j=0..n} 1/(sμ + jθ); the callers ahead leave by service (sμ
  while all s agents are busy) or by abandoning (θ each).
* :func:`ql_schedule` — the same pure-death process but with the *known* roster:
  s changes at hour boundaries within the horizon (shift ends, lunch, closing), so
  the expected wait is integrated segment by segment.  This is what the IVR should
  announce; QL_m is its special case with a flat roster.
* :func:`asterisk_estimate`, head-of-line delay — the baselines the bench compares.

Times in seconds; ``agents`` may be fractional (a multi-skill team's share).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import expm_multiply

__all__ = ["asterisk_estimate", "asterisk_update", "ql_m", "ql_schedule"]


def ql_m(ahead: int, agents: float, aht: float, patience: float) -> float:
    """Ibrahim–Whitt QL_m: Σ_{j=0..n} 1/(sμ + jθ) (no abandonment: (n+1)/(sμ))."""
    mu = 1.0 / aht
    theta = 1.0 / patience if math.isfinite(patience) and patience > 0 else 0.0
    rate = agents * mu
    if rate <= 0 and theta <= 0:
        return math.inf
    j = np.arange(ahead + 1)
    with np.errstate(divide="ignore"):
        return float(np.sum(1.0 / (rate + j * theta)))


def ql_schedule(
    ahead: int, now: float, agents_by_hour: Sequence[float], aht: float, patience: float,
    agents_now: float | None = None, horizon: float = 6 * 3600.0, hour_of: float = 0.0,
    drain: bool = True,
) -> float:
    """Expected wait with the roster changing at hour boundaries.

    ``agents_by_hour[h]`` is the roster for hour ``h`` counted from time ``hour_of``
    (e.g. Monday 00:00 of the week, wrapping around); ``agents_now`` (live count)
    overrides the roster until the next boundary.  With ``drain`` a roster falling to
    zero (closing) keeps the last agents until the callers already queued are answered —
    the centre's closing rule, which the simulator follows too.  Rates are piecewise constant, so
    the survival of the "not yet answered" state is propagated with one sparse
    matrix exponential per hour segment.
    """
    mu = 1.0 / aht
    theta = 1.0 / patience if math.isfinite(patience) and patience > 0 else 0.0
    H = len(agents_by_hour)
    h0 = int((now - hour_of) // 3600)
    s0 = agents_now if agents_now is not None else agents_by_hour[h0 % H]
    flat = ql_m(ahead, s0, aht, patience)
    if now + 3.0 * flat < hour_of + (h0 + 1) * 3600.0 or all(
        agents_by_hour[(h0 + i) % H] == s0 for i in range(1, int(horizon // 3600) + 2)
    ):
        return flat  # the roster does not change while this caller is likely to wait
    size = ahead + 1  # states k = callers still ahead (ahead..0); leaving 0 = answered
    p = np.zeros(size)
    p[ahead] = 1.0
    k = np.arange(size)
    t = now
    total = 0.0
    first = True
    last_s = 0.0
    while t - now < horizon:
        h = int((t - hour_of) // 3600)
        seg_end = hour_of + (h + 1) * 3600.0
        s = agents_by_hour[h % H] if not (first and agents_now is not None) else agents_now
        first = False
        if drain and s <= 0 < last_s:
            s = last_s  # closing time: the agents on duty answer the callers already queued
        last_s = s
        rates = s * mu + k * theta
        if seg_end - t <= 0:
            seg_end = t + 3600.0
        dt = min(seg_end, now + horizon) - t
        if rates.max() <= 0:
            total += dt * p.sum()
            t += dt
            continue
        # Augmented generator: the extra last state accumulates ∫ P(not answered) dt exactly.
        q = sparse.diags([-rates, rates[1:]], [0, 1], shape=(size, size), format="csr")
        m = sparse.bmat([[q, None], [sparse.csr_matrix(np.ones((1, size))), None]],
                        format="csr")
        m.resize((size + 1, size + 1))
        end = expm_multiply(m * dt, np.concatenate([p, [0.0]]))
        total += float(end[-1])
        p = np.clip(end[:-1], 0.0, None)
        t += dt
        if p.sum() < 1e-6:
            break
    left = p.sum()
    if left > 1e-6:  # beyond the horizon: finish with the last rates (flat QL_m tail)
        s = agents_by_hour[int((t - hour_of) // 3600) % H]
        if drain and s <= 0:
            s = last_s
        rate = s * mu
        if rate <= 0 and theta <= 0:
            return math.inf
        tail = np.cumsum(1.0 / (rate + k * theta))  # E[time to clear from state k]
        total += float(np.sum(p * tail))
    return total


def asterisk_update(holdtime: float, answered_wait: float) -> float:
    """Asterisk app_queue: holdtime ← (3·holdtime + wait) / 4 after every answered call."""
    return (3.0 * holdtime + answered_wait) / 4.0


def asterisk_estimate(holdtime: float, waited: float = 0.0) -> float:
    """What app_queue announces: the smoothed holdtime minus what the caller has waited."""
    return max(0.0, holdtime - waited)
