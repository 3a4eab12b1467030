"""Processes that load the warehouse while a flow writes: an editor making tracker
changes through the dashboard's write path, and a reader running dashboard queries and
checking it never sees a half-applied run. Used by bench/concurrency.py and the
concurrency test.

    python bench/load_workers.py editor DB N OUT.json
    python bench/load_workers.py reader DB STOP_FILE OUT.json
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flows.process_setup  # noqa: E402
from warehouse import Warehouse, tracker  # noqa: E402
from warehouse.sql import named_query  # noqa: E402

STATUSES = ["acknowledged", "in_progress", "acknowledged"]


def editor(db: str, n: int, out: str) -> None:
    """``n`` edits, round-robin over the open issues; each is its own transaction."""
    wh = Warehouse(db, lock_timeout=300)
    with wh.read() as con:
        issues = tracker.list_issues(con)["issue_id"].to_list()
    latencies, failures = [], []
    for i in range(n):
        issue = issues[i % len(issues)]
        change = tracker.IssueChange(owner=f"owner-{i}", note=f"edit {i}")
        started = time.perf_counter()
        try:
            with wh.write() as con:
                tracker.update_issue(con, issue, change, "load-editor", datetime.now())
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            failures.append(f"{type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - started)
        time.sleep(0.02)
    Path(out).write_text(json.dumps({"edits": n, "failures": failures, "latencies": latencies}))


def reader(db: str, stop_file: str, out: str) -> None:
    """Dashboard-style reads in a loop; every read checks the ingest invariant: each file's
    loaded rows and its ingest_runs row land together."""
    wh = Warehouse(db, lock_timeout=300)
    reads, violations, latencies = 0, [], []
    while not Path(stop_file).exists():
        started = time.perf_counter()
        with wh.read() as con:
            loaded = con.execute(
                "SELECT coalesce(sum(rows_loaded), 0) FROM ingest_runs"
            ).fetchall()[0][0]
            rows = con.execute(named_query("feedback_count")).fetchall()[0][0]
            con.execute(named_query("list_issues"), {"department": None, "status": None}).fetchall()
            con.execute(named_query("rows_per_channel_week")).fetchall()
        latencies.append(time.perf_counter() - started)
        reads += 1
        if loaded != rows:
            violations.append({"ingest_runs_loaded": loaded, "feedback_rows": rows})
        time.sleep(0.05)
    Path(out).write_text(
        json.dumps({"reads": reads, "violations": violations, "latencies": latencies})
    )


if __name__ == "__main__":
    flows.process_setup.quiet_environment()  # what voc sets for itself: offline, no telemetry
    role, db, arg, out = sys.argv[1:5]
    if role == "editor":
        editor(db, int(arg), out)
    else:
        reader(db, arg, out)
