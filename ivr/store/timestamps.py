"""One time convention for the whole database: timezone-aware UTC in, timezone-aware UTC out.

Every timestamp column is a :class:`UtcDateTime`. Writing a naive datetime is refused (nobody can
tell which clock it was read from); an aware one is converted to UTC before it is stored, so
SQLite — which keeps no offset — and PostgreSQL (``timestamptz``) hold the same instants, and
rows from different time zones compare correctly. People are shown Moscow time by the code that
talks to them (``ivr.dialplan.schedule.to_local``), never by the database.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utc(now: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is an error (the caller passes time in)."""
    if now.tzinfo is None:
        raise ValueError("an aware datetime is required (the IVR passes time in)")
    return now.astimezone(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored value as an aware UTC datetime (SQLite hands back naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator):
    """``DateTime(timezone=True)`` that stores UTC and always returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"a datetime is required, not {type(value).__name__}")
        value = utc(value)
        # SQLite drops the offset silently: store the UTC wall clock without it
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return aware(value)
