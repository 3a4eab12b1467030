"""Process-wide setup shared by the CLI, the flows and the tests.

Import this before Prefect: it fixes the environment every voc process runs in (no
telemetry, no model hub) and builds the task runner the settings ask for.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
}
for _key, _value in _QUIET_DEFAULTS.items():
    os.environ.setdefault(_key, _value)


def quiet_console() -> None:
    """Keep Prefect's own lines off the terminal: the CLI draws a progress bar and prints
    a summary, and a failure as one clear line. Every run's log still reaches the Prefect
    API and its UI."""
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


_server_start: list[threading.Thread] = []


def prestart_prefect_server() -> None:
    """Start Prefect's temporary server in the background now, for a command that will run
    a flow and has no ``PREFECT_API_URL``: its start-up (several seconds of importing the
    server app in a subprocess) then overlaps this process's own imports and file
    discovery. Call :func:`prefect_server_ready` before the flow; if the early start fails,
    the flow starts the server itself and reports what went wrong."""
    if os.environ.get("PREFECT_API_URL") or _server_start:
        return
    # read here, not in the thread: a test harness or profile sets the API URL in this
    # thread's context, which a new thread does not inherit
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return

    def start() -> None:
        try:
            from prefect.server.api.server import SubprocessASGIServer

            SubprocessASGIServer().start()
        except Exception:  # noqa: BLE001 - the flow's own client retries and reports
            return

    thread = threading.Thread(target=start, name="voc-prefect-server-start", daemon=True)
    thread.start()
    _server_start.append(thread)


def prefect_server_ready() -> None:
    """Wait for a server started by :func:`prestart_prefect_server` to answer. Prefect
    marks its temporary server as running before it is healthy, so a flow must not begin
    while the early start is still under way."""
    for thread in _server_start:
        thread.join()


def stop_temporary_prefect_server() -> None:
    """Stop the temporary Prefect server this process started, now. Prefect stops it at
    exit; a process that replaces itself (``voc demo`` becoming the dashboard) never
    exits, and would leave the server running with nobody to stop it."""
    server_module = sys.modules.get("prefect.server.api.server")
    if server_module is None:
        return
    try:
        from prefect.logging.handlers import APILogHandler

        APILogHandler().flush()  # the run's last log lines reach the server first
    except Exception:  # noqa: BLE001 - logs are best effort, the stop is not
        pass
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
