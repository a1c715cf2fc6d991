"""The SIP tests' fixtures (seeded database, Monday 10:00 clock, short prompts), shared."""
from tests.ivr.drivers.sip.conftest import short_prompts, sip_db  # noqa: F401
