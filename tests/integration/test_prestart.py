"""A flow command starts Prefect's temporary server early, in the background, and waits for
it before the flow; it never starts a second server beside one already configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows import runtime

ROOT = Path(__file__).resolve().parents[2]


def _run_cold(tmp_path: Path, script: str, **env_extra: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh Python with no Prefect server configured anywhere, its own
    PREFECT_HOME and warehouse, and a one-response survey inbox as ``sys.argv[1]``."""
    inbox = tmp_path / "surveys"
    inbox.mkdir()
    (inbox / "nps.csv").write_text(
        "ResponseId,Date,NPS,Comment\nR1,2026-10-01,3,No engineer came\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"), VOC_DB=str(tmp_path / "voc.duckdb"), **env_extra
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(inbox)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


@pytest.fixture
def no_early_start(monkeypatch):
    monkeypatch.setattr(runtime, "_server_start", [])
    return runtime._server_start


def test_nothing_starts_when_an_api_url_is_set(no_early_start, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    runtime.prestart_prefect_server()
    assert no_early_start == []


def test_nothing_starts_beside_the_test_harness_server(no_early_start):
    # the session's prefect_test_harness sets the API URL in this thread's context only
    from prefect.settings import PREFECT_API_URL

    assert PREFECT_API_URL.value(), "the harness should be active in integration tests"
    assert "PREFECT_API_URL" not in os.environ
    runtime.prestart_prefect_server()
    assert no_early_start == []
    runtime.prefect_server_ready()  # nothing to wait for


@pytest.mark.slow
def test_a_cold_cli_ingest_uses_the_early_server_and_exits_cleanly(tmp_path):
    """`voc ingest` with no Prefect server anywhere: one temporary server, started early,
    runs the flow."""
    script = (
        "import sys\n"
        "from flows import runtime\n"
        "from flows.cli import app\n"
        "try:\n"
        "    app(['ingest', sys.argv[1], '-v'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "from prefect.server.api.server import SubprocessASGIServer as S\n"
        "assert len(runtime._server_start) == 1, runtime._server_start\n"
        "servers = [s for s in S._instances.values() if s.server_process is not None]\n"
        "print('SERVERS', len(servers))\n"
    )
    out = _run_cold(tmp_path, script, PYTHONPATH=str(ROOT), PREFECT_LOGGING_LEVEL="DEBUG")
    assert "SERVERS 1" in out.stdout
    con = duckdb.connect(str(tmp_path / "voc.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT text FROM feedback").fetchall() == [("No engineer came",)]
        assert con.execute("SELECT count(*) FROM ingest_runs").fetchone() == (1,)
    finally:
        con.close()


@pytest.mark.slow
def test_the_demo_stops_its_temporary_server_before_becoming_the_dashboard(tmp_path):
    """`voc demo` ends by replacing itself with Streamlit (exec): Prefect's exit hook never
    runs there, so the temporary server must be stopped before, or it runs on forever."""
    script = (
        "import os, sys\n"
        "from flows import cli\n"
        "from flows.config import load_settings\n"
        "from flows.ingest import run_ingest\n"
        "from prefect.server.api.server import SubprocessASGIServer as S\n"
        "run_ingest([sys.argv[1]], settings=load_settings())\n"
        "procs = [s.server_process for s in S._instances.values() if s.server_process]\n"
        "assert len(procs) == 1 and procs[0].poll() is None, procs\n"
        "def exec_instead(file, args, env):\n"
        "    print('EXEC', args[2], 'server exit code', procs[0].poll())\n"
        "    sys.exit(0)\n"
        "os.execvpe = exec_instead\n"
        "cli.dashboard(port=8599, address='127.0.0.1', db=None)\n"
    )
    out = _run_cold(tmp_path, script)
    line = next(x for x in out.stdout.splitlines() if x.startswith("EXEC"))
    assert line.startswith("EXEC streamlit"), line
    assert not line.endswith("None"), f"the temporary Prefect server was still running: {line}"
