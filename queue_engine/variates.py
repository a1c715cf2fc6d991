"""Random inputs of a replication, drawn up front with numpy: arrivals and durations.

Why up front: one vectorised draw per kind is far cheaper than a generator call per
event, and it keeps replications reproducible from one seed whatever the loop does.
"""

from __future__ import annotations

import math

import numpy as np

from queue_engine.model import Model

__all__ = ["SkillDraws", "arrivals", "dist_table", "durations", "lognormal_params"]

_INF = math.inf


def lognormal_params(mean: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s2 = np.log1p(cv * cv)
    return np.log(mean) - s2 / 2, np.sqrt(s2)


def durations(rng: np.random.Generator, mean: np.ndarray, cv: np.ndarray,
               idx: np.ndarray) -> np.ndarray:
    """Exponential where cv == 1 (Markovian models), lognormal otherwise; inf mean = never."""
    m, c = mean[idx], cv[idx]
    out = rng.standard_exponential(idx.size) * m
    ln = c != 1.0
    if ln.any():
        mu, sig = lognormal_params(np.where(np.isfinite(m[ln]), m[ln], 1.0), c[ln])
        out[ln] = np.exp(mu + sig * rng.standard_normal(int(ln.sum())))
    out[~np.isfinite(m)] = _INF
    return out


def dist_table(mean: np.ndarray, cv: np.ndarray) -> tuple[list[int], list[float], list[float]]:
    """Per skill: kind (0 exponential, 1 lognormal, 2 never) and its two parameters."""
    kind, a, b = [], [], []
    for m, c in zip(mean.tolist(), cv.tolist()):
        if not math.isfinite(m):
            kind.append(2), a.append(0.0), b.append(0.0)
        elif c == 1.0:
            kind.append(0), a.append(m), b.append(0.0)
        else:
            mu, sig = lognormal_params(np.array(m), np.array(c))
            kind.append(1), a.append(float(mu)), b.append(float(sig))
    return kind, a, b


def arrivals(model: Model, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    lam = model.lam
    cv = model.arr_cv
    if cv is not None and cv.any():  # over-dispersed: a gamma factor (mean 1) per skill and day
        days = -(-lam.shape[1] // 24)
        k = np.where(cv > 0, 1.0 / np.maximum(cv, 1e-9) ** 2, 1.0)
        f = np.where(cv[:, None] > 0, rng.gamma(k[:, None], 1.0 / k[:, None],
                                                 (cv.size, days)), 1.0)
        lam = lam * np.repeat(f, 24, axis=1)[:, : lam.shape[1]]
    counts = rng.poisson(lam * 3600.0)  # [G, H]
    g_idx, h_idx = np.nonzero(counts)
    reps = counts[g_idx, h_idx]
    skill = np.repeat(g_idx, reps)
    t = (np.repeat(h_idx, reps) + rng.random(skill.size)) * 3600.0
    order = np.argsort(t)  # times are distinct (continuous), so no need for a stable sort
    return t[order], skill[order]


_BLOCK = 1024


class SkillDraws:
    """What an engine draws as it goes (retrial decisions and delays, callback offers,
    the patience and handle time of new attempts), one random stream per skill.

    Why per skill: every engine handles a skill's attempts in time order, so any two
    engines — the event loop, a fast path, the event loop on part of the centre — take
    the same numbers for the same attempts and can be compared call by call; and one
    skill's routing never shifts the randomness of another.
    """

    def __init__(self, model: Model, streams: list[np.random.Generator]) -> None:
        self.streams = streams
        n = len(streams)
        # Uniform buffers, public so hot loops can pop inline: ``b.pop() if b else u(g)``
        # takes the same numbers as ``u(g)``.
        self.ubuf: list[list[float]] = [[] for _ in range(n)]
        self._e: list[list[float]] = [[] for _ in range(n)]
        self._z: list[list[float]] = [[] for _ in range(n)]
        self._pat = dist_table(model.pat_mean, model.pat_cv)
        self._svc = dist_table(model.aht_mean, model.aht_cv)

    def u(self, g: int) -> float:
        b = self.ubuf[g]
        if not b:
            b.extend(self.streams[g].random(_BLOCK).tolist())
        return b.pop()

    def _dur(self, g: int, table: tuple[list[int], list[float], list[float]]) -> float:
        kind = table[0][g]
        if kind == 2:
            return _INF
        if kind == 0:
            b = self._e[g]
            if not b:
                b.extend(self.streams[g].standard_exponential(_BLOCK).tolist())
            return table[1][g] * b.pop()
        b = self._z[g]
        if not b:
            b.extend(self.streams[g].standard_normal(_BLOCK).tolist())
        return math.exp(table[1][g] + table[2][g] * b.pop())

    def patience(self, g: int) -> float:
        return self._dur(g, self._pat)

    def service(self, g: int) -> float:
        return self._dur(g, self._svc)
