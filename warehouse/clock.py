"""The one clock: every timestamp voc stores is UTC, without a zone.

Edits (the CLI, the dashboard), flow runs and users all take their time from here, so
``theme_events`` and ``issue_events`` never mix a machine's local time with UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now in UTC as a naive ``datetime`` (DuckDB ``TIMESTAMP``, no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)
