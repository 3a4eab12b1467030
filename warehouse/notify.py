"""The record of what voc told people (schema 010) and what the digests and alerts read.
Every value is a bound parameter; callers pass a connection from ``Warehouse``."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from warehouse.core_tables import fetch_frame
from warehouse.sql import named_query


def recipients(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Department → the e-mail addresses of its head(s)."""
    out: dict[str, list[str]] = {}
    for department, email in con.execute(named_query("notify_recipients")).fetchall():
        out.setdefault(department, []).append(email)
    return out


def insight_team(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(named_query("notify_insight_team")).fetchall()]


def departments(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    return dict(con.execute(named_query("notify_departments")).fetchall())


def issues(
    con: duckdb.DuckDBPyConnection, department: str, week_start: date, week_end: date, today: date
) -> pl.DataFrame:
    return fetch_frame(
        con,
        named_query("notify_issues"),
        {"department": department, "week_start": week_start, "week_end": week_end, "today": today},
    )


def urgent_of_week(
    con: duckdb.DuckDBPyConnection, department: str, week_start: date, week_end: date
) -> pl.DataFrame:
    return fetch_frame(
        con,
        named_query("notify_urgent_of_week"),
        {"department": department, "week_start": week_start, "week_end": week_end},
    )


def emerging(con: duckdb.DuckDBPyConnection, week_start: date) -> pl.DataFrame:
    return fetch_frame(con, named_query("notify_emerging"), {"week_start": week_start})


def new_urgent(con: duckdb.DuckDBPyConnection, since: datetime) -> pl.DataFrame:
    return fetch_frame(con, named_query("notify_new_urgent"), {"since": since})


def mark_alerted(
    con: duckdb.DuckDBPyConnection, feedback_ids: list[str], message_key: str, at: datetime
) -> None:
    staged_alerted = pl.DataFrame({"feedback_id": feedback_ids}, schema={"feedback_id": pl.String})  # noqa: F841
    con.register("staged_alerted", staged_alerted)
    try:
        con.execute(named_query("notify_mark_alerted"), {"message_key": message_key, "at": at})
    finally:
        con.unregister("staged_alerted")


def status(
    con: duckdb.DuckDBPyConnection, message_key: str, transport: str, recipient: str
) -> str | None:
    rows = con.execute(
        named_query("notify_status"),
        {"message_key": message_key, "transport": transport, "recipient": recipient},
    ).fetchall()
    return rows[0][0] if rows else None


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    message_key: str,
    kind: str,
    department: str | None,
    transport: str,
    recipient: str,
    subject: str,
    status: str,
    attempts: int,
    error: str | None,
    at: datetime,
) -> None:
    con.execute(
        named_query("notify_record"),
        {
            "message_key": message_key,
            "kind": kind,
            "department": department,
            "transport": transport,
            "recipient": recipient,
            "subject": subject,
            "status": status,
            "attempts": attempts,
            "error": error,
            "at": at,
        },
    )


def log(con: duckdb.DuckDBPyConnection, limit: int = 100) -> pl.DataFrame:
    return fetch_frame(con, named_query("notify_log"), {"limit": limit})


def latest_week(con: duckdb.DuckDBPyConnection) -> date | None:
    return con.execute(named_query("notify_latest_week")).fetchall()[0][0]
