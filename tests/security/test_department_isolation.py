"""A department head's session cannot read (or change) another department's issues,
themes, history, cost, triage or data quality: not through dashboard.data, not through
any page, query parameter or page switch.

The data-layer test enumerates every public function of dashboard/data.py that takes a
viewer, so a new one fails here until it is added to the table with its expectation."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

import polars as pl
import pytest
from security_checks import (
    PAGES,
    ROOT,
    THEMES,
    assert_intact,
    everything_rendered,
    other_department_strings,
    table_counts,
)

HEADS = {"network": "Network", "billing": "Billing"}
HEAD_USERNAMES = {
    "Network": "head.network",
    "Billing": "head.billing",
    "Field Operations": "head.fieldops",
    "Digital": "head.digital",
    "Customer Service": "head.cs",
}
OTHER = {"Network": "Billing", "Billing": "Network"}


def _own_theme_ids(department: str) -> set[int]:
    return {t.theme_id for t in THEMES if t.department == department and t.source != "triage"}


def _flatten(result) -> tuple[list[pl.DataFrame], str]:
    """Every frame in a result (dataclasses, dicts, lists) and all of it as text."""
    frames: list[pl.DataFrame] = []
    texts: list[str] = []

    def visit(value) -> None:
        if isinstance(value, pl.DataFrame):
            frames.append(value)
            texts.append(value.write_json())
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                visit(getattr(value, f.name))
        elif isinstance(value, dict):
            texts.append(repr(value))
            for v in value.values():
                visit(v)
        elif isinstance(value, list | tuple | set):
            texts.append(repr(value))
        else:
            texts.append(repr(value))

    visit(result)
    return frames, "\n".join(texts)


def _assert_only_own(result, department: str, what: str) -> None:
    frames, text = _flatten(result)
    others = other_department_strings(department) + [
        username for name, username in HEAD_USERNAMES.items() if name != department
    ]
    leaked = [s for s in others if s in text]
    assert not leaked, f"{what} shows another department's data: {leaked}"
    for frame in frames:
        if "department" in frame.columns:
            seen = set(frame["department"].drop_nulls().to_list())
            assert seen <= {department}, f"{what}: rows of {seen - {department}}"
        if "theme_id" in frame.columns:
            ids = set(frame["theme_id"].drop_nulls().to_list())
            assert ids <= _own_theme_ids(department), (
                f"{what}: themes {ids - _own_theme_ids(department)} are not {department}'s"
            )


# ------------------------------------------------------------------ dashboard.data
def _plan(data, sample, viewer, own: str) -> dict[str, list[tuple[str, str, Callable]]]:
    """``{function: [(expectation, description, call)]}``; expectation is "filter" (the
    call succeeds and returns only ``own``'s data) or "refuse" (PermissionError)."""
    other = OTHER[own]
    week = data.filter_options(viewer).weeks[0]
    own_issues = [i for name, i in sample.issues.items() if name.startswith(own.lower())]
    other_issues = [i for name, i in sample.issues.items() if not name.startswith(own.lower())]
    other_themes = [t.theme_id for t in THEMES if t.theme_id not in _own_theme_ids(own)] + [0]
    own_theme = min(_own_theme_ids(own))
    other_theme = min(_own_theme_ids(other))
    other_item = "fb00120" if own == "Network" else "fb00001"  # theme 2's / theme 1's
    _flag_a_contact_of_every_department(sample.path)
    return {
        "filter_options": [("filter", "filter options", lambda: data.filter_options(viewer))],
        "this_week": [
            ("filter", "this week", lambda: data.this_week(viewer, week)),
            ("filter", "this week, own filter", lambda: data.this_week(viewer, week, None, [own])),
            (
                "refuse",
                "this week, other department",
                lambda: data.this_week(viewer, week, None, [other]),
            ),
            (
                "refuse",
                "this week, own and other",
                lambda: data.this_week(viewer, week, ["call"], [own, other]),
            ),
        ],
        "theme_options": [
            ("filter", "theme options", lambda: data.theme_options(viewer)),
            ("filter", "all theme options", lambda: data.theme_options(viewer, True)),
        ],
        "theme_page": [
            ("filter", f"own theme {own_theme}", lambda: data.theme_page(viewer, own_theme))
        ]
        + [("refuse", f"theme {t}", lambda t=t: data.theme_page(viewer, t)) for t in other_themes],
        "triage_queue": [("refuse", "triage queue", lambda: data.triage_queue(viewer))],
        "issues": [
            ("filter", "issues", lambda: data.issues(viewer)),
            ("filter", "own issues", lambda: data.issues(viewer, own)),
            ("refuse", "other issues", lambda: data.issues(viewer, other)),
        ],
        "issue_detail": [
            ("filter", f"own issue {i}", lambda i=i: data.issue_detail(viewer, i))
            for i in own_issues
        ]
        + [
            ("refuse", f"issue {i}", lambda i=i: data.issue_detail(viewer, i)) for i in other_issues
        ],
        "department_owners": [
            ("filter", "own owners", lambda: data.department_owners(viewer, own)),
            ("refuse", "other owners", lambda: data.department_owners(viewer, other)),
        ],
        "cost": [
            ("filter", "cost", lambda: data.cost(viewer, week)),
            ("refuse", "other cost", lambda: data.cost(viewer, week, [other])),
        ],
        "data_quality": [("refuse", "data quality", lambda: data.data_quality(viewer))],
        # writes: every one refused, whatever it targets
        "update_issue": [
            ("refuse", f"edit issue {i}", lambda i=i: data.update_issue(viewer, i, owner="me"))
            for i in other_issues
        ]
        + [
            (
                "refuse",
                f"hand own issue {i} to {other}",
                lambda i=i: data.update_issue(viewer, i, department=other),
            )
            for i in own_issues
        ],
        "rename_theme": [
            ("refuse", "rename", lambda: data.rename_theme(viewer, other_theme, "mine now"))
        ],
        "merge_themes": [
            ("refuse", "merge", lambda: data.merge_themes(viewer, own_theme, other_theme))
        ],
        "assign_theme_department": [
            (
                "refuse",
                "take a theme",
                lambda: data.assign_theme_department(viewer, other_theme, own),
            )
        ],
        "set_theme_demand": [
            ("refuse", "demand", lambda: data.set_theme_demand(viewer, other_theme, "value"))
        ],
        "route_item": [("refuse", "route", lambda: data.route_item(viewer, other_item, own))],
        "theme_tree": [
            ("filter", "theme map", lambda: data.theme_tree(viewer)),
            ("filter", "whole theme map", lambda: data.theme_tree(viewer, True)),
        ],
        "sub_theme": [
            ("filter", f"own theme {own_theme}", lambda: data.sub_theme(viewer, own_theme))
        ]
        + [("refuse", f"theme {t}", lambda t=t: data.sub_theme(viewer, t)) for t in other_themes],
        "move_theme": [("refuse", "move", lambda: data.move_theme(viewer, other_theme, None))],
        "create_group": [
            ("refuse", "new group", lambda: data.create_group(viewer, "mine", [other_theme]))
        ],
        "split_theme": [
            ("refuse", "split", lambda: data.split_theme(viewer, other_theme, keyword="the"))
        ],
        "split_group": [
            ("refuse", "split group", lambda: data.split_group(viewer, other_theme, "mine"))
        ],
        "urgent_queue": [
            ("filter", "urgent queue", lambda: data.urgent_queue(viewer)),
            (
                "filter",
                "urgent queue, all kinds and acknowledged",
                lambda: data.urgent_queue(
                    viewer, kinds=["safety", "regulator"], include_acknowledged=True
                ),
            ),
        ],
        "acknowledge_urgent": [
            ("refuse", "acknowledge", lambda: data.acknowledge_urgent(viewer, other_item)),
            ("refuse", "acknowledge unknown", lambda: data.acknowledge_urgent(viewer, "nope")),
        ],
    }


def _flag_a_contact_of_every_department(path) -> None:
    """Urgent flags (#18) on the first contact routed to each department, its own text as
    the evidence, so the urgent queue has another department's words to leak."""
    import polars as pl

    from warehouse import Warehouse, urgent
    from warehouse.clock import utc_now

    wh = Warehouse(path, lock_timeout=30)
    with wh.read() as con:
        rows = con.execute(
            "SELECT min(fd.feedback_id), fd.department FROM feedback_departments fd "
            "WHERE fd.department IS NOT NULL GROUP BY fd.department"
        ).fetchall()
        texts = dict(con.execute("SELECT feedback_id, text FROM feedback").fetchall())
    flags = pl.DataFrame(
        {
            "feedback_id": [fid for fid, _ in rows],
            "kind": ["safety"] * len(rows),
            "evidence": [texts[fid] for fid, _ in rows],
        }
    )
    with wh.write() as con:
        urgent.store_flags(con, flags, checked=[], rule_version="isolation", at=utc_now())


def _viewer_functions(data) -> set[str]:
    return {
        name
        for name, function in inspect.getmembers(data, inspect.isfunction)
        if function.__module__ == data.__name__
        and not name.startswith("_")
        and "viewer" in inspect.signature(function).parameters
    }


@pytest.mark.parametrize("head", list(HEADS))
def test_every_viewer_function_refuses_or_filters_another_department(sample, viewers, head):
    from dashboard import data

    viewer, own = viewers[head], HEADS[head]
    plan = _plan(data, sample, viewer, own)
    functions = _viewer_functions(data)
    missing = functions - set(plan)
    assert not missing, (
        f"dashboard.data has viewer-taking function(s) {sorted(missing)} this test does not "
        "check: add each to _plan with how a head of another department must be refused "
        "or filtered"
    )
    assert set(plan) <= functions, f"stale entries: {set(plan) - functions}"
    before = table_counts(sample.path)
    with sample.path.parent.joinpath("issues-before.json").open("w") as out:
        out.write(data.issues(viewers["admin"]).write_json())
    for name, calls in plan.items():
        for expectation, what, call in calls:
            if expectation == "refuse":
                with pytest.raises(PermissionError):
                    call()
                    pytest.fail(f"{name}: {what} was not refused for {viewer.username}")
            else:
                _assert_only_own(call(), own, f"{name}: {what}")
    assert_intact(sample.path, before)
    data.clear_caches()
    assert data.issues(viewers["admin"]).write_json() == (
        sample.path.parent.joinpath("issues-before.json").read_text()
    ), "a refused edit changed an issue"


def test_a_theme_rerouted_to_a_head_does_not_bring_another_departments_issue(
    sample, viewers, dashboard
):
    """Routing a theme to another department leaves its open issue where it was: the new
    owner's theme page must not show the old department's issue (title, owner, cause)."""
    from dashboard import data

    data.assign_theme_department(viewers["analyst"], 2, "Network")  # Billing's until now
    at = dashboard("head.network", "theme_explorer", query={"theme": "2"})
    assert not at.exception
    assert at.header[0].value.startswith("Charged twice")  # the theme is Network's now
    shown = everything_rendered(at)
    page = data.theme_page(viewers["network"], 2)
    departments = set(page.issues["department"].drop_nulls().to_list())
    assert departments <= {"Network"}, (
        f"theme 2's page gives head.network the issues of {departments - {'Network'}}: "
        f"{page.issues.select('issue_id', 'title', 'department', 'owner').to_dicts()}"
    )
    assert "Duplicate direct debits" not in shown, "Billing's issue is on head.network's page"


# ------------------------------------------------------------------------- the pages
def _assert_nothing_of_others(at, department: str, what: str) -> None:
    assert not at.exception, f"{what}: {at.exception}"
    text = everything_rendered(at)
    leaked = [s for s in other_department_strings(department) if s in text]
    assert not leaked, f"{what} shows another department's data to its head: {leaked}"


HEAD_PAGES = ["this_week", "theme_explorer", "tracker", "cost"]


@pytest.mark.parametrize("page", HEAD_PAGES)
def test_a_heads_pages_show_only_their_department(dashboard, page):
    at = dashboard("head.network", page)
    _assert_nothing_of_others(at, "Network", page)
    assert at.title


@pytest.mark.parametrize("theme_id", [0, 2, 3, 4, 5, 6, 7, 8, 9, 999, -1])
def test_a_theme_link_to_another_department_reveals_nothing(dashboard, theme_id):
    at = dashboard("head.network", "theme_explorer", query={"theme": str(theme_id)})
    _assert_nothing_of_others(at, "Network", f"?theme={theme_id}")
    assert at.header[0].value == "Broadband drops in the evening"  # their own theme instead


@pytest.mark.parametrize("query", ["'; DROP TABLE issues;--", "1 OR 1=1", "2.0", "０２", "%00"])
def test_hostile_theme_links_are_harmless(dashboard, sample, query):
    before = table_counts(sample.path)
    at = dashboard("head.network", "theme_explorer", query={"theme": query})
    _assert_nothing_of_others(at, "Network", f"?theme={query!r}")
    assert_intact(sample.path, before)


@pytest.mark.parametrize("page", ["tracker", "theme_explorer", "this_week", "cost"])
def test_issue_and_department_links_reveal_nothing(dashboard, sample, page):
    other = sample.issues["billing_new"]
    query = {"issue": str(other), "department": "Billing", "theme": "2", "week": "all"}
    at = dashboard("head.network", page, query=query)
    _assert_nothing_of_others(at, "Network", f"{page} with {query}")


@pytest.mark.parametrize("page", ["triage", "data_quality"])
def test_a_head_cannot_switch_to_insight_team_pages(dashboard, page):
    at = dashboard("head.network")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES[page])
    _assert_nothing_of_others(at, "Network", page)


@pytest.mark.parametrize("page", list(PAGES))
def test_page_files_run_without_the_router_still_refuse(sample, viewers, page):
    """A page file run on its own (a fresh server resolving a URL against pages/) with a
    head's viewer in the session: data.py refuses what the page would show."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / PAGES[page]), default_timeout=90)
    at.session_state["viewer"] = viewers["network"]
    at.query_params["theme"] = "2"
    at.run()
    assert not at.exception, at.exception
    text = everything_rendered(at)
    if page in ("triage", "data_quality"):
        assert "for the insight team" in text  # refused
    else:
        assert at.title, f"{page} rendered nothing"
    leaked = [s for s in other_department_strings("Network") if s in text]
    assert not leaked, f"{page} run directly shows: {leaked}"


def test_the_leak_check_sees_what_the_insight_team_sees(dashboard):
    """Control: the same scan finds other departments' data on an admin's pages, so the
    head tests above are not passing because nothing is ever found."""
    at = dashboard("admin", "tracker")
    text = everything_rendered(at)
    assert "Duplicate direct debits" in text and "Engineer no-shows" in text
    at = dashboard("admin", "theme_explorer", query={"theme": "4"})
    assert "App login loop after password reset" in everything_rendered(at)


@pytest.mark.parametrize("page", list(PAGES))
def test_without_signing_in_no_page_shows_data(dashboard, page):
    at = dashboard(None)
    try:
        at.switch_page(PAGES[page]).run()
    except ValueError:
        pass
    text = everything_rendered(at)
    assert not at.exception
    leaked = [s for s in other_department_strings("nobody") if s in text]
    assert not leaked, f"{page} before sign-in shows: {leaked}"
    assert "Sign in" in text
