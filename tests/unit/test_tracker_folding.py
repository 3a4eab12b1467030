"""The tracker's fold: one write path, the review's own fields refused to people, history
kept on both sides (a small real DuckDB file, no flow)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from warehouse import tracker

AT = datetime(2026, 11, 23, 6)


def _issue(con, theme_id: int) -> int:
    return tracker.create_issue(
        con,
        theme_id=theme_id,
        title=f"theme {theme_id}",
        department="Network",
        priority="P2",
        due_date=date(2026, 12, 7),
        opened_reason="costly",
        week=date(2026, 11, 16),
        weekly_volume=30,
        weekly_cost=250.0,
        at=AT,
    )


def test_a_fold_closes_links_and_logs_both_sides(warehouse):
    with warehouse.write() as con:
        keep, fold = _issue(con, 11), _issue(con, 12)
        tracker.update_issue(con, fold, tracker.IssueChange(status="fixed"), "head", AT)
        tracker.fold_issue(con, fold, keep, "weekly-review", AT, note="one issue per theme")
        folded = tracker.get_issue(con, fold)
        history = tracker.issue_history(con, fold).to_dicts()
        kept = tracker.issue_history(con, keep).to_dicts()
    assert folded["status"] == "closed" and folded["folded_into"] == keep
    assert [h["new_value"] for h in history if h["field"] == "status"] == ["new", "fixed", "closed"]
    assert any(h["field"] == "folded_into" and h["new_value"] == str(keep) for h in history)
    assert any(h["field"] == "folded_in" and h["new_value"] == str(fold) for h in kept)


def test_people_cannot_move_or_fold_an_issue(warehouse):
    with warehouse.write() as con:
        keep, other = _issue(con, 11), _issue(con, 12)
        for change in (
            tracker.IssueChange(theme_id=50),
            tracker.IssueChange(title="new title"),
            tracker.IssueChange(status="closed", folded_into=keep),
        ):
            with pytest.raises(tracker.IssueError, match="weekly review"):
                tracker.update_issue(con, other, change, "head", AT)
        with pytest.raises(tracker.IssueError, match="folds into another"):
            tracker.update_issue(
                con, other, tracker.IssueChange(folded_into=keep), "r", AT, system=True
            )


def test_the_review_moves_an_issue_to_its_top_level_theme(warehouse):
    with warehouse.write() as con:
        issue = _issue(con, 11)
        tracker.update_issue(
            con,
            issue,
            tracker.IssueChange(theme_id=50, title="Broadband outages", note="moved up"),
            "weekly-review",
            AT,
            system=True,
        )
        row = tracker.get_issue(con, issue)
        fields = {h["field"]: h for h in tracker.issue_history(con, issue).to_dicts()}
    assert (row["theme_id"], row["title"], row["status"]) == (50, "Broadband outages", "new")
    assert fields["theme_id"]["old_value"] == "11" and fields["theme_id"]["new_value"] == "50"


def test_a_folded_issue_reopened_by_hand_stands_on_its_own(warehouse):
    with warehouse.write() as con:
        keep, fold = _issue(con, 11), _issue(con, 12)
        tracker.fold_issue(con, fold, keep, "weekly-review", AT, note="folded")
        tracker.update_issue(con, fold, tracker.IssueChange(status="reopened"), "head", AT)
        row = tracker.get_issue(con, fold)
    assert row["status"] == "reopened" and row["folded_into"] is None
