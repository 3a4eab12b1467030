"""Process-wide setup shared by the CLI, the flows and the tests.

An entry point (``voc``, the test session) calls :func:`quiet_environment` before Prefect
is imported: it fixes the environment every voc process runs in (no telemetry, no model
hub). Importing this module changes nothing. It also builds the task runner the settings
ask for and launches Prefect's temporary server early.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# how long a temporary Prefect server may take to answer, voc's early one (below) or one
# Prefect starts itself (its default, 20 s, timed out on a 2-core AVX2 machine in the test
# suite, nothing else running: "Timed out while attempting to connect to ephemeral Prefect
# API server")
_STARTUP_TIMEOUT_SECONDS = 60.0

# nothing phones home and no model is fetched at run time
_QUIET_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # the temporary server logs benign errors when it is stopped at the end of a run
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(int(_STARTUP_TIMEOUT_SECONDS)),
}


def quiet_environment() -> None:
    """Set the quiet defaults above (a value already set is kept). The process's entry
    point calls it first, before Prefect or a model library is imported; child processes
    (Prefect's server and runs, Dask workers, the dashboard) inherit it."""
    for key, value in _QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # OpenVINO's model converter (and NNCF) report usage to Google Analytics unless a
    # consent file in the user's home says no; DO_NOT_TRACK is not read. With no network,
    # the forked child that sends it hung in getaddrinfo with SIGTERM blocked and held the
    # process at exit. Both use a stub when the package cannot be imported.
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]


def quiet_console() -> None:
    """Keep Prefect's own lines off the terminal: the CLI draws a progress bar and prints
    a summary, and a failure as one clear line. Every run's log still reaches the Prefect
    API and its UI."""
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


def _settings():
    # imported here: the CLI imports this module at start-up, before it needs any settings
    from flows.config import load_settings

    return load_settings()


class _EarlyServer:
    """Prefect's temporary API server, launched by voc itself as a command begins.

    Prefect starts the same server (uvicorn on ``create_app``, UI off) the first time a
    flow needs an API, but only after importing the whole server app into this process
    first (2-4 s of one core), and only once the flow begins. Launched here, before this
    process imports Prefect at all, its start-up (about 5 s in its own process) overlaps
    the command's own imports and setup on the other core, and this process never loads
    the server code. The flow is pointed at it once it answers (:meth:`adopt`)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.adopted = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def launch(self) -> None:
        spec = importlib.util.find_spec("prefect")  # finds the package, imports nothing
        if spec is None or spec.origin is None:
            return
        app_dir = str(Path(spec.origin).resolve().parent.parent)
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _LAUNCH_SERVER,
                str(os.getpid()),
                "--app-dir",
                app_dir,
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env={
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            },
            stdin=subprocess.DEVNULL,
        )
        # at exit the run's last log lines go first: stopped before them, the server would
        # leave logging's own exit flush waiting 5 s on a worker that cannot deliver
        atexit.register(stop_temporary_prefect_server)

    def adopt(self, timeout: float) -> bool:
        """Wait until the server answers, then make it this process's Prefect API. False
        (and the server stopped) when it does not come up in time: Prefect then starts
        its own as usual and reports what goes wrong."""
        deadline = time.monotonic() + timeout
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback
        answered = False
        while not answered and time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break  # it could not start (a port taken meanwhile, a broken install)
            try:
                with direct.open(f"{self.api_url}/health", timeout=1) as reply:
                    answered = reply.status == 200
            except OSError:
                pass
            if not answered:
                time.sleep(0.05)
        if not answered:
            self.stop()
            return False
        from prefect.context import refresh_global_settings_context

        # the environment, not a context manager: threads (Prefect's log worker, task
        # threads) and child processes (Dask workers) all see the same API
        os.environ["PREFECT_API_URL"] = self.api_url
        refresh_global_settings_context()
        self.adopted = True
        return True

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.adopted and _settings().prefect_api_url == self.api_url:
            os.environ.pop("PREFECT_API_URL")
            self.adopted = False
            if "prefect.context" in sys.modules:
                sys.modules["prefect.context"].refresh_global_settings_context()


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: with ``VOC_CRASH_AT=<name>`` the process dies
    by SIGKILL right here, as if the machine lost power at this line. A kill from outside
    at a moment picked by a clock only lands there on a machine of the expected speed;
    this lands there on every machine. Unset (always, outside those tests) it does nothing."""
    if _settings().crash_at == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# uvicorn, as Prefect runs it for its temporary server, in a process that goes when the
# voc process that launched it goes, even killed (Linux: the parent-death signal; the
# launching thread must be the main thread, as it is in the CLI)
_LAUNCH_SERVER = """
import os, runpy, sys
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
    if os.getppid() != int(sys.argv[1]):
        sys.exit(0)  # the parent is gone already
sys.argv = ["uvicorn", *sys.argv[2:]]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


_early: list[_EarlyServer] = []


def _api_configured() -> bool:
    """Is a Prefect API already configured: in the environment, or, once Prefect is
    loaded, anywhere its settings look (a profile, a test harness in this context)?"""
    if _settings().prefect_api_url:
        return True
    if "prefect" not in sys.modules:
        return False
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    return bool(PREFECT_API_URL.value()) or not PREFECT_SERVER_EPHEMERAL_ENABLED.value()


def prestart_prefect_server() -> None:
    """Launch Prefect's temporary server now, for a command that will run a flow and has
    no Prefect API configured. Call it as early as the command can, before Prefect is
    imported; call :func:`prefect_server_ready` before the flow."""
    if _early or _api_configured():
        return
    server = _EarlyServer()
    try:
        server.launch()
    except OSError:  # no server this way: Prefect starts its own when the flow begins
        return
    if server.process is not None:
        _early.append(server)


def prefect_server_ready() -> None:
    """Make the server :func:`prestart_prefect_server` launched this process's Prefect API,
    once it answers. If Prefect's own settings name an API after all (a profile), that
    one is used and the early server is stopped."""
    for server in _early:
        if server.adopted or server.process is None:
            continue
        if _api_configured():
            server.stop()
            continue
        server.adopt(_STARTUP_TIMEOUT_SECONDS)


def stop_temporary_prefect_server() -> None:
    """Stop the temporary Prefect server this process started, now. Prefect stops it at
    exit; a process that replaces itself (``voc demo`` becoming the dashboard) never
    exits, and would leave the server running with nobody to stop it."""
    if "prefect" in sys.modules:
        try:
            from prefect.logging.handlers import APILogHandler

            APILogHandler().flush()  # the run's last log lines reach the server first
        except Exception:  # noqa: BLE001 - logs are best effort, the stop is not
            pass
    for server in _early:
        server.stop()
    server_module = sys.modules.get("prefect.server.api.server")
    if server_module is not None:  # one Prefect started itself
        for server in list(server_module.SubprocessASGIServer._instances.values()):
            server.stop()  # a no-op for one never started or already gone


def make_task_runner(kind: str, max_workers: int, dask_address: str | None = None):
    """A thread pool on one machine, or a Dask cluster (local or at ``dask_address``)."""
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:  # pragma: no cover - prefect-dask is a dependency
            raise RuntimeError(
                "VOC_TASK_RUNNER=dask needs prefect-dask: pip install prefect-dask"
            ) from exc
        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": max(1, min(max_workers, os.cpu_count() or 1)),
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=max_workers)


@dataclass
class ProgressHook:
    """Long flows report progress here; the CLI plugs a progress bar in. Flows run in
    the CLI's process, so a module-level hook reaches them without crossing Prefect."""

    start: Callable[[str, int], Any] = lambda label, total: None
    advance: Callable[[str, int], Any] = lambda label, step=1: None
    done: Callable[[str], Any] = lambda label: None


progress = ProgressHook()


def run_logger(name: str = "voc"):
    """Prefect's run logger inside a flow or task run (its lines reach the UI), a plain
    logger when the same function is called directly (tests, benchmarks)."""
    import logging

    from prefect.exceptions import MissingContextError

    try:
        from prefect import get_run_logger

        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(name)
