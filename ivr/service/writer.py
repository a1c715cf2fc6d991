"""Where ``hotline serve`` writes call records: :mod:`ivr.store.writer` (the writer thread)
and :mod:`ivr.call.writes` (the services wrapper), re-exported here for older imports."""
from ivr.call.writes import QueuedWrites
from ivr.store.writer import RecordWriter

__all__ = ["QueuedWrites", "RecordWriter"]
