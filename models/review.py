"""The weekly review's rules, as pure functions over polars frames: no warehouse, no
Prefect, no clock. ``flows/weekly.py`` reads the contact facts, calls ``build_review`` and
writes what it returns; each rule below is also tested on its own (tests/unit).

- **cost**: a contact costs its department's cost per contact for its channel (else the
  departments file's default for the channel, else unknown). Totals sum the known costs
  only and count the uncosted contacts beside them; a total with nothing known is null.
- **theme metrics**: volume, share, the emerging test against the theme's own trailing
  weeks (models/weekly_stats.py), scores, NPS and its effect, CSAT, repeat contacts, cost.
- **chargeback**: per department and week, what failure and value demand cost.
- **opportunities**: failure demand a remedy would prevent (a proactive notice for
  chasing progress or an emerging outage, self-service for "how do I").
- **issues**: a theme matters this week when its failure demand is among the costliest,
  it emerges, or it costs NPS points; its priority follows from why.
- **fix checks** and **service recovery**: did a fixed theme's contacts fall; did the
  scores of the customers it touched recover.

``theme_id`` in the facts is a contact's top-level theme (what every table but
``subtheme_weekly`` speaks of); ``sub_theme_id`` is its fine theme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl

from models.theme_routes import Routing
from models.weekly_stats import (
    FixCheck,
    emerging_themes,
    growing_subthemes,
    mark_repeat_contacts,
    theme_nps_effects,
    verify_fix,
)
from warehouse.contract import (
    CHANNELS,
    ISSUE_PRIORITIES,
    OPPORTUNITIES,
    SERVICE_RECOVERY,
    SUBTHEME_WEEKLY,
    TRIAGE,
)

# share of a theme's contacts a remedy is assumed to prevent (stated on every opportunity)
DEFLECTION = {"self_service": 0.40, "proactive_notice": 0.50}
REMEDY = {
    "proactive_notice": "tell customers where things stand before they ask (SMS/e-mail updates)",
    "self_service": "answer it where customers look first (help page, in-app guide)",
}
# the failure-demand kinds a remedy prevents (models/demand.py names the kinds)
REMEDY_OF_SUBTYPE = {"chasing_progress": "proactive_notice", "confusion_how_do_i": "self_service"}
DUE_DAYS = {"P1": 7, "P2": 14, "P3": 28, "P4": 42}
MIN_ISSUE_COST = 100.0  # a failure-demand theme costing less a week does not open an issue
NPS_IMPACT = -1.5  # or costs this many NPS points
MOST_COSTLY = 10  # the costliest failure-demand themes of a week that open issues
CSAT_KINDS = ("csat", "rating")  # scores read as satisfaction (1-5)
PROMOTER, DETRACTOR = 9, 6  # NPS: 9-10 promote, 0-6 detract


# ------------------------------------------------------------------------------ weeks
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


def due_date(week: date, priority: str) -> date:
    """An issue opened in the review of ``week`` is due this long after the week ends."""
    return week + timedelta(days=6) + timedelta(days=DUE_DAYS[priority])


def escalation(
    current: dict, wanted: str, week: date, *, set_by_person: bool
) -> tuple[str, date] | None:
    """(priority, due date) the weekly review raises an open issue to when its theme now
    matters more than when the issue was opened, or None. An outage emerging on a theme
    whose issue was opened weeks ago as P2 makes it P1, due as a P1 opened this week
    would be (or sooner, if it was due sooner). The review never lowers a priority, does
    not touch an issue marked fixed (the fix check decides), and leaves a priority a
    person has set: their word is final."""
    if set_by_person or current.get("status") == "fixed":
        return None
    rank = ISSUE_PRIORITIES.index  # P1 first
    now = current.get("priority")
    if now in ISSUE_PRIORITIES and rank(wanted) >= rank(now):
        return None
    due = due_date(week, wanted)
    if current.get("due_date") is not None and current["due_date"] < due:
        due = current["due_date"]
    return wanted, due


# ------------------------------------------------------------------------------ results
@dataclass
class WeeklySummary:
    week: str
    themes: int = 0
    emerging: list[str] = field(default_factory=list)
    triage: list[str] = field(default_factory=list)
    issues_opened: int = 0
    issues_refreshed: int = 0
    issues_escalated: list[str] = field(default_factory=list)
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


ISSUE_CANDIDATE_SCHEMA = {
    "theme_id": pl.Int32,
    "department": pl.String,
    "priority": pl.String,
    "reason": pl.String,
    "volume": pl.Int64,
    "cost": pl.Float64,
    "title": pl.String,
}


# ------------------------------------------------------------------------------ cost
def known_cost(which: pl.Expr | None = None) -> pl.Expr:
    """The sum of the known costs (of the rows ``which`` picks); null when none is known,
    so an unknown cost is never added up as 0 (the uncosted count says what is missing)."""
    cost = pl.col("cost") if which is None else pl.col("cost").filter(which)
    return pl.when(cost.is_null().all() & (cost.len() > 0)).then(None).otherwise(cost.sum())


def uncosted(which: pl.Expr | None = None) -> pl.Expr:
    missing = pl.col("cost").is_null()
    return (missing if which is None else missing & which).sum().cast(pl.Int64)


def cost_frame(org) -> pl.DataFrame:
    """(department, channel, unit_cost) from the departments file; its defaults under
    TRIAGE, the cost of a contact nobody owns yet and of a department with no figure."""
    rows = [
        {
            "department": r["department"] if r["department"] is not None else TRIAGE,
            "channel": r["channel"],
            "unit_cost": None if r["cost_per_contact"] is None else float(r["cost_per_contact"]),
        }
        for r in org.cost_rows()
    ]
    return pl.DataFrame(
        rows, schema={"department": pl.String, "channel": pl.String, "unit_cost": pl.Float64}
    )


def routed_and_costed(facts: pl.DataFrame, themes: pl.DataFrame, org) -> pl.DataFrame:
    """The facts with their top-level theme's department (TRIAGE when none), demand type
    and subtype, and each contact's ``cost`` (null: unknown)."""
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
    costs = cost_frame(org)
    default_costs = costs.filter(pl.col("department") == TRIAGE).select(
        "channel", pl.col("unit_cost").alias("default_cost")
    )
    return (
        facts.join(costs, on=["department", "channel"], how="left")
        .join(default_costs, on="channel", how="left")
        .with_columns(pl.coalesce("unit_cost", "default_cost").alias("cost"))
        .drop("unit_cost", "default_cost")
    )


def summary_costs(week_rows: pl.DataFrame) -> dict:
    failure = pl.col("demand_type") == "failure"
    row = week_rows.select(
        week_cost=known_cost(),
        failure_cost=known_cost(failure),
        week_uncosted=uncosted(),
        failure_uncosted=uncosted(failure),
    ).row(0, named=True)
    return {
        "week_cost": row["week_cost"],
        "failure_cost": row["failure_cost"],
        "week_uncosted": int(row["week_uncosted"] or 0),
        "failure_uncosted": int(row["failure_uncosted"] or 0),
    }


def saving_text(saving: float | None, share: float, uncosted_contacts: int) -> str:
    if saving is None:
        return (
            f"assuming {share:.0%} of them are prevented; the saving is unknown (no cost per "
            "contact for these contacts in the departments file)"
        )
    partial = (
        f" (at least: {uncosted_contacts} of the contacts have no cost)"
        if uncosted_contacts
        else ""
    )
    return f"assuming {share:.0%} of them are prevented saves about £{saving:,.0f} a week{partial}"


# ------------------------------------------------------------------------------ metrics
_IS_NPS = pl.col("score_kind") == "nps"


def channel_weekly(facts: pl.DataFrame) -> pl.DataFrame:
    """Per (week, top-level theme, channel): contacts, cost and the score sums the
    dashboard filters by channel with."""
    return (
        facts.group_by("week_start", "theme_id", "channel")
        .agg(
            volume=pl.len(),
            est_cost=known_cost(),
            uncosted_contacts=uncosted(),
            scored=pl.col("score").is_not_null().sum(),
            score_sum=pl.col("score").sum(),
            promoters=(_IS_NPS & (pl.col("score") >= PROMOTER)).sum(),
            detractors=(_IS_NPS & (pl.col("score") <= DETRACTOR)).sum(),
            nps_responses=_IS_NPS.sum(),
        )
        .sort("week_start", "theme_id", "channel")
    )


def repeat_counts(facts: pl.DataFrame) -> pl.DataFrame:
    """Per (week, theme): contacts from a customer who contacted about it in the 14 days
    before (models.weekly_stats.mark_repeat_contacts)."""
    marked = mark_repeat_contacts(
        facts.select("feedback_id", "customer_ref", "theme_id", "received_at", "week_start")
    )
    return marked.group_by("week_start", "theme_id").agg(repeat_contacts=pl.col("is_repeat").sum())


def weekly_nps_effects(facts: pl.DataFrame) -> pl.DataFrame:
    """Per (week, theme): the theme's NPS and its effect on the week's NPS."""
    effects = []
    for (wk,), group in facts.filter(_IS_NPS & pl.col("score").is_not_null()).group_by(
        "week_start"
    ):
        eff = theme_nps_effects(group, score="score", theme="theme_id", key="feedback_id")
        effects.append(
            eff.select("theme_id", "nps", "nps_effect").with_columns(
                pl.lit(wk).cast(pl.Date).alias("week_start")
            )
        )
    if not effects:
        return pl.DataFrame(
            schema={
                "theme_id": pl.Int32,
                "nps": pl.Float64,
                "nps_effect": pl.Float64,
                "week_start": pl.Date,
            }
        )
    return pl.concat(effects).with_columns(pl.col("theme_id").cast(pl.Int32))


def theme_weekly(
    facts: pl.DataFrame, counts: pl.DataFrame, totals: pl.DataFrame, themes: pl.DataFrame
) -> pl.DataFrame:
    """Per (week, top-level theme): the row of ``theme_weekly`` (warehouse/contract.py)."""
    emerging = emerging_themes(counts, totals)
    per_theme = facts.group_by("week_start", "theme_id").agg(
        volume=pl.len(),
        est_cost=known_cost(),
        uncosted_contacts=uncosted(),
        scored=pl.col("score").is_not_null().sum(),
        avg_score=pl.col("score").filter(_IS_NPS).mean(),
        csat=pl.col("score").filter(pl.col("score_kind").is_in(list(CSAT_KINDS))).mean(),
    )
    tested = emerging.select(
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
    )
    week_theme = ["week_start", "theme_id"]
    return (
        per_theme.join(tested, on=week_theme, how="left")
        .join(repeat_counts(facts), on=week_theme, how="left")
        .join(weekly_nps_effects(facts), on=week_theme, how="left")
        .join(themes.select("theme_id", "department", "demand_type"), on="theme_id", how="left")
        .join(totals, on="week_start", how="left")
        .with_columns(
            pl.coalesce("share", pl.col("volume") / pl.col("total")).alias("share"),
            pl.col("is_emerging").fill_null(False),
            pl.col("is_new").fill_null(False),
            pl.col("repeat_contacts").fill_null(0),
            (pl.col("repeat_contacts").fill_null(0) / pl.col("volume")).alias("repeat_rate"),
        )
        .with_columns(
            pl.when(pl.col("trailing_share") > 0)
            .then(pl.col("share") / pl.col("trailing_share") - 1)
            .otherwise(None)
            .alias("change_vs_trailing")
        )
        .drop("total")
        .sort("week_start", "theme_id")
    )


def subtheme_weekly(
    sub_facts: pl.DataFrame, top_counts: pl.DataFrame, totals: pl.DataFrame
) -> pl.DataFrame:
    """Weekly figures of the sub-themes beneath groups (``sub_facts``: the contacts whose
    fine theme is not their top-level theme), each tested for growth against its own
    trailing weeks across the week's sub-themes."""
    if sub_facts.height == 0:
        return pl.DataFrame(schema=SUBTHEME_WEEKLY)
    per_sub = sub_facts.group_by("week_start", "sub_theme_id").agg(
        parent_id=pl.col("theme_id").first(),
        volume=pl.len(),
        scored=pl.col("score").is_not_null().sum(),
        avg_score=pl.col("score").filter(_IS_NPS).mean(),
        est_cost=known_cost(),
        uncosted_contacts=uncosted(),
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
    share = pl.coalesce("share", pl.col("volume") / pl.col("total"))
    return (
        per_sub.join(growth, on=["week_start", "sub_theme_id"], how="left")
        .join(parents, on=["week_start", "parent_id"], how="left")
        .join(totals, on="week_start", how="left")
        .with_columns(
            share.alias("share"),
            (pl.col("volume") / pl.col("parent_volume")).alias("share_of_parent"),
            pl.when(pl.col("trailing_share") > 0)
            .then(share / pl.col("trailing_share") - 1)
            .otherwise(None)
            .alias("change_vs_trailing"),
            pl.col("is_new").fill_null(False),
            pl.col("is_growing").fill_null(False),
        )
        .rename({"sub_theme_id": "theme_id"})
        .select(list(SUBTHEME_WEEKLY))
        .cast(SUBTHEME_WEEKLY)
        .sort("week_start", "parent_id", "theme_id")
    )


def chargeback(facts: pl.DataFrame) -> pl.DataFrame:
    """Per (week, department; TRIAGE for contacts nobody owns yet): what failure and
    value demand cost, with the contacts that could not be costed."""
    failure = pl.col("demand_type") == "failure"
    value = pl.col("demand_type") == "value"
    return (
        facts.group_by("week_start", "department")
        .agg(
            contacts=pl.len(),
            failure_contacts=failure.sum(),
            failure_cost=known_cost(failure),
            value_contacts=value.sum(),
            value_cost=known_cost(value),
            total_cost=known_cost(),
            uncosted_contacts=uncosted(),
            failure_uncosted_contacts=uncosted(failure),
        )
        .with_columns((pl.col("failure_contacts") / pl.col("contacts")).alias("failure_share"))
        .sort("week_start", "department")
    )


# ------------------------------------------------------------------------------ action
def remedy_for(subtype: str | None, is_emerging: bool) -> str | None:
    """The remedy that would prevent a failure-demand theme's contacts, if any: a notice
    for chasing progress (and for an outage while it emerges), self-service for "how do I"."""
    kind = REMEDY_OF_SUBTYPE.get(subtype or "")
    if kind is None and subtype == "broken" and is_emerging:
        kind = "proactive_notice"  # tell customers about an outage before they call
    return kind


def opportunities(
    this_week: pl.DataFrame, subtypes: dict[int, str | None], labels: dict[int, str], week: date
) -> pl.DataFrame:
    """The week's failure-demand themes a remedy would prevent, ranked by estimated
    weekly saving (then contacts)."""
    rows = []
    for row in this_week.filter(pl.col("demand_type") == "failure").iter_rows(named=True):
        subtype = subtypes.get(row["theme_id"])
        kind = remedy_for(subtype, row["is_emerging"])
        if kind is None:
            continue
        saving = None if row["est_cost"] is None else row["est_cost"] * DEFLECTION[kind]
        about = labels.get(row["theme_id"], row["theme_id"])
        what = subtype.replace("_", " ") if subtype else "failure"
        rows.append(
            {
                "week_start": week,
                "theme_id": row["theme_id"],
                "kind": kind,
                "department": row["department"],
                "weekly_contacts": row["volume"],
                "est_weekly_saving": None if saving is None else round(saving, 2),
                "rationale": f"{row['volume']} contacts this week about “{about}” ({what}): "
                f"{REMEDY[kind]}; "
                f"{saving_text(saving, DEFLECTION[kind], row['uncosted_contacts'])}",
            }
        )
    unranked = {c: t for c, t in OPPORTUNITIES.items() if c != "rank"}
    return (
        pl.DataFrame(rows, schema=unranked)
        .sort(["est_weekly_saving", "weekly_contacts"], descending=True, nulls_last=True)
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int32))
    )


def issue_reasons(row: dict, costly: set[int]) -> list[str]:
    """Why a theme matters this week, in the words the issue opens with."""
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
    return reasons


def issue_priority(row: dict, cost_rank: int) -> str:
    """P1 for emerging failure demand; P2 for one of the 3 costliest or twice the NPS
    impact; P3 for other failure demand; P4 for the rest. ``cost_rank``: the theme's
    place among the week's failure demand by cost (0 = costliest)."""
    if row["is_emerging"] and row["demand_type"] == "failure":
        return "P1"
    if cost_rank < 3 or (row["nps_effect"] or 0) <= 2 * NPS_IMPACT:
        return "P2"
    if row["demand_type"] == "failure":
        return "P3"
    return "P4"


def issue_candidates(this_week: pl.DataFrame, labels: dict[int, str]) -> pl.DataFrame:
    """The themes that matter this week: costly failure demand, real growth, lost NPS
    points; one row each, with the issue's priority, reason and title."""
    failure = this_week.filter((pl.col("demand_type") == "failure") & (pl.col("theme_id") != 0))
    costly = set(
        failure.filter(pl.col("est_cost") >= MIN_ISSUE_COST)
        .sort("est_cost", descending=True, nulls_last=True)
        .head(MOST_COSTLY)["theme_id"]
        .to_list()
    )
    by_cost = failure.sort("est_cost", descending=True, nulls_last=True)["theme_id"].to_list()
    cost_rank = {t: i for i, t in enumerate(by_cost)}
    candidates = this_week.filter(
        (pl.col("theme_id") != 0)
        & (
            pl.col("theme_id").is_in(list(costly))
            | pl.col("is_emerging")
            | (pl.col("nps_effect").fill_null(0) <= NPS_IMPACT)
        )
    )
    rows = [
        {
            "theme_id": row["theme_id"],
            "department": row["department"] if row["department"] != TRIAGE else None,
            "priority": issue_priority(row, cost_rank.get(row["theme_id"], 99)),
            "reason": "; ".join(issue_reasons(row, costly)),
            "volume": row["volume"],
            "cost": None if row["est_cost"] is None else float(row["est_cost"]),
            "title": labels.get(row["theme_id"], f"theme {row['theme_id']}"),
        }
        for row in candidates.iter_rows(named=True)
    ]
    return pl.DataFrame(rows, schema=ISSUE_CANDIDATE_SCHEMA)


def fix_checks(
    fixed: pl.DataFrame,
    counts: pl.DataFrame,
    sub_weekly: pl.DataFrame,
    totals: pl.DataFrame,
    until: date,
) -> list[dict]:
    """``verify_fix`` for every issue marked fixed: on its theme's contacts, a top-level
    theme's, or (an issue from before the hierarchy, on a fine theme now under a group)
    the sub-theme's own."""
    sub_counts = sub_weekly.select(
        "week_start", pl.col("theme_id").cast(pl.Int32), pl.col("volume").cast(pl.UInt32)
    )
    weekly_counts = (
        pl.concat([counts.with_columns(pl.col("volume").cast(pl.UInt32)), sub_counts])
        .join(totals, on="week_start")
        .filter(pl.col("week_start") < until)
    )
    checks = []
    for issue in fixed.iter_rows(named=True):
        series = totals.join(
            weekly_counts.filter(pl.col("theme_id") == issue["theme_id"]).select(
                "week_start", "volume"
            ),
            on="week_start",
            how="left",
        ).with_columns(pl.col("volume").fill_null(0))
        check = verify_fix(series.filter(pl.col("week_start") < until), issue["resolved_at"])
        checks.append(
            {
                "issue_id": issue["issue_id"],
                "theme_id": issue["theme_id"],
                "status": issue["status"],
                "resolved_at": issue["resolved_at"],
                "check": check,
            }
        )
    return checks


def verification_outcome(status: str, check: FixCheck) -> str | None:
    """The status a fixed issue moves to on the evidence: verified on a real fall,
    reopened once the weeks show none; None while it waits (or is not 'fixed')."""
    if status != "fixed":
        return None
    return {"verified": "verified", "no_fall": "reopened"}.get(check.status)


def still_as_checked(current: dict | None, checked: dict) -> bool:
    """The issue is as the check read it: nobody changed it since (their edit stands, and
    an issue that moved to its top-level theme is checked on that theme next week)."""
    return (
        current is not None
        and current["theme_id"] == checked["theme_id"]
        and current["status"] == checked["status"]
        and current["resolved_at"] == checked["resolved_at"]
    )


def service_recovery(rows: pl.DataFrame, computed_at: datetime) -> pl.DataFrame:
    """Per (theme, department, score kind): the mean score of customers before and after
    their issue's theme was resolved, over customers scored on both sides."""
    if rows.height == 0:
        return pl.DataFrame(schema=SERVICE_RECOVERY)
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
        return pl.DataFrame(schema=SERVICE_RECOVERY)
    return (
        per_customer.group_by("theme_id", "department", "score_kind")
        .agg(
            customers=pl.len(),
            score_before=pl.col("before").mean(),
            score_after=pl.col("after").mean(),
        )
        .with_columns(
            (pl.col("score_after") - pl.col("score_before")).alias("change"),
            pl.lit(computed_at).alias("computed_at"),
        )
        .select(list(SERVICE_RECOVERY))
        .cast(SERVICE_RECOVERY)
    )


def departments_frame(org) -> pl.DataFrame:
    """The departments file as the ``departments`` table holds it."""
    return pl.DataFrame(
        [
            {
                "name": d.name,
                "description": d.description,
                "keywords": list(d.keywords),
                "head": d.head,
                "cost_per_contact": json.dumps({ch: org.cost(d.name, ch) for ch in CHANNELS}),
            }
            for d in org
        ],
        schema={
            "name": pl.String,
            "description": pl.String,
            "keywords": pl.List(pl.String),
            "head": pl.String,
            "cost_per_contact": pl.String,
        },
    )


def week_summary(
    week: date,
    this_week: pl.DataFrame,
    week_rows: pl.DataFrame,
    themes: pl.DataFrame,
    ranked_opportunities: pl.DataFrame,
    labels: dict[int, str],
) -> WeeklySummary:
    """The review in a few lines: themes, emerging ones, triage, failure share, costs and
    the top 3 opportunities (issues are counted as they are written)."""
    return WeeklySummary(
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
        **summary_costs(week_rows),
        opportunities=[r["rationale"] for r in ranked_opportunities.head(3).iter_rows(named=True)],
    )


# ------------------------------------------------------------------------------ the review
def build_review(
    facts: pl.DataFrame,
    routing: Routing,
    org,
    week: date,
    labels: dict[int, str],
    fixed: pl.DataFrame,
    recovery_rows: pl.DataFrame,
    *,
    computed_at: datetime,
) -> Review:
    """All the weekly tables from the contact facts (``contact_facts``), the routing of
    the themes, the departments file, the theme labels, the issues marked fixed and the
    scores of their customers. ``computed_at`` stamps the service-recovery rows."""
    themes = routing.themes
    facts = routed_and_costed(facts, themes, org)
    counts = facts.group_by("week_start", "theme_id").agg(volume=pl.len())
    totals = facts.group_by("week_start").agg(total=pl.len())
    sub_weekly = subtheme_weekly(
        facts.filter(pl.col("sub_theme_id") != pl.col("theme_id")), counts, totals
    )
    weekly = theme_weekly(facts, counts, totals, themes)
    this_week = weekly.filter(pl.col("week_start") == week)
    subtypes = dict(
        zip(themes["theme_id"].to_list(), themes["demand_subtype"].to_list(), strict=True)
    )
    ranked = opportunities(this_week, subtypes, labels, week)
    return Review(
        week,
        weekly,
        sub_weekly,
        channel_weekly(facts),
        chargeback(facts),
        ranked,
        issue_candidates(this_week, labels),
        fix_checks(fixed, counts, sub_weekly, totals, week + timedelta(days=7)),
        service_recovery(recovery_rows, computed_at),
        departments_frame(org),
        week_summary(
            week, this_week, facts.filter(pl.col("week_start") == week), themes, ranked, labels
        ),
    )
