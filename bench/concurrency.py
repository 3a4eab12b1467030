"""Concurrency under load: while a 300,000-row ingest runs, a second process makes 200
tracker edits through the dashboard's write path and a third reads dashboard queries in a
loop. Reports edits lost and failed (bar: 0 and 0), the edit latency (median, p99), and
whether any read saw a half-applied run (bar: never).

    .venv/bin/python bench/concurrency.py [--rows 300000] [--edits 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, base_env, prefect_server  # noqa: E402
from bench.ingest import make_csv  # noqa: E402


def seed_issues(db: Path, n: int = 30) -> None:
    from warehouse import Warehouse, tracker

    wh = Warehouse(db)
    with wh.write() as con:
        for i in range(n):
            tracker.create_issue(
                con,
                theme_id=1000 + i,
                title=f"theme {i}",
                department="Billing" if i % 2 else "Network",
                priority="P3",
                due_date=date(2026, 12, 31),
                opened_reason="load test",
                week=date(2026, 11, 16),
                weekly_volume=10,
                weekly_cost=50.0,
                at=datetime.now(),
            )


def run(rows: int, edits: int, work: Path, env: dict) -> dict:
    csv = work / "surveys.csv"
    make_csv(csv, rows)
    db = work / "voc.duckdb"
    seed_issues(db)
    stop = work / "stop"
    workers = ROOT / "bench" / "load_workers.py"
    started = time.perf_counter()
    ingest = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "ingest",
            str(csv),
            "--channel",
            "survey",
            "--db",
            str(db),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    reader = subprocess.Popen(
        [sys.executable, str(workers), "reader", str(db), str(stop), str(work / "reader.json")],
        cwd=ROOT,
        env=env,
    )
    editor = subprocess.Popen(
        [sys.executable, str(workers), "editor", str(db), str(edits), str(work / "editor.json")],
        cwd=ROOT,
        env=env,
    )
    editor.wait()
    ingest_err = ingest.communicate()[1]
    ingest_seconds = time.perf_counter() - started
    stop.write_text("stop")
    reader.wait()
    edited = json.loads((work / "editor.json").read_text())
    reads = json.loads((work / "reader.json").read_text())
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    landed = con.execute(
        "SELECT count(DISTINCT note) FROM issue_events WHERE actor = 'load-editor'"
    ).fetchall()[0][0]
    loaded = con.execute("SELECT count(*) FROM feedback").fetchall()[0][0]
    con.close()
    lat = sorted(edited["latencies"])
    return {
        "rows": rows,
        "loaded": loaded,
        "ingest_ok": ingest.returncode == 0,
        "ingest_stderr": ingest_err[-500:],
        "ingest_seconds": ingest_seconds,
        "edits": edits,
        "edits_landed": landed,
        "edits_failed": len(edited["failures"]),
        "failures": edited["failures"][:5],
        "edit_median": statistics.median(lat),
        "edit_p99": lat[max(0, int(len(lat) * 0.99) - 1)],
        "edit_max": lat[-1],
        "reads": reads["reads"],
        "read_violations": len(reads["violations"]),
        "read_median": statistics.median(reads["latencies"]) if reads["latencies"] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--edits", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="voc-bench-concurrency-") as tmp,
        prefect_server(base_env()) as env,
    ):
        r = run(args.rows, args.edits, Path(tmp), env)
    print(
        f"ingest of {r['rows']:,} rows: {'ok' if r['ingest_ok'] else 'FAILED'} in {r['ingest_seconds']:.1f}s, {r['loaded']:,} loaded"
    )
    print(
        f"edits: {r['edits']} made, {r['edits_landed']} landed, {r['edits'] - r['edits_landed']} lost, {r['edits_failed']} failed "
        f"(bar 0 lost, 0 failed) — latency median {r['edit_median'] * 1000:.0f} ms, p99 {r['edit_p99'] * 1000:.0f} ms, max {r['edit_max'] * 1000:.0f} ms"
    )
    print(
        f"reads: {r['reads']} dashboard reads, median {r['read_median'] * 1000:.0f} ms; half-applied runs seen: {r['read_violations']} (bar 0)"
    )
    if r["failures"]:
        print("failures:", *r["failures"], sep="\n  ")


if __name__ == "__main__":
    main()
