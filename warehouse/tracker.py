"""The issue tracker's one write path: ``voc issues update``, the weekly review and the
dashboard all change issues through ``update_issue``, so every change is validated the
same way (``edit_rules``: owners, texts, due dates) and lands in
``issue_events`` with who, when, what and why."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

import duckdb
import polars as pl

from warehouse import contract, edit_rules
from warehouse.core_tables import fetch_frame
from warehouse.sql import named_query

STATUSES = contract.ISSUE_STATUSES
OPEN_STATUSES = contract.OPEN_ISSUE_STATUSES
PRIORITIES = contract.ISSUE_PRIORITIES
# where an issue may go from each status; "verified" is normally the weekly review's call
TRANSITIONS: dict[str, set[str]] = {
    "new": {"acknowledged", "in_progress", "fixed", "closed"},
    "acknowledged": {"in_progress", "fixed", "closed"},
    "in_progress": {"acknowledged", "fixed", "closed"},
    "fixed": {"in_progress", "verified", "reopened"},
    "verified": {"reopened", "closed"},
    "reopened": {"acknowledged", "in_progress", "fixed", "closed"},
    "closed": {"reopened"},
}
MAX_TEXT = edit_rules.MAX_TEXT
REVIEW_ACTOR = "weekly-review"  # who the weekly review's own changes are by


class IssueError(edit_rules.InvalidEdit):
    """An edit that cannot be made as asked (unknown issue, bad value, bad transition)."""


class NotYourDepartment(PermissionError):
    """A department head tried to change another department's issue."""


@dataclass(frozen=True)
class IssueChange:
    status: str | None = None
    owner: str | None = None
    priority: str | None = None
    # a date, or ISO text (checked by edit_rules.due_date)
    due_date: date | str | None = None
    root_cause: str | None = None
    action: str | None = None
    department: str | None = None
    note: str | None = None
    # when the fix went live, if earlier than the moment it is marked fixed
    fixed_on: datetime | None = None
    # the weekly review's own changes (``system`` only): the theme the issue is about and
    # its title, when the issue moves to a top-level theme, and the issue it folded into
    theme_id: int | None = None
    title: str | None = None
    folded_into: int | None = None

    def requested(self) -> dict[str, object]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("note", "fixed_on") and getattr(self, f.name) is not None
        }


# fields only the weekly review changes
SYSTEM_FIELDS = ("theme_id", "title", "folded_into")
# every field update_issue writes, in the order of its events
_FIELDS = (
    "status",
    "owner",
    "priority",
    "due_date",
    "root_cause",
    "action",
    "department",
    "theme_id",
    "title",
    "folded_into",
)


def get_issue(con: duckdb.DuckDBPyConnection, issue_id: int) -> dict | None:
    rows = fetch_frame(con, named_query("issue_by_id"), {"issue_id": issue_id}).to_dicts()
    return rows[0] if rows else None


def update_issue(
    con: duckdb.DuckDBPyConnection,
    issue_id: int,
    change: IssueChange,
    actor: str,
    at: datetime,
    *,
    allowed_department: str | None = None,
    system: bool = False,
) -> dict:
    """Apply ``change`` to one issue inside the caller's transaction; returns the new row.

    Only fields that differ from the stored values are written, each with an event.
    ``allowed_department`` limits a department head to their own issues; ``system`` lets
    the weekly review make transitions a person may not (e.g. to ``verified``)."""
    current = get_issue(con, issue_id)
    if current is None:
        raise IssueError(f"no issue {issue_id}")
    if allowed_department is not None and current["department"] != allowed_department:
        raise NotYourDepartment(
            f"issue {issue_id} belongs to {current['department'] or 'no department'}, not {allowed_department}"
        )
    wanted = _wanted(issue_id, current, change, system)
    changed = {k: v for k, v in wanted.items() if v != current.get(k)}
    note = edit_rules.text(change.note, "note") if change.note else None
    if change.fixed_on is not None:
        live = f"fix live since {change.fixed_on:%Y-%m-%d %H:%M}"
        note = f"{note} ({live})" if note else live
    if not changed and not note:
        return current
    if change.fixed_on is not None and changed.get("status") != "fixed":
        raise IssueError("a fix date goes with marking the issue fixed")
    if change.fixed_on is not None and change.fixed_on > at:
        raise IssueError("a fix cannot go live in the future")
    params: dict[str, object] = {"issue_id": issue_id, "at": at, "fixed_at": change.fixed_on or at}
    for name in _FIELDS:
        params[f"set_{name}"] = name in changed
        params[name] = changed.get(name)
    con.execute(named_query("update_issue_fields"), params)
    _record_events(con, issue_id, current, changed, note, actor, at)
    return get_issue(con, issue_id) or current


def _wanted(issue_id: int, current: dict, change: IssueChange, system: bool) -> dict:
    """The fields ``change`` asks for, checked against the issue as it is (transitions,
    who may set what) and cleaned (texts, due date)."""
    wanted = change.requested()
    system_only = [name for name in SYSTEM_FIELDS if name in wanted]
    if system_only and not system:
        raise IssueError(f"only the weekly review changes {', '.join(system_only)}")
    if "folded_into" in wanted and (
        wanted.get("status") != "closed" or wanted["folded_into"] == issue_id
    ):
        raise IssueError("an issue folds into another one by closing")
    if wanted.get("status") == "reopened" and current.get("folded_into") is not None:
        # a folded issue reopened by hand stands on its own again (its events keep the link)
        wanted["folded_into"] = None
    if "status" in wanted:
        status = str(wanted["status"])
        if status not in STATUSES:
            raise IssueError(f"status must be one of {', '.join(STATUSES)}")
        if (
            status != current["status"]
            and status not in TRANSITIONS[current["status"]]
            and not system
        ):
            raise IssueError(
                f"an issue that is {current['status']} cannot become {status}; allowed: {', '.join(sorted(TRANSITIONS[current['status']]))}"
            )
    if "priority" in wanted and wanted["priority"] not in PRIORITIES:
        raise IssueError(f"priority must be one of {', '.join(PRIORITIES)}")
    for name in ("owner", "root_cause", "action", "department", "title"):
        if name in wanted:
            wanted[name] = edit_rules.text(wanted[name], name)
    if "due_date" in wanted:
        wanted["due_date"] = edit_rules.due_date(wanted["due_date"])
    return wanted


def _record_events(
    con: duckdb.DuckDBPyConnection,
    issue_id: int,
    current: dict,
    changed: dict,
    note: str | None,
    actor: str,
    at: datetime,
) -> None:
    """One event per changed field (each carrying the note), or the note on its own."""
    for name, value in changed.items():
        con.execute(
            named_query("record_issue_event"),
            {
                "issue_id": issue_id,
                "at": at,
                "actor": actor,
                "field": name,
                "old_value": None if current.get(name) is None else str(current[name]),
                "new_value": None if value is None else str(value),
                "note": note,
            },
        )
    if note and not changed:
        con.execute(
            named_query("record_issue_event"),
            {
                "issue_id": issue_id,
                "at": at,
                "actor": actor,
                "field": "note",
                "old_value": None,
                "new_value": None,
                "note": note,
            },
        )


def list_issues(
    con: duckdb.DuckDBPyConnection, *, department: str | None = None, status: str | None = None
) -> pl.DataFrame:
    return fetch_frame(
        con, named_query("list_issues"), {"department": department, "status": status}
    )


def issue_history(con: duckdb.DuckDBPyConnection, issue_id: int) -> pl.DataFrame:
    return fetch_frame(con, named_query("issue_history"), {"issue_id": issue_id})


def open_issue_for_theme(con: duckdb.DuckDBPyConnection, theme_id: int) -> dict | None:
    rows = fetch_frame(con, named_query("open_issue_for_theme"), {"theme_id": theme_id}).to_dicts()
    return rows[0] if rows else None


def create_issue(
    con: duckdb.DuckDBPyConnection,
    *,
    theme_id: int,
    title: str,
    department: str | None,
    priority: str,
    due_date: date | None,
    opened_reason: str,
    week: date,
    weekly_volume: int,
    weekly_cost: float | None,  # None: the theme's cost is unknown
    at: datetime,
    actor: str = REVIEW_ACTOR,
    owner: str | None = None,
) -> int:
    """Open an issue for a theme (the caller checked none is open) and log its creation."""
    if priority not in PRIORITIES:
        raise IssueError(f"priority must be one of {', '.join(PRIORITIES)}")
    issue_id = int(
        con.execute(
            named_query("create_issue"),
            {
                "theme_id": theme_id,
                "title": title,
                "department": department,
                "owner": owner,
                "priority": priority,
                "due_date": due_date,
                "opened_reason": opened_reason,
                "at": at,
                "week": week,
                "weekly_volume": weekly_volume,
                "weekly_cost": weekly_cost,
            },
        ).fetchall()[0][0]
    )
    con.execute(
        named_query("record_issue_event"),
        {
            "issue_id": issue_id,
            "at": at,
            "actor": actor,
            "field": "status",
            "old_value": None,
            "new_value": "new",
            "note": opened_reason,
        },
    )
    return issue_id


def fold_issue(
    con: duckdb.DuckDBPyConnection, issue_id: int, into: int, actor: str, at: datetime, note: str
) -> None:
    """Fold ``issue_id`` into ``into`` (the weekly review's call): the folded issue is
    closed with ``folded_into`` set and its history kept; both issues log the fold."""
    if get_issue(con, into) is None:
        raise IssueError(f"no issue {into}")
    update_issue(
        con,
        issue_id,
        IssueChange(status="closed", folded_into=into, note=note),
        actor,
        at,
        system=True,
    )
    con.execute(
        named_query("record_issue_event"),
        {
            "issue_id": into,
            "at": at,
            "actor": actor,
            "field": "folded_in",
            "old_value": None,
            "new_value": str(issue_id),
            "note": note,
        },
    )
