"""dashboard.data refuses what a role may not see or do, whatever the layout shows, and
every edit goes through the warehouse's one write path, attributed to the user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warehouse import Warehouse


def _events(sample, sql: str, params: list | None = None) -> list[tuple]:
    with Warehouse(sample.path).read() as con:
        return con.execute(sql, params or []).fetchall()


# ------------------------------------------------------------------------- reading
def test_a_head_cannot_read_another_departments_issues(sample, viewers):
    from dashboard import data

    network = viewers["network"]
    assert set(data.issues(network)["department"]) == {"Network"}
    assert set(data.issues(network, "Network")["department"]) == {"Network"}
    with pytest.raises(PermissionError):
        data.issues(network, "Billing")
    with pytest.raises(PermissionError):
        data.issue_detail(network, sample.issues["billing_new"])
    assert (
        data.issue_detail(network, sample.issues["network_overdue"]).issue["department"]
        == "Network"
    )


def test_a_head_cannot_read_another_departments_themes(sample, viewers):
    from dashboard import data

    network = viewers["network"]
    assert data.theme_options(network)["theme_id"].to_list() == [1]
    assert data.theme_page(network, 1).detail["label"] == "Broadband drops in the evening"
    with pytest.raises(PermissionError):
        data.theme_page(network, 4)  # Digital's
    with pytest.raises(PermissionError):
        data.theme_page(network, 6)  # in triage: nobody's yet
    week = data.filter_options(network).weeks[0]
    with pytest.raises(PermissionError):
        data.this_week(network, week, departments=["Digital"])
    assert set(data.this_week(network, week).themes["department"]) == {"Network"}
    with pytest.raises(PermissionError):
        data.cost(network, week, departments=["Billing"])
    assert set(data.cost(network, week).chargeback["department"]) == {"Network"}


def test_a_head_cannot_triage_or_read_data_quality(sample, viewers):
    from dashboard import data

    with pytest.raises(PermissionError):
        data.triage_queue(viewers["network"])
    with pytest.raises(PermissionError):
        data.data_quality(viewers["network"])
    with pytest.raises(PermissionError):
        data.route_item(viewers["network"], "fb00001", "Network")


def test_the_insight_team_reads_everything(sample, viewers):
    from dashboard import data

    for who in ("admin", "analyst"):
        viewer = viewers[who]
        assert len(set(data.issues(viewer)["department"])) == 5
        assert data.theme_page(viewer, 4).detail["department"] == "Digital"
        assert data.triage_queue(viewer).themes.height == 2
        assert data.data_quality(viewer).quarantine.height == 4


def test_viewer_roles_are_checked():
    from dashboard.data import Viewer

    with pytest.raises(ValueError):
        Viewer("x", "X", "superuser")
    with pytest.raises(ValueError):
        Viewer("x", "X", "head")  # a head needs a department


# ------------------------------------------------------------------------- writing
def test_an_issue_edit_writes_issue_events_as_the_user(sample, viewers):
    from dashboard import data

    issue_id = sample.issues["network_overdue"]
    data.update_issue(
        viewers["network"], issue_id, status="fixed", owner="sam", root_cause="Bad card"
    )
    rows = _events(
        sample,
        "SELECT actor, field, old_value, new_value FROM issue_events WHERE issue_id = ?"
        ' AND "at" > ? ORDER BY field',
        [issue_id, datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)],
    )
    assert rows == [
        ("head.network", "owner", "head.network", "sam"),
        ("head.network", "root_cause", None, "Bad card"),
        ("head.network", "status", "in_progress", "fixed"),
    ]
    issue = data.issue_detail(viewers["network"], issue_id).issue  # the cache was cleared
    assert issue["status"] == "fixed" and issue["owner"] == "sam"


def test_a_head_cannot_edit_another_departments_issue(sample, viewers):
    from dashboard import data

    with pytest.raises(PermissionError):
        data.update_issue(viewers["network"], sample.issues["billing_new"], status="closed")
    with pytest.raises(PermissionError):
        data.update_issue(
            viewers["network"], sample.issues["network_overdue"], department="Billing"
        )
    assert _events(
        sample,
        "SELECT count(*) FROM issue_events WHERE actor = 'head.network' AND field = 'status' AND new_value = 'closed'",
    ) == [(0,)]


def test_an_impossible_transition_is_rejected_with_the_reason(sample, viewers):
    from dashboard import data

    with pytest.raises(data.EditRejected, match="cannot become"):
        data.update_issue(viewers["analyst"], sample.issues["billing_new"], status="verified")


def test_theme_edits_are_recorded_and_heads_cannot_make_them(sample, viewers):
    from dashboard import data

    analyst = viewers["analyst"]
    data.rename_theme(analyst, 3, "Engineer no-shows")
    data.set_theme_demand(analyst, 7, "failure", "praise often follows a complaint")
    data.assign_theme_department(analyst, 6, "Billing")
    data.merge_themes(analyst, keep=2, absorbed=8)
    events = _events(
        sample,
        "SELECT theme_id, actor, field, new_value FROM theme_events WHERE actor = 'analyst' ORDER BY theme_id",
    )
    assert {(t, f, v) for t, _, f, v in events} >= {
        (3, "label", "Engineer no-shows"),
        (7, "demand_type", "failure"),
        (6, "department", "Billing"),
        (8, "merged_into", "2"),
    }
    detail = data.theme_page(analyst, 3).detail
    assert detail["label"] == "Engineer no-shows" and detail["label_source"] == "analyst"
    # the merged theme's contacts now count towards the one that kept them
    week = data.filter_options(analyst).weeks[0]
    themes = data.this_week(analyst, week).themes
    assert 8 not in themes["theme_id"].to_list()
    for edit in (
        lambda: data.rename_theme(viewers["network"], 1, "Mine"),
        lambda: data.merge_themes(viewers["network"], 1, 3),
        lambda: data.assign_theme_department(viewers["network"], 1, "Network"),
        lambda: data.set_theme_demand(viewers["network"], 1, "value"),
    ):
        with pytest.raises(PermissionError):
            edit()


def test_routing_a_theme_or_an_item_teaches_routing(sample, viewers):
    from dashboard import data

    analyst = viewers["analyst"]
    data.assign_theme_department(analyst, 9, "Digital")
    item = data.triage_queue(analyst).items.row(0, named=True)
    data.route_item(analyst, item["feedback_id"], "Billing")
    examples = _events(
        sample,
        'SELECT theme_id, feedback_id, department, actor FROM routing_examples ORDER BY "at"',
    )
    assert any(t == 9 and d == "Digital" and a == "analyst" for t, _, d, a in examples)
    assert (item["theme_id"], item["feedback_id"], "Billing", "analyst") in examples
    route = _events(
        sample,
        "SELECT department, confidence, source FROM feedback_departments WHERE feedback_id = ?",
        [item["feedback_id"]],
    )
    assert route == [("Billing", 1.0, "analyst")]
    queue = data.triage_queue(analyst)
    assert 9 not in queue.themes["theme_id"].to_list()
    assert item["feedback_id"] not in queue.items["feedback_id"].to_list()
    with pytest.raises(data.EditRejected):
        data.route_item(analyst, item["feedback_id"], "No Such Department")


# ---------------------------------------------------------------------- concurrency
def test_an_edit_waits_for_a_flow_that_is_writing_and_lands(sample, viewers, pipeline_writing):
    import time

    from dashboard import data

    issue_id = sample.issues["billing_new"]
    with pipeline_writing(sample.path, 2.0):
        start = time.monotonic()
        data.update_issue(viewers["billing"], issue_id, status="acknowledged")
        waited = time.monotonic() - start
    assert waited > 1.0  # it waited for the writer instead of failing
    assert _events(
        sample,
        "SELECT actor, new_value FROM issue_events WHERE issue_id = ? AND field = 'status' AND actor = 'head.billing'",
        [issue_id],
    ) == [("head.billing", "acknowledged")]


def test_an_edit_is_refused_cleanly_when_the_flow_holds_on_too_long(
    sample, viewers, pipeline_writing, monkeypatch
):
    from dashboard import data

    monkeypatch.setenv("VOC_LOCK_TIMEOUT", "0.5")
    with pipeline_writing(sample.path, 3.0), pytest.raises(data.WarehouseBusy):
        data.update_issue(viewers["billing"], sample.issues["billing_new"], status="acknowledged")
    assert _events(
        sample,
        "SELECT count(*) FROM issue_events WHERE actor = 'head.billing' AND new_value = 'acknowledged'",
    ) == [(0,)]
