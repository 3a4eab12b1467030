"""The weekly review's rules on small fixed data: metrics, emerging, cost, chargeback,
opportunities, which themes open issues, fix verification, service recovery."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from flows.config import DEFAULT_DEPARTMENTS
from models import review as review_rules
from models.departments import load_departments
from models.review import iso_week, parse_week
from models.theme_routes import Routing
from warehouse.contract import TRIAGE

WEEKS = [date(2026, 9, 28) + timedelta(days=7 * i) for i in range(8)]
COMPUTED_AT = datetime(2026, 11, 23, 6, 0)


def build_review(*args):
    """The review as of the Monday after the last week (the one clock the rules take)."""
    return review_rules.build_review(*args, computed_at=COMPUTED_AT)


LABELS = {1: "engineer no-show", 2: "charged twice", 3: "login loop", 4: "upgrade package"}


def facts_for(volumes: dict[int, list[int]], seed: int = 0) -> pl.DataFrame:
    """One row per contact; theme -> contacts per week; scores and customers attached."""
    rng = np.random.default_rng(seed)
    rows = []
    n = 0
    for theme, per_week in volumes.items():
        for week, count in zip(WEEKS, per_week, strict=True):
            for _ in range(count):
                n += 1
                at = datetime.combine(week, datetime.min.time()) + timedelta(
                    hours=int(rng.integers(9, 9 + 24 * 6))
                )
                nps = theme != 4
                rows.append(
                    {
                        "feedback_id": f"f{n}",
                        "channel": ["survey", "email", "call", "complaint"][n % 4],
                        "customer_ref": f"c{theme}-{n % 37}",
                        "received_at": at,
                        "score": float(
                            rng.integers(0, 5) if theme in (1, 2) else rng.integers(8, 11)
                        )
                        if nps and n % 4 == 0
                        else None,
                        "score_kind": "nps" if nps and n % 4 == 0 else None,
                        "week_start": week,
                        "theme_id": theme,
                        "department": None,
                        "demand_type": None,
                        "demand_subtype": None,
                    }
                )
    return pl.DataFrame(rows).with_columns(
        pl.col("theme_id").cast(pl.Int32), pl.col("score").cast(pl.Float64)
    )


def routing() -> Routing:
    themes = pl.DataFrame(
        {
            "theme_id": [1, 2, 3, 4],
            "department": ["Field Operations", "Billing", "Digital", "Sales"],
            "confidence": [0.9, 0.8, 0.85, 0.7],
            "source": ["model"] * 4,
            "best_guess": ["Field Operations", "Billing", "Digital", "Sales"],
            "demand_type": ["failure", "failure", "failure", "value"],
            "demand_subtype": [
                "chasing_progress",
                "mistake",
                "confusion_how_do_i",
                "purchase_upgrade",
            ],
            "demand_reason": ["r"] * 4,
            "demand_source": ["model"] * 4,
        }
    ).with_columns(pl.col("theme_id").cast(pl.Int32))
    return Routing(themes, pl.DataFrame())


NO_FIXED = pl.DataFrame(
    schema={
        "issue_id": pl.Int32,
        "theme_id": pl.Int32,
        "department": pl.String,
        "status": pl.String,
        "resolved_at": pl.Datetime("us"),
    }
)
NO_RECOVERY = pl.DataFrame(
    schema={
        "issue_id": pl.Int32,
        "theme_id": pl.Int32,
        "department": pl.String,
        "resolved_at": pl.Datetime("us"),
        "customer_ref": pl.String,
        "score_kind": pl.String,
        "score": pl.Float64,
        "received_at": pl.Datetime("us"),
    }
)


@pytest.fixture(scope="module")
def org():
    return load_departments(DEFAULT_DEPARTMENTS)


def test_parse_week_and_iso_week():
    assert parse_week("2026-W47", None) == date(2026, 11, 16)
    assert parse_week("2026-11-19", None) == date(2026, 11, 16)
    assert parse_week(None, date(2026, 11, 16)) == date(2026, 11, 16)
    assert iso_week(date(2026, 11, 16)) == "2026-W47"
    with pytest.raises(ValueError, match="ISO week"):
        parse_week("last tuesday", None)


def test_spike_is_emerging_only_in_its_week_and_costs_add_up(org):
    volumes = {1: [30] * 7 + [120], 2: [25] * 8, 3: [20] * 8, 4: [15] * 8}
    review = build_review(
        facts_for(volumes), routing(), org, WEEKS[-1], LABELS, NO_FIXED, NO_RECOVERY
    )
    weekly = review.theme_weekly
    flagged = weekly.filter(pl.col("is_emerging")).select("week_start", "theme_id").rows()
    assert flagged == [(WEEKS[-1], 1)]
    spike = weekly.filter((pl.col("week_start") == WEEKS[-1]) & (pl.col("theme_id") == 1)).row(
        0, named=True
    )
    assert (
        spike["rate_ratio"] > 1.8
        and spike["q_value"] < 0.01
        and "contacts" in spike["emerging_reason"]
    )
    # cost is volume x the owning department's cost per contact and channel
    one_week = review.channel_weekly.filter(
        (pl.col("week_start") == WEEKS[0]) & (pl.col("theme_id") == 2)
    )
    expected = sum(
        org.cost("Billing", ch) * v for ch, v in one_week.select("channel", "volume").rows()
    )
    assert one_week["est_cost"].sum() == pytest.approx(expected)
    # the chargeback charges failure demand to the department that causes it
    charge = review.chargeback.filter(pl.col("week_start") == WEEKS[-1])
    sales = charge.filter(pl.col("department") == "Sales").row(0, named=True)
    assert sales["failure_contacts"] == 0 and sales["value_contacts"] == 15
    field_ops = charge.filter(pl.col("department") == "Field Operations").row(0, named=True)
    assert field_ops["failure_contacts"] == 120 and field_ops["failure_cost"] > 0
    total = weekly.filter(pl.col("week_start") == WEEKS[-1])["est_cost"].sum()
    assert charge["total_cost"].sum() == pytest.approx(total)


def test_quiet_weeks_flag_nothing(org):
    volumes = {
        1: [30, 28, 33, 29, 31, 30, 27, 32],
        2: [25, 27, 24, 26, 25, 23, 26, 25],
        3: [20, 19, 21, 22, 18, 20, 21, 19],
        4: [15, 14, 16, 15, 17, 15, 14, 16],
    }
    review = build_review(
        facts_for(volumes, seed=4), routing(), org, WEEKS[-1], LABELS, NO_FIXED, NO_RECOVERY
    )
    assert review.theme_weekly["is_emerging"].sum() == 0
    assert review.summary.emerging == []


def test_opportunities_and_issue_candidates(org):
    volumes = {1: [30] * 7 + [120], 2: [25] * 8, 3: [20] * 8, 4: [15] * 8}
    review = build_review(
        facts_for(volumes), routing(), org, WEEKS[-1], LABELS, NO_FIXED, NO_RECOVERY
    )
    kinds = dict(
        zip(
            review.opportunities["theme_id"].to_list(),
            review.opportunities["kind"].to_list(),
            strict=True,
        )
    )
    assert kinds == {
        1: "proactive_notice",
        3: "self_service",
    }  # chasing → notice, how-do-I → self-service
    assert review.opportunities["rank"].to_list() == [1, 2]
    assert review.opportunities["est_weekly_saving"].is_sorted(descending=True)
    cands = {r["theme_id"]: r for r in review.issue_candidates.iter_rows(named=True)}
    assert (
        cands[1]["priority"] == "P1" and "emerging" in cands[1]["reason"]
    )  # growing failure demand
    assert 4 not in cands  # value demand that is not growing is not a problem to fix
    assert all(c["department"] for c in cands.values())


def test_a_real_fall_verifies_and_no_fall_does_not(org):
    volumes = {1: [30] * 8, 2: [25] * 8, 3: [40, 42, 38, 41, 39, 3, 2, 3], 4: [15] * 8}
    fixed_at = datetime.combine(WEEKS[5], datetime.min.time()) + timedelta(hours=9)
    fixed = pl.DataFrame(
        {
            "issue_id": [7, 8],
            "theme_id": [3, 2],
            "department": ["Digital", "Billing"],
            "status": ["fixed", "fixed"],
            "resolved_at": [fixed_at, fixed_at],
        }
    ).cast({"issue_id": pl.Int32, "theme_id": pl.Int32})
    review = build_review(facts_for(volumes), routing(), org, WEEKS[-1], LABELS, fixed, NO_RECOVERY)
    checks = {v["issue_id"]: v["check"] for v in review.verifications}
    assert checks[7].status == "verified" and checks[7].rate_ratio < 0.3
    assert "Verified" in checks[7].evidence
    assert checks[8].status in ("not_yet", "no_fall") and checks[8].status != "verified"


def test_service_recovery_compares_scores_before_and_after_the_fix(org):
    fixed_at = datetime(2026, 11, 2, 9)
    rows = []
    for c in range(6):
        rows.append(
            {
                "issue_id": 7,
                "theme_id": 3,
                "department": "Digital",
                "resolved_at": fixed_at,
                "customer_ref": f"c{c}",
                "score_kind": "nps",
                "score": 2.0,
                "received_at": datetime(2026, 10, 20),
            }
        )
        rows.append(
            {
                "issue_id": 7,
                "theme_id": 3,
                "department": "Digital",
                "resolved_at": fixed_at,
                "customer_ref": f"c{c}",
                "score_kind": "nps",
                "score": 8.0,
                "received_at": datetime(2026, 11, 12),
            }
        )
    recovery = pl.DataFrame(rows).cast({"issue_id": pl.Int32, "theme_id": pl.Int32})
    review = build_review(
        facts_for({1: [10] * 8, 2: [10] * 8, 3: [10] * 8, 4: [10] * 8}),
        routing(),
        org,
        WEEKS[-1],
        LABELS,
        NO_FIXED,
        recovery,
    )
    row = review.service_recovery.row(0, named=True)
    assert (
        row["theme_id"],
        row["customers"],
        row["score_before"],
        row["score_after"],
        row["change"],
        row["computed_at"],
    ) == (3, 6, 2.0, 8.0, 6.0, COMPUTED_AT)


def test_unrouted_contacts_are_charged_to_triage(org):
    r = routing()
    themes = r.themes.with_columns(
        pl.when(pl.col("theme_id") == 2)
        .then(None)
        .otherwise(pl.col("department"))
        .alias("department")
    )
    review = build_review(
        facts_for({1: [10] * 8, 2: [10] * 8, 3: [10] * 8, 4: [10] * 8}),
        Routing(themes, r.items),
        org,
        WEEKS[-1],
        LABELS,
        NO_FIXED,
        NO_RECOVERY,
    )
    assert TRIAGE in review.chargeback["department"].to_list()
    assert LABELS[2] in review.summary.triage


def _org_with(costs: dict[str, dict[str, float]]):
    """The routing fixture's four departments, costed only where ``costs`` says."""
    from models.departments import parse_departments

    return parse_departments(
        [
            {"name": name, "description": f"Owns {name.lower()}.", "keywords": [name.lower()]}
            | ({"cost_per_contact": costs[name]} if name in costs else {})
            for name in ("Field Operations", "Billing", "Digital", "Sales")
        ],
        "test.yaml",
    )


def test_without_costs_every_cost_is_unknown_never_zero():
    volumes = {1: [30] * 7 + [120], 2: [25] * 8, 3: [20] * 8, 4: [15] * 8}
    review = build_review(
        facts_for(volumes), routing(), _org_with({}), WEEKS[-1], LABELS, NO_FIXED, NO_RECOVERY
    )
    assert review.channel_weekly["est_cost"].null_count() == review.channel_weekly.height
    assert review.theme_weekly["est_cost"].null_count() == review.theme_weekly.height
    assert (review.theme_weekly["uncosted_contacts"] == review.theme_weekly["volume"]).all()
    charge = review.chargeback.filter(pl.col("week_start") == WEEKS[-1])
    field_ops = charge.filter(pl.col("department") == "Field Operations").row(0, named=True)
    assert field_ops["failure_cost"] is None and field_ops["total_cost"] is None
    assert field_ops["failure_uncosted_contacts"] == 120 and field_ops["uncosted_contacts"] == 120
    sales = charge.filter(pl.col("department") == "Sales").row(0, named=True)
    assert sales["failure_cost"] == 0  # no failure demand at all: that costs nothing
    assert sales["value_cost"] is None
    summary = review.summary
    assert summary.week_cost is None and summary.failure_cost is None
    assert summary.week_uncosted == 120 + 25 + 20 + 15 and summary.failure_uncosted == 165
    # opportunities are still found; their saving is unknown and says so
    assert set(review.opportunities["theme_id"]) == {1, 3}
    assert review.opportunities["est_weekly_saving"].null_count() == 2
    assert all("saving is unknown" in r for r in review.opportunities["rationale"])
    # an unknown cost never makes a theme "costly"; growth still opens its issue
    cands = {r["theme_id"]: r for r in review.issue_candidates.iter_rows(named=True)}
    assert cands[1]["cost"] is None and "£" not in cands[1]["reason"]


def test_a_total_with_some_costs_unknown_is_partial_and_says_so():
    # Billing costs its calls and e-mails only; nobody else has a figure
    org = _org_with({"Billing": {"call": 5.0, "email": 3.0}})
    volumes = {1: [30] * 8, 2: [25] * 8, 3: [20] * 8, 4: [15] * 8}
    review = build_review(
        facts_for(volumes), routing(), org, WEEKS[-1], LABELS, NO_FIXED, NO_RECOVERY
    )
    billing = review.theme_weekly.filter(
        (pl.col("week_start") == WEEKS[-1]) & (pl.col("theme_id") == 2)
    ).row(0, named=True)
    mix = review.channel_weekly.filter(
        (pl.col("week_start") == WEEKS[-1]) & (pl.col("theme_id") == 2)
    )
    known = {r["channel"]: r for r in mix.iter_rows(named=True)}
    assert known["call"]["est_cost"] == 5.0 * known["call"]["volume"]
    assert known["survey"]["est_cost"] is None
    assert billing["est_cost"] == known["call"]["est_cost"] + known["email"]["est_cost"]
    assert billing["uncosted_contacts"] == known["survey"]["volume"] + known["complaint"]["volume"]
    summary = review.summary
    assert summary.week_cost == billing["est_cost"]
    assert summary.week_uncosted == 30 + 25 + 20 + 15 - (
        known["call"]["volume"] + known["email"]["volume"]
    )


# ------------------------------------------------------------- through the hierarchy
GROUP = 10  # a top-level theme over the fine themes 5 and 6


def _grouped(volumes: dict[int, list[int]], parents: dict[int, int], seed: int = 0):
    """Contact facts as the warehouse gives them once fine themes sit under groups:
    ``theme_id`` the top-level theme, ``sub_theme_id`` the fine one."""
    facts = facts_for(volumes, seed)
    return facts.rename({"theme_id": "sub_theme_id"}).with_columns(
        pl.col("sub_theme_id").replace(parents).alias("theme_id")
    )


def _routing_with_group() -> Routing:
    base = routing()
    group = pl.DataFrame(
        {
            "theme_id": [GROUP],
            "department": ["Network"],
            "confidence": [0.9],
            "source": ["model"],
            "best_guess": ["Network"],
            "demand_type": ["failure"],
            "demand_subtype": ["broken"],
            "demand_reason": ["r"],
            "demand_source": ["model"],
        }
    ).with_columns(pl.col("theme_id").cast(pl.Int32))
    return Routing(pl.concat([base.themes, group]), pl.DataFrame())


def test_without_a_hierarchy_the_review_is_the_same_with_or_without_sub_themes(org):
    volumes = {1: [30] * 7 + [120], 2: [25] * 8, 3: [20] * 8, 4: [15] * 8}
    facts = facts_for(volumes)
    plain = build_review(facts, routing(), org, WEEKS[-1], LABELS, NO_FIXED, NO_RECOVERY)
    levelled = build_review(
        facts.with_columns(pl.col("theme_id").alias("sub_theme_id")),
        routing(),
        org,
        WEEKS[-1],
        LABELS,
        NO_FIXED,
        NO_RECOVERY,
    )
    for name in (
        "theme_weekly",
        "channel_weekly",
        "chargeback",
        "opportunities",
        "issue_candidates",
    ):
        assert getattr(plain, name).equals(getattr(levelled, name)), name
    assert plain.subtheme_weekly.height == 0 and levelled.subtheme_weekly.height == 0


def test_a_spike_split_over_two_sub_themes_is_one_emerging_top_level_theme(org):
    volumes = {
        1: [30] * 8,
        2: [25] * 8,
        3: [20] * 8,
        5: [6] * 7 + [16],  # one outage, two ways of saying it
        6: [5] * 7 + [14],
    }
    facts = _grouped(volumes, {5: GROUP, 6: GROUP})
    labels = {**LABELS, GROUP: "Broadband outages", 5: "light red", 6: "pppoe timeout"}
    review = build_review(
        facts, _routing_with_group(), org, WEEKS[-1], labels, NO_FIXED, NO_RECOVERY
    )
    weekly = review.theme_weekly
    assert set(weekly["theme_id"].unique().to_list()) == {1, 2, 3, GROUP}
    assert set(review.channel_weekly["theme_id"].unique().to_list()) == {1, 2, 3, GROUP}
    assert weekly.filter(pl.col("is_emerging")).select("week_start", "theme_id").rows() == [
        (WEEKS[-1], GROUP)
    ]
    assert len(review.summary.emerging) == 1 and "Broadband outages" in review.summary.emerging[0]
    # one issue candidate for the outage, on the top-level theme, in its department
    cands = review.issue_candidates.filter(pl.col("theme_id").is_in([GROUP, 5, 6]))
    assert cands.select("theme_id", "department").rows() == [(GROUP, "Network")]
    # the sub-themes keep their own figures beneath it, and both grow
    subs = review.subtheme_weekly
    assert set(subs["theme_id"].unique().to_list()) == {5, 6}
    assert subs["parent_id"].unique().to_list() == [GROUP]
    last = subs.filter(pl.col("week_start") == WEEKS[-1]).sort("theme_id")
    top = weekly.filter((pl.col("week_start") == WEEKS[-1]) & (pl.col("theme_id") == GROUP))
    assert last["volume"].to_list() == [16, 14] and last["volume"].sum() == top["volume"][0]
    assert last["share_of_parent"].sum() == pytest.approx(1.0)
    assert last["is_growing"].all(), last["growth_reason"].to_list()
    assert all(r.startswith(("growing", "new")) for r in last["growth_reason"])
    quiet = subs.filter(pl.col("week_start") == WEEKS[-2])
    assert not quiet["is_growing"].any()


def test_a_fixed_issue_on_a_sub_theme_is_checked_on_the_sub_themes_own_contacts(org):
    volumes = {1: [30] * 8, 2: [25] * 8, 5: [20] * 4 + [4] * 4, 6: [20] * 8}
    facts = _grouped(volumes, {5: GROUP, 6: GROUP})
    fixed = pl.DataFrame(
        {
            "issue_id": [1],
            "theme_id": [5],
            "department": ["Network"],
            "status": ["fixed"],
            "resolved_at": [datetime.combine(WEEKS[4], datetime.min.time())],
        },
        schema=NO_FIXED.schema,
    )
    review = build_review(facts, _routing_with_group(), org, WEEKS[-1], LABELS, fixed, NO_RECOVERY)
    (check,) = review.verifications
    assert check["check"].status == "verified", check["check"].evidence
