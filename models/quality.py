"""How well themes recover known labels: the standard clustering scores.

ACC matches themes to labels one-to-one (Hungarian algorithm) and counts the items whose
theme maps to their label; a theme left without a label counts as wrong. NMI and ARI
come from scikit-learn. Used by the benchmarks and the slow model tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


@dataclass(frozen=True)
class ClusterScores:
    acc: float
    nmi: float
    ari: float
    n_labels: int
    n_clusters: int

    def line(self) -> str:
        return f"ACC {self.acc:.3f}  NMI {self.nmi:.3f}  ARI {self.ari:.3f}  labels {self.n_labels}  themes {self.n_clusters}"


def hungarian_accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    truth_ids, t = np.unique(truth, return_inverse=True)
    pred_ids, p = np.unique(predicted, return_inverse=True)
    counts = np.zeros((len(pred_ids), len(truth_ids)), dtype=np.int64)
    np.add.at(counts, (p, t), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(truth))


def score_clusters(truth, predicted) -> ClusterScores:
    truth = np.asarray(truth)
    predicted = np.asarray(predicted)
    return ClusterScores(
        acc=hungarian_accuracy(truth, predicted),
        nmi=float(normalized_mutual_info_score(truth, predicted)),
        ari=float(adjusted_rand_score(truth, predicted)),
        n_labels=int(len(np.unique(truth))),
        n_clusters=int(len(np.unique(predicted))),
    )


@dataclass(frozen=True)
class MapScores:
    """How a theme map reads against the problems behind the contacts."""

    top_level: int  # top-level themes holding contacts
    nmi: float  # top level against the problems
    concentrated: int  # problems with >= ``share`` of their contacts in one top-level theme
    problems: int
    spike_share: float  # of the spike's contacts, the share in its largest top-level theme
    spike_themes: int  # top-level themes the spike's contacts fall in

    def line(self) -> str:
        return (
            f"top-level themes {self.top_level}  NMI {self.nmi:.3f}  problems in one theme "
            f"{self.concentrated}/{self.problems}  spike in one {self.spike_share:.0%} "
            f"(over {self.spike_themes})"
        )


def map_scores(truth, top, spike: np.ndarray, share: float = 0.7) -> MapScores:
    """``truth``: each contact's problem; ``top``: its top-level theme; ``spike``: a mask of
    the contacts of a spike (an outage week) that should read as one theme."""
    truth, top = np.asarray(truth), np.asarray(top)
    concentrated = 0
    problems = np.unique(truth)
    for problem in problems:
        _, counts = np.unique(top[truth == problem], return_counts=True)
        concentrated += int(counts.max() / counts.sum() >= share)
    _, spike_counts = np.unique(top[spike], return_counts=True)
    return MapScores(
        top_level=int(len(np.unique(top))),
        nmi=float(normalized_mutual_info_score(truth, top)),
        concentrated=concentrated,
        problems=int(len(problems)),
        spike_share=float(spike_counts.max() / spike_counts.sum()) if len(spike_counts) else 0.0,
        spike_themes=int(len(spike_counts)),
    )


def label_fidelity(label_vectors: np.ndarray, description_vectors: np.ndarray, own) -> float:
    """The share of themes whose label is nearer (cosine, normalised vectors) to their own
    problem's description (index ``own[i]``) than to any other problem's."""
    if len(label_vectors) == 0:
        return 0.0
    nearest = (np.asarray(label_vectors) @ np.asarray(description_vectors).T).argmax(axis=1)
    return float(np.mean(nearest == np.asarray(own)))


@dataclass(frozen=True)
class LanguageScores:
    """How contacts in other languages sit in the theme map (issue #16)."""

    placed_right: int  # other-language contacts in their problem's team-language home
    others: int  # other-language contacts
    by_language: dict[str, tuple[int, int]]  # language → (right, of)
    mostly_other: int  # themes of ≥ 10 contacts more than half in other languages
    missed_by_problem: dict[str, int]  # problem → its other-language contacts away from home

    @property
    def share(self) -> float:
        return self.placed_right / self.others if self.others else float("nan")


def language_scores(truth, top, language, team: str = "en", min_size: int = 10) -> LanguageScores:
    """``truth``: each contact's problem; ``top``: its top-level theme; ``language``: the
    language it is written in (the answer key's). A problem's home is the top-level theme
    that holds most of its contacts in ``team``; an other-language contact is right when
    it sits in its problem's home."""
    truth, top, language = np.asarray(truth), np.asarray(top), np.asarray(language)
    own = language == team
    home = {}
    for problem in np.unique(truth[own]):
        themes, counts = np.unique(top[own & (truth == problem)], return_counts=True)
        home[problem] = themes[np.argmax(counts)]
    right = np.array([home.get(p) == t for p, t in zip(truth, top, strict=True)])
    by_language = {
        str(lang): (int(right[language == lang].sum()), int((language == lang).sum()))
        for lang in np.unique(language[~own])
    }
    mostly = 0
    for theme in np.unique(top):
        members = top == theme
        mostly += int(members.sum() >= min_size and (~own[members]).mean() > 0.5)
    problems, missed = np.unique(truth[~own & ~right], return_counts=True)
    by_problem = {str(p): int(n) for p, n in zip(problems, missed, strict=True)}
    return LanguageScores(
        int(right[~own].sum()), int((~own).sum()), by_language, mostly, by_problem
    )
