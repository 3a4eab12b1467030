"""Schedules on a real Prefect server: `voc serve` serves the inbox sweep and the weekly
review; a triggered sweep run completes and loads the inbox, once, without touching it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshot(folder: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def trigger(name: str, api: str, timeout: float = 240):
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.time() + timeout
    with temporary_settings(updates={PREFECT_API_URL: api}):
        while True:
            try:
                return run_deployment(name, timeout=timeout, poll_interval=1)
            except ObjectNotFound:  # `voc serve` has not registered it yet
                if time.time() > deadline:
                    raise
                time.sleep(1)


@pytest.mark.slow
def test_served_sweep_runs_to_completion_on_a_real_server(tmp_path):
    from flows.serve import start_server, stop_server

    inbox = tmp_path / "inbox" / "surveys"
    inbox.mkdir(parents=True)
    (inbox / "nps.csv").write_text(
        "ResponseId,RecordedDate,NPS,Comment\nR1,2026-11-16 09:00:00,3,The engineer never came\nR2,2026-11-17 09:00:00,9,Quick install\n"
    )
    before = snapshot(tmp_path / "inbox")
    db = tmp_path / "voc.duckdb"
    # a server of its own: a shared Prefect home may still hold an "inbox-sweep" deployment
    # registered by an earlier run with another --db, and a trigger could reach that one first
    server, api = start_server(free_port(), home=tmp_path / "prefect-home")
    env = {
        **os.environ,
        "PREFECT_API_URL": api,
        "VOC_INBOX": str(tmp_path / "inbox"),
        "DO_NOT_TRACK": "1",
        "PYTHONPATH": str(ROOT),
    }
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "serve",
            "--db",
            str(db),
            "--timezone",
            "Europe/London",
            "--embedder",
            "tfidf",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        run = trigger("voc-inbox-sweep/inbox-sweep", api)
        assert run.state.is_completed(), run.state
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT count(*) FROM feedback").fetchall()[0][0] == 2
        con.close()
        again = trigger("voc-inbox-sweep/inbox-sweep", api)  # nothing new: nothing taken twice
        assert again.state.is_completed()
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT count(*) FROM ingest_runs").fetchall()[0][0] == 1
        con.close()
        assert snapshot(tmp_path / "inbox") == before  # the inbox is never modified
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
        stop_server(server)


def test_schedules_and_last_complete_week():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flows.serve import deployments, last_complete_week

    sweep, review = deployments(
        "/in",
        "/db",
        "/d.yaml",
        timezone="Europe/London",
        sweep_cron="0 * * * *",
        weekly_cron="0 6 * * 1",
    )
    assert sweep.name == "inbox-sweep" and review.name == "weekly-review"
    cron = review.schedules[0].schedule
    assert cron.cron == "0 6 * * 1" and cron.timezone == "Europe/London"
    assert (
        last_complete_week(
            datetime(2026, 11, 23, 6, 0, tzinfo=ZoneInfo("Europe/London")), "Europe/London"
        )
        == "2026-W47"
    )
