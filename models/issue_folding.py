"""Which open issues fold together once fine themes sit under top-level themes.

Issues speak of top-level themes: one open issue per top-level theme. Issues opened on
fine themes before the hierarchy existed (or before an analyst moved a theme under a
group) fold into one issue on their top-level theme:

* the issue already open on the top-level theme itself survives, if there is one;
* otherwise the oldest open issue of the group survives (it has the longest history, and
  keeps its owner, status and notes) and moves to the top-level theme;
* every other open issue of the group folds into the survivor (closed, linked, its history
  kept by the tracker).

An open issue on a fine theme that is its own top-level theme is left as it is, and a
top-level theme whose only open issue is already on it needs nothing: so applying the plan
and planning again gives an empty plan (the weekly review can run any number of times).

Pure: no warehouse. The weekly review applies the plan through the tracker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class OpenIssue:
    issue_id: int
    theme_id: int  # the theme the issue was opened on
    top_id: int  # that theme's top-level theme now (itself when top-level)


@dataclass(frozen=True)
class Fold:
    top_id: int
    survivor: int  # the issue that speaks for the top-level theme from now on
    move_survivor: bool  # the survivor was opened on a sub-theme: it moves to top_id
    folded: tuple[int, ...]  # issues closed into the survivor, oldest first


def plan_folds(issues: Iterable[OpenIssue]) -> list[Fold]:
    """The folds that leave one open issue per top-level theme, each on that theme.

    Only top-level themes with at least one open issue on a sub-theme are touched."""
    by_top: dict[int, list[OpenIssue]] = {}
    for issue in issues:
        by_top.setdefault(issue.top_id, []).append(issue)
    plan = []
    for top_id in sorted(by_top):
        group = sorted(by_top[top_id], key=lambda i: i.issue_id)
        if all(i.theme_id == top_id for i in group):
            continue
        on_top = [i for i in group if i.theme_id == top_id]
        survivor = on_top[0] if on_top else group[0]
        plan.append(
            Fold(
                top_id=top_id,
                survivor=survivor.issue_id,
                move_survivor=survivor.theme_id != top_id,
                folded=tuple(i.issue_id for i in group if i.issue_id != survivor.issue_id),
            )
        )
    return plan
