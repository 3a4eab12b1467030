"""One clock: edits made from the CLI and from the dashboard, on a machine whose local
time is New York's, land in ``theme_events`` and ``issue_events`` in UTC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# runs in a process whose local time zone is America/New_York (TZ is read at start-up)
_EDITS = """
import json, sys, time
from datetime import UTC, datetime

from typer.testing import CliRunner

from dashboard import data
from flows.cli import app

assert time.localtime().tm_gmtoff in (-5 * 3600, -4 * 3600), time.localtime()
db, cli_issue, dashboard_issue = sys.argv[1], sys.argv[2], int(sys.argv[3])
runner = CliRunner()


def voc(*args):
    result = runner.invoke(app, [*args, "--actor", "clock.cli", "--db", db])
    assert result.exit_code == 0, result.output


start = datetime.now(UTC).replace(tzinfo=None)
voc("themes", "rename", "3", "Engineer no-shows")
voc("themes", "merge", "2", "8")
voc("themes", "assign", "6", "Billing")
voc("themes", "demand", "7", "failure")
voc("themes", "move", "2", "3", "--new-group", "Clock group")
voc("themes", "move", "3", "--top")
voc("themes", "split", "2", "--keyword", "refund")
voc("issues", "update", cli_issue, "--status", "acknowledged", "--owner", "Sam", "--due", "2027-01-08")
analyst = data.Viewer("clock.dashboard", "Clock Analyst", "analyst")
data.rename_theme(analyst, 4, "Router will not connect")
data.set_theme_demand(analyst, 5, "value", "people asking to upgrade")
data.assign_theme_department(analyst, 9, "Digital")
data.merge_themes(analyst, keep=1, absorbed=4)
group = data.create_group(analyst, "Clock dashboard group", [5, 7])
data.move_theme(analyst, 6, group)
data.split_theme(analyst, 9, keyword="router")
other = data.create_group(analyst, "Clock other group", [1])
data.split_group(analyst, group, "Clock split group", [7])
data.merge_themes(analyst, keep=group, absorbed=other)
data.update_issue(analyst, dashboard_issue, owner="Ana", due_date="2027-01-15", note="on it")
end = datetime.now(UTC).replace(tzinfo=None)
print(json.dumps({"start": start.isoformat(), "end": end.isoformat()}))
"""


def test_cli_and_dashboard_edits_are_stamped_in_utc_on_a_new_york_machine(sample):
    from warehouse import Warehouse

    env = {
        **os.environ,
        "TZ": "America/New_York",
        "VOC_DB": str(sample.path),
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _EDITS,
            str(sample.path),
            str(sample.issues["billing_new"]),
            str(sample.issues["network_overdue"]),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    span = json.loads(out.stdout.strip().splitlines()[-1])
    start = datetime.fromisoformat(span["start"]) - timedelta(seconds=1)
    end = datetime.fromisoformat(span["end"]) + timedelta(seconds=1)
    with Warehouse(sample.path).read() as con:
        events = con.execute(
            """
            SELECT 'theme_events', actor, field, "at" FROM theme_events
            WHERE actor LIKE 'clock.%'
            UNION ALL
            SELECT 'issue_events', actor, field, "at" FROM issue_events
            WHERE actor LIKE 'clock.%'
            """
        ).fetchall()
    made = {(table, actor) for table, actor, _, _ in events}
    assert made == {
        ("theme_events", "clock.cli"),
        ("theme_events", "clock.dashboard"),
        ("issue_events", "clock.cli"),
        ("issue_events", "clock.dashboard"),
    }
    assert len(events) >= 12
    # the theme map's edits too: moves, new groups, splits at both levels, group merges
    fields = {(actor, field) for _, actor, field, _ in events}
    for actor in ("clock.cli", "clock.dashboard"):
        assert {(actor, "parent_id"), (actor, "created"), (actor, "split")} <= fields
    with Warehouse(sample.path).read() as con:
        made = con.execute(
            "SELECT created_at, updated_at FROM themes WHERE origin = 'analyst'"
        ).fetchall()
        lineage = con.execute(
            "SELECT \"at\" FROM theme_lineage WHERE run_id = 'analyst-edit'"
        ).fetchall()
    assert len(made) >= 6 and len(lineage) >= 4
    stamps = [t for row in made for t in row] + [row[0] for row in lineage]
    assert all(start <= t <= end for t in stamps), f"not UTC: {stamps}"
    off = [(t, a, f, str(at)) for t, a, f, at in events if not start <= at <= end]
    assert not off, f"events not stamped in UTC (between {start} and {end}): {off}"
