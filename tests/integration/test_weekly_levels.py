"""The weekly review through the theme hierarchy, on a real warehouse: `voc run` with the
TF-IDF embedder finds fine themes; issues are opened on them as a review before the
hierarchy would have; then two of the fine themes of one problem are put under a group
(by SQL, as the topics flow would) and `voc weekly` runs. The review must speak of the
top-level theme, keep the sub-themes' figures beneath it, fold the fine themes' issues
into one with their history kept, and a second run must change nothing."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from warehouse import Warehouse, core_tables, tracker

runner = CliRunner(env={"COLUMNS": "220"})
pytestmark = pytest.mark.slow

# problem -> (two phrasings that TF-IDF keeps apart, the department it belongs to)
PROBLEMS = {
    "outage": (
        [
            "broadband outage again tonight, router lights red, no internet connection at all",
            "pppoe authentication timeout on the modem, line drops every evening, sync lost",
        ],
        "Network",
    ),
    "bill": (
        [
            "charged twice on my bill this month, refund the duplicate payment please",
            "direct debit taken two times, my bank statement shows a double charge",
        ],
        "Billing",
    ),
    "engineer": (
        [
            "engineer never turned up for the installation appointment, waited all day",
            "technician missed the visit slot again, nobody came to fit the equipment",
        ],
        "Field Operations",
    ),
}
START = date(2026, 9, 28)  # a Monday; eight weeks of contacts
WEEKS = 8


def complaints(rng: random.Random) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "date", "text"])
    n = 0
    for week in range(WEEKS):
        for name, (phrasings, _) in PROBLEMS.items():
            for variant, text in enumerate(phrasings):
                # the outage doubles in the last week, on both phrasings (one problem)
                count = 10 if not (name == "outage" and week == WEEKS - 1) else 30
                for _ in range(count + variant):
                    n += 1
                    day = START + timedelta(days=7 * week + rng.randrange(7))
                    # an account number from a small pool gives TF-IDF enough words
                    account = rng.randrange(400)
                    writer.writerow([f"C{n}", day.isoformat(), f"{text} (account {account})"])
    return out.getvalue().encode()


def voc(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def snapshot(con) -> tuple:
    issues = con.execute(
        "SELECT issue_id, theme_id, status, folded_into, title FROM issues ORDER BY issue_id"
    ).fetchall()
    events = con.execute("SELECT count(*) FROM issue_events").fetchall()[0][0]
    return issues, events


@pytest.fixture(scope="module")
def levels(tmp_path_factory):
    root = tmp_path_factory.mktemp("levels")
    export = root / "complaints.csv"
    export.write_bytes(complaints(random.Random(7)))
    db = str(root / "voc.duckdb")
    last = START + timedelta(days=7 * (WEEKS - 1))
    week = f"{last.isocalendar()[0]}-W{last.isocalendar()[1]:02d}"
    voc(
        "run",
        str(export),
        "--channel",
        "complaint",
        "--embedder",
        "tfidf",
        "--week",
        week,
        "--db",
        db,
    )
    wh = Warehouse(db)
    with wh.write() as con:
        # a warehouse as it was before the hierarchy: every fine theme top-level
        con.execute("UPDATE themes SET parent_id = NULL")
        con.execute("DELETE FROM themes WHERE kind = 'group'")
    voc("weekly", "--week", week, "--db", db)
    with wh.read() as con:
        flat = {
            "subtheme_rows": con.execute("SELECT count(*) FROM subtheme_weekly").fetchall()[0][0],
            "weekly_kinds": con.execute(
                "SELECT DISTINCT t.kind FROM theme_weekly AS w JOIN themes AS t USING (theme_id)"
            ).fetchall(),
            "sources": con.execute(
                "SELECT DISTINCT department_source FROM themes WHERE department_source = 'parent'"
            ).fetchall(),
        }
    with wh.write() as con:
        # for a known starting point, no issue but those opened below
        con.execute("DELETE FROM issue_events")
        con.execute("DELETE FROM issues")
        # the fine theme most contacts of each phrasing landed in
        fine = {}
        for name, (phrasings, _) in PROBLEMS.items():
            for variant, text in enumerate(phrasings):
                row = con.execute(
                    "SELECT ft.theme_id, count(*) AS n FROM feedback AS f "
                    "JOIN feedback_themes AS ft USING (feedback_id) "
                    "WHERE starts_with(f.text, ?) GROUP BY 1 ORDER BY n DESC LIMIT 1",
                    [text[:40]],
                ).fetchall()
                fine[(name, variant)] = row[0][0]
        outage = (fine[("outage", 0)], fine[("outage", 1)])
        assert outage[0] != outage[1], "TF-IDF should keep the two outage phrasings apart"
        bill = fine[("bill", 0)]
        at = datetime(2026, 11, 1, 9)
        # issues a review before the hierarchy opened: one per outage fine theme (one
        # acknowledged by its head, with an owner), and one on a bill theme
        opened = {}
        for key, theme in (("outage0", outage[0]), ("outage1", outage[1]), ("bill", bill)):
            opened[key] = tracker.create_issue(
                con,
                theme_id=theme,
                title=f"fine theme {theme}",
                department="Network" if key.startswith("outage") else "Billing",
                priority="P2",
                due_date=date(2026, 12, 1),
                opened_reason="costly",
                week=date(2026, 10, 26),
                weekly_volume=10,
                weekly_cost=120.0,
                at=at,
            )
        tracker.update_issue(
            con,
            opened["outage1"],
            tracker.IssueChange(status="acknowledged", owner="n.ops", note="on it"),
            "head.network",
            at + timedelta(hours=1),
        )
        # the topics flow puts the two outage fine themes under one group
        group = con.execute("SELECT max(theme_id) + 1 FROM themes").fetchall()[0][0]
        con.execute(
            "INSERT INTO themes (theme_id, label, kind, status, size, created_at, updated_at) "
            "SELECT ?, 'Broadband outages', 'group', 'active', sum(size), now(), now() "
            "FROM themes WHERE theme_id IN (?, ?)",
            [group, *outage],
        )
        con.execute("UPDATE themes SET parent_id = ? WHERE theme_id IN (?, ?)", [group, *outage])
    out = voc("weekly", "--week", week, "--db", db)
    with wh.read() as con:
        first = snapshot(con)
    again = voc("weekly", "--week", week, "--db", db)
    return {
        "db": db,
        "wh": wh,
        "root": root,
        "last": last,
        "week": week,
        "outage": outage,
        "bill": bill,
        "group": group,
        "opened": opened,
        "flat": flat,
        "out": out,
        "again": again,
        "first": first,
    }


def test_without_a_hierarchy_there_are_no_sub_theme_rows(levels):
    # every fine theme top-level: the review is per fine theme, as before the hierarchy
    assert levels["flat"] == {"subtheme_rows": 0, "weekly_kinds": [("fine",)], "sources": []}


def test_the_review_speaks_of_top_level_themes(levels):
    group, outage = levels["group"], levels["outage"]
    with levels["wh"].read() as con:
        tops = {
            r[0]
            for r in con.execute("SELECT theme_id FROM themes WHERE parent_id IS NULL").fetchall()
        }
        for table, sql in (
            ("theme_weekly", "SELECT DISTINCT theme_id FROM theme_weekly"),
            ("theme_channel_weekly", "SELECT DISTINCT theme_id FROM theme_channel_weekly"),
            ("opportunities", "SELECT DISTINCT theme_id FROM opportunities"),
        ):
            ids = {r[0] for r in con.execute(sql).fetchall()}
            assert ids <= tops and not ids & set(outage), table
        weekly = con.sql("SELECT * FROM theme_weekly").pl()
        subs = con.sql("SELECT * FROM subtheme_weekly").pl()
    last = weekly.filter(pl.col("week_start") == levels["last"])
    row = last.filter(pl.col("theme_id") == group).row(0, named=True)
    # the outage doubles on both phrasings: emerging once, as one top-level theme
    assert row["is_emerging"], row["emerging_reason"]
    assert last.filter(pl.col("is_emerging"))["theme_id"].to_list() == [group]
    assert "Broadband outages" in levels["out"] and levels["out"].count("emerging") >= 1
    # the sub-themes' own figures beneath it add up to the group's
    mine = subs.filter(pl.col("week_start") == levels["last"])
    assert set(mine["theme_id"].to_list()) == set(outage)
    assert mine["parent_id"].unique().to_list() == [group]
    assert mine["volume"].sum() == row["volume"]
    assert abs(mine["share_of_parent"].sum() - 1.0) < 1e-9
    assert mine["is_growing"].all(), mine.select("theme_id", "growth_reason")


def test_routing_and_items_follow_the_top_level_theme(levels):
    group, outage = levels["group"], levels["outage"]
    with levels["wh"].read() as con:
        themes = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT theme_id, department, department_source, demand_type, demand_source "
                "FROM themes"
            ).fetchall()
        }
        items = con.execute(
            "SELECT DISTINCT d.department FROM feedback_departments AS d "
            "JOIN feedback_themes AS ft USING (feedback_id) "
            "WHERE ft.theme_id IN (?, ?) AND d.source = 'theme'",
            list(outage),
        ).fetchall()
    assert themes[group][0] == "Network" and themes[group][1] == "model"
    for sub in outage:
        assert themes[sub][0] == "Network" and themes[sub][1] == "parent"
        assert themes[sub][2] == themes[group][2] and themes[sub][3] == "parent"
    assert items == [("Network",)]


def test_fine_issues_fold_into_one_with_their_history(levels):
    group, opened = levels["group"], levels["opened"]
    with levels["wh"].read() as con:
        issues = {r["issue_id"]: r for r in tracker.list_issues(con).iter_rows(named=True)}
        survivor, folded = opened["outage0"], opened["outage1"]
        kept = tracker.issue_history(con, folded)
        survivor_history = tracker.issue_history(con, survivor)
        folds = core_tables.issue_folds(con, survivor)
        evidence = core_tables.issue_subthemes(con, survivor)
    open_ = [i for i in issues.values() if i["status"] not in ("verified", "closed")]
    assert [i["issue_id"] for i in open_ if i["theme_id"] == group] == [survivor]
    assert issues[survivor]["title"] == "Broadband outages"
    assert issues[survivor]["status"] == "new"
    assert issues[folded]["status"] == "closed" and issues[folded]["folded_into"] == survivor
    assert issues[folded]["owner"] == "n.ops"  # what its head did stays with it
    # its history is kept, and both sides say what happened
    assert {"acknowledged", "closed"} <= set(kept["new_value"].drop_nulls().to_list())
    assert str(survivor) in kept.filter(pl.col("field") == "folded_into")["new_value"].to_list()
    assert (
        str(folded)
        in survivor_history.filter(pl.col("field") == "folded_in")["new_value"].to_list()
    )
    assert (
        str(group) in survivor_history.filter(pl.col("field") == "theme_id")["new_value"].to_list()
    )
    assert folds["issue_id"].to_list() == [folded]
    # the issue's evidence: its sub-themes with their volume and examples
    assert set(evidence["theme_id"].to_list()) == set(levels["outage"])
    assert (evidence["week_volume"] > 0).all()
    # an issue on a fine theme that is top-level itself stays as it was
    bill = issues[opened["bill"]]
    assert (
        bill["theme_id"] == levels["bill"]
        and bill["status"] == "new"
        and bill["folded_into"] is None
    )
    assert "folded" in levels["out"]


def test_the_outage_issue_is_raised_to_p1_when_its_theme_emerges(levels):
    """The outage issue was opened as P2 in October; the outage triples in the last week,
    so the review raises it to P1 (once: the second review is the same), while the bill
    issue, which does not emerge, keeps its P2."""
    opened = levels["opened"]
    with levels["wh"].read() as con:
        issues = {r["issue_id"]: r for r in tracker.list_issues(con).iter_rows(named=True)}
        history = tracker.issue_history(con, opened["outage0"])
    survivor = issues[opened["outage0"]]
    assert survivor["priority"] == "P1"
    # due as a P1 opened in the outage's week is: 29 Nov, sooner than the 1 Dec it had
    assert survivor["due_date"] == date(2026, 11, 29) < date(2026, 12, 1)
    raised = history.filter(pl.col("field") == "priority")
    assert raised["actor"].to_list() == [tracker.REVIEW_ACTOR]
    assert raised["old_value"].to_list() == ["P2"] and raised["new_value"].to_list() == ["P1"]
    assert raised["note"][0].startswith("escalated: ") and "emerging" in raised["note"][0]
    assert issues[opened["bill"]]["priority"] == "P2"
    assert "escalated" in levels["out"] and "escalated" not in levels["again"]


def test_a_second_review_changes_nothing(levels):
    with levels["wh"].read() as con:
        assert snapshot(con) == levels["first"]
    assert "folded" not in levels["again"]


def test_exports_carry_both_levels(levels):
    root, db = levels["root"], levels["db"]
    for what in ("themes", "issues", "subthemes", "weekly"):
        voc(
            "export",
            what,
            "--format",
            "parquet",
            "--out",
            str(root / f"{what}.parquet"),
            "--db",
            db,
        )
    themes = pl.read_parquet(root / "themes.parquet")
    assert {"parent_id", "kind"} <= set(themes.columns)
    outage = themes.filter(pl.col("theme_id").is_in(list(levels["outage"])))
    assert outage["parent_id"].to_list() == [levels["group"]] * 2
    issues = pl.read_parquet(root / "issues.parquet")
    survivor = issues.filter(pl.col("issue_id") == levels["opened"]["outage0"]).row(0, named=True)
    assert survivor["top_theme_id"] == levels["group"]
    assert sorted(survivor["sub_theme_ids"]) == sorted(levels["outage"])
    subs = pl.read_parquet(root / "subthemes.parquet")
    assert set(subs["parent_id"].to_list()) == {levels["group"]}
    assert "parent_label" in subs.columns
    growing = None
    with levels["wh"].read() as con:
        growing = core_tables.week_subthemes(con, levels["last"], growing_only=True)
        network = core_tables.week_subthemes(con, levels["last"], departments=["Network"])
        billing = core_tables.week_subthemes(con, levels["last"], departments=["Billing"])
    assert set(growing["theme_id"].to_list()) == set(levels["outage"])
    assert network.height == 2 and billing.height == 0
