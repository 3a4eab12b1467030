"""Chained runs: ``voc run`` (ingest → topics → weekly) and the demo's replay of the
sample company's eight weeks, with the tracker actions people would have taken."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from prefect import flow

from flows.config import Settings, load_settings
from flows.ingest import FileResult, ingest_flow
from flows.process_setup import make_task_runner, prefect_server_ready, run_logger
from flows.topics import TopicSummary, topics_flow
from flows.urgent import urgent_flow
from flows.weekly import compute_review, route_and_classify, weekly_flow, write_review
from models.review import WeeklySummary, iso_week
from warehouse import Warehouse, core_tables, tracker


@dataclass
class PipelineResult:
    ingest: list[FileResult]
    topics: TopicSummary
    weekly: WeeklySummary


@flow(name="voc-pipeline", log_prints=False, validate_parameters=False)
def pipeline_flow(
    paths: list[str],
    db: str,
    channel: str | None = None,
    embedder: str = "minilm",
    week: str | None = None,
    departments: str | None = None,
    mapping: dict[str, str] | None = None,
    received_at: str | None = None,
    only_new: bool = False,
    max_fit: int = 20_000,
    seed: int = 42,
    force: bool = False,
    refit: bool = False,
) -> PipelineResult:
    settings = load_settings(db=Path(db))
    runner = make_task_runner(settings.task_runner, settings.max_workers, settings.dask_address)
    ingested = ingest_flow.with_options(task_runner=runner)(
        paths=paths,
        channel=channel,
        mapping=mapping,
        db=db,
        received_at=received_at,
        only_new=only_new,
    )
    topics = topics_flow(
        db=db, embedder=embedder, max_fit=max_fit, seed=seed, force=force, refit=refit
    )
    weekly = weekly_flow(db=db, week=week, departments=departments or str(settings.departments))
    # after the review: contacts are routed (a head's queue) and themed (repeat failures)
    urgent_flow(db=db, cue_file=str(settings.urgent_cues))
    return PipelineResult(ingested, topics, weekly)


def run_pipeline(
    paths: list[str],
    *,
    settings: Settings,
    channel: str | None = None,
    mapping: dict[str, str] | None = None,
    received_at: str | None = None,
    only_new: bool = False,
    embedder: str = "minilm",
    max_fit: int = 20_000,
    seed: int = 42,
    force: bool = False,
    refit: bool = False,
    week: str | None = None,
) -> PipelineResult:
    """`voc run`: the options of `voc ingest`, `voc topics` and `voc weekly`, passed on."""
    prefect_server_ready()
    return pipeline_flow(
        paths=paths,
        db=str(settings.db),
        channel=channel,
        embedder=embedder,
        week=week,
        departments=str(settings.departments),
        mapping=mapping,
        received_at=received_at,
        only_new=only_new,
        max_fit=max_fit,
        seed=seed,
        force=force,
        refit=refit,
    )


# ------------------------------------------------------------------------------ the demo
@dataclass
class StoryStep:
    """A tracker action the sample company's people take during the replay; it is applied
    before the review of the week in which it happened is run."""

    status: str
    at: datetime
    note: str
    root_cause: str | None = None
    action: str | None = None


def login_fix_story(fix_shipped: date) -> list[StoryStep]:
    """Digital acknowledges the login issue, works on it and ships a fix on the Monday the
    sample's login contacts stop; the reviews after that must verify it."""
    day = datetime.combine(fix_shipped, datetime.min.time())
    return [
        StoryStep(
            "acknowledged",
            day - timedelta(days=8, hours=-10),
            "Seen it: the app's password reset link expires before the e-mail arrives.",
        ),
        StoryStep(
            "in_progress",
            day - timedelta(days=4, hours=-15),
            "Fix in test: reset links now last 24 hours.",
            root_cause="Reset links expired after 10 minutes while the e-mail provider queued messages for up to 30.",
            action="Extend reset links to 24 hours; alert when the e-mail queue is delayed.",
        ),
        StoryStep("fixed", day + timedelta(hours=9), "Released to all customers this morning."),
    ]


def _theme_of_sources(warehouse: Warehouse, source_refs: list[str]) -> int | None:
    with warehouse.read() as con:
        return core_tables.majority_theme_of_sources(con, source_refs)


@flow(name="voc-demo-replay", log_prints=False, validate_parameters=False)
def demo_replay_flow(
    db: str,
    departments: str,
    weeks: list[str],
    fixed_theme_refs: list[str],
    fix_shipped: str | None,
    head_of: str = "head.digital",
) -> list[WeeklySummary]:
    """Review each sample week in order, as the company would have week by week."""
    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    routing = route_and_classify(db, departments)
    story = login_fix_story(date.fromisoformat(fix_shipped)) if fix_shipped else []
    theme = _theme_of_sources(warehouse, fixed_theme_refs) if fixed_theme_refs else None
    summaries = []
    for week in weeks:
        monday = date.fromisocalendar(int(week[:4]), int(week.split("W")[1]), 1)
        for step in [
            s
            for s in story
            if s.at < datetime.combine(monday + timedelta(days=7), datetime.min.time())
        ]:
            story.remove(step)
            if theme is None:
                continue
            with warehouse.write() as con:
                issue = tracker.open_issue_for_theme(con, theme)
                if issue is None:
                    continue
                tracker.update_issue(
                    con,
                    issue["issue_id"],
                    tracker.IssueChange(
                        status=step.status,
                        owner=head_of,
                        root_cause=step.root_cause,
                        action=step.action,
                        note=step.note,
                    ),
                    head_of,
                    step.at,
                )
                logger.info("demo: %s set issue #%d to %s", head_of, issue["issue_id"], step.status)
        review = compute_review(db, departments, monday, routing)
        # the review of a week happens the Monday after it, 06:00, as `voc serve` would run it
        as_of = datetime.combine(monday + timedelta(days=7), datetime.min.time()) + timedelta(
            hours=6
        )
        summaries.append(write_review(db, review, routing, str(uuid.uuid4()), as_of, as_of=as_of))
        logger.info("demo: reviewed %s", iso_week(monday))
    return summaries


def run_demo_replay(settings: Settings, manifest) -> list[WeeklySummary]:
    """Replay the sample's weeks: the fixed theme's issue is found by where the manifest's
    contacts of that theme ended up, not by its label."""
    fixed_key = manifest.fix.get("theme")
    refs = [
        c.source_id.strip("<>")
        for c in manifest.contacts
        if c.theme == fixed_key and c.channel != "call"
    ]
    prefect_server_ready()
    return demo_replay_flow(
        db=str(settings.db),
        departments=str(settings.departments),
        weeks=list(manifest.weeks),
        fixed_theme_refs=refs,
        fix_shipped=manifest.fix.get("shipped_on"),
    )


__all__ = ["PipelineResult", "run_demo_replay", "run_pipeline"]
