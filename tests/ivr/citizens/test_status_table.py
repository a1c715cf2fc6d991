"""Application statuses are named once (issue 11): the registry's table gives the stored names,
the codes the IVR's services hand the call machine, and the English label; every code is spoken
by a prompt the menus name, in every language."""
from __future__ import annotations

from pathlib import Path

import yaml

from ivr.citizens import registry
from ivr.dialplan.menus import load_menus

DIALPLANS = Path(__file__).resolve().parents[3] / "dialplans"


def test_registry_and_services_read_one_table():
    from ivr.call import services

    assert not hasattr(services, "STATUS_CODES")  # no second copy
    assert registry.STATUSES == tuple(registry.STATUS_CODES)
    view = registry.ApplicationView("1", "s", "в работе", None, None)
    assert view.status_en == "in progress"


def test_every_status_code_has_a_prompt_in_every_language():
    said = load_menus(DIALPLANS).prompts.app_status
    texts = yaml.safe_load((DIALPLANS / "prompts.yaml").read_text(encoding="utf-8"))
    for code in registry.STATUS_CODES.values():
        assert said.get(code), f"menus name no prompt for status {code!r}"
        for lang, prompts in texts.items():
            assert all(p in prompts for p in said[code]), (lang, code)
