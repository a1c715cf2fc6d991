"""Stopping the embedded ACD (ivr.service.acd): no call is left ``queued`` in its record, also
when the IVR's ``queued`` row reaches the service only after the stop began (it comes from a
database worker thread through the loop)."""
from __future__ import annotations

from ivr.service.acd import AcdService
from queue_engine.acd import LiveAcd
from queue_engine.live import LiveCentre
from tests.ivr.service.callback_world import MONDAY_10, StepClock
from tests.ivr.service.test_transfer import senior_model


def _service() -> tuple[AcdService, list[tuple[str, dict]]]:
    written: list[tuple[str, dict]] = []
    svc = AcdService(LiveAcd(LiveCentre(model=senior_model()), seed=1, wrap_s=0.0),
                     StepClock(MONDAY_10), write=lambda call_id, **f: written.append((call_id, f)))
    svc.start()
    return svc, written


def test_a_call_handed_before_the_stop_gets_an_error_outcome_at_close():
    svc, written = _service()
    svc.ivr_queued("c-early")
    svc.closing = True
    assert svc.close("service stopped") == 1
    assert [(c, f["outcome"]) for c, f in written] == [("c-early", "error")]
    assert "before the caller reached the queue" in written[0][1]["detail"]


def test_a_queued_row_arriving_after_close_still_gets_its_outcome():
    svc, written = _service()
    svc.closing = True
    svc.close("service stopped")
    svc.ivr_queued("c-late")  # the row reached the loop after close() had run
    assert [(c, f["outcome"]) for c, f in written] == [("c-late", "error")]
    assert svc.handed == {}
