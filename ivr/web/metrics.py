"""``/metrics``: the live snapshot in Prometheus' text format (prometheus-client).

A custom collector reads the board's snapshot at scrape time, so there is no second copy of
any figure to keep in step. "Today" figures restart at midnight (or slide, for 24/7 groups), so
they are gauges, not counters. The registry is the app's own (several apps in one process —
tests — never collide in the global one).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

GROUP_GAUGES = (
    ("waiting", "hotline_queue_waiting", "callers waiting in the skill group"),
    ("longest_wait_s", "hotline_queue_longest_wait_seconds", "longest current wait"),
    ("ewt_s", "hotline_queue_ewt_seconds", "expected wait for a caller joining now"),
    ("answered", "hotline_queue_answered_today", "calls answered today (or in the window)"),
    ("abandoned", "hotline_queue_abandoned_today", "calls abandoned today, short ones included"),
    ("short_abandoned", "hotline_queue_short_abandoned_today", "abandons within 5 s"),
    ("service_level", "hotline_queue_service_level_ratio", "service level (see definition)"),
    ("asa_s", "hotline_queue_asa_seconds", "average speed of answer"),
    ("aht_s", "hotline_queue_aht_seconds", "average handle time"),
    ("abandon_rate", "hotline_queue_abandon_ratio", "abandonment (short abandons excluded)"),
    ("occupancy", "hotline_queue_occupancy_ratio", "agent occupancy"),
)


class LiveCollector(Collector):
    def __init__(self, live: Any) -> None:
        self.live = live

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.live is None:
            return
        snap = self.live.snapshot()
        groups = snap.get("groups", [])
        for key, name, doc in GROUP_GAUGES:
            fam = GaugeMetricFamily(name, doc, labels=["skill"])
            for g in groups:
                if g.get(key) is not None:
                    fam.add_metric([g["skill"]], float(g[key]))
            yield fam
        agents = GaugeMetricFamily("hotline_agents", "agents by state", labels=["skill", "state"])
        for g in groups:
            for state, n in (g.get("agents") or {}).items():
                agents.add_metric([g["skill"], state], float(n))
        yield agents
        ivr = GaugeMetricFamily("hotline_line_calls", "calls per line and region by stage",
                                labels=["line", "region", "stage"])
        share = GaugeMetricFamily("hotline_line_self_service_ratio",
                                  "share of IVR calls served without an agent",
                                  labels=["line", "region"])
        for row in snap.get("lines", []):
            for stage in ("in_ivr", "queued"):
                ivr.add_metric([row["line"], row["region"], stage], float(row.get(stage) or 0))
            if row.get("self_service_share") is not None:
                share.add_metric([row["line"], row["region"]], float(row["self_service_share"]))
        yield ivr
        yield share
        cb = GaugeMetricFamily("hotline_callbacks", "callback requests by status",
                               labels=["status"])
        for status, n in (snap.get("callbacks") or {}).items():
            cb.add_metric([status], float(n))
        yield cb
        yield from _retention((snap.get("retention") or {}).get("last"))


def _retention(last: dict | None) -> Iterator[GaugeMetricFamily]:
    """The daily job's last run (serve): when, whether it worked, what it deleted per kind."""
    if not last:
        return
    from datetime import datetime

    yield GaugeMetricFamily("hotline_retention_last_run_timestamp_seconds",
                            "scheduled moment of the last retention run",
                            value=datetime.fromisoformat(last["at"]).timestamp())
    yield GaugeMetricFamily("hotline_retention_last_run_ok", "1 if the last run succeeded",
                            value=1.0 if last.get("ok") else 0.0)
    fam = GaugeMetricFamily("hotline_retention_deleted", "items the last run deleted or wiped",
                            labels=["kind"])
    for kind, n in (last.get("deleted") or {}).items():
        fam.add_metric([kind], float(n))
    yield fam


def registry_for(live: Any) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(LiveCollector(live))
    return reg
