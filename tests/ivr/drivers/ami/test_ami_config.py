"""Issue 13 item 12: the exported manager.conf has no default secret and only the rights used."""
from __future__ import annotations

import re

from ivr.dialplan.asterisk import manager_conf


def _user(text: str) -> dict[str, str]:
    section = text.split("[hotline]", 1)[1]
    return dict(re.split(r"\s*=\s*", line, maxsplit=1) for line in section.splitlines()
                if "=" in line and not line.startswith(";"))


def test_manager_conf_never_has_a_default_secret(monkeypatch):
    monkeypatch.delenv("HOTLINE_AMI_SECRET", raising=False)
    one, two = _user(manager_conf())["secret"], _user(manager_conf())["secret"]
    assert one != two and len(one) >= 24 and "change-me" not in manager_conf()


def test_manager_conf_grants_only_what_the_bridge_uses():
    """AGI (agi), Originate (originate), Hangup (call), CoreShowChannels (reporting); QueueStatus,
    Events, Ping need none (manager.c, res_agi.c, app_queue.c registrations)."""
    user = _user(manager_conf("s3cret-for-test-0123456789"))
    assert set(user["write"].split(",")) == {"agi", "originate", "call", "reporting"}
    assert "command" not in user["read"] and "system" not in user["write"]
