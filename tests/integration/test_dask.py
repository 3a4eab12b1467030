"""Scale-out: the same ingest flow on a local Dask cluster (prefect-dask) loads exactly the
rows the default thread pool loads."""

from __future__ import annotations

import duckdb
import pytest
from test_ingest_flow import build_inbox as build_mixed_inbox

from flows.config import load_settings
from flows.ingest import run_ingest


def rows(db) -> tuple[list, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        feedback = con.execute(
            "SELECT feedback_id, channel, source_file, source_ref, customer_ref, received_at, text, score, score_kind, language "
            "FROM feedback ORDER BY feedback_id"
        ).fetchall()
        quarantine = con.execute(
            "SELECT quarantine_id, source_file, source_ref, reason_code FROM quarantine ORDER BY quarantine_id"
        ).fetchall()
    finally:
        con.close()
    return feedback, quarantine


@pytest.mark.slow
def test_dask_runner_loads_the_same_rows_as_the_thread_pool(tmp_path, monkeypatch):
    inbox = build_mixed_inbox(tmp_path)
    monkeypatch.setenv("VOC_CUSTOMER_KEY", "ab" * 32)  # both warehouses hash customers alike
    threads = load_settings(db=tmp_path / "threads.duckdb")
    dask = load_settings(db=tmp_path / "dask.duckdb", task_runner="dask", max_workers=2)
    a = run_ingest([inbox], settings=threads)
    b = run_ingest([inbox], settings=dask)
    assert [(r.source_file, r.rows_loaded, r.rows_quarantined) for r in a] == [
        (r.source_file, r.rows_loaded, r.rows_quarantined) for r in b
    ]
    feedback_a, quarantine_a = rows(threads.db)
    feedback_b, quarantine_b = rows(dask.db)
    assert len(feedback_a) > 10
    assert feedback_a == feedback_b
    assert quarantine_a == quarantine_b
