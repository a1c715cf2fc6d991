"""Fit a scenario from call records: what the hotline took becomes what it forecasts.

Pure numpy/scipy over :class:`queue_engine.records.CallRecords` (the ``calls`` table's
columns, from the database or from the simulator).  What is estimated, and how:

* **arrivals** — fresh calls (not retrials, not callbacks the centre dialled) per skill ×
  weekday × hour over the period's working days; public holidays of the centre's calendar
  are left out.  The scenario's product form ``daily[skill] · day[weekday] · shape[day][hour]``
  is fitted by Poisson maximum likelihood (margins); weekday shapes are shrunk towards the
  pooled weekday shape where a day has few calls.  **Dispersion**: daily counts per skill
  against their fitted mean — Pearson χ² test of Poisson; if rejected (p < 0.01), the CV of
  a day-level gamma factor by moments, ``Var N = Λ + c²Λ²`` (the simulator draws it);
* **handle time** per skill — exponential vs lognormal (likelihood ratio at 1 %), answered calls, a
  shared agent's time scaled back by its proficiency;
* **patience** per skill — abandonments are censored by answers: censored maximum
  likelihood (exponential vs lognormal, likelihood ratio) and the Kaplan–Meier curve
  (``scipy.stats.ecdf``) for the report; never the mean of abandoned waits;
* **retrials** — share of abandoned callers who call again (same caller, same skill, within
  ``link_window`` s) and the delay range by attempt (uniform: min/max);
* **callbacks** — acceptance = taken / offered, an offer being a live caller who found at
  least the callback threshold of callers ahead (or ``callback:declined`` marks when the
  IVR writes them); the after-hours request share;
* **self-service share** per menu branch (``menu:key:label`` of ``menu_path``);
* shares of fresh calls per line and region (reported: scenarios do not route by them).

Rosters are a planning decision, not demand: they (and routing) come from a base scenario.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy import optimize, stats

from queue_engine.records import CallRecords
from queue_engine.scenario import DAYS, Centre, Scenario, scenario_from_mapping

__all__ = ["Fitted", "arrival_time", "fit_scenario", "local_time", "retrial_links"]

#: lognormal over exponential only when the likelihood ratio says so at 1 % (χ², 1 df): a
#: lognormal tail fitted to a few hundred censored waits extrapolates wildly otherwise
LR_CRIT = float(stats.chi2.ppf(0.99, 1))
SHRINK_CALLS = 2000.0  # a weekday's own shape counts as much as the pooled one at this size


@dataclass
class Fitted:
    """``scenario``: the YAML mapping (a normal scenario); ``figures``: what was estimated."""

    scenario: dict[str, Any]
    figures: dict[str, Any]


def local_time(t: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch seconds -> (local day number since 1970-01-01, weekday Monday=0, hour)."""
    zone = ZoneInfo(tz)
    t = np.asarray(t, dtype=float)
    ok = np.isfinite(t)
    utc_day = np.where(ok, np.floor(np.nan_to_num(t) / 86400), 0).astype(np.int64)
    uniq, inv = np.unique(utc_day, return_inverse=True)
    off = np.array([dt.datetime.fromtimestamp(d * 86400 + 43200, zone).utcoffset()
                    .total_seconds() for d in uniq.tolist()])
    loc = np.nan_to_num(t) + off[inv]
    day = np.floor(loc / 86400).astype(np.int64)
    return day, (day + 3) % 7, (np.floor(loc % 86400 / 3600)).astype(np.int64)


def arrival_time(rec: CallRecords) -> np.ndarray:
    """When each caller reached (or would have reached) the agent queue: ``queued``, else
    ``started`` plus the median IVR time of queued callers (after-hours callers, who never
    queue, are counted at the hour they would have queued — as the simulator counts them)."""
    q = np.isfinite(rec.queued) & np.isfinite(rec.started) & ~rec.outbound
    ivr = float(np.median(rec.queued[q] - rec.started[q])) if q.any() else 0.0
    return np.where(np.isfinite(rec.queued), rec.queued, rec.started + ivr)


def retrial_links(rec: CallRecords, ts: np.ndarray, window: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(previous attempt index or -1, attempt number) per record: a retrial is the same
    caller calling the same skill within ``window`` s of hanging up in the queue."""
    n = len(rec)
    prev = np.full(n, -1, dtype=np.int64)
    att = np.ones(n, dtype=np.int64)
    inbound = ~rec.outbound & (rec.skill != "")
    idx = np.nonzero(inbound)[0]
    order = idx[np.lexsort((ts[idx], rec.skill[idx].astype(str), rec.caller[idx].astype(str)))]
    caller, skill, outc, end = rec.caller, rec.skill, rec.outcome, rec.ended
    for a, b in zip(order[:-1].tolist(), order[1:].tolist()):
        if (caller[a] == caller[b] and skill[a] == skill[b] and outc[a] == "abandoned"
                and 0 <= ts[b] - end[a] <= window):
            prev[b] = a
            att[b] = att[a] + 1
    return prev, att


def fit_scenario(rec: CallRecords, centre: Centre, base: Scenario, *,
                 since: dt.date | None = None, until: dt.date | None = None,
                 name: str = "fitted", centre_ref: str = "../centre.yaml",
                 link_window: float = 3600.0) -> Fitted:
    """Estimate a scenario from ``rec`` over local dates [since, until] (default: all)."""
    tz = centre.timezone
    ts = arrival_time(rec)
    day, wd, hr = local_time(ts, tz)
    lo = _day_no(since) if since else int(day.min())
    hi = _day_no(until) if until else int(day.max())
    keep = (day >= lo) & (day <= hi)
    rec, ts, day, wd, hr = rec.select(keep), ts[keep], day[keep], wd[keep], hr[keep]
    if not len(rec):
        raise ValueError("no call records in the period")
    skills = list(centre.skills)
    g_of = {s: i for i, s in enumerate(skills)}
    prev, att = retrial_links(rec, ts, link_window)
    outbound = rec.outbound
    has_skill = np.array([s in g_of for s in rec.skill])
    fresh = ~outbound & (prev < 0) & has_skill & (rec.outcome != "self_served")
    holidays = {_day_no(d) for d in centre.holidays} & set(range(lo, hi + 1))
    work = ~np.isin(day, list(holidays))
    arrivals, disp = _arrivals(rec, fresh & work, day, wd, hr, skills, g_of, lo, hi, holidays)

    times, aht_fig, pat_fig = {}, {}, {}
    for sid in skills:
        m = rec.skill == sid
        a = _aht(rec, m, base, sid)
        p = _patience(rec, m & ~outbound)
        if a or p:
            times[sid] = {k: v for k, v in (("aht", a and a["dist"]),
                                             ("patience", p and p["dist"])) if v}
        if a:
            aht_fig[sid] = a
        if p:
            pat_fig[sid] = p
    retr = _retrials(rec, ts, prev, att, base, hi, tz, link_window)
    after = fresh & (rec.outcome == "after_hours")
    ah_share = float(rec.callback_requested[after].mean()) if after.any() else 0.0
    sc = {
        "name": name,
        "description": f"fitted by `hotline fit` from {int(fresh.sum())} fresh calls "
                       f"({len(rec)} records) {_date(lo)} .. {_date(hi)}",
        "centre": centre_ref,
        "arrivals": arrivals,
        "skill_times": times,
        "retrials": retr["scenario"],
        "callbacks": {"accept": 0.0, "after_hours_request": round(ah_share, 4)},
        "routing": base.routing.model_dump(),
        "teams": {tid: t.model_dump() for tid, t in base.teams.items()},
    }
    accept = _callback_accept(rec, sc, centre, base, ts, wd, hr, outbound)
    sc["callbacks"]["accept"] = round(accept["accept"], 4)
    figures = {
        "period": [_date(lo).isoformat(), _date(hi).isoformat()],
        "records": len(rec), "fresh_calls": int(fresh.sum()),
        "retrials": int((prev >= 0).sum()), "callbacks_dialled": int(outbound.sum()),
        "holidays_excluded": sorted(_date(d).isoformat() for d in holidays),
        "dispersion": disp, "aht": aht_fig, "patience": pat_fig, "retrial": retr["figures"],
        "callback": accept, "after_hours_request": round(ah_share, 4),
        "self_service": _self_service(rec, outbound),
        "share_by_line": _shares(rec.line[fresh]), "share_by_region": _shares(rec.region[fresh]),
        "roster_from": base.name,
    }
    sc["source"] = {k: figures[k] for k in ("period", "records", "fresh_calls",
                                            "holidays_excluded", "self_service", "roster_from")}
    sc["source"]["dispersion_test"] = {s: {"p_value": d["p_value"], "cv": d["cv"]}
                                       for s, d in disp.items()}
    return Fitted(sc, figures)


def _day_no(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _date(n: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(n))


def _arrivals(rec, m, day, wd, hr, skills, g_of, lo, hi, holidays) -> tuple[dict, dict]:
    G = len(skills)
    dates = [d for d in range(lo, hi + 1) if d not in holidays]
    n_d = np.bincount([(d + 3) % 7 for d in dates], minlength=7).astype(float)
    g = np.array([g_of[s] for s in rec.skill[m]], dtype=np.int64)
    C = np.bincount(g * 168 + wd[m] * 24 + hr[m], minlength=G * 168).reshape(G, 7, 24)
    per_day = C.sum(axis=(0, 2)) / np.maximum(n_d, 1)  # calls per day of each weekday
    f = per_day / per_day[:5][n_d[:5] > 0].mean()
    daily = C.sum(axis=(1, 2)) / float((n_d * f).sum())  # Poisson MLE of the product form
    pooled = C[:, :5].sum(axis=(0, 1)).astype(float)
    profile = {}
    for d, name in enumerate(DAYS):
        own = C[:, d].sum(axis=0).astype(float)
        if own.sum() == 0:
            own = pooled if d < 5 else np.ones(24)
        if d < 5:  # thin data: lean on the pooled weekday shape
            w = own.sum() / (own.sum() + SHRINK_CALLS)
            own = w * own / own.sum() + (1 - w) * pooled / max(pooled.sum(), 1)
        profile[name] = [round(float(x), 5) for x in 100 * own / own.sum()]
    # dispersion: daily totals per skill against daily[g] * f[weekday]
    dix = {d: i for i, d in enumerate(dates)}
    di = np.array([dix.get(d, -1) for d in day[m]])
    N = np.zeros((G, len(dates)))
    np.add.at(N, (g[di >= 0], di[di >= 0]), 1)
    lam = daily[:, None] * f[[(d + 3) % 7 for d in dates]][None, :]
    disp = {}
    for k, sid in enumerate(skills):
        if daily[k] <= 0 or len(dates) < 3:
            continue
        x2 = float(((N[k] - lam[k]) ** 2 / lam[k]).sum())
        dof = len(dates) - 1
        p = float(stats.chi2.sf(x2, dof))
        c2 = max(0.0, float(((N[k] - lam[k]) ** 2 - N[k]).sum() / (lam[k] ** 2).sum()))
        disp[sid] = {"chi2": round(x2, 2), "dof": dof, "p_value": round(p, 5),
                     "cv_moments": round(math.sqrt(c2), 4),
                     "cv": round(math.sqrt(c2), 4) if p < 0.01 else 0.0}
    arrivals = {
        "daily_calls": {s: round(float(daily[k]), 2) for k, s in enumerate(skills)
                        if daily[k] > 0},
        "days": {name: round(float(f[d]), 4) for d, name in enumerate(DAYS)},
        "profile": profile,
    }
    cv = {s: d["cv"] for s, d in disp.items() if d["cv"] > 0}
    if cv:
        arrivals["dispersion"] = cv
    return arrivals, disp


def _aic_pick(x: np.ndarray) -> dict[str, Any]:
    """Exponential vs lognormal (MLE) for positive durations, by likelihood ratio."""
    shape, _, scale = stats.lognorm.fit(x, floc=0)
    ll_ln = float(stats.lognorm.logpdf(x, shape, 0, scale).sum())
    ll_ex = float(stats.expon.logpdf(x, 0, x.mean()).sum())
    ln_mean = float(scale * math.exp(shape * shape / 2))
    ln_cv = float(math.sqrt(math.expm1(shape * shape)))
    if 2 * (ll_ln - ll_ex) <= LR_CRIT:
        return {"family": "exponential", "mean": float(x.mean()), "cv": 1.0}
    return {"family": "lognormal", "mean": ln_mean, "cv": ln_cv}


def _aht(rec: CallRecords, m: np.ndarray, base: Scenario, sid: str) -> dict | None:
    ok = m & (rec.outcome == "answered") & np.isfinite(rec.answered) & np.isfinite(rec.ended)
    if ok.sum() < 30:
        return None
    x = (rec.ended - rec.answered)[ok]
    prof = np.array([base.teams[a].skills.get(sid, 1.0) if a in base.teams else 1.0
                     for a in rec.agent[ok]])
    x = np.maximum(x * prof, 1e-3)  # a shared agent's slower time back at proficiency 1
    pick = _aic_pick(x)
    return {"n": int(ok.sum()), **{k: (round(v, 4) if isinstance(v, float) else v)
                                   for k, v in pick.items()},
            "dist": {"mean": round(pick["mean"], 1), "cv": round(pick["cv"], 3)}}


def _patience(rec: CallRecords, m: np.ndarray) -> dict | None:
    """Censored MLE of patience; answers (and callback acceptances) censor the wait."""
    w = rec.wait
    q = m & np.isfinite(w) & np.isin(rec.outcome, ("answered", "abandoned", "callback"))
    ev = q & (rec.outcome == "abandoned")
    if ev.sum() < 20:
        return None
    x_ev = np.maximum(w[ev], 0.5)
    x_c = w[q & ~ev]
    x_c = x_c[x_c > 0]
    mean_exp = float((x_ev.sum() + x_c.sum()) / x_ev.size)
    ll_ex = float(stats.expon.logpdf(x_ev, 0, mean_exp).sum()
                  + stats.expon.logsf(x_c, 0, mean_exp).sum())
    lev, lc = np.log(x_ev), np.log(x_c)

    def nll(p: np.ndarray) -> float:
        mu, s = p[0], math.exp(p[1])
        return -float((stats.norm.logpdf(lev, mu, s) - lev).sum()
                      + stats.norm.logsf(lc, mu, s).sum())

    r = optimize.minimize(nll, np.array([math.log(mean_exp), 0.0]), method="Nelder-Mead",
                          options={"xatol": 1e-4, "fatol": 1e-3, "maxiter": 400})
    mu, s = float(r.x[0]), math.exp(float(r.x[1]))
    ln = {"family": "lognormal", "mean": math.exp(mu + s * s / 2),
          "cv": math.sqrt(math.expm1(s * s))}
    pick = ({"family": "exponential", "mean": mean_exp, "cv": 1.0}
            if 2 * (-float(r.fun) - ll_ex) <= LR_CRIT else ln)
    km = stats.ecdf(stats.CensoredData(uncensored=x_ev, right=x_c)).sf
    return {"events": int(ev.sum()), "censored": int(x_c.size), "family": pick["family"],
            "mean": round(pick["mean"], 1), "cv": round(pick["cv"], 3),
            "km_survival_300s": round(float(km.evaluate(300.0)), 4),
            "km_survival_900s": round(float(km.evaluate(900.0)), 4),
            "naive_mean_of_abandoned_waits": round(float(x_ev.mean()), 1),
            "dist": {"mean": round(pick["mean"], 1), "cv": round(pick["cv"], 3)}}


def _retrials(rec, ts, prev, att, base: Scenario, hi: int, tz: str, window: float) -> dict:
    n_del = max(1, len(base.retrials.delays))
    max_att = int(att.max()) if att.size else 1
    cap = max(base.retrials.max_attempts, max_att)
    ab = (rec.outcome == "abandoned") & ~rec.outbound & np.isfinite(rec.ended)
    end_of_period = dt.datetime.combine(_date(hi + 1), dt.time(0), ZoneInfo(tz)).timestamp()
    elig = ab & (att < cap) & (rec.ended <= end_of_period - window)
    followed = np.zeros(len(rec), dtype=bool)
    child = prev[prev >= 0]
    followed[child] = True
    p = float(followed[elig].mean()) if elig.any() else 0.0
    kids = np.nonzero(prev >= 0)[0]
    delay = ts[kids] - rec.ended[prev[kids]]
    k = np.minimum(att[prev[kids]], n_del) - 1
    delays, figs = [], []
    for j in range(n_del):
        d = delay[k == j]
        if d.size:
            delays.append([round(float(d.min()), 1), round(float(d.max()), 1)])
        else:
            delays.append(list(base.retrials.delays[j]))
        figs.append({"n": int(d.size), "range": delays[-1]})
    return {"scenario": {"probability": round(p, 4), "max_attempts": int(cap),
                         "delays": delays},
            "figures": {"eligible_abandoned": int(elig.sum()), "called_again":
                        int(followed[elig].sum()), "probability": round(p, 4),
                        "max_attempt_seen": max_att, "delays": figs}}


def _callback_accept(rec, sc: dict, centre: Centre, base: Scenario, ts, wd, hr,
                     outbound) -> dict:
    """Taken / offered; an offer = a live caller finding ≥ threshold callers ahead."""
    queued = np.isfinite(rec.queued)
    live = ~outbound & queued
    taken = live & (rec.outcome == "callback")
    marked = np.array(["callback:declined" in p for p in rec.menu_path])
    if marked.any():  # the IVR wrote its offers
        off = int((marked & live).sum() + taken.sum())
        return {"method": "menu_path marks", "offered": off, "taken": int(taken.sum()),
                "accept": taken.sum() / off if off else 0.0}
    from queue_engine.model import Model, callback_thresholds

    model = Model.from_scenario(scenario_from_mapping(sc, centre))
    thr = callback_thresholds(model)
    left = np.where(rec.outcome == "answered", rec.answered, rec.ended)
    offered = np.zeros(len(rec), dtype=bool)
    for g, sid in enumerate(model.skills):
        m = live & (rec.skill == sid)
        if not m.any():
            continue
        # a taken callback keeps the caller's place in line: it counts as ahead until
        # answered (callbacks of after-hours requests wait in their own line)
        kept = outbound & queued & np.isin(rec.queued, rec.queued[taken & (rec.skill == sid)])
        inq = (live | kept) & (rec.skill == sid)
        q = np.sort(rec.queued[inq])
        lv = np.sort(np.where(np.isfinite(left[inq]), left[inq], np.inf))
        t = rec.queued[m]
        ahead = np.searchsorted(q, t, "left") - np.searchsorted(lv, t, "right")
        ahead += (left[m] <= t)  # the caller's own immediate answer is not someone ahead
        wh = wd[m] * 24 + hr[m]
        offered[np.nonzero(m)[0]] = (ahead >= thr[g, wh]) & ~((rec.outcome[m] == "answered")
                                                             & (left[m] <= t))
    off = int((offered | taken).sum())
    return {"method": "queue ahead >= callback threshold", "offered": off,
            "taken": int(taken.sum()), "accept": float(taken.sum() / off) if off else 0.0}


def _shares(col: np.ndarray) -> dict[str, float]:
    """Share of fresh calls per line / region: reported (the scenario's arrivals are per
    skill; no scenario routes by line or region yet)."""
    vals, n = np.unique(col.astype(str), return_counts=True)
    return {(v or "?"): round(float(k / n.sum()), 4) for v, k in zip(vals, n)} if n.size else {}


def _self_service(rec: CallRecords, outbound: np.ndarray) -> dict[str, float]:
    """Menu branch -> share of its callers the IVR served alone."""
    tot: dict[str, list[int]] = {}
    for p, oc, ob in zip(rec.menu_path, rec.outcome, outbound):
        if ob:
            continue
        branch = next((x for x in p if x.count(":") >= 2), None)
        if branch is None:
            continue
        c = tot.setdefault(branch, [0, 0])
        c[0] += 1
        c[1] += oc == "self_served"
    return {b: round(s / n, 4) for b, (n, s) in sorted(tot.items())}
