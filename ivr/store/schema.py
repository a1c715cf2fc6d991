"""All tables in one metadata: importing this module imports every model module."""
from __future__ import annotations

import importlib
import importlib.util

from ivr.store import models  # noqa: F401  (calls, audit_log)
from ivr.store.base import Base

# Model modules of other areas; listed here so migrations and create_all see every table.
MODEL_MODULES = ("ivr.citizens.registry", "ivr.citizens.otp", "ivr.citizens.sms", "ivr.call.callbacks",
                 "ivr.records.recordings", "ivr.records.tickets", "ivr.records.factors",
                 "ivr.web.users", "ivr.records.transfers")

for _name in MODEL_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)

metadata = Base.metadata
