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

Everything is computed with no connection held and written in one transaction; issue
changes go through the tracker, re-reading each issue inside that transaction so an edit
made on the dashboard meanwhile is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.config import Settings, load_settings
from flows.runtime import crash_point, prefect_server_ready, run_logger
from warehouse import Warehouse, repo, tracker
from warehouse.clock import utc_now
from warehouse.sql import q

TRIAGE = "Needs triage"
# share of a theme's contacts a remedy is assumed to prevent (stated on every opportunity)
DEFLECTION = {"self_service": 0.40, "proactive_notice": 0.50}
DUE_DAYS = {"P1": 7, "P2": 14, "P3": 28, "P4": 42}
MIN_ISSUE_COST = 100.0  # a failure-demand theme costing less a week does not open an issue
NPS_IMPACT = -1.5  # or costs this many NPS points


def parse_week(value: str | None, latest: date | None) -> date:
    """``2026-W47`` (or a date inside the week) → its Monday; None → the latest week."""
    if value is None:
        if latest is None:
            raise ValueError("there is no feedback yet: ingest some first")
        return latest
    value = value.strip()
    try:
        if "W" in value.upper():
            year, week = value.upper().split("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        day = date.fromisoformat(value)
        return day - timedelta(days=day.weekday())
    except ValueError:
        raise ValueError(
            f"week {value!r} is not an ISO week like 2026-W47 or a date like 2026-11-16"
        ) from None


def iso_week(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class WeeklySummary:
    week: str
    themes: int = 0
    emerging: list[str] = field(default_factory=list)
    triage: list[str] = field(default_factory=list)
    issues_opened: int = 0
    issues_refreshed: int = 0
    issues_verified: list[str] = field(default_factory=list)
    issues_reopened: list[str] = field(default_factory=list)
    # issues on fine themes folded into one per top-level theme
    issues_folded: list[str] = field(default_factory=list)
    failure_share: float = 0.0
    # known costs only; None when no contact of the week has a cost per contact
    week_cost: float | None = 0.0
    failure_cost: float | None = 0.0
    # contacts without a cost (no figure for their department and channel): when above
    # 0 the costs above are partial
    week_uncosted: int = 0
    failure_uncosted: int = 0
    opportunities: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ routing
def _vectors(column: pl.Series) -> np.ndarray:
    if column.len() == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return column.list.to_array(len(column[0])).to_numpy().astype(np.float32, copy=False)


def embedder_for(name: str | None, settings: Settings):
    """The embedder that made the themes' vectors (named ``name``)."""
    from flows.topics import make_embedder
    from models.embeddings import kind_for_name

    try:
        kind = kind_for_name(name) if name else "minilm"
        embedder = make_embedder(kind, settings)
    except (ValueError, RuntimeError) as exc:
        raise RuntimeError(
            f"themes were found with {name} but that model is not available here ({exc}); run `voc topics` again"
        ) from None
    return embedder


@dataclass
class Routing:
    # theme_id, department, confidence, source, best_guess, demand_type, demand_subtype, ...
    themes: pl.DataFrame
    items: pl.DataFrame  # feedback_id, department, confidence, source
    router_version: str = ""
    # items scored for the first time under this router version (to cache)
    new_scores: pl.DataFrame | None = None


@task(cache_policy=NO_CACHE)
def route_and_classify(db: str, departments: str, samples_per_theme: int = 20) -> Routing:
    """Departments and demand types for themes, departments for items (no writes)."""
    from models.demand import classify_theme
    from models.departments import load_departments
    from models.routing import LabelledExample, Router

    logger = run_logger()
    settings = load_settings(db=Path(db))
    book = load_departments(Path(departments))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    with warehouse.read() as con:
        rows = con.execute(q("last_topic_embedder")).fetchall()
        model = rows[0][0] if rows else None
        themes = repo.fetch_frame(con, q("themes_for_review"))
        if model is None or themes.height == 0:
            return Routing(
                pl.DataFrame(schema=_THEME_ROUTE_SCHEMA), pl.DataFrame(schema=_ITEM_ROUTE_SCHEMA)
            )
        samples = repo.fetch_frame(
            con, q("theme_samples"), {"model": model, "per_theme": samples_per_theme}
        )
        examples = repo.fetch_frame(con, q("routing_examples"))
        calibration = repo.fetch_frame(
            con, q("calibration_vectors"), {"model": model, "limit": 2000}
        )
    embedder = embedder_for(model, settings)
    router = Router(
        book,
        embedder,
        examples=[
            LabelledExample(r["text"], r["department"], r["weight"])
            for r in examples.iter_rows(named=True)
            if r["department"] in book
        ],
    )
    if calibration.height:
        router.calibrate(vectors=_vectors(calibration["vector"]))

    version = router_version(book, model, examples)
    by_theme = {t: g for (t,), g in samples.group_by("theme_id", maintain_order=True)}
    theme_rows = []
    for theme in themes.iter_rows(named=True):
        group = by_theme.get(theme["theme_id"])
        texts = group["text"].to_list() if group is not None else []
        vectors = _vectors(group["vector"]) if group is not None else None
        route = router.route_theme(theme["label"], theme["keywords"] or [], texts, vectors)
        verdict = classify_theme(theme["label"], theme["keywords"] or [], texts)
        theme_rows.append(
            {
                "theme_id": theme["theme_id"],
                "department": route.department,
                "confidence": float(route.confidence),
                "source": "model" if route.department else "triage",
                "best_guess": route.best_guess,
                "demand_type": verdict.demand_type
                if verdict.demand_type in ("failure", "value")
                else None,
                "demand_subtype": verdict.sub_kind,
                "demand_reason": verdict.reason,
            }
        )
    theme_routes = pl.DataFrame(theme_rows, schema=_THEME_ROUTE_SCHEMA)
    # analysts' choices stand
    keep = themes.select(
        "theme_id",
        "department",
        "department_confidence",
        "department_source",
        "demand_type",
        "demand_subtype",
        "demand_source",
    )
    theme_routes = theme_routes.join(keep, on="theme_id", how="left", suffix="_stored").select(
        "theme_id",
        pl.when(pl.col("department_source") == "analyst")
        .then(pl.col("department_stored"))
        .otherwise(pl.col("department"))
        .alias("department"),
        pl.when(pl.col("department_source") == "analyst")
        .then(pl.col("department_confidence"))
        .otherwise(pl.col("confidence"))
        .alias("confidence"),
        pl.when(pl.col("department_source") == "analyst")
        .then(pl.lit("analyst"))
        .otherwise(pl.col("source"))
        .alias("source"),
        "best_guess",
        pl.when(pl.col("demand_source") == "analyst")
        .then(pl.col("demand_type_stored"))
        .otherwise(pl.col("demand_type"))
        .alias("demand_type"),
        pl.when(pl.col("demand_source") == "analyst")
        .then(pl.col("demand_subtype_stored"))
        .otherwise(pl.col("demand_subtype"))
        .alias("demand_subtype"),
        "demand_reason",
        pl.col("demand_source").fill_null("model").alias("demand_source"),
    )
    logger.info(
        "routing: %d theme(s), %d to triage",
        theme_routes.height,
        int((theme_routes["department"].is_null()).sum()),
    )

    # every item is scored on its own once per router version; cached scores are reused
    with warehouse.read() as con:
        todo = repo.fetch_frame(
            con, q("items_to_score"), {"model": model, "router_version": version}
        )
    parts = []
    for start in range(0, todo.height, 20_000):
        chunk = todo.slice(start, 20_000)
        scores = router.score_texts(chunk["text"].to_list(), _vectors(chunk["vector"]))
        parts.append(
            pl.DataFrame(
                {
                    "feedback_id": chunk["feedback_id"],
                    "best_guess": list(scores.best_guess),
                    "confidence": np.asarray(scores.confidence, dtype=float),
                    "margin": np.asarray(scores.margin, dtype=float),
                },
                schema=_SCORE_SCHEMA,
            )
        )
    new_scores = pl.concat(parts) if parts else pl.DataFrame(schema=_SCORE_SCHEMA)
    logger.info("routing: %d item(s) scored, the rest from the cache", new_scores.height)
    with warehouse.read() as con:
        cached = repo.fetch_frame(con, q("cached_item_routes"), {"router_version": version})
    with warehouse.read() as con:
        # an item follows its top-level theme's route (the fine theme's own is not used)
        themes_of = repo.fetch_frame(con, q("item_top_themes"))
    scored = pl.concat([cached.drop("theme_id"), new_scores]).unique("feedback_id", keep="last")
    items = themes_of.join(scored, on="feedback_id", how="inner")
    item_routes = decide_item_departments(items, theme_routes)
    return Routing(theme_routes, item_routes, version, new_scores)


def router_version(book, embedder_name: str, examples: pl.DataFrame) -> str:
    """Changes whenever an item's own route could: departments, model, analyst examples."""
    h = hashlib.sha256(f"{book.fingerprint}\x1f{embedder_name}".encode())
    for row in examples.iter_rows():
        h.update("\x1f".join(str(v) for v in row).encode())
    return h.hexdigest()[:16]


def decide_item_departments(items: pl.DataFrame, theme_routes: pl.DataFrame) -> pl.DataFrame:
    """Each item keeps its theme's department unless it routes clearly elsewhere itself."""
    from models.routing import item_departments

    if items.height == 0:
        return pl.DataFrame(schema=_ITEM_ROUTE_SCHEMA)
    themes = theme_routes.select(
        "theme_id",
        pl.col("department").alias("theme_department"),
        pl.col("confidence").alias("theme_confidence"),
    )
    frame = items.with_columns(pl.col("theme_id").cast(pl.Int32)).join(
        themes, on="theme_id", how="left"
    )
    departments, sources = item_departments(
        frame["theme_department"].to_numpy(),
        frame["best_guess"].to_numpy(),
        frame["confidence"].fill_null(0.0).to_numpy(),
        frame["margin"].fill_null(0.0).to_numpy(),
    )
    confidence = np.where(
        sources == "item",
        frame["confidence"].fill_null(0.0).to_numpy(),
        frame["theme_confidence"].fill_null(0.0).to_numpy(),
    )
    return pl.DataFrame(
        {
            "feedback_id": frame["feedback_id"],
            "department": list(departments),
            "confidence": confidence.astype(float),
            "source": list(sources),
        },
        schema=_ITEM_ROUTE_SCHEMA,
    )


_SCORE_SCHEMA = {
    "feedback_id": pl.String,
    "best_guess": pl.String,
    "confidence": pl.Float64,
    "margin": pl.Float64,
}


_THEME_ROUTE_SCHEMA = {
    "theme_id": pl.Int32,
    "department": pl.String,
    "confidence": pl.Float64,
    "source": pl.String,
    "best_guess": pl.String,
    "demand_type": pl.String,
    "demand_subtype": pl.String,
    "demand_reason": pl.String,
}
_ITEM_ROUTE_SCHEMA = {
    "feedback_id": pl.String,
    "department": pl.String,
    "confidence": pl.Float64,
    "source": pl.String,
}


# ------------------------------------------------------------------------------ metrics
@dataclass
class Review:
    week: date
    theme_weekly: pl.DataFrame  # per top-level theme
    subtheme_weekly: pl.DataFrame  # per fine theme under a group (parent_id)
    channel_weekly: pl.DataFrame
    chargeback: pl.DataFrame
    opportunities: pl.DataFrame
    issue_candidates: pl.DataFrame  # themes that matter this week
    verifications: list[dict]
    service_recovery: pl.DataFrame
    departments: pl.DataFrame
    summary: WeeklySummary


def _known_cost(which: pl.Expr | None = None) -> pl.Expr:
    """The sum of the known costs (of the rows ``which`` picks); null when none is known,
    so an unknown cost is never added up as 0 (the uncosted count says what is missing)."""
    cost = pl.col("cost") if which is None else pl.col("cost").filter(which)
    return pl.when(cost.is_null().all() & (cost.len() > 0)).then(None).otherwise(cost.sum())


def _uncosted(which: pl.Expr | None = None) -> pl.Expr:
    missing = pl.col("cost").is_null()
    return (missing if which is None else missing & which).sum().cast(pl.Int64)


def _cost_frame(book) -> pl.DataFrame:
    rows = [
        {
            "department": r["department"] if r["department"] is not None else TRIAGE,
            "channel": r["channel"],
            "unit_cost": None if r["cost_per_contact"] is None else float(r["cost_per_contact"]),
        }
        for r in book.cost_rows()
    ]
    return pl.DataFrame(
        rows, schema={"department": pl.String, "channel": pl.String, "unit_cost": pl.Float64}
    )


def _saving_text(saving: float | None, share: float, uncosted: int) -> str:
    if saving is None:
        return (
            f"assuming {share:.0%} of them are prevented; the saving is unknown (no cost per "
            "contact for these contacts in the departments file)"
        )
    partial = f" (at least: {uncosted} of the contacts have no cost)" if uncosted else ""
    return f"assuming {share:.0%} of them are prevented saves about £{saving:,.0f} a week{partial}"


def _summary_costs(week_rows: pl.DataFrame) -> dict:
    failure = pl.col("demand_type") == "failure"
    row = week_rows.select(
        week_cost=_known_cost(),
        failure_cost=_known_cost(failure),
        week_uncosted=_uncosted(),
        failure_uncosted=_uncosted(failure),
    ).row(0, named=True)
    return {
        "week_cost": row["week_cost"],
        "failure_cost": row["failure_cost"],
        "week_uncosted": int(row["week_uncosted"] or 0),
        "failure_uncosted": int(row["failure_uncosted"] or 0),
    }


def build_review(
    facts: pl.DataFrame,
    routing: Routing,
    book,
    week: date,
    labels: dict[int, str],
    fixed: pl.DataFrame,
    recovery_rows: pl.DataFrame,
) -> Review:
    """All the weekly tables from the contact facts (pure: tested without a database).

    ``theme_id`` in ``facts`` is a contact's top-level theme, what every table but
    ``subtheme_weekly`` speaks of; ``sub_theme_id`` (optional: the same id when absent)
    its fine theme, for the figures of the sub-themes beneath a group."""
    from models.trends import emerging_themes, mark_repeat_contacts, theme_nps_effects, verify_fix

    until = week + timedelta(days=7)
    themes = routing.themes
    if "sub_theme_id" not in facts.columns:
        facts = facts.with_columns(pl.col("theme_id").alias("sub_theme_id"))
    facts = facts.with_columns(pl.col("theme_id", "sub_theme_id").cast(pl.Int32))
    facts = (
        facts.drop("department", "demand_type", "demand_subtype")
        .join(
            themes.select("theme_id", "department", "demand_type", "demand_subtype"),
            on="theme_id",
            how="left",
        )
        .with_columns(pl.col("department").fill_null(TRIAGE))
    )
    costs = _cost_frame(book)
    default_costs = costs.filter(pl.col("department") == TRIAGE).select(
        "channel", pl.col("unit_cost").alias("default_cost")
    )
    facts = (
        facts.join(costs, on=["department", "channel"], how="left")
        .join(default_costs, on="channel", how="left")
        .with_columns(pl.coalesce("unit_cost", "default_cost").alias("cost"))
        .drop("unit_cost", "default_cost")
    )
    is_nps = pl.col("score_kind") == "nps"
    is_csat = pl.col("score_kind").is_in(["csat", "rating"])
    channel_weekly = (
        facts.group_by("week_start", "theme_id", "channel")
        .agg(
            volume=pl.len(),
            est_cost=_known_cost(),
            uncosted_contacts=_uncosted(),
            scored=pl.col("score").is_not_null().sum(),
            score_sum=pl.col("score").sum(),
            promoters=(is_nps & (pl.col("score") >= 9)).sum(),
            detractors=(is_nps & (pl.col("score") <= 6)).sum(),
            nps_responses=is_nps.sum(),
        )
        .sort("week_start", "theme_id", "channel")
    )

    counts = facts.group_by("week_start", "theme_id").agg(volume=pl.len())
    totals = facts.group_by("week_start").agg(total=pl.len())
    emerging = emerging_themes(counts, totals)
    subtheme_weekly = _subtheme_weekly(
        facts.filter(pl.col("sub_theme_id") != pl.col("theme_id")), counts, totals
    )
    marked = mark_repeat_contacts(
        facts.select("feedback_id", "customer_ref", "theme_id", "received_at", "week_start")
    )
    repeats = marked.group_by("week_start", "theme_id").agg(
        repeat_contacts=pl.col("is_repeat").sum()
    )
    per_theme = facts.group_by("week_start", "theme_id").agg(
        volume=pl.len(),
        est_cost=_known_cost(),
        uncosted_contacts=_uncosted(),
        scored=pl.col("score").is_not_null().sum(),
        avg_score=pl.col("score").filter(is_nps).mean(),
        csat=pl.col("score").filter(is_csat).mean(),
    )
    effects = []
    for (wk,), group in facts.filter(is_nps & pl.col("score").is_not_null()).group_by("week_start"):
        eff = theme_nps_effects(group, score="score", theme="theme_id", key="feedback_id")
        effects.append(
            eff.select("theme_id", "nps", "nps_effect").with_columns(
                pl.lit(wk).cast(pl.Date).alias("week_start")
            )
        )
    nps_frame = (
        pl.concat(effects)
        if effects
        else pl.DataFrame(
            schema={
                "theme_id": pl.Int32,
                "nps": pl.Float64,
                "nps_effect": pl.Float64,
                "week_start": pl.Date,
            }
        )
    )
    meta = themes.select("theme_id", "department", "demand_type")
    theme_weekly = (
        per_theme.join(
            emerging.select(
                "week_start",
                "theme_id",
                "share",
                "share_ci_low",
                "share_ci_high",
                "trailing_share",
                "trailing_weeks",
                "rate_ratio",
                "ratio_ci_low",
                "ratio_ci_high",
                "p_value",
                "q_value",
                "is_new",
                "is_emerging",
                pl.col("reason").alias("emerging_reason"),
            ),
            on=["week_start", "theme_id"],
            how="left",
        )
        .join(repeats, on=["week_start", "theme_id"], how="left")
        .join(
            nps_frame.with_columns(pl.col("theme_id").cast(pl.Int32)),
            on=["week_start", "theme_id"],
            how="left",
        )
        .join(meta, on="theme_id", how="left")
        .join(totals, on="week_start", how="left")
        .with_columns(
            pl.coalesce("share", pl.col("volume") / pl.col("total")).alias("share"),
            (pl.col("share") / pl.col("trailing_share") - 1).alias("change_vs_trailing"),
            pl.col("is_emerging").fill_null(False),
            pl.col("is_new").fill_null(False),
            pl.col("repeat_contacts").fill_null(0),
            (pl.col("repeat_contacts").fill_null(0) / pl.col("volume")).alias("repeat_rate"),
        )
        .drop("total")
        .sort("week_start", "theme_id")
    )
    theme_weekly = theme_weekly.with_columns(
        pl.when(pl.col("trailing_share") > 0)
        .then(pl.col("share") / pl.col("trailing_share") - 1)
        .otherwise(None)
        .alias("change_vs_trailing")
    )

    chargeback = (
        facts.group_by("week_start", "department")
        .agg(
            contacts=pl.len(),
            failure_contacts=(pl.col("demand_type") == "failure").sum(),
            failure_cost=_known_cost(pl.col("demand_type") == "failure"),
            value_contacts=(pl.col("demand_type") == "value").sum(),
            value_cost=_known_cost(pl.col("demand_type") == "value"),
            total_cost=_known_cost(),
            uncosted_contacts=_uncosted(),
            failure_uncosted_contacts=_uncosted(pl.col("demand_type") == "failure"),
        )
        .with_columns((pl.col("failure_contacts") / pl.col("contacts")).alias("failure_share"))
        .sort("week_start", "department")
    )

    this_week = theme_weekly.filter(pl.col("week_start") == week)
    subtypes = dict(
        zip(themes["theme_id"].to_list(), themes["demand_subtype"].to_list(), strict=True)
    )
    opp_rows = []
    for row in this_week.filter(pl.col("demand_type") == "failure").iter_rows(named=True):
        subtype = subtypes.get(row["theme_id"])
        kind = {"chasing_progress": "proactive_notice", "confusion_how_do_i": "self_service"}.get(
            subtype or ""
        )
        if kind is None and subtype == "broken" and row["is_emerging"]:
            kind = "proactive_notice"  # tell customers about an outage before they call
        if kind is None:
            continue
        saving = None if row["est_cost"] is None else row["est_cost"] * DEFLECTION[kind]
        remedy = {
            "proactive_notice": "tell customers where things stand before they ask (SMS/e-mail updates)",
            "self_service": "answer it where customers look first (help page, in-app guide)",
        }[kind]
        opp_rows.append(
            {
                "week_start": week,
                "theme_id": row["theme_id"],
                "kind": kind,
                "department": row["department"],
                "weekly_contacts": row["volume"],
                "est_weekly_saving": None if saving is None else round(saving, 2),
                "rationale": f"{row['volume']} contacts this week about “{labels.get(row['theme_id'], row['theme_id'])}” ({subtype.replace('_', ' ') if subtype else 'failure'}): {remedy}; {_saving_text(saving, DEFLECTION[kind], row['uncosted_contacts'])}",
            }
        )
    opportunities = pl.DataFrame(
        opp_rows,
        schema={
            "week_start": pl.Date,
            "theme_id": pl.Int32,
            "kind": pl.String,
            "department": pl.String,
            "weekly_contacts": pl.Int64,
            "est_weekly_saving": pl.Float64,
            "rationale": pl.String,
        },
    )
    opportunities = (
        opportunities.sort(
            ["est_weekly_saving", "weekly_contacts"], descending=True, nulls_last=True
        )
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int32))
    )

    # themes that matter this week: costly failure demand, real growth, lost NPS points
    failure = this_week.filter((pl.col("demand_type") == "failure") & (pl.col("theme_id") != 0))
    costly = set(
        failure.filter(pl.col("est_cost") >= MIN_ISSUE_COST)
        .sort("est_cost", descending=True, nulls_last=True)
        .head(10)["theme_id"]
        .to_list()
    )
    candidates = this_week.filter(
        (pl.col("theme_id") != 0)
        & (
            pl.col("theme_id").is_in(list(costly))
            | pl.col("is_emerging")
            | (pl.col("nps_effect").fill_null(0) <= NPS_IMPACT)
        )
    )
    cost_rank = {
        t: i
        for i, t in enumerate(
            failure.sort("est_cost", descending=True, nulls_last=True)["theme_id"].to_list()
        )
    }
    cand_rows = []
    for row in candidates.iter_rows(named=True):
        reasons = []
        if row["demand_type"] == "failure" and row["theme_id"] in costly:
            partial = (
                f", {row['uncosted_contacts']} of them without a cost: a partial figure"
                if row["uncosted_contacts"]
                else ""
            )
            reasons.append(
                f"£{row['est_cost']:,.0f} of failure demand this week ({row['volume']} contacts{partial})"
            )
        if row["is_emerging"]:
            reasons.append(row["emerging_reason"] or "emerging")
        if row["nps_effect"] is not None and row["nps_effect"] <= NPS_IMPACT:
            reasons.append(f"costs {-row['nps_effect']:.1f} NPS points")
        if row["is_emerging"] and row["demand_type"] == "failure":
            priority = "P1"
        elif cost_rank.get(row["theme_id"], 99) < 3 or (row["nps_effect"] or 0) <= 2 * NPS_IMPACT:
            priority = "P2"
        elif row["demand_type"] == "failure":
            priority = "P3"
        else:
            priority = "P4"
        cand_rows.append(
            {
                "theme_id": row["theme_id"],
                "department": row["department"] if row["department"] != TRIAGE else None,
                "priority": priority,
                "reason": "; ".join(reasons),
                "volume": row["volume"],
                "cost": None if row["est_cost"] is None else float(row["est_cost"]),
                "title": labels.get(row["theme_id"], f"theme {row['theme_id']}"),
            }
        )
    issue_candidates = pl.DataFrame(
        cand_rows,
        schema={
            "theme_id": pl.Int32,
            "department": pl.String,
            "priority": pl.String,
            "reason": pl.String,
            "volume": pl.Int64,
            "cost": pl.Float64,
            "title": pl.String,
        },
    )

    verifications = []
    # an issue is checked on its theme's contacts: a top-level theme's, or (an issue from
    # before the hierarchy, on a fine theme now under a group) the sub-theme's own
    sub_counts = subtheme_weekly.select(
        "week_start", pl.col("theme_id").cast(pl.Int32), pl.col("volume").cast(pl.UInt32)
    )
    weekly_counts = (
        pl.concat([counts.with_columns(pl.col("volume").cast(pl.UInt32)), sub_counts])
        .join(totals, on="week_start")
        .filter(pl.col("week_start") < until)
    )
    for issue in fixed.iter_rows(named=True):
        series = totals.join(
            weekly_counts.filter(pl.col("theme_id") == issue["theme_id"]).select(
                "week_start", "volume"
            ),
            on="week_start",
            how="left",
        ).with_columns(pl.col("volume").fill_null(0))
        check = verify_fix(series.filter(pl.col("week_start") < until), issue["resolved_at"])
        verifications.append(
            {
                "issue_id": issue["issue_id"],
                "theme_id": issue["theme_id"],
                "status": issue["status"],
                "resolved_at": issue["resolved_at"],
                "check": check,
            }
        )

    service_recovery = _service_recovery(recovery_rows)
    week_rows = facts.filter(pl.col("week_start") == week)
    summary = WeeklySummary(
        week=iso_week(week),
        themes=int(this_week.filter(pl.col("theme_id") != 0).height),
        emerging=[
            f"{labels.get(r['theme_id'], r['theme_id'])}: {r['emerging_reason']}"
            for r in this_week.filter(pl.col("is_emerging")).iter_rows(named=True)
        ],
        triage=[
            labels.get(t, str(t))
            for t in themes.filter(pl.col("department").is_null())["theme_id"].to_list()
        ],
        failure_share=float((week_rows["demand_type"] == "failure").mean() or 0.0)
        if week_rows.height
        else 0.0,
        **_summary_costs(week_rows),
        opportunities=[r["rationale"] for r in opportunities.head(3).iter_rows(named=True)],
    )
    departments = pl.DataFrame(
        [
            {
                "name": d.name,
                "description": d.description,
                "keywords": list(d.keywords),
                "head": d.head,
                "cost_per_contact": json.dumps(
                    {ch: book.cost(d.name, ch) for ch in ("survey", "complaint", "email", "call")}
                ),
            }
            for d in book
        ],
        schema={
            "name": pl.String,
            "description": pl.String,
            "keywords": pl.List(pl.String),
            "head": pl.String,
            "cost_per_contact": pl.String,
        },
    )
    return Review(
        week,
        theme_weekly,
        subtheme_weekly,
        channel_weekly,
        chargeback,
        opportunities,
        issue_candidates,
        verifications,
        service_recovery,
        departments,
        summary,
    )


_SUBTHEME_WEEKLY_SCHEMA = {
    "week_start": pl.Date,
    "theme_id": pl.Int32,
    "parent_id": pl.Int32,
    "volume": pl.Int64,
    "share": pl.Float64,
    "share_of_parent": pl.Float64,
    "trailing_share": pl.Float64,
    "trailing_weeks": pl.Int32,
    "change_vs_trailing": pl.Float64,
    "rate_ratio": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "is_new": pl.Boolean,
    "is_growing": pl.Boolean,
    "growth_reason": pl.String,
    "scored": pl.Int64,
    "avg_score": pl.Float64,
    "est_cost": pl.Float64,
    "uncosted_contacts": pl.Int64,
}


def _subtheme_weekly(
    sub_facts: pl.DataFrame, top_counts: pl.DataFrame, totals: pl.DataFrame
) -> pl.DataFrame:
    """Weekly figures of the sub-themes beneath groups (``sub_facts``: the contacts whose
    fine theme is not their top-level theme), each tested for growth against its own
    trailing weeks across the week's sub-themes."""
    from models.trends import growing_subthemes

    if sub_facts.height == 0:
        return pl.DataFrame(schema=_SUBTHEME_WEEKLY_SCHEMA)
    is_nps = pl.col("score_kind") == "nps"
    per_sub = sub_facts.group_by("week_start", "sub_theme_id").agg(
        parent_id=pl.col("theme_id").first(),
        volume=pl.len(),
        scored=pl.col("score").is_not_null().sum(),
        avg_score=pl.col("score").filter(is_nps).mean(),
        est_cost=_known_cost(),
        uncosted_contacts=_uncosted(),
    )
    growth = growing_subthemes(
        per_sub.select("week_start", pl.col("sub_theme_id").alias("theme_id"), "volume"), totals
    ).select(
        "week_start",
        pl.col("theme_id").cast(pl.Int32).alias("sub_theme_id"),
        "share",
        "trailing_share",
        "trailing_weeks",
        "rate_ratio",
        "p_value",
        "q_value",
        "is_new",
        "is_growing",
        "growth_reason",
    )
    parents = top_counts.select(
        "week_start", pl.col("theme_id").alias("parent_id"), pl.col("volume").alias("parent_volume")
    )
    return (
        per_sub.join(growth, on=["week_start", "sub_theme_id"], how="left")
        .join(parents, on=["week_start", "parent_id"], how="left")
        .join(totals, on="week_start", how="left")
        .with_columns(
            pl.coalesce("share", pl.col("volume") / pl.col("total")).alias("share"),
            (pl.col("volume") / pl.col("parent_volume")).alias("share_of_parent"),
            pl.when(pl.col("trailing_share") > 0)
            .then(
                pl.coalesce("share", pl.col("volume") / pl.col("total")) / pl.col("trailing_share")
                - 1
            )
            .otherwise(None)
            .alias("change_vs_trailing"),
            pl.col("is_new").fill_null(False),
            pl.col("is_growing").fill_null(False),
        )
        .rename({"sub_theme_id": "theme_id"})
        .select(list(_SUBTHEME_WEEKLY_SCHEMA))
        .cast(_SUBTHEME_WEEKLY_SCHEMA)
        .sort("week_start", "parent_id", "theme_id")
    )


def _service_recovery(rows: pl.DataFrame) -> pl.DataFrame:
    schema = {
        "theme_id": pl.Int32,
        "department": pl.String,
        "score_kind": pl.String,
        "customers": pl.Int64,
        "score_before": pl.Float64,
        "score_after": pl.Float64,
        "change": pl.Float64,
        "computed_at": pl.Datetime("us"),
    }
    if rows.height == 0:
        return pl.DataFrame(schema=schema)
    tagged = rows.with_columns((pl.col("received_at") >= pl.col("resolved_at")).alias("after"))
    per_customer = (
        tagged.group_by("theme_id", "department", "score_kind", "customer_ref")
        .agg(
            before=pl.col("score").filter(~pl.col("after")).mean(),
            after=pl.col("score").filter(pl.col("after")).mean(),
        )
        .filter(pl.col("before").is_not_null() & pl.col("after").is_not_null())
    )
    if per_customer.height == 0:
        return pl.DataFrame(schema=schema)
    return (
        per_customer.group_by("theme_id", "department", "score_kind")
        .agg(
            customers=pl.len(),
            score_before=pl.col("before").mean(),
            score_after=pl.col("after").mean(),
        )
        .with_columns(
            (pl.col("score_after") - pl.col("score_before")).alias("change"),
            pl.lit(utc_now()).alias("computed_at"),
        )
        .select(list(schema))
        .cast(schema)
    )


@task(cache_policy=NO_CACHE)
def compute_review(db: str, departments: str, week: date, routing: Routing) -> Review:
    from models.departments import load_departments

    settings = load_settings(db=Path(db))
    book = load_departments(Path(departments))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    until = datetime.combine(week + timedelta(days=7), datetime.min.time())
    with warehouse.read() as con:
        facts = repo.fetch_frame(con, q("contact_facts"), {"until": until})
        labels = dict(con.execute(q("theme_labels")).fetchall())
        fixed = repo.fetch_frame(con, q("issues_to_verify"), {"until": until})
        recovery = repo.fetch_frame(con, q("resolved_issue_customers"))
    facts = facts.with_columns(pl.col("theme_id").cast(pl.Int32))
    return build_review(facts, routing, book, week, labels, fixed, recovery)


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
    week_end = review.week + timedelta(days=6)
    with warehouse.write() as con:
        con.register("staged_departments", review.departments)
        con.execute(q("replace_departments"))
        con.execute(q("insert_departments"), {"at": at})
        for row in routing.themes.iter_rows(named=True):
            con.execute(
                q("update_theme_route"),
                {
                    "theme_id": row["theme_id"],
                    # a theme left for triage keeps routing's best guess as a suggestion
                    "department": row["department"]
                    if row["source"] != "triage"
                    else row["best_guess"],
                    "confidence": row["confidence"],
                    "source": row["source"],
                    "at": at,
                },
            )
            if row["demand_source"] != "analyst":
                con.execute(
                    q("update_theme_demand"),
                    {
                        "theme_id": row["theme_id"],
                        "demand_type": row["demand_type"],
                        "demand_subtype": row["demand_subtype"],
                        "demand_reason": row["demand_reason"],
                        "at": at,
                    },
                )
        # a sub-theme carries its top-level theme's route and demand type
        con.execute(q("route_sub_themes_with_parents"), {"at": at})
        con.execute(q("demand_of_sub_themes_with_parents"), {"at": at})
        if routing.router_version:
            con.execute(q("drop_old_item_routes"), {"router_version": routing.router_version})
            if routing.new_scores is not None and routing.new_scores.height:
                con.register("staged_item_scores", routing.new_scores)
                con.execute(q("insert_item_routes"), {"router_version": routing.router_version})
        con.register("staged_item_routes", routing.items)
        con.execute(q("clear_feedback_departments"))
        con.execute(q("insert_feedback_departments"))
        con.register("staged_theme_weekly", review.theme_weekly.select(_THEME_WEEKLY_COLUMNS))
        con.register("staged_channel_weekly", review.channel_weekly)
        con.register("staged_chargeback", review.chargeback)
        con.register("staged_opportunities", review.opportunities)
        con.register("staged_service_recovery", review.service_recovery)
        con.register("staged_subtheme_weekly", review.subtheme_weekly)
        con.execute(q("clear_weekly_tables"))
        con.execute(q("insert_theme_weekly"))
        con.execute(q("clear_subtheme_weekly"))
        con.execute(q("insert_subtheme_weekly"))
        con.execute(q("clear_channel_weekly"))
        con.execute(q("insert_channel_weekly"))
        con.execute(q("clear_chargeback"))
        con.execute(q("insert_chargeback"))
        con.execute(q("clear_opportunities"), {"week": review.week})
        con.execute(q("insert_opportunities"))
        con.execute(q("replace_service_recovery"))
        con.execute(q("insert_service_recovery"))

        # issues speak of top-level themes: those opened on fine themes that now share a
        # top-level theme fold into one on it (a no-op once done, and without a hierarchy)
        summary.issues_folded.extend(fold_issues_to_top_themes(con, at))
        # issues: one open issue per theme, refreshed, never duplicated
        for row in review.issue_candidates.iter_rows(named=True):
            current = tracker.open_issue_for_theme(con, row["theme_id"])
            if current is None:
                tracker.create_issue(
                    con,
                    theme_id=row["theme_id"],
                    title=row["title"],
                    department=row["department"],
                    priority=row["priority"],
                    due_date=week_end + timedelta(days=DUE_DAYS[row["priority"]]),
                    opened_reason=row["reason"],
                    week=review.week,
                    weekly_volume=row["volume"],
                    weekly_cost=row["cost"],
                    at=at,
                )
                summary.issues_opened += 1
            else:
                con.execute(
                    q("refresh_issue_review"),
                    {
                        "issue_id": current["issue_id"],
                        "week": review.week,
                        "weekly_volume": row["volume"],
                        "weekly_cost": row["cost"],
                        "at": at,
                    },
                )
                summary.issues_refreshed += 1
        for item in review.verifications:
            check = item["check"]
            current = tracker.get_issue(con, item["issue_id"])
            # somebody changed it since we read it: their edit stands (and an issue that
            # moved to its top-level theme is checked on that theme next week)
            if (
                current is None
                or current["theme_id"] != item["theme_id"]
                or current["status"] != item["status"]
                or current["resolved_at"] != item["resolved_at"]
            ):
                continue
            con.execute(
                q("record_verification"),
                {
                    "issue_id": item["issue_id"],
                    "baseline_rate": _per_thousand(check.before_rate),
                    "after_rate": _per_thousand(check.after_rate),
                    "verification": check.evidence,
                    "p_value": _finite(check.p_value),
                    "at": at,
                },
            )
            if current["status"] == "fixed" and check.status == "verified":
                tracker.update_issue(
                    con,
                    item["issue_id"],
                    tracker.IssueChange(status="verified", note=check.evidence),
                    "weekly-review",
                    at,
                    system=True,
                )
                summary.issues_verified.append(f"#{item['issue_id']}: {check.evidence}")
            elif current["status"] == "fixed" and check.status == "no_fall":
                tracker.update_issue(
                    con,
                    item["issue_id"],
                    tracker.IssueChange(status="reopened", note=check.evidence),
                    "weekly-review",
                    at,
                    system=True,
                )
                summary.issues_reopened.append(f"#{item['issue_id']}: {check.evidence}")
        crash_point("weekly.writing")  # issues opened and tables replaced, not yet committed
        con.execute(
            q("insert_weekly_run"),
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


def fold_issues_to_top_themes(con, at: datetime, actor: str = "weekly-review") -> list[str]:
    """Apply ``models.issue_folding.plan_folds`` to the open issues, through the tracker,
    inside the caller's transaction; returns a line per fold for the summary."""
    from models.issue_folding import OpenIssue, plan_folds

    open_issues = repo.fetch_frame(con, q("open_issues_with_top"))
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


_THEME_WEEKLY_COLUMNS = [
    "week_start",
    "theme_id",
    "volume",
    "share",
    "share_ci_low",
    "share_ci_high",
    "trailing_share",
    "trailing_weeks",
    "change_vs_trailing",
    "rate_ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "p_value",
    "q_value",
    "is_emerging",
    "is_new",
    "emerging_reason",
    "scored",
    "avg_score",
    "nps",
    "nps_effect",
    "csat",
    "repeat_contacts",
    "repeat_rate",
    "est_cost",
    "uncosted_contacts",
    "department",
    "demand_type",
]


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
        latest = con.execute(q("latest_week")).fetchall()[0][0]
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
