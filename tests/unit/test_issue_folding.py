"""Which open issues fold together once fine themes sit under top-level themes (pure)."""

from __future__ import annotations

from models.issue_folding import Fold, OpenIssue, plan_folds


def test_without_a_hierarchy_nothing_folds():
    issues = [OpenIssue(1, 5, 5), OpenIssue(2, 7, 7), OpenIssue(3, 9, 9)]
    assert plan_folds(issues) == []


def test_fine_issues_under_one_parent_fold_into_the_oldest_which_moves_up():
    issues = [OpenIssue(4, 12, 50), OpenIssue(2, 11, 50), OpenIssue(3, 13, 50)]
    assert plan_folds(issues) == [Fold(50, survivor=2, move_survivor=True, folded=(3, 4))]


def test_an_issue_already_on_the_top_level_theme_survives():
    issues = [OpenIssue(1, 11, 50), OpenIssue(6, 50, 50), OpenIssue(3, 12, 50)]
    assert plan_folds(issues) == [Fold(50, survivor=6, move_survivor=False, folded=(1, 3))]


def test_a_lone_issue_on_a_sub_theme_moves_up_alone():
    assert plan_folds([OpenIssue(8, 11, 50)]) == [Fold(50, 8, True, ())]


def test_lone_top_level_fine_themes_are_left_as_they_are_beside_a_fold():
    issues = [OpenIssue(1, 5, 5), OpenIssue(2, 11, 50), OpenIssue(3, 12, 50), OpenIssue(4, 60, 60)]
    assert plan_folds(issues) == [Fold(50, 2, True, (3,))]


def test_planning_after_applying_the_plan_is_empty():
    issues = [OpenIssue(2, 11, 50), OpenIssue(3, 12, 50), OpenIssue(7, 21, 70), OpenIssue(9, 5, 5)]
    plan = plan_folds(issues)
    folded = {i for f in plan for i in f.folded}
    moved = {f.survivor: f.top_id for f in plan if f.move_survivor}
    after = [
        OpenIssue(i.issue_id, moved.get(i.issue_id, i.theme_id), i.top_id)
        for i in issues
        if i.issue_id not in folded
    ]
    assert plan and plan_folds(after) == []
