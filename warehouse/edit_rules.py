"""What a person may write into the warehouse: theme labels, issue owners and texts, due
dates, departments, demand reasons.

Every edit (``voc themes|issues ...``, the dashboard, the weekly review) goes through the
write functions in ``core_tables`` and ``tracker``, and they check their values here, so a rule
is written once and the CLI and the dashboard cannot drift apart."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

MAX_LABEL = 120
MAX_TEXT = 4000  # owner, root cause, action, note
MAX_REASON = 500  # why a theme's demand type was overridden


class InvalidEdit(ValueError):
    """A value the warehouse will not store as given; the message says why and
    ``field`` names what was wrong (``label``, ``due_date``, ``department``, ...)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def label(value: object) -> str:
    """A theme label as stored: one line, runs of whitespace made one space, 1-120
    characters."""
    text = " ".join(str(value).split())
    if not text or len(text) > MAX_LABEL:
        raise InvalidEdit(f"a label is 1-{MAX_LABEL} characters", "label")
    return text


def text(value: object, field: str) -> str | None:
    """An owner, root cause, action or note: trimmed, at most 4,000 characters; empty
    clears the field (None)."""
    cleaned = str(value).strip()
    if len(cleaned) > MAX_TEXT:
        raise InvalidEdit(f"{field} is longer than {MAX_TEXT} characters", field)
    return cleaned or None


def due_date(value: date | datetime | str) -> date:
    """A due date: a ``date``, a ``datetime`` (its day) or ISO text (``2026-12-01``, or a
    timestamp such as a data editor's ``2026-12-01T00:00:00``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        try:
            return datetime.fromisoformat(raw).date()
        except ValueError:
            raise InvalidEdit(f"use ISO dates such as 2026-12-01 ({exc})", "due_date") from None


def department(value: object, known: Collection[str] | None) -> str:
    """A department name, one of ``known`` when any are known."""
    name = " ".join(str(value).split())
    if not name:
        raise InvalidEdit("a department needs a name", "department")
    if known and name not in known:
        raise InvalidEdit(
            f"unknown department {name!r}; departments are: {', '.join(sorted(known))}",
            "department",
        )
    return name


def reason(value: str | None) -> str | None:
    """Why a theme's demand type was overridden: one line, cut at 500 characters."""
    cleaned = " ".join(value.split())[:MAX_REASON] if value else ""
    return cleaned or None
