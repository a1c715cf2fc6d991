"""Erlang B, C and A: the analytic yardsticks the simulator is checked against.

Why numeric birth–death instead of the textbook closed forms: the closed forms
(Palm / Garnett–Mandelbaum–Reiman with incomplete gamma functions) overflow or
cancel for thousands of agents, while the stationary distribution of the
M/M/n+M birth–death chain, kept in log space and normalised with
``logsumexp``, is exact and stable up to any realistic size.  The closed form
for Erlang A is kept (:func:`erlang_a_p_wait_closed`) as an independent
cross-check in the tests.

Units: rates per second, times in seconds.  ``theta`` is the abandonment rate
(1 / mean patience); ``theta == 0`` is Erlang C.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import betainc, gammainc, gammaln, logsumexp, pdtr, xlogy

__all__ = [
    "OverloadError",
    "QueueMetrics",
    "erlang_a",
    "erlang_a_p_wait_closed",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "metrics",
]


class OverloadError(ValueError):
    """Offered load ≥ agents with no abandonment: no steady state exists."""


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """Steady-state figures of one queue; times in seconds."""

    agents: int
    offered_load: float  # Erlangs, λ/μ
    p_wait: float  # P(all agents busy on arrival)
    p_abandon: float
    mean_wait: float  # over all callers, abandoned included
    asa: float  # mean wait of answered callers
    mean_queue: float
    service_level: float  # answered within t / answered
    service_level2: float  # (answered + abandoned within t) / offered
    occupancy: float
    threshold: float  # the t of the service levels

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of M/M/n/n with offered load ``a`` (log-space, stable)."""
    if n < 0 or a < 0:
        raise ValueError("n and a must be non-negative")
    if a == 0:
        return 0.0 if n > 0 else 1.0
    # log pmf − log cdf of Poisson(a) at n, as scipy.stats.poisson computes them, without
    # importing scipy.stats (~0.5 s at every start of `hotline staff`)
    with np.errstate(divide="ignore"):
        return float(np.exp(xlogy(n, a) - gammaln(n + 1) - a - np.log(pdtr(n, a))))


def erlang_c(n: int, a: float) -> float:
    """P(wait) in M/M/n; raises :class:`OverloadError` when ``a >= n``."""
    if a >= n:
        raise OverloadError(f"offered load {a:.3f} Erl ≥ {n} agents without abandonment")
    b = erlang_b(n, a)
    rho = a / n
    return b / (1.0 - rho * (1.0 - b))


def erlang_c_metrics(n: int, lam: float, mu: float, t: float = 20.0) -> QueueMetrics:
    """Erlang C figures (infinite patience)."""
    a = lam / mu
    c = erlang_c(n, a)
    drain = n * mu - lam
    mean_wait = c / drain
    sl = 1.0 - c * math.exp(-drain * t)
    return QueueMetrics(
        agents=n, offered_load=a, p_wait=c, p_abandon=0.0, mean_wait=mean_wait,
        asa=mean_wait, mean_queue=lam * mean_wait, service_level=sl, service_level2=sl,
        occupancy=a / n, threshold=t,
    )


def _queue_log_weights(n: int, lam: float, mu: float, theta: float) -> tuple[np.ndarray, int]:
    """Unnormalised log π_j for j = 0..n+K of M/M/n+M, K chosen so the tail is < e^-40."""
    a = lam / mu
    j = np.arange(n + 1)
    log_busy = j * math.log(a) - gammaln(j + 1) if a > 0 else np.where(j == 0, 0.0, -np.inf)
    # Queue part: ratio λ/(nμ + kθ) falls below 1 after k* = (λ - nμ)/θ; go well past it.
    k_star = max(0.0, (lam - n * mu) / theta)
    spread = math.sqrt(lam / theta) + 1.0
    k_max = int(k_star + 12 * spread + 60)
    while True:
        k = np.arange(1, k_max + 1)
        steps = np.log(lam) - np.log(n * mu + k * theta)
        log_q = log_busy[-1] + np.cumsum(steps)
        if log_q.size == 0 or log_q[-1] < max(log_q.max(), log_busy.max()) - 40:
            break
        k_max *= 2
    return np.concatenate([log_busy, log_q]), k_max


def erlang_a(n: int, lam: float, mu: float, theta: float, t: float = 20.0) -> QueueMetrics:
    """Erlang A (M/M/n+M, Palm's model) figures, including both service levels at ``t``.

    The waiting-time distribution comes from the tagged caller's view: with ``k``
    callers ahead it moves to ``k-1`` at rate nμ + kθ, is answered from 0 at rate nμ
    and abandons at rate θ; starting from the PASTA distribution, one sparse
    matrix-exponential action gives P(answered by t) and P(abandoned by t).
    """
    if theta <= 0:
        return erlang_c_metrics(n, lam, mu, t)
    if n < 1:
        raise ValueError("need at least one agent")
    if lam <= 0:
        return QueueMetrics(n, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, t)
    logw, _ = _queue_log_weights(n, lam, mu, theta)
    pi = np.exp(logw - logsumexp(logw))
    pi_q = pi[n:]  # k = 0..K callers waiting on arrival (all agents busy)
    k = np.arange(pi_q.size)
    p_wait = float(pi_q.sum())
    mean_queue = float((k * pi_q).sum())
    mean_wait = mean_queue / lam
    p_ab = theta * mean_queue / lam
    # ASA: sojourn at stage i is Exp(r_i) whatever the exit; answered only if never abandoning.
    r = n * mu + k * theta + theta
    p_served_k = np.cumprod((n * mu + k * theta) / r)
    wait_served_k = np.cumsum(1.0 / r)
    answered = 1.0 - p_ab
    asa = float((pi_q * p_served_k * wait_served_k).sum()) / answered if answered > 0 else math.inf
    served_by_t, ab_by_t = _absorbed_by(pi_q, n * mu, theta, t)
    p_no_wait = 1.0 - p_wait
    sl = (p_no_wait + served_by_t) / answered if answered > 0 else 0.0
    sl2 = p_no_wait + served_by_t + ab_by_t
    busy = (lam / mu) * (1 - p_ab)
    return QueueMetrics(
        agents=n, offered_load=lam / mu, p_wait=p_wait, p_abandon=p_ab, mean_wait=mean_wait,
        asa=asa, mean_queue=mean_queue, service_level=min(1.0, max(0.0, sl)), service_level2=min(1.0, max(0.0, sl2)),
        occupancy=busy / n, threshold=t,
    )


def _absorbed_by(p0: np.ndarray, n_mu: float, theta: float, t: float) -> tuple[float, float]:
    """Mass absorbed in (answered, abandoned) by ``t`` from queue-position mass ``p0``.

    Rényi's representation: with x = nμ/θ, the wait to reach an agent from k ahead,
    Σ_{i=0..k} Exp(θ(x+i)), is the (k+1)-th order statistic of x+k exponentials, so
    P(V ≤ t) = I_p(k+1, x) with p = 1 − e^{−θt} (regularised incomplete beta).  With
    the caller's own patience the rates become θ(x+1+i) and the chance of never
    abandoning is x/(x+k+1).  Closed form, vectorised, no matrix exponential.
    """
    k = np.arange(p0.size)
    x = n_mu / theta
    p = -math.expm1(-theta * t)
    served = x / (x + k + 1) * betainc(k + 1, x + 1, p)
    still = (1.0 - betainc(k + 1, x, p)) * math.exp(-theta * t)
    ab = 1.0 - still - served
    return float((p0 * served).sum()), float((p0 * ab).sum())


def _absorbed_by_expm(p0: np.ndarray, n_mu: float, theta: float,
                      t: float) -> tuple[float, float]:
    """Same as :func:`_absorbed_by` by a sparse matrix exponential (kept as a cross-check)."""
    from scipy import sparse
    from scipy.sparse.linalg import expm_multiply

    size = p0.size
    k = np.arange(size)
    down = n_mu + k[1:] * theta
    # States: 0..size-1 positions, size = answered, size+1 = abandoned. Generator Q (row form);
    # we propagate row vectors, so act with Q^T.
    rows = np.concatenate([k[1:], [0], k])
    cols = np.concatenate([k[:-1], [size], np.full(size, size + 1)])
    vals = np.concatenate([down, [n_mu], np.full(size, theta)])
    out = n_mu + k * theta + theta
    rows = np.concatenate([rows, k])
    cols = np.concatenate([cols, k])
    vals = np.concatenate([vals, -out])
    q = sparse.csr_matrix((vals, (rows, cols)), shape=(size + 2, size + 2))
    start = np.concatenate([p0, [0.0, 0.0]])
    end = expm_multiply(q.T * t, start)
    return float(end[size]), float(end[size + 1])


def erlang_a_p_wait_closed(n: int, lam: float, mu: float, theta: float) -> float:
    """Garnett–Mandelbaum–Reiman closed form of P(wait); moderate sizes only (cross-check).

    P(W>0) = A·E / (1 + (A−1)·E), E = Erlang B(n, λ/μ), A = A(nμ/θ, λ/θ) with
    A(x, y) = x e^y y^-x γ(x, y) written through the regularised gamma function.
    """
    x, y = n * mu / theta, lam / theta
    big_a = math.exp(y - x * math.log(y) + gammaln(x + 1)) * gammainc(x, y)
    e = erlang_b(n, lam / mu)
    return big_a * e / (1.0 + (big_a - 1.0) * e)


def metrics(n: int, lam: float, mu: float, theta: float, t: float = 20.0) -> QueueMetrics:
    """Erlang A when callers abandon, Erlang C otherwise (the one entry staffing uses)."""
    return erlang_a(n, lam, mu, theta, t) if theta > 0 else erlang_c_metrics(n, lam, mu, t)
