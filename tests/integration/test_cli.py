"""The `voc` command as a person types it: summaries, clear errors, the tracker, exports."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from typer.testing import CliRunner

from flows.cli import app
from warehouse import Warehouse, tracker

runner = CliRunner(env={"COLUMNS": "220"})


def voc(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def write_inbox(tmp_path):
    surveys = tmp_path / "inbox" / "surveys"
    surveys.mkdir(parents=True)
    (surveys / "nps.csv").write_text(
        "ResponseId,RecordedDate,NPS,Comment\n"
        "R1,2026-10-01 09:00:00,2,Engineer never came\n"
        "R2,2026-10-01 10:00:00,99,Out of range\n"
        "R3,2026-10-02 10:00:00,9,Lovely install\n"
    )
    return tmp_path / "inbox"


def test_ingest_prints_a_summary_and_status_reports_it(tmp_path):
    db = str(tmp_path / "voc.duckdb")
    out = voc("ingest", str(write_inbox(tmp_path)), "--db", db).output
    assert "nps.csv" in out and "quarantin" in out
    status = voc("status", "--db", db).output
    assert "2 feedback rows" in status and "bad_score" in status and "2026-W40" in status


def test_bad_options_are_refused_with_a_reason(tmp_path):
    inbox = str(write_inbox(tmp_path))
    db = str(tmp_path / "voc.duckdb")
    assert (
        "role 'txt' is unknown"
        in voc("ingest", inbox, "--map", "txt=Comment", "--db", db, code=2).output
    )
    assert "role=column" in voc("ingest", inbox, "--map", "Comment", "--db", db, code=2).output
    assert (
        "channel must be one of"
        in voc("ingest", inbox, "--channel", "fax", "--db", db, code=2).output
    )
    assert (
        "ISO date" in voc("ingest", inbox, "--received-at", "yesterday", "--db", db, code=2).output
    )


def test_an_unusable_warehouse_path_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = voc("ingest", str(write_inbox(tmp_path)), "--db", str(blocker / "voc.duckdb"), code=2)
    assert "error:" in result.output and "Traceback" not in result.output


def test_status_without_a_warehouse_says_what_to_do(tmp_path):
    assert "voc ingest" in voc("status", "--db", str(tmp_path / "none.duckdb"), code=1).output


def test_issue_updates_go_through_the_tracker_and_bad_ones_are_refused(tmp_path):
    db = tmp_path / "voc.duckdb"
    wh = Warehouse(db)
    with wh.write() as con:
        issue = tracker.create_issue(
            con,
            theme_id=1,
            title="Engineer no-shows",
            department="Field Operations",
            priority="P2",
            due_date=date(2026, 12, 1),
            opened_reason="costly",
            week=date(2026, 11, 16),
            weekly_volume=40,
            weekly_cost=300.0,
            at=datetime(2026, 11, 23),
        )
    out = voc(
        "issues",
        "update",
        str(issue),
        "--status",
        "acknowledged",
        "--owner",
        "Sam",
        "--note",
        "looking",
        "--actor",
        "head.fieldops",
        "--db",
        str(db),
    ).output
    assert "acknowledged" in out
    refused = voc(
        "issues", "update", str(issue), "--status", "verified", "--db", str(db), code=1
    ).output
    assert "cannot become verified" in refused
    assert (
        "goes with --status fixed"
        in voc(
            "issues", "update", str(issue), "--fixed-on", "2026-11-02", "--db", str(db), code=2
        ).output
    )
    listing = voc("issues", "list", "--department", "Field Operations", "--db", str(db)).output
    assert "Engineer no-shows" in listing and "Sam" in listing
    history = voc("issues", "history", str(issue), "--db", str(db)).output
    assert "head.fieldops" in history and "looking" in history
    assert voc("issues", "list", "--status", "nonsense", "--db", str(db), code=2)


def test_export_writes_csv_and_parquet(tmp_path):
    db = str(tmp_path / "voc.duckdb")
    voc("ingest", str(write_inbox(tmp_path)), "--db", db)
    csv, parquet = tmp_path / "q.csv", tmp_path / "q.parquet"
    voc("export", "quarantine", "--out", str(csv), "--db", db)
    voc("export", "quarantine", "--format", "parquet", "--out", str(parquet), "--db", db)
    assert pl.read_csv(csv)["reason_code"].to_list() == ["bad_score"]
    assert pl.read_parquet(parquet).height == 1
    assert "choose one of" in voc("export", "secrets", "--db", db, code=2).output
