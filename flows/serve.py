"""Schedules: an hourly inbox sweep and the Monday-morning weekly review, served as two
Prefect deployments on a real Prefect server (started here unless PREFECT_API_URL
points at one already).

The sweep ingests files it has not seen before (by content, so a renamed copy is not
taken twice) and never modifies the inbox. The weekly review finds themes for what came
in and reviews the week that just ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import flow

from flows.ingest import ingest_flow
from flows.notify import notify_flow
from flows.process_setup import run_logger
from flows.topics import topics_flow
from flows.urgent import urgent_flow
from flows.weekly import weekly_flow
from models.review import iso_week

SWEEP_DEPLOYMENT = "inbox-sweep"
WEEKLY_DEPLOYMENT = "weekly-review"


@flow(name="voc-inbox-sweep", log_prints=False, validate_parameters=False)
def inbox_sweep_flow(inbox: str, db: str, departments: str | None = None) -> int:
    """Ingest the inbox's new files; returns how many records were loaded."""
    logger = run_logger()
    if not os.path.isdir(inbox):
        logger.warning("inbox %s does not exist yet; nothing to sweep", inbox)
        return 0
    results = ingest_flow(paths=[inbox], db=db, only_new=True)
    loaded = sum(r.rows_loaded for r in results)
    if loaded:  # urgent contacts the same day, not at the weekly review
        urgent_flow(db=db)
        # alert who must act (departments' own webhooks from the review's file)
        notify_flow(db=db, digests=False, emerging=False, departments=departments)
    logger.info("sweep: %d new file(s), %d record(s) loaded", len(results), loaded)
    return loaded


def last_complete_week(now: datetime, timezone: str) -> str:
    local = now.astimezone(ZoneInfo(timezone)) if now.tzinfo else now
    monday = local.date() - timedelta(days=local.weekday())
    return iso_week(monday - timedelta(days=7))


@flow(name="voc-weekly-schedule", log_prints=False, validate_parameters=False)
def scheduled_review_flow(
    db: str,
    departments: str,
    embedder: str = "minilm",
    timezone: str = "UTC",
    week: str | None = None,
) -> str:
    """Themes for anything new, then the review of the last complete week."""
    week = week or last_complete_week(datetime.now(ZoneInfo(timezone)), timezone)
    topics_flow(db=db, embedder=embedder)
    summary = weekly_flow(db=db, week=week, departments=departments)
    urgent_flow(db=db)  # new themes can make new repeat failures
    # the digests, and emerging-theme alerts (departments' webhooks from the same file)
    notify_flow(db=db, week=summary.week, departments=departments)
    return summary.week


def wait_for_server(api_url: str, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the Prefect server at {api_url} did not answer within {timeout:.0f}s")


def start_server(port: int, home: str | os.PathLike | None = None) -> tuple[subprocess.Popen, str]:
    """A real Prefect server (with its UI) in a child process.

    ``home`` gives the server its own PREFECT_HOME (and so its own database): a server
    started over an old home still holds the deployments registered there before."""
    env = {**os.environ, "PREFECT_UI_ENABLED": "true", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if home is not None:
        env["PREFECT_HOME"] = str(home)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for_server(api)
    except RuntimeError:
        stop_server(proc)
        raise
    return proc, api


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def deployments(
    inbox: str,
    db: str,
    departments: str,
    *,
    timezone: str,
    sweep_cron: str,
    weekly_cron: str,
    embedder: str = "minilm",
):
    from prefect.schedules import Cron

    sweep = inbox_sweep_flow.to_deployment(
        name=SWEEP_DEPLOYMENT,
        schedules=[Cron(sweep_cron, timezone=timezone)],
        parameters={"inbox": inbox, "db": db, "departments": departments},
        tags=["voc"],
        description="Ingest new files from the inbox (files are never modified).",
    )
    review = scheduled_review_flow.to_deployment(
        name=WEEKLY_DEPLOYMENT,
        schedules=[Cron(weekly_cron, timezone=timezone)],
        parameters={
            "db": db,
            "departments": departments,
            "embedder": embedder,
            "timezone": timezone,
        },
        tags=["voc"],
        description="Find themes, then review the last complete week.",
    )
    return sweep, review


def serve_forever(
    inbox: str,
    db: str,
    departments: str,
    *,
    timezone: str,
    sweep_cron: str = "0 * * * *",
    weekly_cron: str = "0 6 * * 1",
    embedder: str = "minilm",
) -> None:
    from prefect import serve

    serve(
        *deployments(
            inbox,
            db,
            departments,
            timezone=timezone,
            sweep_cron=sweep_cron,
            weekly_cron=weekly_cron,
            embedder=embedder,
        ),
        limit=1,
    )


__all__ = [
    "deployments",
    "inbox_sweep_flow",
    "last_complete_week",
    "scheduled_review_flow",
    "serve_forever",
    "start_server",
    "stop_server",
]
