"""How an analyst's split divides a theme: by vectors, by a keyword, a group by centres."""

from __future__ import annotations

import numpy as np
import pytest

from models import theme_split


def _two_blobs(n_a: int, n_b: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.array([1.0, 0.2, 0, 0]) + rng.normal(0, 0.05, (n_a, 4))
    b = np.array([0.2, 1.0, 0, 0]) + rng.normal(0, 0.05, (n_b, 4))
    return np.vstack([a, b]).astype(np.float32)


def test_vectors_split_into_their_two_clusters_smaller_side_true():
    vectors = _two_blobs(12, 5)
    mask = theme_split.split_by_vectors(vectors)
    assert mask.tolist() == [False] * 12 + [True] * 5


def test_a_vector_split_is_repeatable_and_independent_of_row_order_of_the_sides():
    vectors = _two_blobs(8, 8, seed=3)
    first = theme_split.split_by_vectors(vectors)
    assert (theme_split.split_by_vectors(vectors) == first).all()
    assert first.sum() == 8 and not first[0]  # a tie: the side without the first contact


@pytest.mark.parametrize(
    "vectors", [np.ones((1, 4)), np.ones((5, 4))], ids=["one contact", "identical vectors"]
)
def test_a_vector_split_with_nothing_to_divide_is_refused(vectors):
    with pytest.raises(ValueError):
        theme_split.split_by_vectors(vectors)


def test_keyword_split_matches_whole_words_any_case_and_phrases():
    texts = ["Where is my Refund?", "refunded already", "no REFUND yet", "charged twice", ""]
    assert theme_split.split_by_keyword(texts, "refund").tolist() == [
        True,
        False,
        True,
        False,
        False,
    ]
    assert theme_split.split_by_keyword(texts, "charged  twice").tolist() == [
        False,
        False,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize("keyword", ["", "   ", "broadband", "e"])
def test_a_keyword_that_leaves_one_side_empty_is_refused(keyword):
    texts = ["e mail", "e e", "e"] if keyword == "e" else ["a bill", "a refund"]
    with pytest.raises(ValueError):
        theme_split.split_by_keyword(texts, keyword)


def test_a_group_splits_by_centres_and_the_biggest_sub_theme_stays():
    centroids = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.1, 0.9, 0]], dtype=np.float32)
    leaving = theme_split.split_groups_by_centroid(centroids, np.array([5, 4, 50, 3]))
    assert leaving.tolist() == [True, True, False, False]


def test_a_group_of_one_or_of_identical_centres_cannot_be_split_by_centres():
    with pytest.raises(ValueError):
        theme_split.split_groups_by_centroid(np.ones((1, 3)), np.array([4]))
    with pytest.raises(ValueError):
        theme_split.split_groups_by_centroid(np.ones((3, 3)), np.array([4, 5, 6]))


def test_distinctive_words_name_each_side():
    texts = [
        "refund not received",
        "still waiting for my refund",
        "charged twice this month",
        "double charged again",
    ]
    mine, other = theme_split.distinctive_words(texts, np.array([True, True, False, False]))
    assert mine[0] == "refund"
    assert other[0] == "charged"
    assert "refund" not in other


def test_centre_and_representatives():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)
    centre = theme_split.centre(vectors)
    assert np.isclose(np.linalg.norm(centre), 1.0)
    assert theme_split.representative(vectors, k=2) == [1, 0]
    weighted = theme_split.centre(vectors, np.array([1, 1, 100]))
    assert weighted[1] > 0.9
