"""Erlang B / C / A against the issue's worked example and independent formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp

from queue_engine import erlang as E

LAM, MU, THETA = 9 / 60, 1 / 300, 1 / 600  # λ = 9/min, AHT 5 min, patience 10 min


def test_issue_example_erlang_a() -> None:
    m = E.erlang_a(50, LAM, MU, THETA)
    assert m.mean_wait == pytest.approx(8.83, abs=0.005)
    assert m.p_abandon == pytest.approx(0.0147, abs=0.00005)


def test_issue_example_erlang_c() -> None:
    m = E.erlang_c_metrics(50, LAM, MU)
    assert m.mean_wait == pytest.approx(21.8, abs=0.05)
    assert m.p_abandon == 0.0


def test_erlang_b_textbook_value() -> None:
    # 30 lines, 25 Erlangs: blocking ≈ 5.26 % (Erlang B table).
    assert E.erlang_b(30, 25.0) == pytest.approx(0.0526, abs=1e-4)
    # Recursion B(n) = a·B(n−1) / (n + a·B(n−1)) as an independent check.
    b = 1.0
    for n in range(1, 31):
        b = 25.0 * b / (n + 25.0 * b)
    assert E.erlang_b(30, 25.0) == pytest.approx(b, rel=1e-12)


def test_p_wait_matches_garnett_closed_form() -> None:
    for n, lam in [(50, LAM), (20, 0.08), (100, 0.4)]:
        assert E.erlang_a(n, lam, MU, THETA).p_wait == pytest.approx(
            E.erlang_a_p_wait_closed(n, lam, MU, THETA), rel=1e-9)


def test_service_level_closed_form_matches_matrix_exponential() -> None:
    for n, lam, t in [(50, LAM, 20.0), (10, 100 / 60, 20.0), (200, 0.7, 60.0)]:
        logw, _ = E._queue_log_weights(n, lam, MU, THETA)
        pi = np.exp(logw - logsumexp(logw))[n:]
        fast = E._absorbed_by(pi, n * MU, THETA, t)
        slow = E._absorbed_by_expm(pi, n * MU, THETA, t)
        assert fast == pytest.approx(slow, rel=1e-8, abs=1e-12)


def test_tiny_patience_rate_tends_to_erlang_c() -> None:
    a = E.erlang_a(50, LAM, MU, 1e-9)
    c = E.erlang_c_metrics(50, LAM, MU)
    assert a.mean_wait == pytest.approx(c.mean_wait, rel=1e-5)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)


def test_stable_for_two_thousand_agents() -> None:
    n = 2000
    lam = 0.98 * n * MU
    a = E.erlang_a(n, lam, MU, THETA)
    c = E.erlang_c_metrics(n, lam, MU)
    for m in (a, c):
        assert all(math.isfinite(v) for v in m.as_dict().values())
        assert 0.0 < m.p_wait < 1.0 and 0.0 < m.service_level <= 1.0
    assert a.mean_wait < c.mean_wait  # abandonment shortens the wait


def test_overloaded_erlang_c_is_refused_not_looped() -> None:
    with pytest.raises(E.OverloadError, match="without abandonment"):
        E.erlang_c_metrics(40, LAM, MU)


def test_overloaded_erlang_a_has_a_steady_state() -> None:
    m = E.erlang_a(10, 100 / 60, MU, THETA)  # ρ = 50: nearly everyone abandons
    assert m.p_abandon == pytest.approx(1 - 10 * MU / (100 / 60), rel=1e-3)
    assert m.occupancy == pytest.approx(1.0, abs=1e-3)
