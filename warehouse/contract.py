"""The data contract, defined once: the feedback row, channels, score kinds and their
ranges, the triage marker, issue statuses and the columns of the weekly review's tables.

Parsers, ingest, the weekly review, the tracker, the CLI and the dashboard import these
names instead of writing them out again. The schema files (``schema/NNN_*.sql``) create
the same shapes in DuckDB; ``tests/unit/test_contract.py`` checks every table here against
``DESCRIBE`` of a freshly migrated warehouse, and the ``issue_is_open`` SQL macro against
``OPEN_ISSUE_STATUSES``, so the two cannot drift apart unnoticed.

This module imports nothing of voc: everything else may import it.
"""

from __future__ import annotations

import polars as pl

# ------------------------------------------------------------------------- contacts
# where a contact came from; every parser is one of these
CHANNELS: tuple[str, ...] = ("survey", "complaint", "email", "call")

# the range each kind of score lives in; anything outside it is a broken record (an NPS
# is a whole number)
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "rating": (1, 5),
    "ces": (1, 7),
    "csat_binary": (0, 1),
}
SCORE_KINDS: tuple[str, ...] = tuple(SCORE_RANGES)
WHOLE_NUMBER_SCORES: tuple[str, ...] = ("nps",)

# grain: one row per customer contact (table ``feedback``, schema 001). ``text`` is
# PII-redacted, ``customer_ref`` a keyed hash, ``attributes`` JSON text, ``language`` an
# ISO 639-1 code or 'und'.
FEEDBACK: dict[str, pl.DataType] = {
    "feedback_id": pl.String(),
    "channel": pl.String(),
    "source_file": pl.String(),
    "source_ref": pl.String(),
    "customer_ref": pl.String(),
    "received_at": pl.Datetime("us"),
    "text": pl.String(),
    "score": pl.Float64(),
    "score_kind": pl.String(),
    "language": pl.String(),
    "context": pl.String(),
    "attributes": pl.String(),
    "run_id": pl.String(),
    "ingested_at": pl.Datetime("us"),
}
# stamped by the load itself (which run, when); everything before it is the record's own
FEEDBACK_LOAD_COLUMNS: tuple[str, ...] = ("run_id", "ingested_at")

# ------------------------------------------------------------------------ routing
# A route nobody is confident about has no department (NULL in themes.department and
# feedback_departments.department, None in Python) and the source TRIAGE_SOURCE; the
# weekly tables, which need a name to group by, count those contacts under TRIAGE.
TRIAGE = "Needs triage"
TRIAGE_SOURCE = "triage"

# ------------------------------------------------------------------------- issues
ISSUE_STATUSES: tuple[str, ...] = (
    "new",
    "acknowledged",
    "in_progress",
    "fixed",
    "verified",
    "reopened",
    "closed",
)
# an open issue is still someone's work; at most one open issue per theme. In SQL the
# same rule is the macro issue_is_open(status) (schema 013).
OPEN_ISSUE_STATUSES: tuple[str, ...] = ("new", "acknowledged", "in_progress", "fixed", "reopened")
CLOSED_ISSUE_STATUSES: tuple[str, ...] = tuple(
    s for s in ISSUE_STATUSES if s not in OPEN_ISSUE_STATUSES
)
ISSUE_PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")

# -------------------------------------------------------------- the weekly review's tables
# Each is the table's columns in the order DESCRIBE lists them, with the polars type the
# review's frames have when they are written.

# grain: one row per (ISO week, top-level theme)
THEME_WEEKLY: dict[str, pl.DataType] = {
    "week_start": pl.Date(),
    "theme_id": pl.Int32(),
    "volume": pl.Int64(),
    "share": pl.Float64(),
    "share_ci_low": pl.Float64(),
    "share_ci_high": pl.Float64(),
    "trailing_share": pl.Float64(),
    "trailing_weeks": pl.Int32(),
    "change_vs_trailing": pl.Float64(),
    "rate_ratio": pl.Float64(),
    "ratio_ci_low": pl.Float64(),
    "ratio_ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "q_value": pl.Float64(),
    "is_emerging": pl.Boolean(),
    "is_new": pl.Boolean(),
    "emerging_reason": pl.String(),
    "scored": pl.Int64(),
    "avg_score": pl.Float64(),
    "nps": pl.Float64(),
    "nps_effect": pl.Float64(),
    "csat": pl.Float64(),
    "repeat_contacts": pl.Int64(),
    "repeat_rate": pl.Float64(),
    "est_cost": pl.Float64(),
    "department": pl.String(),
    "demand_type": pl.String(),
    "uncosted_contacts": pl.Int64(),
}

# grain: one row per (ISO week, fine theme under a group); parent_id is the group
SUBTHEME_WEEKLY: dict[str, pl.DataType] = {
    "week_start": pl.Date(),
    "theme_id": pl.Int32(),
    "parent_id": pl.Int32(),
    "volume": pl.Int64(),
    "share": pl.Float64(),
    "share_of_parent": pl.Float64(),
    "trailing_share": pl.Float64(),
    "trailing_weeks": pl.Int32(),
    "change_vs_trailing": pl.Float64(),
    "rate_ratio": pl.Float64(),
    "p_value": pl.Float64(),
    "q_value": pl.Float64(),
    "is_new": pl.Boolean(),
    "is_growing": pl.Boolean(),
    "growth_reason": pl.String(),
    "scored": pl.Int64(),
    "avg_score": pl.Float64(),
    "est_cost": pl.Float64(),
    "uncosted_contacts": pl.Int64(),
}

# grain: one row per (ISO week, top-level theme, channel)
THEME_CHANNEL_WEEKLY: dict[str, pl.DataType] = {
    "week_start": pl.Date(),
    "theme_id": pl.Int32(),
    "channel": pl.String(),
    "volume": pl.Int64(),
    "est_cost": pl.Float64(),
    "scored": pl.Int64(),
    "score_sum": pl.Float64(),
    "promoters": pl.Int64(),
    "detractors": pl.Int64(),
    "nps_responses": pl.Int64(),
    "uncosted_contacts": pl.Int64(),
}

# grain: one row per (ISO week, department); TRIAGE for contacts nobody owns yet
WEEKLY_CHARGEBACK: dict[str, pl.DataType] = {
    "week_start": pl.Date(),
    "department": pl.String(),
    "contacts": pl.Int64(),
    "failure_contacts": pl.Int64(),
    "failure_cost": pl.Float64(),
    "value_contacts": pl.Int64(),
    "value_cost": pl.Float64(),
    "total_cost": pl.Float64(),
    "failure_share": pl.Float64(),
    "uncosted_contacts": pl.Int64(),
    "failure_uncosted_contacts": pl.Int64(),
}

# grain: one row per (ISO week, top-level theme, kind), ranked by estimated saving
OPPORTUNITIES: dict[str, pl.DataType] = {
    "week_start": pl.Date(),
    "theme_id": pl.Int32(),
    "kind": pl.String(),
    "department": pl.String(),
    "weekly_contacts": pl.Int64(),
    "est_weekly_saving": pl.Float64(),
    "rationale": pl.String(),
    "rank": pl.Int32(),
}

# grain: one row per (theme, department, score kind)
SERVICE_RECOVERY: dict[str, pl.DataType] = {
    "theme_id": pl.Int32(),
    "department": pl.String(),
    "score_kind": pl.String(),
    "customers": pl.Int64(),
    "score_before": pl.Float64(),
    "score_after": pl.Float64(),
    "change": pl.Float64(),
    "computed_at": pl.Datetime("us"),
}

# every table above, by its name in the warehouse
TABLES: dict[str, dict[str, pl.DataType]] = {
    "feedback": FEEDBACK,
    "theme_weekly": THEME_WEEKLY,
    "subtheme_weekly": SUBTHEME_WEEKLY,
    "theme_channel_weekly": THEME_CHANNEL_WEEKLY,
    "weekly_chargeback": WEEKLY_CHARGEBACK,
    "opportunities": OPPORTUNITIES,
    "service_recovery": SERVICE_RECOVERY,
}


def conform(frame: pl.DataFrame, table: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` as exactly the table's columns, in its order, with its types."""
    return frame.select(list(table)).cast(table)


def empty(table: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=table)
