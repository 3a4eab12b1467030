"""End to end on the sample company, through the CLI a user types: `voc run`, a head of
department marks a fix, `voc weekly` later. The planted spike must be emerging in its
week, quiet weeks must not cry wolf, the fix must verify, and failure demand must be
charged back."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.sample_company import generate_sample
from models.rendering import renderer
from warehouse import Warehouse, core_tables, tracker

runner = CliRunner()
# the real embedder: TF-IDF splits the sample's themes too finely to stand for the product
pytestmark = pytest.mark.slow


def voc(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    manifest = generate_sample(root / "inbox")
    db = str(root / "voc.duckdb")
    voc("run", str(root / "inbox"), "--week", "2026-W44", "--db", db)
    warehouse = Warehouse(db)
    fixed_refs = [
        c.source_id.strip("<>")
        for c in manifest.contacts
        if c.theme == manifest.fix["theme"] and c.channel != "call"
    ]
    spike_refs = [
        c.source_id.strip("<>")
        for c in manifest.contacts
        if c.theme == manifest.spike["theme"]
        and c.week == manifest.spike["week"]
        and c.channel != "call"
    ]
    with warehouse.read() as con:
        # the review speaks of top-level themes: the login problem's is where its issue is
        login_theme = core_tables.top_theme_counts_of_sources(con, fixed_refs)["theme_id"][0]
        issue = tracker.open_issue_for_theme(con, login_theme)
    assert issue is not None, (
        "the login theme was costly in W44: the review should have opened an issue"
    )
    voc(
        "issues",
        "update",
        str(issue["issue_id"]),
        "--status",
        "fixed",
        "--fixed-on",
        manifest.fix["shipped_on"] + "T09:00",
        "--note",
        "reset links now last 24 hours",
        "--actor",
        "head.digital",
        "--db",
        db,
    )
    out = voc("weekly", "--week", "2026-W47", "--db", db)
    with warehouse.read() as con:
        spike_tops = core_tables.top_theme_counts_of_sources(con, spike_refs)
        groups = con.sql("SELECT count(*) FROM themes WHERE kind = 'group'").fetchall()[0][0]
    return {
        "db": db,
        "warehouse": warehouse,
        "manifest": manifest,
        "login_theme": login_theme,
        "issue_id": issue["issue_id"],
        "spike_theme": spike_tops["theme_id"][0],
        "spike_tops": spike_tops,
        "groups": groups,
        "weekly_output": out,
    }


def weekly(sample_run) -> pl.DataFrame:
    with sample_run["warehouse"].read() as con:
        return con.sql("SELECT * FROM theme_weekly").pl()


def test_the_planted_spike_is_emerging_in_its_week(sample_run):
    frame = weekly(sample_run)
    row = frame.filter(
        (pl.col("week_start") == date(2026, 11, 16))
        & (pl.col("theme_id") == sample_run["spike_theme"])
    ).row(0, named=True)
    assert row["is_emerging"], row
    assert row["q_value"] < 0.01 and row["emerging_reason"]
    assert "emerging" in sample_run["weekly_output"]


def test_the_outage_is_one_emerging_top_level_theme_with_one_issue(sample_run):
    """Issue #14: the W47 outage is flagged emerging once, and has one issue."""
    if not sample_run["groups"]:
        pytest.xfail("no top-level groups yet: the topics flow does not build the hierarchy")
    tops = sample_run["spike_tops"]
    spike = sample_run["spike_theme"]
    # the top-level themes holding a real part (a tenth or more) of the outage's contacts
    holding = tops.filter(pl.col("n") >= 0.1 * tops["n"].sum())["theme_id"].to_list()
    frame = weekly(sample_run).filter(pl.col("week_start") == date(2026, 11, 16))
    flagged = frame.filter(pl.col("is_emerging") & pl.col("theme_id").is_in(holding))
    assert flagged["theme_id"].to_list() == [spike], tops
    with sample_run["warehouse"].read() as con:
        issues = tracker.list_issues(con)
    # the themes that are the outage (a quarter of its contacts or more) have one issue
    outage = tops.filter(pl.col("n") >= 0.25 * tops["n"].sum())["theme_id"].to_list()
    open_ = issues.filter(
        ~pl.col("status").is_in(["verified", "closed"]) & pl.col("theme_id").is_in(outage)
    )
    assert open_["theme_id"].to_list() == [spike], open_.select("issue_id", "theme_id", "title")
    # opened weeks before as the broadband-dropping issue; the outage makes it P1
    assert open_["priority"].to_list() == ["P1"], open_.select("issue_id", "priority", "due_date")


def test_praise_stands_apart_from_the_complaints_worded_like_it(sample_run):
    """Compliments ("Fast install", "great speeds") are worded like the complaints about the
    same thing; their scores keep praised fine themes out of the complaints' top-level
    themes, so most praise sits in top-level themes of its own ("homes": mostly praise),
    value demand, holding next to nothing of any failure. Whether praise is one such theme
    or a few is the fit's call: a change of 19 texts elsewhere moves it from one to three.

    Not all of it: where the fit puts compliments and complaints in one *fine* theme
    ("Speeds are awful": 31 compliments beside 33 complaints, AVX-512/AMX Xeon, 2026-12-07),
    the theme is not praised and goes with the complaints. Scores alone would not split
    such themes well: in that one they would (24 of its 31 compliments scored pleased, none
    of its complaints), but outside the praise homes 187 pleased-scored contacts belong to
    other problems against 85 compliments. So the bar is two thirds of the praise at home
    (71 % there) and no failure's group holding more than a sixth of it (the speed group
    13 % there), not all of it."""
    by_problem: dict[str, list[str]] = {}
    for c in sample_run["manifest"].contacts:
        if c.channel != "call":
            by_problem.setdefault(c.theme, []).append(c.source_id.strip("<>"))
    with sample_run["warehouse"].read() as con:
        tops = {p: core_tables.top_theme_counts_of_sources(con, r) for p, r in by_problem.items()}
    everything = pl.concat([c.select("theme_id", "n") for c in tops.values()])
    sizes = dict(everything.group_by("theme_id").agg(pl.col("n").sum()).iter_rows())
    praise = tops.pop("praise")
    homes = [t for t, n in praise.select("theme_id", "n").iter_rows() if t and n > sizes[t] / 2]
    at_home = praise.filter(pl.col("theme_id").is_in(homes))["n"].sum()
    assert homes and at_home >= 2 / 3 * praise["n"].sum(), (homes, praise)
    away = praise.filter(~pl.col("theme_id").is_in(homes))
    assert (away["n"] <= praise["n"].sum() / 6).all(), (homes, praise)
    for problem, counts in tops.items():
        there = counts.filter(pl.col("theme_id").is_in(homes))["n"].sum()
        assert there <= 0.05 * counts["n"].sum(), (problem, counts)
    frame = weekly(sample_run).filter(
        pl.col("theme_id").is_in(homes) & (pl.col("week_start") == date(2026, 11, 16))
    )
    assert frame.height and set(frame["demand_type"]) == {"value"}, frame


def test_quiet_weeks_flag_nothing_false_in_their_top_five(sample_run):
    frame = weekly(sample_run).filter(pl.col("theme_id") != 0)
    for monday in (date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)):
        top5 = frame.filter(pl.col("week_start") == monday).sort("volume", descending=True).head(5)
        assert not top5["is_emerging"].any(), top5.select("theme_id", "volume", "emerging_reason")


def test_the_fix_verifies_with_its_evidence(sample_run):
    with sample_run["warehouse"].read() as con:
        issue = tracker.get_issue(con, sample_run["issue_id"])
        history = tracker.issue_history(con, sample_run["issue_id"])
    assert issue["status"] == "verified", issue
    assert issue["after_rate"] < issue["baseline_rate"] and issue["verification"].startswith(
        "Verified"
    )
    changes = history.filter(pl.col("field") == "status")
    assert changes["new_value"].to_list()[-2:] == ["fixed", "verified"]
    assert changes["actor"].to_list()[-2:] == ["head.digital", "weekly-review"]


def test_failure_demand_is_charged_back(sample_run):
    with sample_run["warehouse"].read() as con:
        charge = con.sql(
            "SELECT * FROM weekly_chargeback WHERE week_start = DATE '2026-11-16'"
        ).pl()
        opportunities = con.sql(
            "SELECT * FROM opportunities WHERE week_start = DATE '2026-11-16'"
        ).pl()
        routed = con.sql(
            "SELECT count(*) FILTER (department IS NOT NULL) * 1.0 / count(*) FROM feedback_departments"
        ).fetchall()[0][0]
    assert charge["failure_cost"].sum() > 0 and charge.height >= 5
    assert (charge["failure_share"] > 0.5).sum() >= 3  # the sample company is mostly failure demand
    assert opportunities.height >= 1 and opportunities["est_weekly_saving"].min() > 0
    assert routed > 0.7


def test_one_open_issue_per_theme(sample_run):
    with sample_run["warehouse"].read() as con:
        issues = tracker.list_issues(con)
    open_ = issues.filter(~pl.col("status").is_in(["verified", "closed"]))
    assert open_["theme_id"].is_unique().all()
    assert issues.height >= 3


@pytest.mark.skipif(
    renderer("es", "en") is None, reason="Apertium's spa-eng is not installed (scripts/setup.sh)"
)
def test_every_spanish_contact_has_an_english_rendering_and_no_other_language_has_one(sample_run):
    with sample_run["warehouse"].read() as con:
        rows = con.sql(
            "SELECT f.language, count(*) AS contacts, count(r.feedback_id) AS rendered"
            " FROM feedback f LEFT JOIN renderings r"
            "   ON r.feedback_id = f.feedback_id AND r.language = 'en'"
            " WHERE f.language NOT IN ('en', 'und') GROUP BY f.language"
        ).pl()
    counts = {r["language"]: (r["contacts"], r["rendered"]) for r in rows.iter_rows(named=True)}
    spanish, rendered = counts.pop("es")
    assert spanish >= 30 and rendered == spanish, counts
    assert {"de", "fr", "pl"} <= set(counts)
    assert all(done == 0 for _, done in counts.values()), counts
