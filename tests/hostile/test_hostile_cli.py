"""Issue 13 item 14: hostile invocations end with a message — 0 tracebacks, 0 hangs."""
from __future__ import annotations

import pytest

from tests.hostile.cases import CASES, make_dialplans
from tests.hostile.runner import run_all

pytestmark = pytest.mark.timeout(600)


def test_hostile_invocations_end_with_a_message(tmp_path, capsys):
    make_dialplans(tmp_path)
    outcomes = run_all(CASES, tmp_path)
    tracebacks = [o for o in outcomes if o.traceback]
    hangs = [o for o in outcomes if o.hang]
    unhandled = [o for o in outcomes if o.unhandled]
    with capsys.disabled():
        print(f"\nhostile CLI: {len(outcomes)} invocations, {len(tracebacks)} tracebacks, "
              f"{len(hangs)} hangs, {len(unhandled)} ended by the last-resort printer")
        for o in unhandled:
            print("  last-resort:", o.argv[:4], o.stderr_tail.strip().splitlines()[-1][:160])
    report = "\n".join(f"{o.argv[:4]} -> {o.code}: {o.stderr_tail[-200:]!r}"
                       for o in tracebacks + hangs)
    assert not tracebacks and not hangs, report
    assert all(o.code != 0 for o in outcomes if o.argv[:1] != ("db",)), [
        (o.argv[:3], o.code) for o in outcomes if o.code == 0]
