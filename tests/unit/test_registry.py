"""The theme registry on small fixed embeddings: ids survive refits, splits and merges
are recorded, nothing is renumbered."""

from __future__ import annotations

import numpy as np

from models.registry import KnownTheme, match_clusters, normalise, resolve

DIM = 8


def blob(center: int, n: int, rng, spread: float = 0.05) -> np.ndarray:
    base = np.zeros(DIM, dtype=np.float32)
    base[center] = 1.0
    return normalise(base + rng.normal(0, spread, size=(n, DIM)).astype(np.float32))


def axis(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1
    return v


def test_same_clusters_under_new_labels_keep_their_ids():
    rng = np.random.default_rng(0)
    emb = np.vstack([blob(0, 20, rng), blob(1, 20, rng), blob(2, 20, rng)])
    previous = np.array([10] * 20 + [11] * 20 + [12] * 20)
    labels = np.array([2] * 20 + [0] * 20 + [1] * 20)  # the refit numbered them differently
    known = [KnownTheme(10, axis(0), 20), KnownTheme(11, axis(1), 20), KnownTheme(12, axis(2), 20)]
    match = match_clusters(labels, emb, previous, known, next_id=13)
    assert match.cluster_to_theme == {2: 10, 0: 11, 1: 12}
    assert match.new_theme_ids == []


def test_new_items_join_by_centroid_and_a_new_cluster_gets_a_new_id():
    rng = np.random.default_rng(1)
    emb = np.vstack([blob(0, 20, rng), blob(1, 20, rng), blob(5, 20, rng)])
    previous = np.array([-1] * 60)  # all items are new this week
    labels = np.array([0] * 20 + [1] * 20 + [2] * 20)
    known = [KnownTheme(3, axis(0), 50), KnownTheme(4, axis(1), 50)]
    match = match_clusters(labels, emb, previous, known, next_id=9)
    assert match.cluster_to_theme[0] == 3 and match.cluster_to_theme[1] == 4
    assert match.cluster_to_theme[2] == 9 and match.new_theme_ids == [9]
    assert any(e.event == "created" and e.theme_id == 9 for e in match.events)


def test_related_but_distinct_cluster_does_not_take_an_id():
    rng = np.random.default_rng(2)
    mixed = normalise(axis(0) + axis(3))  # 45 degrees from theme 3: cosine ~0.71
    emb = normalise(mixed + rng.normal(0, 0.02, size=(15, DIM)).astype(np.float32))
    match = match_clusters(
        np.zeros(15, dtype=int),
        emb,
        np.full(15, -1),
        [KnownTheme(3, axis(0), 40)],
        next_id=4,
        min_similarity=0.8,
    )
    assert match.cluster_to_theme == {0: 4}


def test_split_is_recorded_with_its_parent():
    rng = np.random.default_rng(3)
    emb = np.vstack([blob(0, 30, rng), blob(1, 30, rng)])
    previous = np.array([7] * 60)  # one old theme ...
    labels = np.array([0] * 30 + [1] * 30)  # ... now two clusters
    match = match_clusters(
        labels, emb, previous, [KnownTheme(7, normalise(axis(0) + axis(1)), 60)], next_id=8
    )
    assert sorted(match.cluster_to_theme.values()) == [7, 8]
    split = [e for e in match.events if e.event == "split"]
    assert len(split) == 1 and split[0].theme_id == 8 and split[0].related_theme_id == 7


def test_merge_is_recorded_and_the_larger_theme_keeps_its_id():
    rng = np.random.default_rng(4)
    emb = np.vstack([blob(0, 40, rng), blob(0, 10, rng)])
    previous = np.array([5] * 40 + [6] * 10)  # two old themes ...
    labels = np.zeros(50, dtype=int)  # ... are one cluster now
    known = [KnownTheme(5, axis(0), 40), KnownTheme(6, axis(0), 10)]
    match = match_clusters(labels, emb, previous, known, next_id=8)
    assert match.cluster_to_theme == {0: 5}
    merged = [e for e in match.events if e.event == "merged"]
    assert len(merged) == 1 and merged[0].theme_id == 6 and merged[0].related_theme_id == 5


def test_analyst_merges_are_followed():
    known = {
        1: KnownTheme(1, axis(0), 0, merged_into=2),
        2: KnownTheme(2, axis(0), 0, merged_into=3),
        3: KnownTheme(3, axis(0), 5),
    }
    assert resolve(1, known) == 3
    rng = np.random.default_rng(5)
    emb = blob(0, 20, rng)
    previous = np.array([1] * 20)  # items last seen in a theme that was merged away
    match = match_clusters(np.zeros(20, dtype=int), emb, previous, list(known.values()), next_id=4)
    assert match.cluster_to_theme == {0: 3}


def test_unclassified_items_are_left_alone():
    rng = np.random.default_rng(6)
    emb = blob(0, 10, rng)
    match = match_clusters(
        np.full(10, -1), emb, np.full(10, -1), [KnownTheme(1, axis(0), 10)], next_id=2
    )
    assert match.cluster_to_theme == {} and match.new_theme_ids == []


def test_ids_are_never_reused():
    rng = np.random.default_rng(7)
    emb = blob(4, 20, rng)
    match = match_clusters(np.zeros(20, dtype=int), emb, np.full(20, -1), [], next_id=42)
    assert match.cluster_to_theme == {0: 42}


def test_labels_are_made_unique_against_each_other_and_kept_labels():
    from models.topics import disambiguate

    names = {3: "card not arrived", 5: "card not arrived", 7: "Refund", 9: "top up"}
    keywords = {3: ["card", "arrived", "replacement"], 5: ["card", "delivery"], 7: ["money"]}
    out = disambiguate(names, keywords, taken=["refund", "top up (#9)"])
    assert out[3] == "card not arrived (replacement)"  # "card" and "arrived" are in the name
    assert out[5] == "card not arrived (delivery)"
    assert out[7] == "Refund (money)"  # an analyst's "refund" keeps its label
    assert out[9] == "top up"
    assert len({label.lower() for label in out.values()} | {"refund", "top up (#9)"}) == 6
    # nothing distinguishing left: the id makes it unique
    same = disambiguate({1: "wifi drops", 2: "wifi drops"}, {1: ["wifi"], 2: ["wifi"]})
    assert same == {1: "wifi drops (#1)", 2: "wifi drops (#2)"}


def test_a_theme_whose_label_is_taken_takes_its_own_next_phrase_before_a_keyword():
    from models.topics import disambiguate

    out = disambiguate(
        {3: "Great service", 5: "How do I cancel", 8: "Router not delivered"},
        {3: ["switch"], 5: ["offering"], 8: ["tracking"]},
        taken=["Great service", "How do I cancel", "Router not delivered"],
        alternatives={
            3: ["Great service", "No complaints"],
            5: ["How do I cancel", "router not delivered"],  # taken too: skipped
            8: ["Router not delivered"],
        },
    )
    assert out == {
        3: "No complaints",
        5: "How do I cancel (offering)",
        8: "Router not delivered (tracking)",
    }
    # a runner-up another theme in the batch is named by stays that theme's
    out = disambiguate(
        {1: "wifi drops", 2: "wifi drops", 4: "slow wifi"},
        {},
        alternatives={1: ["wifi drops", "slow wifi"], 2: ["wifi drops", "no signal"]},
    )
    assert out == {1: "wifi drops (#1)", 2: "no signal", 4: "slow wifi"}
