"""The SIP tests' database fixture (seeded registry, Monday 10:00 clock), shared."""
from tests.ivr.drivers.sip.conftest import sip_db  # noqa: F401
