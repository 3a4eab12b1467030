"""How an analyst's split divides a theme in two: pure functions, no warehouse.

* a FINE theme's contacts are divided by their vectors (k-means, k=2, fixed seed, on the
  contacts' embeddings) or, when the analyst gives a keyword, by whether a contact's text
  says it (whole words, any case: "refund" matches "Refund?" but not "refunded");
* a GROUP's sub-themes are divided by their centres (k-means, k=2, fixed seed, on the
  sub-themes' centroids weighted by their contacts), unless the analyst names the
  sub-themes that go.

Either way the result is a boolean mask: True for the part that leaves. The functions
refuse (``ValueError``) a split that would leave one side empty.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

SEED = 42
MIN_CONTACTS = 2  # a split needs at least one contact on each side

_WORD = re.compile(r"[a-z][a-z'\-]+")
_STOP = frozenset(
    """a about after again all am an and any are as at be because been but by can could
    did do does don't for from get got had has have i i'm if in into is it it's its just
    me more my no not now of on once one only or our out over so still than that the
    their them then there they this to too up us very was we were what when where which
    while who why will with would you your""".split()
)


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1, n)


def _two_means(points: np.ndarray, weights: np.ndarray | None, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=2, random_state=seed, n_init=10)
    labels = km.fit_predict(np.asarray(points, dtype=np.float64), sample_weight=weights)
    return labels.astype(np.int64)


def split_by_vectors(vectors: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Divide contacts in two by meaning: k-means (k=2) on their L2-normalised vectors.
    True marks the smaller part (ties: the part without the first contact), so the same
    vectors always split the same way."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) < MIN_CONTACTS:
        raise ValueError(f"{len(vectors)} contact(s) cannot be split in two")
    if np.allclose(vectors, vectors[0]):
        raise ValueError("every contact has the same vector: nothing to split them by")
    labels = _two_means(normalise(vectors), None, seed)
    return _smaller_side(labels)


def split_by_keyword(texts: list[str], keyword: str) -> np.ndarray:
    """True for the texts that say ``keyword`` (a word or a phrase, whole words, any
    case)."""
    words = keyword.split()
    if not words:
        raise ValueError("a keyword to split by cannot be empty")
    pattern = re.compile(
        r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE
    )
    mask = np.array([bool(pattern.search(t or "")) for t in texts], dtype=bool)
    if not mask.any():
        raise ValueError(f"no contact of this theme says {keyword!r}")
    if mask.all():
        raise ValueError(f"every contact of this theme says {keyword!r}: nothing would stay")
    return mask


def split_groups_by_centroid(
    centroids: np.ndarray, sizes: np.ndarray, seed: int = SEED
) -> np.ndarray:
    """Divide a group's sub-themes in two by their centres (k-means, k=2, weighted by
    their contacts). True marks the part that leaves: the one without the biggest
    sub-theme, which stays with the group's id."""
    centroids = np.asarray(centroids, dtype=np.float32)
    sizes = np.maximum(np.asarray(sizes, dtype=np.float64), 1.0)
    if len(centroids) < 2:
        raise ValueError("a group with fewer than 2 sub-themes cannot be split")
    if np.allclose(centroids, centroids[0]):
        raise ValueError("the sub-themes have the same centre: name the ones that go")
    labels = _two_means(normalise(centroids), sizes, seed)
    stays = labels[int(np.argmax(sizes))]
    return labels != stays


def _smaller_side(labels: np.ndarray) -> np.ndarray:
    counts = np.bincount(labels, minlength=2)
    if counts[0] == counts[1]:
        return labels != labels[0]
    return labels == int(np.argmin(counts))


def distinctive_words(texts: list[str], mask: np.ndarray, k: int = 6) -> tuple[list, list]:
    """The words that set each side apart: for the True side and the False side, the
    ``k`` words (no stop words) most over-represented there against the other side, by
    the share of texts using them (add-one smoothed). For labels and keywords."""
    mask = np.asarray(mask, dtype=bool)
    docs = [set(_WORD.findall((t or "").lower())) - _STOP for t in texts]
    sides = []
    for side in (True, False):
        mine = Counter(w for d, m in zip(docs, mask, strict=True) if m == side for w in d)
        theirs = Counter(w for d, m in zip(docs, mask, strict=True) if m != side for w in d)
        n_mine = max(1, int((mask == side).sum()))
        n_theirs = max(1, int((mask != side).sum()))
        scored = sorted(
            mine,
            key=lambda w: (
                -((mine[w] + 1) / (n_mine + 2)) / ((theirs[w] + 1) / (n_theirs + 2)) * mine[w],
                w,
            ),
        )
        sides.append([w for w in scored if mine[w] >= 1][:k])
    return sides[0], sides[1]


def centre(vectors: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The L2-normalised (weighted) mean of ``vectors``: a theme's centroid."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if weights is None:
        return normalise(vectors.mean(axis=0))
    w = np.maximum(np.asarray(weights, dtype=np.float32), 1.0)
    return normalise((vectors * w[:, None]).sum(axis=0))


def representative(vectors: np.ndarray, k: int = 3) -> list[int]:
    """Indices of the ``k`` contacts closest to their centre, closest first."""
    vectors = normalise(np.asarray(vectors, dtype=np.float32))
    sims = vectors @ centre(vectors)
    return [int(i) for i in np.argsort(-sims, kind="stable")[:k]]
