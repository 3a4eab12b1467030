"""This week and the tracker read through the theme map: an emerging top-level theme
shows the sub-themes growing inside it, and an issue shows its sub-themes as evidence."""

from __future__ import annotations

from datetime import datetime

import pytest

from warehouse import Warehouse, theme_edits


@pytest.fixture
def grouped(sample):
    """Theme 4 (the emerging login loop) and 9 (Wi-Fi setup) under a group; 9 grows in
    the latest week (subtheme_weekly, as the weekly review writes it)."""
    week = sample.weeks[-1]
    with Warehouse(sample.path).write() as con:
        group = theme_edits.create_group(
            con, "App and home network", [4, 9], "setup", datetime(2026, 11, 30)
        )
        con.execute(
            "INSERT INTO subtheme_weekly (week_start, theme_id, parent_id, volume, share,"
            " share_of_parent, rate_ratio, is_growing, growth_reason) VALUES"
            " (?, 9, 4, 7, 0.05, 0.3, 3.5, true, '3.5× its usual share'),"
            " (?, 4, 4, 16, 0.1, 0.7, 1.0, false, NULL)",
            [week, week],
        )
    return group


def test_an_emerging_theme_shows_the_sub_themes_growing_inside_it(app, grouped, page_text):
    at = app("analyst", "this_week")
    assert not at.exception, at.exception
    text = page_text(at)
    assert "Growing inside it:" in text and "Wi-Fi setup questions: 7 contacts" in text
    assert "Growing sub-themes" in text
    table = next(d.value for d in at.dataframe if "parent_label" in d.value.columns)
    assert table["label"].tolist() == ["Wi-Fi setup questions"]


def test_no_sub_themes_no_extra_sections(app, page_text):
    at = app("analyst", "this_week")
    assert not at.exception, at.exception
    assert "Growing sub-themes" not in page_text(at)


def test_an_issue_shows_its_sub_themes_as_evidence(app, sample, grouped, page_text):
    at = app("analyst", "tracker")
    issue = next(i for name, i in sample.issues.items() if name.startswith("digital"))
    at.selectbox(key="tracker-issue").set_value(issue).run()
    assert not at.exception, at.exception
    assert "Evidence: the sub-themes of this issue's theme" in page_text(at)
    assert any("App login loop" in e.label for e in at.expander)
