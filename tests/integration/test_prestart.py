"""A flow command launches Prefect's temporary server itself as it begins, and points the
flow at it once it answers; it never starts a second server beside one already configured,
and never leaves one running."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows import process_setup

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
    monkeypatch.setattr(process_setup, "_early", [])
    return process_setup._early


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by a parent that is gone) is not running
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_nothing_starts_when_an_api_url_is_set(no_early_start, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    process_setup.prestart_prefect_server()
    assert no_early_start == []


def test_nothing_starts_beside_the_test_harness_server(no_early_start):
    # the session's prefect_test_harness sets the API URL in this thread's context only
    from prefect.settings import PREFECT_API_URL

    assert PREFECT_API_URL.value(), "the harness should be active in integration tests"
    assert "PREFECT_API_URL" not in os.environ
    process_setup.prestart_prefect_server()
    assert no_early_start == []
    process_setup.prefect_server_ready()  # nothing to wait for


@pytest.mark.slow
def test_a_cold_cli_ingest_runs_on_the_early_server_and_leaves_nothing_running(tmp_path):
    """`voc ingest` with no Prefect server anywhere: the server voc launched as the command
    began runs the flow; Prefect neither starts a second one nor loads its server code
    into the command's process; the server is gone when the command is."""
    script = (
        "import sys\n"
        "from flows import process_setup\n"
        "from flows.cli import app\n"
        "try:\n"
        "    app(['ingest', sys.argv[1], '-v'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "[early] = process_setup._early\n"
        "assert early.adopted and early.process.poll() is None\n"
        "from prefect.settings import PREFECT_API_URL\n"
        "assert PREFECT_API_URL.value() == early.api_url, PREFECT_API_URL.value()\n"
        "print('SERVER CODE LOADED', 'prefect.server.api.server' in sys.modules)\n"
        "print('PID', early.process.pid)\n"
    )
    out = _run_cold(tmp_path, script, PYTHONPATH=str(ROOT), PREFECT_LOGGING_LEVEL="DEBUG")
    assert "SERVER CODE LOADED False" in out.stdout
    pid = int(out.stdout.split("PID ")[1].split()[0])
    assert _gone_within(pid, 10), "the temporary Prefect server outlived the command"
    con = duckdb.connect(str(tmp_path / "voc.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT text FROM feedback").fetchall() == [("No engineer came",)]
        assert con.execute("SELECT count(*) FROM ingest_runs").fetchone() == (1,)
    finally:
        con.close()


@pytest.mark.slow
def test_a_cold_command_delivers_its_run_log_before_the_server_stops(tmp_path):
    """The command ends through voc's own exit (exit hooks, no teardown): the run's last
    log lines reach the temporary server before it is stopped. Stopped first, they were
    lost, and logging's exit flush waited 5 s on a worker that could not deliver them."""
    script = (
        "import sys\n"
        "sys.argv = ['voc', 'ingest', sys.argv[1]]\n"
        "from flows.cli import main\n"
        "main()\n"
    )
    out = _run_cold(tmp_path, script, PYTHONPATH=str(ROOT))
    assert "Error logging to API" not in out.stderr, out.stderr[-3000:]
    con = sqlite3.connect(tmp_path / "prefect" / "prefect.db")
    try:
        logged = [row[0] for row in con.execute("SELECT message FROM log ORDER BY timestamp")]
    finally:
        con.close()
    assert any(m.startswith("surveys/nps.csv [survey]: read 1, loaded 1") for m in logged), logged
    assert logged[-1] == "Finished in state Completed()", logged


@pytest.mark.slow
def test_the_early_server_dies_with_a_killed_command(tmp_path):
    """SIGKILL runs no exit hook: the server goes anyway (parent-death signal)."""
    script = (
        "import os, signal, sys\n"
        "from flows import process_setup\n"
        "process_setup.prestart_prefect_server()\n"
        "print('PID', process_setup._early[0].process.pid, flush=True)\n"
        "process_setup.prefect_server_ready()\n"
        "assert process_setup._early[0].adopted\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == -signal.SIGKILL, out.stderr[-3000:]
    pid = int(out.stdout.split("PID ")[1].split()[0])
    assert _gone_within(pid, 10), "the server outlived the killed command"


@pytest.mark.slow
def test_an_api_named_by_prefect_settings_wins_over_the_early_server(tmp_path):
    """A Prefect profile (here: settings in context) can name an API that the environment
    does not show; the early server is then stopped and the named API is kept."""
    script = (
        "import os\n"
        "from flows import process_setup\n"
        "process_setup.prestart_prefect_server()\n"
        "[early] = process_setup._early\n"
        "process = early.process\n"
        "from prefect.settings import PREFECT_API_URL, temporary_settings\n"
        "with temporary_settings({PREFECT_API_URL: 'http://127.0.0.1:9/api'}):\n"
        "    process_setup.prefect_server_ready()\n"
        "    assert PREFECT_API_URL.value() == 'http://127.0.0.1:9/api'\n"
        "assert not early.adopted and process.poll() is not None\n"
        "assert 'PREFECT_API_URL' not in os.environ\n"
        "print('OK')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("started_by", ["voc", "prefect"])
def test_the_demo_stops_its_temporary_server_before_becoming_the_dashboard(tmp_path, started_by):
    """`voc demo` ends by replacing itself with Streamlit (exec): no exit hook runs there,
    so the temporary server (launched early by voc, or by Prefect itself when the flow
    began) must be stopped before, or it runs on forever; and the dashboard must not be
    handed its address."""
    script = (
        "import os, sys\n"
        "from flows import cli, process_setup\n"
        "from flows.config import load_settings\n"
        + ("process_setup.prestart_prefect_server()\n" if started_by == "voc" else "")
        + "from flows.ingest import run_ingest\n"
        "from prefect.server.api.server import SubprocessASGIServer as S\n"
        "run_ingest([sys.argv[1]], settings=load_settings())\n"
        "procs = [s.server_process for s in S._instances.values() if s.server_process]\n"
        "procs += [e.process for e in process_setup._early if e.process]\n"
        "assert len(procs) == 1 and procs[0].poll() is None, procs\n"
        "def exec_instead(file, args, env):\n"
        "    print('EXEC', args[2], 'API', env.get('PREFECT_API_URL'),\n"
        "          'server exit code', procs[0].poll())\n"
        "    sys.exit(0)\n"
        "os.execvpe = exec_instead\n"
        "cli.dashboard(port=8599, address='127.0.0.1', db=None)\n"
    )
    out = _run_cold(tmp_path, script)
    line = next(x for x in out.stdout.splitlines() if x.startswith("EXEC"))
    assert line.startswith("EXEC streamlit API None"), line
    assert not line.endswith("None"), f"the temporary Prefect server was still running: {line}"
