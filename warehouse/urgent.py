"""Urgent contacts in the warehouse: storing flags, the same-day queue, and the one write
path for acknowledging them.

Flags are only added (``store_flags``): a (contact, kind) already flagged keeps its
evidence, time and acknowledgement, so re-running the flagging changes nothing.
``acknowledge`` is to flags what ``tracker.update_issue`` is to issues: the CLI and the
dashboard both call it, it checks the note with ``edit_rules``, limits a department head
to their own department's contacts, and writes who, when and why to
``contact_flag_events``."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from warehouse import edit_rules
from warehouse.core_tables import fetch_frame
from warehouse.sql import named_query


class FlagError(edit_rules.InvalidEdit):
    """An acknowledgement that cannot be made as asked (unknown contact or kind)."""


class NotYourDepartment(PermissionError):
    """A department head tried to acknowledge another department's contact."""


def feedback_to_check(con: duckdb.DuckDBPyConnection, rule_version: str) -> pl.DataFrame:
    return fetch_frame(con, named_query("urgent_feedback_to_check"), {"rule_version": rule_version})


def repeat_candidates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, named_query("urgent_repeat_candidates"))


def customer_links(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Pairs of ``customer_ref`` values one record gave for the same customer."""
    return [(a, b) for a, b in con.execute(named_query("urgent_customer_links")).fetchall()]


def store_flags(
    con: duckdb.DuckDBPyConnection,
    flags: pl.DataFrame,
    *,
    checked: list[str],
    rule_version: str,
    at: datetime,
) -> int:
    """Add new flags (``feedback_id, kind, evidence``) and remember which contacts were
    checked; returns how many flags are new. Inside the caller's transaction."""
    if checked:
        staged_checks = pl.DataFrame({"feedback_id": checked}, schema={"feedback_id": pl.String})  # noqa: F841
        con.register("staged_checks", staged_checks)
        try:
            con.execute(
                named_query("urgent_record_checks"),
                {"rule_version": rule_version, "checked_at": at},
            )
        finally:
            con.unregister("staged_checks")
    if not flags.height:
        return 0
    staged = flags.select("feedback_id", "kind", "evidence")
    con.register("staged_flags", staged)
    try:
        added = con.execute(
            named_query("urgent_insert_flags"), {"flagged_at": at, "rule_version": rule_version}
        ).fetchall()
    finally:
        con.unregister("staged_flags")
    return len(added)


def queue(
    con: duckdb.DuckDBPyConnection,
    *,
    departments: list[str] | None = None,
    kinds: list[str] | None = None,
    include_acknowledged: bool = False,
    since: datetime | None = None,
    limit: int = 500,
) -> pl.DataFrame:
    """Flagged contacts, one row each, open ones first and newest first."""
    return fetch_frame(
        con,
        named_query("urgent_queue"),
        {
            "departments": departments,
            "kinds": kinds,
            "include_acknowledged": include_acknowledged,
            "since": since,
            "limit": limit,
        },
    )


def counts(con: duckdb.DuckDBPyConnection, departments: list[str] | None = None) -> pl.DataFrame:
    return fetch_frame(con, named_query("urgent_counts"), {"departments": departments})


def open_contacts(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(named_query("urgent_open_contacts")).fetchall()[0][0])


def flags_of(con: duckdb.DuckDBPyConnection, feedback_id: str) -> pl.DataFrame:
    return fetch_frame(con, named_query("urgent_flags_of_contact"), {"feedback_id": feedback_id})


def history(con: duckdb.DuckDBPyConnection, feedback_id: str) -> pl.DataFrame:
    return fetch_frame(con, named_query("urgent_history"), {"feedback_id": feedback_id})


def acknowledge(
    con: duckdb.DuckDBPyConnection,
    feedback_id: str,
    actor: str,
    at: datetime,
    *,
    kind: str | None = None,
    note: str | None = None,
    allowed_department: str | None = None,
) -> list[str]:
    """Acknowledge a contact's open flags (or only ``kind``) inside the caller's
    transaction; returns the kinds acknowledged now (none when all already were: the first
    acknowledgement stands). ``allowed_department`` limits a department head to contacts
    routed to their department."""
    actor = edit_rules.text(actor, "actor") or ""
    if not actor:
        raise FlagError("an acknowledgement needs who made it", "actor")
    note = edit_rules.text(note, "note") if note else None
    if allowed_department is not None:
        # before anything else: a head learns nothing about other departments' contacts
        routed = con.execute(
            named_query("urgent_contact_department"), {"feedback_id": feedback_id}
        ).fetchall()
        department = routed[0][0] if routed else None
        if department != allowed_department:
            raise NotYourDepartment(
                f"contact {feedback_id} is routed to {department or 'no department'}, "
                f"not {allowed_department}"
            )
    rows = flags_of(con, feedback_id).to_dicts()
    if not rows:
        raise FlagError(f"contact {feedback_id} has no urgent flags", "feedback_id")
    if kind is not None and kind not in {r["kind"] for r in rows}:
        raise FlagError(
            f"contact {feedback_id} is not flagged {kind}; its flags: "
            + ", ".join(r["kind"] for r in rows),
            "kind",
        )
    done = []
    for row in rows:
        if (kind is not None and row["kind"] != kind) or row["acknowledged_at"] is not None:
            continue
        con.execute(
            named_query("urgent_acknowledge"),
            {"feedback_id": feedback_id, "kind": row["kind"], "actor": actor, "at": at},
        )
        con.execute(
            named_query("urgent_record_event"),
            {
                "feedback_id": feedback_id,
                "kind": row["kind"],
                "at": at,
                "actor": actor,
                "field": "acknowledged",
                "old_value": None,
                "new_value": actor,
                "note": note,
            },
        )
        done.append(row["kind"])
    return done
