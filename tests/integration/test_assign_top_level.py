"""Assigning a top-level theme to a department moves the contacts of every sub-theme under
it at once (they follow their top-level theme's route), not only at the next review."""

from __future__ import annotations

from datetime import datetime

from warehouse import Warehouse, core_tables

AT = datetime(2026, 11, 30, 9, 0)


def test_a_groups_department_moves_the_contacts_of_its_sub_themes_now(tmp_path):
    warehouse = Warehouse(tmp_path / "voc.duckdb")
    warehouse.ensure_schema()
    with warehouse.write() as con:
        for theme_id, label, parent, kind in [
            (10, "Billing problems", None, "group"),
            (11, "Charged twice", 10, "fine"),
            (12, "Refund missing", 10, "fine"),
            (13, "Router lights", None, "fine"),
        ]:
            con.execute(
                "INSERT INTO themes (theme_id, label, label_source, status, size, created_at,"
                " updated_at, parent_id, kind) VALUES (?, ?, 'model', 'active', 1, ?, ?, ?, ?)",
                [theme_id, label, AT, AT, parent, kind],
            )
        for fid, theme_id, source in [
            ("a", 11, "theme"),
            ("b", 12, "triage"),
            ("c", 12, "item"),  # routed on its own: stays
            ("d", 13, "theme"),  # another top-level theme: stays
        ]:
            con.execute(
                "INSERT INTO feedback (feedback_id, channel, source_file, source_ref, received_at,"
                " text, run_id, ingested_at) VALUES (?, 'email', 'f', ?, ?, 'text', 'r', ?)",
                [fid, fid, AT, AT],
            )
            con.execute(
                "INSERT INTO feedback_themes (feedback_id, theme_id, model_version, assigned_at)"
                " VALUES (?, ?, 'm', ?)",
                [fid, theme_id, AT],
            )
            con.execute(
                "INSERT INTO feedback_departments (feedback_id, department, confidence, source)"
                " VALUES (?, 'Network', 0.5, ?)",
                [fid, source],
            )
        core_tables.assign_theme_department(
            con, 10, "Billing", "analyst", AT, departments=["Billing", "Network"]
        )
    with warehouse.read() as con:
        got = dict(
            con.execute("SELECT feedback_id, department FROM feedback_departments").fetchall()
        )
    assert got == {"a": "Billing", "b": "Billing", "c": "Network", "d": "Network"}
