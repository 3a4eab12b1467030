"""Faults: a flow killed with SIGKILL half-way leaves the warehouse consistent, and running
it again finishes the job with every record present exactly once. A warehouse that cannot
be written gives one clear line, not a traceback."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "DO_NOT_TRACK": "1", "PYTHONPATH": str(ROOT), "VOC_LOCK_TIMEOUT": "60"}
    api = PREFECT_API_URL.value()
    if api:
        env["PREFECT_API_URL"] = api  # the session's Prefect server: no start-up per process
    return env


def start_voc(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def run_voc(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def count(db: Path, sql: str) -> int:
    """Read with a connection of our own once no writer holds the file."""
    deadline = time.time() + 60
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            try:
                return int(con.execute(sql).fetchall()[0][0])
            finally:
                con.close()
        except duckdb.IOException:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def crash_at(point: str, tmp_path: Path, *args: str) -> None:
    """Run ``voc *args`` until it dies by SIGKILL at the crash point ``point``
    (flows/process_setup.py ``crash_point``): the same kill on every machine, however fast."""
    log = tmp_path / f"crash-{point}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *args],
            cwd=ROOT,
            env={**_env(), "VOC_CRASH_AT": point},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        code = proc.wait(600)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything it started dies with it
    except ProcessLookupError:
        pass
    assert code == -signal.SIGKILL, (
        f"voc {args[0]} never reached {point} (exit {code}):\n"
        + (log.read_text(errors="replace")[-3000:])
    )


def make_batch(folder: Path, files: int, rows: int) -> int:
    folder.mkdir(parents=True)
    for f in range(files):
        pl.DataFrame(
            {
                "ResponseId": [f"F{f}-R{i}" for i in range(rows)],
                "RecordedDate": [f"2026-10-{1 + i % 28:02d} 10:00:00" for i in range(rows)],
                "NPS": [i % 11 for i in range(rows)],
                "Comment": [
                    f"file {f} row {i}: the engineer never came and nobody called back about order {i}"
                    for i in range(rows)
                ],
            }
        ).write_csv(folder / f"export_{f:03d}.csv")
    return files * rows


def consistent(db: Path) -> None:
    """No file's rows without its ingest_runs row, nor the other way round."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        mismatched = con.execute(
            "SELECT count(*) FROM ingest_runs r "
            "LEFT JOIN (SELECT run_id, source_file, count(*) AS n FROM feedback GROUP BY ALL) f USING (run_id, source_file) "
            "WHERE r.rows_loaded <> coalesce(f.n, 0)"
        ).fetchall()[0][0]
        orphans = con.execute(
            "SELECT count(*) FROM feedback f ANTI JOIN ingest_runs r ON r.run_id = f.run_id AND r.source_file = f.source_file"
        ).fetchall()[0][0]
        duplicated = con.execute(
            "SELECT count(*) - count(DISTINCT feedback_id) FROM feedback"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert (mismatched, orphans, duplicated) == (0, 0, 0)


@pytest.mark.slow
def test_ingest_killed_mid_batch_is_consistent_and_a_rerun_completes_it(tmp_path):
    inbox = tmp_path / "surveys"
    expected = make_batch(inbox, files=60, rows=4_000)  # written in two transactions
    db = tmp_path / "voc.duckdb"

    # killed after its first write transaction committed: some files in, the rest not
    crash_at("ingest.batch-written", tmp_path, "ingest", str(inbox), "--db", str(db))
    loaded_before = count(db, "SELECT count(*) FROM feedback")
    files_before = count(db, "SELECT count(*) FROM ingest_runs")
    assert 0 < loaded_before < expected  # it really died half-way
    consistent(db)

    # killed inside a transaction, one file recorded and not committed: none of it is kept
    crash_at("ingest.writing", tmp_path, "ingest", str(inbox), "--db", str(db))
    assert count(db, "SELECT count(*) FROM feedback") == loaded_before
    assert count(db, "SELECT count(*) FROM ingest_runs") == files_before
    consistent(db)

    run_voc("ingest", str(inbox), "--db", str(db))
    consistent(db)
    assert count(db, "SELECT count(*) FROM feedback") == expected
    assert count(db, "SELECT count(DISTINCT feedback_id) FROM feedback") == expected
    assert count(db, "SELECT count(*) FROM quarantine") == 0


@pytest.mark.slow
def test_topics_and_weekly_killed_mid_run_recover(tmp_path, shared_data):
    frame = pl.read_csv(shared_data("banking77", "test.csv")).with_row_index("id", offset=1)
    csv = tmp_path / "complaints.csv"
    frame.with_columns(pl.lit("2026-11-10").alias("date")).write_csv(csv)
    db = tmp_path / "voc.duckdb"
    run_voc("ingest", str(csv), "--channel", "complaint", "--db", str(db))
    total = count(db, "SELECT count(*) FROM feedback")
    assert total > 2_048  # more than one embedding chunk

    # MiniLM embeds in chunks, each in its own transaction: killed after the first one
    crash_at("topics.embedded-chunk", tmp_path, "topics", "--db", str(db))
    embedded = count(db, "SELECT count(*) FROM embeddings")
    assert 0 < embedded < total
    assert count(db, "SELECT count(*) FROM feedback_themes") == 0

    # killed with every theme written but not committed: nothing of that run is kept
    crash_at("topics.writing-themes", tmp_path, "topics", "--db", str(db))
    assert count(db, "SELECT count(*) FROM embeddings") == total  # the chunks it finished stay
    for sql in (
        "SELECT count(*) FROM feedback_themes",
        "SELECT count(*) FROM themes WHERE theme_id <> 0",  # 0 is "Unclassified", from the schema
        "SELECT count(*) FROM topic_runs",
    ):
        assert count(db, sql) == 0, sql

    run_voc("topics", "--db", str(db))
    assert count(db, "SELECT count(*) FROM embeddings") == total
    assert count(db, "SELECT count(*) FROM feedback_themes") == total
    themes_before = count(db, "SELECT count(*) FROM themes")
    assert themes_before > 0

    # killed with issues opened and the weekly tables replaced, before the commit
    crash_at("weekly.writing", tmp_path, "weekly", "--db", str(db))
    for sql in (
        "SELECT count(*) FROM weekly_runs",
        "SELECT count(*) FROM issues",
        "SELECT count(*) FROM issue_events",
        "SELECT count(*) FROM theme_weekly",
    ):
        assert count(db, sql) == 0, sql

    run_voc("weekly", "--db", str(db))
    assert count(db, "SELECT count(*) FROM weekly_runs WHERE status = 'ok'") == 1
    assert count(db, "SELECT count(*) FROM issues") > 0
    assert (
        count(db, "SELECT count(*) - count(DISTINCT (week_start, theme_id)) FROM theme_weekly") == 0
    )
    open_per_theme = count(
        db,
        "SELECT coalesce(max(n), 0) FROM (SELECT theme_id, count(*) AS n FROM issues WHERE status NOT IN ('verified', 'closed') GROUP BY 1)",
    )
    assert open_per_theme <= 1
    assert count(db, "SELECT count(*) FROM themes") == themes_before


def test_a_warehouse_that_cannot_grow_is_one_clear_line(tmp_path):
    """A full disk, simulated with a file-size limit on the process (EFBIG)."""
    inbox = tmp_path / "surveys"
    make_batch(inbox, files=2, rows=20_000)
    db = tmp_path / "voc.duckdb"

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))

    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "ingest", str(inbox), "--db", str(db)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "error:" in output and "Traceback" not in output, output[-3000:]
