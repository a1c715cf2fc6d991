"""In-run random draws with one stream per skill *and kind*, so they can be drawn ahead.

:class:`queue_engine.variates.SkillDraws` takes uniforms, exponentials and normals from
one stream per skill in blocks, so which number a draw gets depends on when each kind's
block ran out.  The compiled engine (:mod:`queue_engine.core_numba`) needs every number
before it starts; with a child stream per (skill, kind) the n-th uniform of a skill is
the n-th number of its stream however the run went, so a table drawn up front and the
Python engines' lazy blocks give every attempt the same numbers (tests compare the two
engines call by call).
"""

from __future__ import annotations

import math

import numpy as np

from queue_engine.model import Model
from queue_engine.variates import SkillDraws

__all__ = ["KindDraws", "draw_table"]

_BLOCK = 1024
KINDS = 3  # uniform, standard exponential, standard normal


def kind_streams(streams: list[np.random.Generator]) -> list[list[np.random.Generator]]:
    """Per skill, its three child streams (spawning consumes nothing of the parent)."""
    return [s.spawn(KINDS) for s in streams]


class KindDraws(SkillDraws):
    """:class:`SkillDraws` with a stream per kind; the same interface (``u``, ``ubuf``,
    ``patience``, ``service``).  Blocks are stored reversed so ``pop()`` yields stream
    order, which the compiled engine reads from a table front to back."""

    def __init__(self, model: Model, streams: list[np.random.Generator]) -> None:
        super().__init__(model, streams)
        self.kinds = kind_streams(streams)

    def u(self, g: int) -> float:
        b = self.ubuf[g]
        if not b:
            b.extend(self.kinds[g][0].random(_BLOCK)[::-1].tolist())
        return b.pop()

    def _dur(self, g: int, table: tuple[list[int], list[float], list[float]]) -> float:
        kind = table[0][g]
        if kind == 2:
            return float("inf")
        if kind == 0:
            b = self._e[g]
            if not b:
                b.extend(self.kinds[g][1].standard_exponential(_BLOCK)[::-1].tolist())
            return table[1][g] * b.pop()
        b = self._z[g]
        if not b:
            b.extend(self.kinds[g][2].standard_normal(_BLOCK)[::-1].tolist())
        return math.exp(table[1][g] + table[2][g] * b.pop())


def draw_table(kinds: list[list[np.random.Generator]], k: int, old: np.ndarray | None,
               n: int) -> np.ndarray:
    """[G, n] numbers of kind ``k`` per skill in stream order, extending ``old`` (whose
    rows are each stream's first numbers) by drawing on from the same streams."""
    G = len(kinds)
    have = 0 if old is None else old.shape[1]
    out = np.empty((G, n))
    for g in range(G):
        if have:
            out[g, :have] = old[g]
        s = kinds[g][k]
        m = n - have
        out[g, have:] = (s.random(m) if k == 0 else s.standard_exponential(m) if k == 1
                         else s.standard_normal(m))
    return out
