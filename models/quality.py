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
