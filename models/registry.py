"""The theme registry: each run's clusters mapped onto themes whose ids never change meaning.

A theme id is a promise to the people who discuss it week after week. So a new run does
not number its clusters afresh; it matches them to the themes already known:

1. by *membership*: items seen before carry the theme they had; a cluster made mostly of
   one theme's former items is that theme;
2. by *centroid*: a cluster of new items whose centre lies close to a theme's centre is
   that theme (the threshold keeps a merely related cluster from taking an id);
3. anything else is a genuinely new theme.

One-to-one matching uses the Hungarian algorithm on the combined evidence. When a theme's
former items spread over several clusters it was *split*; when a cluster takes most of two
themes' items they were *merged*: both are recorded as lineage events, and ids are never
re-used. Themes an analyst merged keep pointing at the theme they were merged into.
Pure numpy: tested on small fixed embeddings, no model needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

UNCLASSIFIED = 0  # the theme of items unlike anything else; never matched or merged


@dataclass(frozen=True)
class KnownTheme:
    theme_id: int
    centroid: np.ndarray  # L2-normalised
    size: int
    merged_into: int | None = None


@dataclass
class LineageEvent:
    event: str  # created | matched | split | merged
    theme_id: int
    related_theme_id: int | None = None
    similarity: float | None = None
    detail: str = ""


@dataclass
class RegistryMatch:
    cluster_to_theme: dict[int, int]  # cluster label → theme id (existing or newly numbered)
    new_theme_ids: list[int]
    events: list[LineageEvent] = field(default_factory=list)


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1, n)


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Normalised mean embedding of each cluster label (outlier label -1 excluded)."""
    out = {}
    for label in np.unique(labels):
        if label < 0:
            continue
        out[int(label)] = normalise(embeddings[labels == label].mean(axis=0))
    return out


def resolve(theme_id: int, known: dict[int, KnownTheme]) -> int:
    """Follow analyst merges to the theme that lives on."""
    seen = set()
    while theme_id in known and known[theme_id].merged_into is not None and theme_id not in seen:
        seen.add(theme_id)
        theme_id = known[theme_id].merged_into  # type: ignore[assignment]
    return theme_id


def match_clusters(
    labels: np.ndarray,
    embeddings: np.ndarray,
    previous_theme: np.ndarray,
    known: list[KnownTheme],
    next_id: int,
    *,
    min_similarity: float = 0.75,
    min_overlap: float = 0.5,
    split_share: float = 0.25,
) -> RegistryMatch:
    """Map this run's cluster ``labels`` (one per item; -1 = none) onto theme ids.

    ``previous_theme`` holds each item's theme from the last run (-1 if it had none),
    ``next_id`` is the first id a new theme may take (ids are never re-used)."""
    labels = np.asarray(labels)
    previous_theme = np.asarray(previous_theme)
    registry = {k.theme_id: k for k in known}
    live = [k for k in known if k.merged_into is None and k.theme_id != UNCLASSIFIED]
    clusters = sorted(int(c) for c in np.unique(labels) if c >= 0)
    cluster_centroids = centroids(embeddings, labels)
    prev = (
        np.array([resolve(int(t), registry) if t >= 0 else -1 for t in previous_theme])
        if len(previous_theme)
        else previous_theme
    )
    events: list[LineageEvent] = []
    mapping: dict[int, int] = {}
    if not clusters:
        return RegistryMatch({}, [], [])

    overlap, old_counts, similarity = _evidence(labels, prev, clusters, cluster_centroids, live)
    # a pair qualifies by membership, or (for clusters of mostly new items) by centroid
    mostly_new = old_counts < 5
    eligible = (overlap >= min_overlap) | (
        (similarity >= min_similarity) & (mostly_new[:, None] | (overlap > 0))
    )
    score = np.where(eligible, overlap * 2.0 + similarity, 0.0)
    if live:
        rows, cols = linear_sum_assignment(-score)
        for i, j in zip(rows, cols, strict=True):
            if eligible[i, j]:
                theme = live[j].theme_id
                mapping[clusters[i]] = theme
                events.append(
                    LineageEvent(
                        "matched",
                        theme,
                        None,
                        float(similarity[i, j]),
                        f"{overlap[i, j]:.0%} of its known items",
                    )
                )
    new_ids = _new_themes(
        clusters, mapping, events, next_id, live, prev, overlap, old_counts, similarity, split_share
    )
    _merges(labels, prev, live, mapping, events)
    return RegistryMatch(mapping, new_ids, events)


def _evidence(
    labels: np.ndarray,
    prev: np.ndarray,
    clusters: list[int],
    cluster_centroids: dict[int, np.ndarray],
    live: list[KnownTheme],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The evidence matrices, clusters × live themes: the share of each cluster's old items
    each theme held, each cluster's count of old items, and centroid similarity."""
    overlap = np.zeros((len(clusters), len(live)), dtype=np.float64)  # share of cluster's old items
    old_counts = np.zeros(len(clusters))
    theme_index = {k.theme_id: j for j, k in enumerate(live)}
    for i, c in enumerate(clusters):
        members = prev[labels == c]
        members = members[members >= 0]
        old_counts[i] = len(members)
        if len(members):
            ids, counts = np.unique(members, return_counts=True)
            for t, n in zip(ids, counts, strict=True):
                if int(t) in theme_index:
                    overlap[i, theme_index[int(t)]] = n / len(members)
    if live:
        c_mat = np.stack([cluster_centroids[c] for c in clusters])
        t_mat = np.stack([normalise(k.centroid) for k in live])
        similarity = c_mat @ t_mat.T
    else:
        similarity = np.zeros((len(clusters), 0))
    return overlap, old_counts, similarity


def _new_themes(
    clusters: list[int],
    mapping: dict[int, int],
    events: list[LineageEvent],
    next_id: int,
    live: list[KnownTheme],
    prev: np.ndarray,
    overlap: np.ndarray,
    old_counts: np.ndarray,
    similarity: np.ndarray,
    split_share: float,
) -> list[int]:
    """Give each unmatched cluster a new theme id (into ``mapping``), noting a split when it
    holds a large part of one theme's former items; returns the new ids."""
    new_ids: list[int] = []
    for i, c in enumerate(clusters):
        if c in mapping:
            continue
        theme_id = next_id
        next_id += 1
        new_ids.append(theme_id)
        mapping[c] = theme_id
        parent = None
        if live and old_counts[i] >= 5:
            j = int(np.argmax(overlap[i]))
            parent_size = max(1, int((prev == live[j].theme_id).sum()))
            took = overlap[i, j] * old_counts[i] / parent_size
            if took >= split_share:
                parent = live[j].theme_id
                events.append(
                    LineageEvent(
                        "split",
                        theme_id,
                        parent,
                        float(similarity[i, j]),
                        f"took {took:.0%} of theme {parent}'s items",
                    )
                )
        events.append(
            LineageEvent(
                "created", theme_id, parent, None, "new cluster" if parent is None else "split off"
            )
        )
    return new_ids


def _merges(
    labels: np.ndarray,
    prev: np.ndarray,
    live: list[KnownTheme],
    mapping: dict[int, int],
    events: list[LineageEvent],
) -> None:
    """Note a merge for each live theme that got no cluster while one cluster took most of
    its items."""
    matched_themes = set(mapping.values())
    for theme in live:
        if theme.theme_id in matched_themes:
            continue
        members = prev == theme.theme_id
        if members.sum() < 5:
            continue
        dest_clusters, counts = np.unique(labels[members], return_counts=True)
        best = int(np.argmax(counts))
        if dest_clusters[best] >= 0 and counts[best] / members.sum() >= 0.5:
            into = mapping[int(dest_clusters[best])]
            events.append(
                LineageEvent(
                    "merged",
                    theme.theme_id,
                    into,
                    None,
                    f"{counts[best] / members.sum():.0%} of its items joined theme {into}",
                )
            )
