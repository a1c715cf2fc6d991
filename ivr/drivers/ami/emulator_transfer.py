"""Blind transfer in the FAKE Asterisk of ``emulator.py`` (not Asterisk): the agent sends the
caller to ``[hotline-senior]``.

The event is ``BlindTransfer`` as ``main/stasis_bridges.c`` ``blind_transfer_to_ami`` writes
it (Asterisk 22; the transcripts hold no transfer): ``Result``, the transferer's channel
block prefixed ``Transferer`` and the transferee's prefixed ``Transferee``
(``ast_manager_build_channel_state_string_prefix``: the same 14 fields as every channel
event), the bridge block (``ast_manager_build_bridge_state_string``: BridgeUniqueid,
BridgeType, BridgeTechnology, BridgeCreator, BridgeName, BridgeNumChannels,
BridgeVideoSourceMode), ``IsExternal``, ``Context``, ``Extension``. app_queue's
``handle_blind_transfer`` then sends ``AgentComplete`` with ``Reason: transfer``.
"""
from __future__ import annotations

import uuid

from ivr.drivers.ami.emulator_channel import Channel


def blind_transfer(transferer: Channel, transferee: Channel, context: str, exten: str,
                   bridge_id: str | None = None, *, external: bool = False
                   ) -> list[tuple[str, str]]:
    """The pairs of one successful ``BlindTransfer`` event (class ``call``)."""
    return [
        ("Event", "BlindTransfer"), ("Result", "Success"),
        *[("Transferer" + k, v) for k, v in transferer.headers()],
        *[("Transferee" + k, v) for k, v in transferee.headers()],
        ("BridgeUniqueid", bridge_id or str(uuid.uuid4())), ("BridgeType", "basic"),
        ("BridgeTechnology", "simple_bridge"), ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"), ("BridgeNumChannels", "2"),
        ("BridgeVideoSourceMode", "none"),
        ("IsExternal", "Yes" if external else "No"), ("Context", context),
        ("Extension", exten),
    ]
