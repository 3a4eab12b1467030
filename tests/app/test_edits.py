"""Edits made on the pages: each lands in the warehouse attributed to the signed-in user,
shows on the page, and waits for (never crashes on) a flow that is writing."""

from __future__ import annotations

import pytest

from warehouse import Warehouse


def _query(sample, sql: str, params: list | None = None) -> list[tuple]:
    with Warehouse(sample.path).read() as con:
        return con.execute(sql, params or []).fetchall()


def _button(at, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}: {[b.label for b in at.button]}"
    return matches[0]


def _widget(elements, label: str):
    matches = [w for w in elements if w.label == label]
    assert matches, f"no widget {label!r}: {[w.label for w in elements]}"
    return matches[0]


def test_changing_status_in_the_issue_form_writes_issue_events(app, sample, page_text):
    issue_id = sample.issues["network_overdue"]
    at = app("head.network", "tracker")
    _widget(at.selectbox, "Status").set_value("fixed")
    _widget(at.text_area, "Root cause").input("A faulty line card at the exchange")
    _widget(at.text_input, "Note for the history (optional)").input("swapped the card")
    _button(at, "Save changes").click().run()
    assert not at.exception, at.exception
    rows = _query(
        sample,
        "SELECT actor, field, old_value, new_value, note FROM issue_events"
        " WHERE issue_id = ? AND note = 'swapped the card' ORDER BY field",
        [issue_id],
    )
    assert rows == [
        (
            "head.network",
            "root_cause",
            None,
            "A faulty line card at the exchange",
            "swapped the card",
        ),
        ("head.network", "status", "in_progress", "fixed", "swapped the card"),
    ]
    text = page_text(at)
    assert f"Issue #{issue_id} saved." in text
    assert "(fixed)" in at.selectbox(key="tracker-issue").format_func(issue_id)
    history = next(d.value for d in at.dataframe if "actor" in d.value.columns)
    assert "fixed" in history["new_value"].to_list()  # shows in the issue's history


def test_editing_a_cell_in_the_tracker_grid_saves_it(app, sample):
    issue_id = sample.issues["billing_new"]
    at = app("head.billing", "tracker")
    grid = at.data_editor[0]
    row = grid.value["issue_id"].to_list().index(issue_id)
    key = grid.key
    at.session_state[key] = {
        "edited_rows": {row: {"owner": "priya", "priority": "P1", "due_date": "2030-01-31"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    rows = _query(
        sample,
        "SELECT field, new_value FROM issue_events WHERE issue_id = ? AND actor = 'head.billing'"
        " ORDER BY field",
        [issue_id],
    )
    assert rows == [("due_date", "2030-01-31"), ("owner", "priya"), ("priority", "P1")]
    grid = at.data_editor[0].value  # a fresh grid shows the saved values
    saved = grid[grid["issue_id"] == issue_id].iloc[0]
    assert saved["owner"] == "priya" and saved["priority"] == "P1"


def test_a_refused_transition_is_a_message_not_a_crash(app, sample, page_text):
    at = app("analyst", "tracker")
    at.selectbox(key="tracker-issue").set_value(sample.issues["billing_new"]).run()
    grid = at.data_editor[0]
    row = grid.value["issue_id"].to_list().index(sample.issues["billing_new"])
    at.session_state[grid.key] = {
        "edited_rows": {row: {"status": "verified"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    assert "Not saved: an issue that is new cannot become verified" in page_text(at)


def test_renaming_a_theme_in_the_explorer_is_recorded(app, sample, page_text):
    at = app("analyst", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(3).run()
    _widget(at.text_input, "Label").input("Engineers missing appointments")
    _button(at, "Save label").click().run()
    assert not at.exception, at.exception
    assert _query(sample, "SELECT actor, new_value FROM theme_events WHERE theme_id = 3") == [
        ("analyst", "Engineers missing appointments")
    ]
    assert "Engineers missing appointments" in page_text(at)


def test_reassigning_and_demand_override_in_the_explorer(app, sample):
    at = app("admin", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(7).run()
    _widget(at.selectbox, "Department").set_value("Customer Service")
    _button(at, "Reassign").click().run()
    assert not at.exception, at.exception
    _widget(at.radio, "Demand").set_value("failure")
    _button(at, "Save demand type").click().run()
    assert not at.exception, at.exception
    assert _query(
        sample,
        "SELECT department, department_source, demand_type, demand_source FROM themes WHERE theme_id = 7",
    ) == [("Customer Service", "analyst", "failure", "analyst")]
    assert _query(
        sample, "SELECT field, actor FROM theme_events WHERE theme_id = 7 ORDER BY field"
    ) == [("demand_type", "admin"), ("department", "admin")]


def test_merging_a_theme_in_the_explorer(app, sample):
    at = app("analyst", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(8).run()
    _widget(at.selectbox, "Keep").set_value(2)
    _widget(at.checkbox, "This theme's contacts move there; its id will point at it").check()
    _button(at, "Merge").click().run()
    assert not at.exception, at.exception
    assert _query(sample, "SELECT status, merged_into FROM themes WHERE theme_id = 8") == [
        ("merged", 2)
    ]
    assert at.selectbox(key="explorer-theme").value == 2  # it follows the contacts


def test_assigning_a_theme_from_triage_in_one_click(app, sample):
    at = app("analyst", "triage")
    # cards are biggest first: "Upgrading to faster fibre" (no guess), then "Wi-Fi setup
    # questions", preselected with routing's best guess (Digital): one click assigns it
    buttons = [b for b in at.button if b.label == "Assign"]
    assert len(buttons) == 2
    buttons[1].click().run()
    assert not at.exception, at.exception
    assert _query(
        sample, "SELECT department, department_source FROM themes WHERE theme_id = 9"
    ) == [("Digital", "analyst")]
    learnt = _query(
        sample, "SELECT count(*) FROM routing_examples WHERE theme_id = 9 AND actor = 'analyst'"
    )
    assert learnt[0][0] >= 1
    assert "Wi-Fi setup questions" not in " ".join(str(m.value) for m in at.markdown)


def test_routing_a_contact_from_triage(app, sample):
    at = app("analyst", "triage")
    items = at.data_editor[1]
    frame = items.value
    at.session_state[items.key] = {
        "edited_rows": {0: {"route_to": "Billing"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    text = frame.iloc[0]["text"]
    routed = _query(
        sample,
        "SELECT d.department, d.source, r.actor FROM feedback_departments AS d"
        " JOIN routing_examples AS r USING (feedback_id) JOIN feedback AS f USING (feedback_id)"
        " WHERE r.department = 'Billing' AND f.text = ?",
        [text],
    )
    assert routed and routed[0] == ("Billing", "analyst", "analyst"), routed


def test_an_edit_while_the_pipeline_writes_waits_and_lands(app, sample, pipeline_writing):
    issue_id = sample.issues["fieldops_ack"]
    at = app("head.fieldops", "tracker")
    _widget(at.selectbox, "Status").set_value("in_progress")
    with pipeline_writing(sample.path, 2.0):
        _button(at, "Save changes").click().run()
    assert not at.exception, at.exception
    assert not at.warning, [w.value for w in at.warning]
    assert _query(
        sample,
        "SELECT actor, new_value FROM issue_events WHERE issue_id = ? AND field = 'status'"
        " AND new_value = 'in_progress'",
        [issue_id],
    ) == [("head.fieldops", "in_progress")]


def test_an_edit_blocked_too_long_says_so_and_is_not_lost_silently(
    app, sample, pipeline_writing, monkeypatch, page_text
):
    at = app("head.fieldops", "tracker")
    monkeypatch.setenv("VOC_LOCK_TIMEOUT", "0.5")
    _widget(at.selectbox, "Status").set_value("in_progress")
    with pipeline_writing(sample.path, 3.0):
        _button(at, "Save changes").click().run()
    assert not at.exception, at.exception
    assert "your change was not saved yet" in page_text(at)
    assert _query(
        sample,
        "SELECT count(*) FROM issue_events WHERE new_value = 'in_progress' AND actor = 'head.fieldops'",
    ) == [(0,)]


@pytest.mark.parametrize("user", ["analyst", "head.digital"])
def test_user_text_is_shown_as_text_never_as_html(app, sample, user, page_text):
    from datetime import datetime

    from warehouse import core_tables

    evil = "<script>alert(1)</script> **bold** [x](javascript:alert(2))"
    with Warehouse(sample.path).write() as con:
        core_tables.rename_theme(con, 4, evil, "analyst", datetime(2026, 1, 1))
    at = app(user)  # This week: the emerging theme's card
    assert not at.exception
    at.switch_page("pages/theme_explorer.py").run()
    at.selectbox(key="explorer-theme").set_value(4).run()
    assert not at.exception
    shown = 0
    for page in (app(user), at):
        for element in list(page.markdown) + list(page.header) + list(page.caption):
            body = str(element.value)
            if "script" in body or "javascript" in body:
                shown += 1
                assert not getattr(element.proto, "allow_html", False)
                assert "<script>" not in body  # escaped: \<script\>
                assert "](javascript" not in body and "**bold**" not in body
    assert shown >= 2  # on This week (the emerging card) and as the explorer's header
    assert evil in page_text(at)  # the words are all there, as text


def test_marking_fixed_with_the_day_the_fix_went_live(app, sample):
    from datetime import date, datetime, timedelta

    issue_id = sample.issues["network_overdue"]
    live = date.today() - timedelta(days=10)
    at = app("head.network", "tracker")
    _widget(at.selectbox, "Status").set_value("fixed")
    _widget(at.date_input, "Fix live since").set_value(live)
    _button(at, "Save changes").click().run()
    assert not at.exception, at.exception
    assert _query(
        sample, "SELECT status, resolved_at FROM issues WHERE issue_id = ?", [issue_id]
    ) == [("fixed", datetime.combine(live, datetime.min.time()))]
