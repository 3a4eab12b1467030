"""Each rule of the weekly review on its own, on a handful of rows (models/review.py and
models/theme_routes.py): no database, no Prefect. test_weekly_review.py runs them together
through ``build_review``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from models import review
from models.departments import parse_departments
from models.theme_routes import (
    decide_item_departments,
    item_scores,
    keep_analyst_choices,
    route_themes,
    router_version,
    score_items,
)
from models.weekly_stats import FixCheck
from warehouse.contract import CHANNELS, OPPORTUNITIES, TRIAGE, TRIAGE_SOURCE

WEEK = date(2026, 11, 16)


def _org(**costs: dict[str, float]):
    """Billing and Sales; ``costs`` per department name (underscored), plus the default."""
    default = costs.pop("default", None)
    data = {
        "departments": [
            {"name": "Billing", "description": "Bills.", "keywords": ["bill"]}
            | ({"cost_per_contact": costs["Billing"]} if "Billing" in costs else {}),
            {"name": "Sales", "description": "Sales.", "keywords": ["buy"]},
        ]
    }
    if default:
        data["default"] = {"cost_per_contact": default}
    return parse_departments(data, "test.yaml")


def _facts(rows: list[tuple]) -> pl.DataFrame:
    """(theme_id, channel, score_kind, score, customer, received_at) per contact."""
    return pl.DataFrame(
        [
            {
                "feedback_id": f"f{i}",
                "channel": channel,
                "customer_ref": customer,
                "received_at": at,
                "score": score,
                "score_kind": kind,
                "week_start": WEEK,
                "theme_id": theme,
                "department": None,
                "demand_type": None,
                "demand_subtype": None,
            }
            for i, (theme, channel, kind, score, customer, at) in enumerate(rows)
        ],
        schema_overrides={"theme_id": pl.Int32, "score": pl.Float64},
    )


THEMES = pl.DataFrame(
    {
        "theme_id": [1, 2, 3],
        "department": ["Billing", "Sales", None],
        "demand_type": ["failure", "value", "failure"],
        "demand_subtype": ["mistake", "purchase_upgrade", "chasing_progress"],
    },
    schema_overrides={"theme_id": pl.Int32},
)
AT = datetime(2026, 11, 17, 10)


# ------------------------------------------------------------------------------ weeks
def test_an_issue_is_due_its_priority_s_days_after_the_week_ends():
    assert review.due_date(WEEK, "P1") == date(2026, 11, 29)  # Sunday 22nd + 7
    assert review.due_date(WEEK, "P4") == date(2027, 1, 3)


# ------------------------------------------------------------------------------ cost
def test_an_issue_whose_theme_now_emerges_is_raised_never_lowered():
    """The W47 outage on a theme whose issue was opened weeks earlier as P2 (overdue since
    October): the review makes it P1, keeping the sooner due date; a P2 reason on a P1
    issue changes nothing."""
    old = {"status": "acknowledged", "priority": "P2", "due_date": date(2026, 10, 18)}
    assert review.escalation(old, "P1", WEEK, set_by_person=False) == ("P1", date(2026, 10, 18))
    recent = {**old, "due_date": date(2026, 12, 30)}
    assert review.escalation(recent, "P1", WEEK, set_by_person=False) == (
        "P1",
        review.due_date(WEEK, "P1"),
    )
    assert review.escalation({**old, "priority": "P1"}, "P2", WEEK, set_by_person=False) is None
    assert review.escalation(old, "P2", WEEK, set_by_person=False) is None
    assert review.escalation({**old, "priority": "P4"}, "P3", WEEK, set_by_person=False) == (
        "P3",
        date(2026, 10, 18),
    )


def test_a_priority_a_person_set_and_a_fixed_issue_are_left_alone():
    old = {"status": "in_progress", "priority": "P3", "due_date": None}
    assert review.escalation(old, "P1", WEEK, set_by_person=True) is None
    assert review.escalation({**old, "status": "fixed"}, "P1", WEEK, set_by_person=False) is None
    assert review.escalation(old, "P1", WEEK, set_by_person=False) == (
        "P1",
        review.due_date(WEEK, "P1"),
    )


def test_a_contact_costs_its_department_s_figure_else_the_default_else_nothing():
    org = _org(Billing={"call": 5.0}, default={"call": 2.0, "email": 1.0})
    facts = _facts(
        [
            (1, "call", None, None, "a", AT),  # Billing's own figure
            (1, "email", None, None, "a", AT),  # Billing has none for e-mail: the default
            (2, "call", None, None, "b", AT),  # Sales has none: the default
            (3, "call", None, None, "c", AT),  # in triage: the default
            (3, "survey", None, None, "c", AT),  # nobody costs a survey: unknown
        ]
    )
    costed = review.routed_and_costed(facts, THEMES, org)
    assert costed["cost"].to_list() == [5.0, 1.0, 2.0, 2.0, None]
    assert costed["department"].to_list() == ["Billing", "Billing", "Sales", TRIAGE, TRIAGE]
    assert costed["sub_theme_id"].to_list() == costed["theme_id"].to_list()


def test_a_total_sums_known_costs_and_is_unknown_only_when_nothing_is_known():
    frame = pl.DataFrame({"g": [1, 1, 2, 2, 3], "cost": [2.0, None, None, None, 4.0]})
    out = (
        frame.group_by("g")
        .agg(total=review.known_cost(), missing=review.uncosted())
        .sort("g")
        .rows()
    )
    assert out == [(1, 2.0, 1), (2, None, 2), (3, 4.0, 0)]
    # of no rows at all: nothing to cost, so 0 rather than unknown
    none = frame.group_by("g").agg(
        total=review.known_cost(pl.col("g") > 5), missing=review.uncosted(pl.col("g") > 5)
    )
    assert set(none["total"].to_list()) == {0.0} and set(none["missing"].to_list()) == {0}


def test_a_saving_says_when_it_is_unknown_or_partial():
    assert "unknown" in review.saving_text(None, 0.4, 3)
    assert review.saving_text(100.0, 0.5, 0).endswith("saves about £100 a week")
    assert "(at least: 3 of the contacts have no cost)" in review.saving_text(100.0, 0.5, 3)


# ------------------------------------------------------------------------------ metrics
def test_channel_weekly_counts_promoters_and_detractors_of_nps_only():
    facts = _facts(
        [
            (1, "survey", "nps", 10.0, "a", AT),
            (1, "survey", "nps", 6.0, "b", AT),
            (1, "survey", "csat", 9.0, "c", AT),  # a CSAT of 9 promotes nothing
            (1, "email", None, None, "d", AT),
        ]
    ).with_columns(cost=pl.lit(1.0))
    rows = {r["channel"]: r for r in review.channel_weekly(facts).iter_rows(named=True)}
    survey = rows["survey"]
    assert (survey["volume"], survey["promoters"], survey["detractors"]) == (3, 1, 1)
    assert (survey["nps_responses"], survey["scored"], survey["score_sum"]) == (2, 3, 25.0)
    assert rows["email"]["scored"] == 0 and rows["email"]["est_cost"] == 1.0


def test_a_repeat_is_the_same_customer_on_the_same_theme_within_14_days():
    facts = _facts(
        [
            (1, "call", None, None, "a", datetime(2026, 11, 16, 9)),
            (1, "call", None, None, "a", datetime(2026, 11, 18, 9)),  # repeat
            (2, "call", None, None, "a", datetime(2026, 11, 19, 9)),  # another theme
            (1, "call", None, None, "b", datetime(2026, 11, 20, 9)),
        ]
    )
    counts = dict(review.repeat_counts(facts).select("theme_id", "repeat_contacts").rows())
    assert counts == {1: 1, 2: 0}


def test_a_theme_of_detractors_costs_the_week_nps_points():
    rows = [(1, "survey", "nps", 0.0, f"a{i}", AT) for i in range(4)]
    rows += [(2, "survey", "nps", 10.0, f"b{i}", AT) for i in range(6)]
    effects = {r["theme_id"]: r for r in review.weekly_nps_effects(_facts(rows)).to_dicts()}
    assert effects[1]["nps"] == -100.0 and effects[2]["nps"] == 100.0
    # overall NPS 20; without theme 1 it would be 100: theme 1 costs 80 points
    assert effects[1]["nps_effect"] == pytest.approx(-80.0)
    assert effects[2]["nps_effect"] == pytest.approx(120.0)  # without it: -100
    assert review.weekly_nps_effects(_facts([(1, "email", None, None, "a", AT)])).height == 0


def test_the_chargeback_splits_failure_and_value_demand_by_department():
    facts = review.routed_and_costed(
        _facts(
            [
                (1, "call", None, None, "a", AT),
                (1, "call", None, None, "b", AT),
                (2, "call", None, None, "c", AT),
                (3, "call", None, None, "d", AT),
            ]
        ),
        THEMES,
        _org(default={"call": 3.0}),
    )
    rows = {r["department"]: r for r in review.chargeback(facts).iter_rows(named=True)}
    assert rows["Billing"]["failure_contacts"] == 2 and rows["Billing"]["failure_cost"] == 6.0
    assert rows["Billing"]["failure_share"] == 1.0
    assert rows["Sales"]["value_cost"] == 3.0 and rows["Sales"]["failure_cost"] == 0
    assert rows[TRIAGE]["contacts"] == 1  # contacts nobody owns yet are charged to triage


# ------------------------------------------------------------------------------ action
def _week_row(theme_id, **values):
    row = {
        "theme_id": theme_id,
        "demand_type": "failure",
        "department": "Billing",
        "volume": 40,
        "est_cost": 200.0,
        "uncosted_contacts": 0,
        "is_emerging": False,
        "emerging_reason": None,
        "nps_effect": None,
    }
    return row | values


def test_a_remedy_prevents_chasing_how_do_i_and_an_emerging_outage_only():
    assert review.remedy_for("chasing_progress", False) == "proactive_notice"
    assert review.remedy_for("confusion_how_do_i", False) == "self_service"
    assert review.remedy_for("broken", True) == "proactive_notice"
    assert review.remedy_for("broken", False) is None
    assert review.remedy_for("mistake", True) is None
    assert review.remedy_for(None, True) is None


def test_opportunities_rank_by_saving_then_contacts_and_say_why():
    week = pl.DataFrame(
        [
            _week_row(1, est_cost=100.0),
            _week_row(2, est_cost=300.0, volume=10),
            _week_row(3, est_cost=None, volume=99),
            _week_row(4, est_cost=900.0),  # a mistake: no remedy prevents it
            _week_row(5, est_cost=800.0, demand_type="value"),
        ]
    )
    subtypes = {
        1: "chasing_progress",
        2: "confusion_how_do_i",
        3: "chasing_progress",
        4: "mistake",
        5: "chasing_progress",
    }
    out = review.opportunities(week, subtypes, {1: "Where is my engineer"}, WEEK)
    assert out.select("theme_id", "kind", "est_weekly_saving", "rank").rows() == [
        (2, "self_service", 120.0, 1),
        (1, "proactive_notice", 50.0, 2),
        (3, "proactive_notice", None, 3),  # an unknown saving ranks last
    ]
    rationale = out.filter(pl.col("theme_id") == 1)["rationale"][0]
    assert rationale.startswith("40 contacts this week about “Where is my engineer” (chasing")
    assert "saves about £50 a week" in rationale
    assert dict(out.schema) == OPPORTUNITIES  # the table's columns and types


@pytest.mark.parametrize(
    ("values", "cost_rank", "priority"),
    [
        ({"is_emerging": True}, 9, "P1"),
        ({"is_emerging": True, "demand_type": "value"}, 9, "P4"),
        ({}, 2, "P2"),  # one of the three costliest
        ({"nps_effect": -3.0}, 9, "P2"),  # twice the NPS impact
        ({"nps_effect": -2.0}, 9, "P3"),
        ({}, 3, "P3"),
        ({"demand_type": "value", "nps_effect": -1.6}, 9, "P4"),
    ],
)
def test_an_issue_s_priority_follows_from_why_it_matters(values, cost_rank, priority):
    assert review.issue_priority(_week_row(1, **values), cost_rank) == priority


def test_issue_candidates_are_costly_emerging_or_nps_costing_themes_only():
    week = pl.DataFrame(
        [
            _week_row(0, est_cost=5000.0),  # Unclassified never opens an issue
            _week_row(1, est_cost=500.0, uncosted_contacts=3),
            _week_row(2, est_cost=90.0),  # below the threshold
            _week_row(3, est_cost=10.0, is_emerging=True, emerging_reason="3× its rate"),
            _week_row(4, est_cost=10.0, demand_type="value", nps_effect=-2.0),
            _week_row(5, est_cost=20.0, department=TRIAGE, is_emerging=True),
        ]
    )
    out = {r["theme_id"]: r for r in review.issue_candidates(week, {1: "Bill wrong"}).to_dicts()}
    assert set(out) == {1, 3, 4, 5}
    assert out[1]["title"] == "Bill wrong" and out[3]["title"] == "theme 3"
    assert out[1]["reason"] == (
        "£500 of failure demand this week (40 contacts, 3 of them without a cost: a partial figure)"
    )
    assert out[3]["reason"] == "3× its rate" and out[3]["priority"] == "P1"
    assert out[4]["reason"] == "costs 2.0 NPS points" and out[4]["priority"] == "P4"
    assert out[5]["department"] is None  # triage is not a department to hand an issue to


def _check(status: str) -> FixCheck:
    return FixCheck(status, 0.05, 0.02, 0.4, 0.2, 0.9, 0.01, 6, 3, 60, 12, "evidence")


def test_only_a_fixed_issue_moves_and_only_on_a_decision():
    assert review.verification_outcome("fixed", _check("verified")) == "verified"
    assert review.verification_outcome("fixed", _check("no_fall")) == "reopened"
    assert review.verification_outcome("fixed", _check("not_yet")) is None
    assert review.verification_outcome("verified", _check("no_fall")) is None


def test_an_issue_changed_since_its_check_is_left_alone():
    checked = {"theme_id": 3, "status": "fixed", "resolved_at": AT}
    assert review.still_as_checked(dict(checked), checked)
    assert not review.still_as_checked(None, checked)
    assert not review.still_as_checked(checked | {"status": "reopened"}, checked)
    assert not review.still_as_checked(checked | {"theme_id": 10}, checked)
    assert not review.still_as_checked(checked | {"resolved_at": datetime(2026, 1, 1)}, checked)


def test_service_recovery_counts_customers_scored_on_both_sides_only():
    fixed = datetime(2026, 11, 2)
    rows = pl.DataFrame(
        {
            "theme_id": [3] * 5,
            "department": ["Digital"] * 5,
            "score_kind": ["nps"] * 5,
            "customer_ref": ["a", "a", "b", "b", "c"],
            "score": [2.0, 9.0, 4.0, 6.0, 1.0],
            "received_at": [datetime(2026, 10, 1), fixed, datetime(2026, 10, 2)]
            + [datetime(2026, 11, 9), datetime(2026, 10, 3)],
            "resolved_at": [fixed] * 5,
        },
        schema_overrides={"theme_id": pl.Int32},
    )
    out = review.service_recovery(rows, AT).row(0, named=True)
    assert (out["customers"], out["score_before"], out["score_after"]) == (2, 3.0, 7.5)
    assert out["change"] == 4.5 and out["computed_at"] == AT
    assert review.service_recovery(rows.head(1), AT).height == 0


def test_departments_are_stored_with_a_cost_for_every_channel():
    frame = review.departments_frame(_org(Billing={"call": 5.0}))
    costs = json.loads(frame.filter(pl.col("name") == "Billing")["cost_per_contact"][0])
    assert list(costs) == list(CHANNELS) and costs["call"] == 5.0 and costs["email"] is None


# ------------------------------------------------------------------------------ routing
@dataclass
class _Route:
    department: str | None
    confidence: float
    best_guess: str


class _Router:
    """Routes a theme to Billing when its label says bill, else leaves it for triage."""

    def route_theme(self, label, keywords, texts, vectors):
        if "bill" in label:
            return _Route("Billing", 0.9, "Billing")
        return _Route(None, 0.3, "Sales")

    def score_texts(self, texts, vectors):
        @dataclass
        class Scores:
            best_guess: list
            confidence: np.ndarray
            margin: np.ndarray

        return Scores(["Billing"] * len(texts), np.full(len(texts), 0.5), np.full(len(texts), 0.1))


def test_themes_are_routed_and_classified_and_a_doubtful_one_waits_for_triage():
    themes = pl.DataFrame(
        {"theme_id": [1, 2], "label": ["wrong bill", "faster fibre"], "keywords": [[], None]},
        schema_overrides={"theme_id": pl.Int32},
    )
    samples = pl.DataFrame(
        {"theme_id": [1], "text": ["I was charged twice"], "vector": [[1.0, 0.0]]},
        schema_overrides={"theme_id": pl.Int32},
    )
    routes = {r["theme_id"]: r for r in route_themes(_Router(), themes, samples).to_dicts()}
    assert (routes[1]["department"], routes[1]["source"]) == ("Billing", "model")
    assert (routes[2]["department"], routes[2]["source"]) == (None, TRIAGE_SOURCE)
    assert routes[2]["best_guess"] == "Sales"
    assert routes[1]["demand_type"] in ("failure", "value", None)


def test_an_analyst_s_department_and_demand_type_stand():
    routes = pl.DataFrame(
        {
            "theme_id": [1, 2],
            "department": ["Billing", "Billing"],
            "confidence": [0.9, 0.8],
            "source": ["model", "model"],
            "best_guess": ["Billing", "Billing"],
            "demand_type": ["failure", "failure"],
            "demand_subtype": ["mistake", "mistake"],
            "demand_reason": ["r", "r"],
        },
        schema_overrides={"theme_id": pl.Int32},
    )
    stored = pl.DataFrame(
        {
            "theme_id": [1, 2],
            "department": ["Sales", "Sales"],
            "department_confidence": [1.0, 0.4],
            "department_source": ["analyst", "model"],
            "demand_type": ["value", "value"],
            "demand_subtype": ["purchase_upgrade", None],
            "demand_source": [None, "analyst"],
        },
        schema_overrides={"theme_id": pl.Int32},
    )
    out = {r["theme_id"]: r for r in keep_analyst_choices(routes, stored).to_dicts()}
    assert (out[1]["department"], out[1]["confidence"], out[1]["source"]) == (
        "Sales",
        1.0,
        "analyst",
    )
    assert (out[1]["demand_type"], out[1]["demand_source"]) == ("failure", "model")
    assert (out[2]["department"], out[2]["source"]) == ("Billing", "model")
    assert (out[2]["demand_type"], out[2]["demand_subtype"]) == ("value", None)


def test_an_item_follows_its_theme_unless_it_clearly_routes_elsewhere():
    theme_routes = pl.DataFrame(
        {"theme_id": [1, 2], "department": ["Billing", None], "confidence": [0.9, 0.3]},
        schema_overrides={"theme_id": pl.Int32},
    )
    items = pl.DataFrame(
        {
            "feedback_id": ["a", "b", "c", "d"],
            "theme_id": [1, 1, 2, 2],
            "best_guess": ["Billing", "Sales", "Sales", "Sales"],
            "confidence": [0.5, 0.95, 0.7, 0.2],
            "margin": [0.1, 0.9, 0.3, 0.1],
        }
    )
    out = decide_item_departments(items, theme_routes).rows()
    assert out == [
        ("a", "Billing", 0.9, "theme"),
        ("b", "Sales", 0.95, "item"),  # clearly elsewhere
        ("c", "Sales", 0.7, "item"),  # its theme waits for triage; it routes well enough
        ("d", None, 0.3, TRIAGE_SOURCE),
    ]


def test_an_item_in_another_language_follows_its_theme_whatever_its_own_route_says():
    """Its theme was found by meaning across languages; its own route reads it with the
    team language's model and keywords (issue #16: a Polish no-show routes to Field
    Operations because its theme does)."""
    theme_routes = pl.DataFrame(
        {"theme_id": [1, 2], "department": ["Field Operations", None], "confidence": [0.9, 0.3]},
        schema_overrides={"theme_id": pl.Int32},
    )
    items = pl.DataFrame(
        {
            "feedback_id": ["en", "pl", "und", "pl-triage"],
            "theme_id": [1, 1, 1, 2],
            "language": ["en", "pl", "und", "pl"],
            "best_guess": ["Sales", "Sales", "Sales", "Sales"],
            "confidence": [0.95, 0.95, 0.95, 0.95],
            "margin": [0.9, 0.9, 0.9, 0.9],
        }
    )
    out = decide_item_departments(items, theme_routes, "en").rows()
    assert out == [
        ("en", "Sales", 0.95, "item"),  # the team's language: its own clear route stands
        ("pl", "Field Operations", 0.9, "theme"),
        ("und", "Sales", 0.95, "item"),  # too short to tell: read as the team's
        ("pl-triage", None, 0.3, TRIAGE_SOURCE),  # no route of its own to fall back on
    ]
    # without a team language every item's own route counts, as before
    assert decide_item_departments(items, theme_routes).rows()[1] == ("pl", "Sales", 0.95, "item")


def test_item_scores_are_the_cached_ones_unless_scored_again():
    scores = {"feedback_id": pl.String, "best_guess": pl.String}
    scores |= {"confidence": pl.Float64, "margin": pl.Float64}
    cached = pl.DataFrame(
        {"feedback_id": ["a", "b"], "theme_id": [1, 1], "best_guess": ["Sales", "Sales"]}
        | {"confidence": [0.1, 0.2], "margin": [0.0, 0.0]}
    )
    new = score_items(
        _Router(), pl.DataFrame({"feedback_id": ["b"], "text": ["x"], "vector": [[1.0, 0.0]]})
    )
    assert new.schema == pl.Schema(scores)
    top = pl.DataFrame({"feedback_id": ["a", "b", "c"], "theme_id": [1, 1, 1]})
    out = item_scores(top, cached, new).sort("feedback_id")
    assert out.select("feedback_id", "best_guess").rows() == [("a", "Sales"), ("b", "Billing")]


def test_the_router_version_changes_with_what_an_item_s_route_depends_on():
    org = _org()
    examples = pl.DataFrame({"text": ["bill"], "department": ["Billing"], "weight": [1.0]})
    base = router_version(org, "minilm", examples)
    assert base == router_version(org, "minilm", examples)
    assert base != router_version(org, "tfidf", examples)
    assert base != router_version(org, "minilm", examples.head(0))
    assert base != router_version(_org(Billing={"call": 1.0}), "minilm", examples)
