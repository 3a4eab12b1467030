"""The measures bench/themes_quality.py reports: how the theme map reads the demo's
problems and where contacts in other languages sit."""

from __future__ import annotations

import numpy as np

from models.quality import language_scores, map_scores


def test_a_contact_in_another_language_is_right_in_its_problems_english_home():
    truth = ["a", "a", "a", "b", "b", "a", "b", "b"]
    top = [1, 1, 2, 3, 3, 1, 1, 3]
    lang = ["en", "en", "en", "en", "en", "fr", "pl", "pl"]
    got = language_scores(truth, top, lang)
    # a's home is 1 (two of its three English contacts), b's is 3
    assert (got.placed_right, got.others) == (2, 3)
    assert got.by_language == {"fr": (1, 1), "pl": (1, 2)}
    assert got.share == 2 / 3
    assert got.mostly_other == 0
    assert got.missed_by_problem == {"b": 1}  # the Polish b sits in a's home


def test_a_theme_mostly_in_other_languages_is_counted_from_ten_contacts():
    truth = ["a"] * 20
    top = [1] * 8 + [2] * 12
    lang = ["en"] * 8 + ["es"] * 7 + ["en"] * 5
    assert language_scores(truth, top, lang).mostly_other == 1
    assert language_scores(truth, top, lang, min_size=13).mostly_other == 0


def test_map_scores_count_concentrated_problems_and_the_spike():
    truth = np.array(["a"] * 10 + ["b"] * 10)
    top = np.array([1] * 8 + [2] * 2 + [2] * 5 + [3] * 5)
    spike = np.array([False] * 10 + [True] * 10)
    got = map_scores(truth, top, spike)
    assert (got.concentrated, got.problems, got.spike_share, got.spike_themes) == (1, 2, 0.5, 2)
