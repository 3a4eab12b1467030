"""The theme explorer reads and edits the theme map: a top-level theme with its sub-themes
beneath, and move / merge / split / rename at both levels for analysts and admins (the
same write functions as `voc themes ...`); heads read their own department's tree only."""

from __future__ import annotations

from datetime import datetime

import pytest

from warehouse import Warehouse, theme_edits


def _query(sample, sql: str, params: list | None = None) -> list[tuple]:
    with Warehouse(sample.path).read() as con:
        return con.execute(sql, params or []).fetchall()


def _widget(elements, label: str):
    matches = [w for w in elements if w.label == label]
    assert matches, f"no widget {label!r}: {[w.label for w in elements]}"
    return matches[0]


def _button(at, label: str):
    return _widget(at.button, label)


@pytest.fixture
def grouped(sample):
    """The sample with a group: "Billing problems" over themes 2 (charged twice) and 8
    (price rise). Returns the group's id."""
    with Warehouse(sample.path).write() as con:
        return theme_edits.create_group(
            con, "Billing problems", [2, 8], "setup", datetime(2026, 11, 30, 9)
        )


def test_the_explorer_lists_top_level_themes_and_a_groups_sub_themes(app, grouped, page_text):
    at = app("analyst", "theme_explorer")
    picker = at.selectbox(key="explorer-theme")
    assert grouped in picker.options or f"Billing problems · #{grouped} · 2 sub-themes" in (
        picker.options
    )
    assert all(o.split("#")[1].split()[0] not in ("2", "8") for o in picker.options)
    picker.set_value(grouped).run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert "Billing problems" in text
    subs = next(d.value for d in at.dataframe if "label" in d.value.columns)
    assert subs["label"].tolist() == [
        "Charged twice for the same month",
        "Price rise without warning",
    ]
    # the group's verbatims are its sub-themes' best
    assert "charged twice for March" in text and "price increase" in text
    at.selectbox(key=f"explorer-sub-{grouped}").set_value(8).run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert "price rise, bill went up" in text and "placed here by an analyst" in text


def test_a_link_to_a_sub_theme_opens_it_under_its_top_level_theme(app, grouped):
    at = app("analyst")
    at.query_params["theme"] = "8"
    at.switch_page("pages/theme_explorer.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="explorer-theme").value == grouped
    assert at.selectbox(key=f"explorer-sub-{grouped}").value == 8


def test_moving_a_theme_under_a_group_and_out_again(app, sample, grouped):
    at = app("analyst", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(6).run()
    _widget(at.selectbox, "Move under").set_value(grouped)
    _button(at, "Move").click().run()
    assert not at.exception, at.exception
    assert _query(sample, "SELECT parent_id, parent_source FROM themes WHERE theme_id = 6") == [
        (grouped, "analyst")
    ]
    assert at.selectbox(key="explorer-theme").value == grouped  # it follows the theme
    at.selectbox(key=f"explorer-edit-target-{grouped}").set_value(6).run()
    _widget(at.selectbox, "Move under").set_value("top")
    _button(at, "Move").click().run()
    assert not at.exception, at.exception
    assert _query(sample, "SELECT parent_id FROM themes WHERE theme_id = 6") == [(None,)]
    assert _query(
        sample, "SELECT actor, old_value, new_value FROM theme_events WHERE theme_id = 6"
    ) == [("analyst", None, str(grouped)), ("analyst", str(grouped), None)]


def test_moving_a_theme_under_a_new_group_it_names(app, sample):
    at = app("admin", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(3).run()
    _widget(at.selectbox, "Move under").set_value("new")
    _widget(at.text_input, "New group's name").input("Engineer visits")
    _button(at, "Move").click().run()
    assert not at.exception, at.exception
    (group,) = _query(sample, "SELECT theme_id FROM themes WHERE label = 'Engineer visits'")
    assert _query(sample, "SELECT parent_id FROM themes WHERE theme_id = 3") == [group]
    assert at.selectbox(key="explorer-theme").value == group[0]


def test_splitting_a_sub_theme_by_keyword(app, sample, grouped):
    at = app("analyst", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(grouped).run()
    at.selectbox(key=f"explorer-edit-target-{grouped}").set_value(2).run()
    _widget(at.radio, "Divide its contacts").set_value("keyword")
    _widget(at.text_input, "Keyword").input("refund")
    _widget(at.text_input, "Label of the first part (optional)").input("Refund not received")
    _widget(at.text_input, "Label of the second part (optional)").input("Charged twice")
    _button(at, "Split").click().run()
    assert not at.exception, at.exception
    parts = _query(
        sample,
        "SELECT label, parent_id, origin, size FROM themes WHERE origin = 'analyst'"
        " AND kind = 'fine' ORDER BY label",
    )
    assert [p[:3] for p in parts] == [
        ("Charged twice", grouped, "analyst"),
        ("Refund not received", grouped, "analyst"),
    ]
    assert sum(p[3] for p in parts) == 76
    assert _query(sample, "SELECT status FROM themes WHERE theme_id = 2") == [("dormant",)]
    subs = next(d.value for d in at.dataframe if "label" in d.value.columns)
    assert set(subs["label"]) == {
        "Charged twice",
        "Refund not received",
        "Price rise without warning",
    }


def test_a_refused_split_is_a_message_not_a_crash(app, sample, page_text):
    at = app("analyst", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(3).run()
    _widget(at.radio, "Divide its contacts").set_value("keyword")
    _widget(at.text_input, "Keyword").input("broadband")
    _button(at, "Split").click().run()
    assert not at.exception, at.exception
    assert "no contact of this theme says 'broadband'" in page_text(at)
    # and by meaning, the sample has no vectors: it says to split by a keyword
    _widget(at.radio, "Divide its contacts").set_value("meaning")
    _button(at, "Split").click().run()
    assert "split by a keyword" in page_text(at)
    assert _query(sample, "SELECT count(*) FROM theme_events WHERE field = 'split'") == [(0,)]


def test_merging_and_splitting_groups_and_renaming_a_group(app, sample, grouped, page_text):
    with Warehouse(sample.path).write() as con:
        other = theme_edits.create_group(con, "Faults", [1, 4], "setup", datetime(2026, 12, 1))
    at = app("analyst", "theme_explorer")
    at.selectbox(key="explorer-theme").set_value(other).run()
    keep = _widget(at.selectbox, "Keep")
    assert keep.options == [f"Billing problems · #{grouped} · 2 sub-themes"]  # groups only
    keep.set_value(grouped)
    _widget(at.checkbox, "Its sub-themes move there; its id will point at it").check()
    _button(at, "Merge").click().run()
    assert not at.exception, at.exception
    assert _query(sample, "SELECT status, merged_into FROM themes WHERE theme_id = ?", [other]) == [
        ("merged", grouped)
    ]
    assert at.selectbox(key="explorer-theme").value == grouped
    assert _query(sample, "SELECT count(*) FROM themes WHERE parent_id = ?", [grouped]) == [(4,)]

    _widget(at.multiselect, "Sub-themes that go to a new group").set_value([1, 4])
    _widget(at.text_input, "The new group's name").input("Faults again")
    _button(at, "Split group").click().run()
    assert not at.exception, at.exception
    (new,) = _query(sample, "SELECT theme_id FROM themes WHERE label = 'Faults again'")
    assert _query(sample, "SELECT theme_id FROM themes WHERE parent_id = ? ORDER BY 1", new) == [
        (1,),
        (4,),
    ]

    _widget(at.text_input, "Label").input("Money matters")
    _button(at, "Save label").click().run()
    assert not at.exception, at.exception
    assert _query(sample, "SELECT label FROM themes WHERE theme_id = ?", [grouped]) == [
        ("Money matters",)
    ]
    assert "Money matters" in page_text(at)


def test_merging_a_group_into_a_fine_theme_is_not_offered_and_refused_by_the_data_layer(
    sample, grouped, viewers
):
    from dashboard import data

    with pytest.raises(data.EditRejected, match="same level"):
        data.merge_themes(viewers["analyst"], keep=3, absorbed=grouped)


def test_a_head_reads_their_departments_tree_and_cannot_edit_it(app, sample, grouped):
    at = app("head.billing", "theme_explorer")
    assert not at.exception, at.exception
    options = at.selectbox(key="explorer-theme").options
    assert options == [f"Billing problems · #{grouped} · 2 sub-themes"]
    assert not list(at.get("form"))
    at.selectbox(key=f"explorer-sub-{grouped}").set_value(2).run()
    assert not at.exception, at.exception
    network = app("head.network", "theme_explorer")
    assert all("Billing" not in o for o in network.selectbox(key="explorer-theme").options)
