"""The weekly review: themes become action.

For one ISO week (default: the latest with data) the flow

1. routes every theme to the department that owns it (analysts' choices stand and teach
   routing), classifies it as failure or value demand, and routes every item;
2. computes weekly theme metrics for every week up to the reviewed one: volume, share,
   the emerging-theme test against the theme's own trailing rate, scores and NPS effect,
   repeat contacts, estimated cost; the chargeback of failure demand per department; the
   self-service and proactive-notice opportunities of the week;
3. opens or refreshes one issue per theme that matters (cost, growth, score impact), and
   checks fixed issues: a real fall in the theme's contact rate verifies them, no fall
   reopens them with the evidence; scores before and after for customers whose issue was
   resolved (service recovery).

The rules are pure functions in models/ (theme_routes.py for routing, review.py for the
rest); this flow reads what they need, calls them and writes what they return.
Everything is computed with no connection held and written in one transaction; issue
changes go through the tracker, re-reading each issue inside that transaction so an edit
made on the dashboard meanwhile is never overwritten.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.config import Settings, load_settings
from flows.process_setup import crash_point, prefect_server_ready, run_logger
from models.review import (
    Review,
    WeeklySummary,
    build_review,
    due_date,
    escalation,
    iso_week,
    parse_week,
    still_as_checked,
    verification_outcome,
)
from models.theme_routes import Routing
from warehouse import Warehouse, core_tables, review_tables, tracker
from warehouse.clock import utc_now
from warehouse.sql import named_query


# ------------------------------------------------------------------------------ routing
@task(cache_policy=NO_CACHE)
def route_and_classify(db: str, departments: str, samples_per_theme: int = 20) -> Routing:
    """Departments and demand types for themes, departments for items (no writes)."""
    from models.departments import load_departments
    from models.embedder_choice import embedder_for
    from models.routing import LabelledExample, Router
    from models.theme_routes import (
        decide_item_departments,
        item_scores,
        keep_analyst_choices,
        no_routing,
        route_themes,
        router_version,
        score_items,
        vectors_of,
    )

    logger = run_logger()
    settings = load_settings(db=Path(db))
    org = load_departments(Path(departments))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    with warehouse.read() as con:
        rows = con.execute(named_query("last_topic_embedder")).fetchall()
        model = rows[0][0] if rows else None
        themes = core_tables.fetch_frame(con, named_query("themes_for_review"))
        if model is None or themes.height == 0:
            return no_routing()
        samples = core_tables.fetch_frame(
            con, named_query("theme_samples"), {"model": model, "per_theme": samples_per_theme}
        )
        examples = core_tables.fetch_frame(con, named_query("routing_examples"))
        calibration = core_tables.fetch_frame(
            con, named_query("calibration_vectors"), {"model": model, "limit": 2000}
        )
    embedder = embedder_for(
        model,
        db=settings.db,
        model_cache=settings.resolved_model_cache,
        backend=settings.embed_backend,
    )
    router = Router(
        org,
        embedder,
        examples=[
            LabelledExample(r["text"], r["department"], r["weight"])
            for r in examples.iter_rows(named=True)
            if r["department"] in org
        ],
    )
    if calibration.height:
        router.calibrate(vectors=vectors_of(calibration["vector"]))
    version = router_version(org, model, examples)
    theme_routes = keep_analyst_choices(route_themes(router, themes, samples), themes)
    logger.info(
        "routing: %d theme(s), %d to triage",
        theme_routes.height,
        int((theme_routes["department"].is_null()).sum()),
    )

    # every item is scored on its own once per router version; cached scores are reused
    with warehouse.read() as con:
        todo = core_tables.fetch_frame(
            con, named_query("items_to_score"), {"model": model, "router_version": version}
        )
    new_scores = score_items(router, todo)
    logger.info("routing: %d item(s) scored, the rest from the cache", new_scores.height)
    with warehouse.read() as con:
        cached = core_tables.fetch_frame(
            con, named_query("cached_item_routes"), {"router_version": version}
        )
    with warehouse.read() as con:
        # an item follows its top-level theme's route (the fine theme's own is not used)
        themes_of = core_tables.fetch_frame(con, named_query("item_top_themes"))
    items = item_scores(themes_of, cached, new_scores)
    routes = decide_item_departments(items, theme_routes, settings.team_language)
    return Routing(theme_routes, routes, version, new_scores)


# ------------------------------------------------------------------------------ metrics
@task(cache_policy=NO_CACHE)
def compute_review(db: str, departments: str, week: date, routing: Routing) -> Review:
    from models.departments import load_departments

    settings = load_settings(db=Path(db))
    org = load_departments(Path(departments))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    until = datetime.combine(week + timedelta(days=7), datetime.min.time())
    with warehouse.read() as con:
        facts = core_tables.fetch_frame(con, named_query("contact_facts"), {"until": until})
        labels = dict(con.execute(named_query("theme_labels")).fetchall())
        fixed = core_tables.fetch_frame(con, named_query("issues_to_verify"), {"until": until})
        recovery = core_tables.fetch_frame(con, named_query("resolved_issue_customers"))
    facts = facts.with_columns(pl.col("theme_id").cast(pl.Int32))
    return build_review(facts, routing, org, week, labels, fixed, recovery, computed_at=utc_now())


# ------------------------------------------------------------------------------ writing
@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def write_review(
    db: str,
    review: Review,
    routing: Routing,
    run_id: str,
    started_at: datetime,
    as_of: datetime | None = None,
) -> WeeklySummary:
    """``as_of`` dates what the review does (issues it opens, verifications) when weeks
    are replayed; a live review acts now."""
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    summary = review.summary
    at = as_of or utc_now()
    with warehouse.write() as con:
        review_tables.replace_departments(con, review.departments, at)
        review_tables.write_theme_routes(con, routing.themes, at)
        review_tables.write_item_routes(
            con, routing.items, routing.router_version, routing.new_scores
        )
        review_tables.replace_weekly_tables(
            con,
            week=review.week,
            theme_weekly=review.theme_weekly,
            subtheme_weekly=review.subtheme_weekly,
            channel_weekly=review.channel_weekly,
            chargeback=review.chargeback,
            opportunities=review.opportunities,
            service_recovery=review.service_recovery,
        )
        # issues speak of top-level themes: those opened on fine themes that now share a
        # top-level theme fold into one on it (a no-op once done, and without a hierarchy)
        summary.issues_folded.extend(fold_issues_to_top_themes(con, at))
        open_or_refresh_issues(con, review, summary, at)
        apply_fix_checks(con, review, summary, at)
        crash_point("weekly.writing")  # issues opened and tables replaced, not yet committed
        con.execute(
            named_query("insert_weekly_run"),
            {
                "run_id": run_id,
                "week_start": review.week,
                "started_at": started_at,
                "finished_at": utc_now(),
                "status": "ok",
                "themes": summary.themes,
                "emerging": len(summary.emerging),
                "issues_opened": summary.issues_opened,
                "issues_verified": len(summary.issues_verified),
                "issues_reopened": len(summary.issues_reopened),
                "params": json.dumps(
                    {"week": summary.week, "issues_folded": len(summary.issues_folded)}
                ),
            },
        )
    return summary


def open_or_refresh_issues(con, review: Review, summary: WeeklySummary, at: datetime) -> None:
    """One open issue per theme that matters: opened through the tracker, or its weekly
    figures refreshed (never duplicated)."""
    for row in review.issue_candidates.iter_rows(named=True):
        current = tracker.open_issue_for_theme(con, row["theme_id"])
        if current is None:
            tracker.create_issue(
                con,
                theme_id=row["theme_id"],
                title=row["title"],
                department=row["department"],
                priority=row["priority"],
                due_date=due_date(review.week, row["priority"]),
                opened_reason=row["reason"],
                week=review.week,
                weekly_volume=row["volume"],
                weekly_cost=row["cost"],
                at=at,
            )
            summary.issues_opened += 1
        else:
            con.execute(
                named_query("refresh_issue_review"),
                {
                    "issue_id": current["issue_id"],
                    "week": review.week,
                    "weekly_volume": row["volume"],
                    "weekly_cost": row["cost"],
                    "at": at,
                },
            )
            summary.issues_refreshed += 1
            escalate_issue(con, current, row, review.week, summary, at)


def escalate_issue(con, current: dict, row: dict, week: date, summary: WeeklySummary, at) -> None:
    """Raise an open issue's priority (and bring its due date forward) when its theme now
    matters more than it did (models/review.py: ``escalation``), through the tracker."""
    [(set_by_person,)] = con.execute(
        named_query("priority_set_by_person"),
        {"issue_id": current["issue_id"], "system_actor": tracker.REVIEW_ACTOR},
    ).fetchall()
    raised = escalation(current, row["priority"], week, set_by_person=bool(set_by_person))
    if raised is None:
        return
    priority, due = raised
    tracker.update_issue(
        con,
        current["issue_id"],
        tracker.IssueChange(priority=priority, due_date=due, note=f"escalated: {row['reason']}"),
        tracker.REVIEW_ACTOR,
        at,
        system=True,
    )
    summary.issues_escalated.append(
        f"#{current['issue_id']} {row['title']}: {current['priority']} → {priority}, due {due}"
    )


def apply_fix_checks(con, review: Review, summary: WeeklySummary, at: datetime) -> None:
    """Record each fixed issue's evidence and move it to verified or reopened as the
    evidence says, through the tracker; an issue changed since it was checked is left."""
    for item in review.verifications:
        check = item["check"]
        current = tracker.get_issue(con, item["issue_id"])
        if not still_as_checked(current, item):
            continue
        con.execute(
            named_query("record_verification"),
            {
                "issue_id": item["issue_id"],
                "baseline_rate": _per_thousand(check.before_rate),
                "after_rate": _per_thousand(check.after_rate),
                "verification": check.evidence,
                "p_value": _finite(check.p_value),
                "at": at,
            },
        )
        outcome = verification_outcome(current["status"], check)
        if outcome is None:
            continue
        tracker.update_issue(
            con,
            item["issue_id"],
            tracker.IssueChange(status=outcome, note=check.evidence),
            tracker.REVIEW_ACTOR,
            at,
            system=True,
        )
        lines = summary.issues_verified if outcome == "verified" else summary.issues_reopened
        lines.append(f"#{item['issue_id']}: {check.evidence}")


def fold_issues_to_top_themes(con, at: datetime, actor: str = tracker.REVIEW_ACTOR) -> list[str]:
    """Apply ``models.issue_folding.plan_folds`` to the open issues, through the tracker,
    inside the caller's transaction; returns a line per fold for the summary."""
    from models.issue_folding import OpenIssue, plan_folds

    open_issues = core_tables.fetch_frame(con, named_query("open_issues_with_top"))
    rows = {r["issue_id"]: r for r in open_issues.iter_rows(named=True)}
    plan = plan_folds(OpenIssue(r["issue_id"], r["theme_id"], r["top_id"]) for r in rows.values())
    lines = []
    for fold in plan:
        top_label = rows[fold.survivor]["top_label"] or f"theme {fold.top_id}"
        if fold.move_survivor:
            sub_label = (
                rows[fold.survivor]["theme_label"] or f"theme {rows[fold.survivor]['theme_id']}"
            )
            tracker.update_issue(
                con,
                fold.survivor,
                tracker.IssueChange(
                    theme_id=fold.top_id,
                    title=top_label,
                    note=f"“{sub_label}” is now a sub-theme of “{top_label}”: the issue speaks "
                    "for the top-level theme",
                ),
                actor,
                at,
                system=True,
            )
        for folded in fold.folded:
            sub_label = rows[folded]["theme_label"] or f"theme {rows[folded]['theme_id']}"
            tracker.fold_issue(
                con,
                folded,
                fold.survivor,
                actor,
                at,
                note=f"#{folded} (“{sub_label}”) folded into #{fold.survivor} on “{top_label}”: "
                "one issue per top-level theme",
            )
        folded = ", ".join(f"#{i}" for i in fold.folded)
        where = "moved to" if fold.move_survivor else "on"
        lines.append(
            f"#{fold.survivor} {where} the top-level theme “{top_label}”"
            + (f"; {folded} folded into it" if fold.folded else "")
        )
    return lines


def _finite(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _per_thousand(rate) -> float | None:
    value = _finite(rate)
    return None if value is None else round(1000 * value, 2)


@flow(name="voc-weekly", log_prints=False, validate_parameters=False)
def weekly_flow(
    db: str | None = None, week: str | None = None, departments: str | None = None
) -> WeeklySummary:
    """Review one ISO week (default: the latest with data)."""
    logger = run_logger()
    started = utc_now()
    settings = load_settings(
        db=Path(db) if db else None, departments=Path(departments) if departments else None
    )
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    warehouse.ensure_schema()
    with warehouse.read() as con:
        latest = con.execute(named_query("latest_week")).fetchall()[0][0]
    monday = parse_week(week, latest)
    logger.info("weekly review of %s (week starting %s)", iso_week(monday), monday)
    routing = route_and_classify(str(settings.db), str(settings.departments))
    review = compute_review(str(settings.db), str(settings.departments), monday, routing)
    summary = write_review(str(settings.db), review, routing, str(uuid.uuid4()), started)
    logger.info(
        "weekly review %s: %d theme(s), %d emerging, %d issue(s) opened, %d verified, %d reopened",
        summary.week,
        summary.themes,
        len(summary.emerging),
        summary.issues_opened,
        len(summary.issues_verified),
        len(summary.issues_reopened),
    )
    return summary


def run_weekly(settings: Settings | None = None, *, week: str | None = None) -> WeeklySummary:
    settings = settings or load_settings()
    prefect_server_ready()
    return weekly_flow(db=str(settings.db), week=week, departments=str(settings.departments))
