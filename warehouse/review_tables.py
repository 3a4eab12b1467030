"""Writes of the weekly review's results, inside the caller's transaction: the departments
file as read, the routes of themes and contacts, and the weekly tables (replaced whole;
their columns are warehouse/contract.py's). Issues are not written here: they change
through the tracker only (warehouse/tracker.py)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from warehouse import contract
from warehouse.sql import named_query


def replace_departments(
    con: duckdb.DuckDBPyConnection, departments: pl.DataFrame, at: datetime
) -> None:
    """``departments``: name, description, keywords, head, cost_per_contact (JSON text)."""
    con.register("staged_departments", departments)
    try:
        con.execute(named_query("replace_departments"))
        con.execute(named_query("insert_departments"), {"at": at})
    finally:
        con.unregister("staged_departments")


def write_theme_routes(con: duckdb.DuckDBPyConnection, routes: pl.DataFrame, at: datetime) -> None:
    """Each top-level theme's department and demand type (an analyst's choice is never
    overwritten); a sub-theme carries its top-level theme's. ``routes``: the ``themes``
    frame of ``models.theme_routes.Routing``."""
    for row in routes.iter_rows(named=True):
        con.execute(
            named_query("update_theme_route"),
            {
                "theme_id": row["theme_id"],
                # a theme left for triage keeps routing's best guess as a suggestion
                "department": row["department"]
                if row["source"] != contract.TRIAGE_SOURCE
                else row["best_guess"],
                "confidence": row["confidence"],
                "source": row["source"],
                "at": at,
            },
        )
        if row["demand_source"] != "analyst":
            con.execute(
                named_query("update_theme_demand"),
                {
                    "theme_id": row["theme_id"],
                    "demand_type": row["demand_type"],
                    "demand_subtype": row["demand_subtype"],
                    "demand_reason": row["demand_reason"],
                    "at": at,
                },
            )
    con.execute(named_query("route_sub_themes_with_parents"), {"at": at})
    con.execute(named_query("demand_of_sub_themes_with_parents"), {"at": at})


def write_item_routes(
    con: duckdb.DuckDBPyConnection,
    items: pl.DataFrame,
    router_version: str,
    new_scores: pl.DataFrame | None,
) -> None:
    """Every contact's department (an analyst's stands), and the route scores computed
    this run cached under ``router_version`` (older versions' dropped)."""
    if router_version:
        con.execute(named_query("drop_old_item_routes"), {"router_version": router_version})
        if new_scores is not None and new_scores.height:
            con.register("staged_item_scores", new_scores)
            con.execute(named_query("insert_item_routes"), {"router_version": router_version})
            con.unregister("staged_item_scores")
    con.register("staged_item_routes", items)
    try:
        con.execute(named_query("clear_feedback_departments"))
        con.execute(named_query("insert_feedback_departments"))
    finally:
        con.unregister("staged_item_routes")


def replace_weekly_tables(
    con: duckdb.DuckDBPyConnection,
    *,
    week: date,
    theme_weekly: pl.DataFrame,
    subtheme_weekly: pl.DataFrame,
    channel_weekly: pl.DataFrame,
    chargeback: pl.DataFrame,
    opportunities: pl.DataFrame,
    service_recovery: pl.DataFrame,
) -> None:
    """The weekly tables, recomputed for every week up to ``week``, replace what they held;
    opportunities are replaced for ``week`` only (earlier weeks' stand as they were)."""
    staged = {
        "staged_theme_weekly": contract.conform(theme_weekly, contract.THEME_WEEKLY),
        "staged_subtheme_weekly": contract.conform(subtheme_weekly, contract.SUBTHEME_WEEKLY),
        "staged_channel_weekly": contract.conform(channel_weekly, contract.THEME_CHANNEL_WEEKLY),
        "staged_chargeback": contract.conform(chargeback, contract.WEEKLY_CHARGEBACK),
        "staged_opportunities": contract.conform(opportunities, contract.OPPORTUNITIES),
        "staged_service_recovery": contract.conform(service_recovery, contract.SERVICE_RECOVERY),
    }
    for name, frame in staged.items():
        con.register(name, frame)
    try:
        con.execute(named_query("clear_weekly_tables"))
        con.execute(named_query("insert_theme_weekly"))
        con.execute(named_query("clear_subtheme_weekly"))
        con.execute(named_query("insert_subtheme_weekly"))
        con.execute(named_query("clear_channel_weekly"))
        con.execute(named_query("insert_channel_weekly"))
        con.execute(named_query("clear_chargeback"))
        con.execute(named_query("insert_chargeback"))
        con.execute(named_query("clear_opportunities"), {"week": week})
        con.execute(named_query("insert_opportunities"))
        con.execute(named_query("replace_service_recovery"))
        con.execute(named_query("insert_service_recovery"))
    finally:
        for name in staged:
            con.unregister(name)
