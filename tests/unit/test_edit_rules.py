"""Edit rules live in the warehouse's write functions: the CLI and the dashboard get the
same answer because they call the same code."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from typer.testing import CliRunner

from warehouse import core_tables, edit_rules, tracker
from warehouse.clock import utc_now


def test_labels_are_one_line_of_1_to_120_characters():
    assert edit_rules.label("  Engineer\n  no-shows ") == "Engineer no-shows"
    assert edit_rules.label("x" * 120) == "x" * 120
    for bad in ("", "   \n", "x" * 121):
        with pytest.raises(edit_rules.InvalidEdit, match="a label is 1-120 characters"):
            edit_rules.label(bad)


def test_due_dates_are_dates_or_iso_text():
    assert edit_rules.due_date(date(2026, 12, 1)) == date(2026, 12, 1)
    assert edit_rules.due_date(datetime(2026, 12, 1, 9, 30)) == date(2026, 12, 1)
    assert edit_rules.due_date("2026-12-01") == date(2026, 12, 1)
    assert edit_rules.due_date("2026-12-01T00:00:00") == date(2026, 12, 1)  # a data editor's
    with pytest.raises(edit_rules.InvalidEdit, match="use ISO dates such as 2026-12-01") as bad:
        edit_rules.due_date("next friday")
    assert bad.value.field == "due_date"


def test_departments_must_be_known_when_any_are():
    known = {"Billing", "Network"}
    assert edit_rules.department(" Billing ", known) == "Billing"
    assert edit_rules.department("Anything", set()) == "Anything"
    with pytest.raises(edit_rules.InvalidEdit, match="unknown department 'Biling'"):
        edit_rules.department("Biling", known)
    with pytest.raises(edit_rules.InvalidEdit, match="needs a name"):
        edit_rules.department("  ", known)


def test_owners_and_texts_are_trimmed_and_bounded():
    assert edit_rules.text("  Sam ", "owner") == "Sam"
    assert edit_rules.text("   ", "owner") is None  # empty clears the field
    with pytest.raises(edit_rules.InvalidEdit, match="owner is longer than 4000"):
        edit_rules.text("x" * 4001, "owner")


def _theme(con, theme_id: int = 1, label: str = "Broadband drops") -> None:
    con.execute(
        "INSERT INTO themes (theme_id, label, created_at, updated_at) VALUES (?, ?, ?, ?)",
        [theme_id, label, utc_now(), utc_now()],
    )


def test_the_repo_checks_a_label_whoever_calls_it(warehouse):
    with warehouse.write() as con:
        _theme(con)
        with pytest.raises(edit_rules.InvalidEdit):
            core_tables.rename_theme(con, 1, "x" * 121, "alice", utc_now())
        assert core_tables.rename_theme(con, 1, "  Evening\tdrop-outs ", "alice", utc_now()) == (
            "Evening drop-outs"
        )
        assert core_tables.theme_by_id(con, 1)["label"] == "Evening drop-outs"


def test_the_tracker_checks_due_dates_and_owners(warehouse):
    with warehouse.write() as con:
        issue = tracker.create_issue(
            con,
            theme_id=1,
            title="Drops",
            department="Network",
            priority="P2",
            due_date=None,
            opened_reason="costly",
            week=date(2026, 11, 16),
            weekly_volume=10,
            weekly_cost=100.0,
            at=utc_now(),
        )
        row = tracker.update_issue(
            con, issue, tracker.IssueChange(due_date="2026-12-24", owner=" Sam "), "a", utc_now()
        )
        assert row["due_date"] == date(2026, 12, 24) and row["owner"] == "Sam"
        with pytest.raises(edit_rules.InvalidEdit, match="ISO dates"):
            tracker.update_issue(con, issue, tracker.IssueChange(due_date="soon"), "a", utc_now())


def test_the_cli_reports_the_write_paths_refusals_as_before(tmp_path, warehouse):
    from flows.cli import app

    with warehouse.write() as con:
        _theme(con)
    db = str(warehouse.path)
    runner = CliRunner()
    long = runner.invoke(app, ["themes", "rename", "1", "x" * 121, "--db", db])
    assert long.exit_code == 2 and "a label is 1-120 characters" in long.output
    blank = runner.invoke(app, ["themes", "rename", "1", "   ", "--db", db])
    assert blank.exit_code == 2 and "a label is 1-120 characters" in blank.output
    fine = runner.invoke(app, ["themes", "rename", "1", " Evening  drop-outs ", "--db", db])
    assert fine.exit_code == 0 and "Evening drop-outs" in fine.output
