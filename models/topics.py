"""Themes from embeddings: BERTopic with injected, seeded parts.

* UMAP (cosine, seeded) reduces the embeddings to a few dimensions;
* ``AutoKClusterer`` finds *how many* themes there are with HDBSCAN, then draws their
  boundaries with KMeans on the same space, so every item lands in a theme and nobody
  tells voc the number;
* a CountVectorizer that keeps negations ("not", "never", "can't") and n-grams feeds
  BERTopic's class-based TF-IDF for keywords; ``sentence_labels`` names a theme with the
  clause its customers use (``readable_label``, a key phrase, where they share none).

Large corpora are fitted on a seeded sample; the remaining items join the theme whose
centre (in embedding space) is nearest. Items unlike every theme stay unclassified.
BERTopic and UMAP import torch and numba: this module is imported only by the topics flow.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from models.registry import normalise

# words that carry a theme's meaning although most stop lists drop them
_KEEP = {
    "not",
    "no",
    "nor",
    "never",
    "nothing",
    "cannot",
    "can't",
    "didn't",
    "doesn't",
    "don't",
    "won't",
    "isn't",
    "wasn't",
    "hasn't",
    "haven't",
    "couldn't",
    "twice",
    "again",
    "without",
    "off",
    "out",
    "up",
    "down",
    "back",
    "first",
    "last",
    "more",
    "less",
    "empty",
    "still",
}
# "we've", "they're", "that'll": a pronoun and its auxiliary say nothing about a theme.
# BERTopic's c-TF-IDF strips apostrophes from English text before counting ("we've" is
# counted as "weve"), so both spellings are stop words, except where the stripped one is a
# word of its own ("id", "hell", "shed", "well", ...). "ill" goes: in what customers write
# it is "I'll" ("ill recommending" was a praise theme's keyword), and vulnerability is
# flagged by models/urgent.py, not by keywords.
_CONTRACTED = set(
    """i'm i've i'd i'll you're you've you'd you'll we're we've we'd we'll they're they've
    they'd they'll he's he'd he'll she's she'd she'll it's it'd it'll that's that'd that'll
    there's there'd there'll here's what's what'd what'll what're who's who'd who'll who've
    where's how's let's""".split()
)
_SPELT_AS_WORDS = {"id", "hell", "were", "wed", "well", "shed", "shell", "lets"}
_CONTRACTIONS = _CONTRACTED | ({c.replace("'", "") for c in _CONTRACTED} - _SPELT_AS_WORDS)
STOP_WORDS = sorted(
    (set(ENGLISH_STOP_WORDS) - _KEEP)
    | _CONTRACTIONS
    | {
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "thankyou",
        "please",
        "regards",
        "kind",
        "dear",
        "team",
        "cheers",
        "just",
        "u",
        "ur",
        "ok",
        "okay",
        "yes",
        "yeah",
        "really",
        "lumen",
        "sir",
        "madam",
        "best",
        "wishes",
        "sincerely",
    }
)
_TOKEN = r"(?u)\b[a-zA-Z][a-zA-Z']+\b"
_NEGATIONS = {
    "not",
    "no",
    "never",
    "cannot",
    "can't",
    "didn't",
    "doesn't",
    "don't",
    "won't",
    "isn't",
    "wasn't",
    "hasn't",
    "haven't",
    "couldn't",
}


class AutoKClusterer(BaseEstimator, ClusterMixin):
    """HDBSCAN counts the dense groups; KMeans (k = that count) partitions all items.

    HDBSCAN alone is good at *finding* clusters but leaves many items as noise and draws
    ragged borders; KMeans alone needs k. Together: k from the data, clean borders,
    everything assigned. Measured on Banking77 it beats either alone."""

    def __init__(
        self,
        min_cluster_size: int | None = None,
        min_share: float = 1 / 300,
        seed: int = 42,
        n_init: int = 10,
        max_k: int = 400,
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_share = min_share
        self.seed = seed
        self.n_init = n_init
        self.max_k = max_k

    def fit(self, X, y=None):
        import hdbscan
        from sklearn.cluster import KMeans

        n = len(X)
        mcs = self.min_cluster_size or max(3, int(round(n * self.min_share)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = hdbscan.HDBSCAN(
                min_cluster_size=mcs, cluster_selection_method="eom", core_dist_n_jobs=1
            ).fit_predict(X)
        k = len(set(found.tolist()) - {-1})
        k = int(min(max(2, k), self.max_k, max(2, n // 3)))
        self.k_ = k
        self.min_cluster_size_ = mcs
        self.kmeans_ = KMeans(n_clusters=k, random_state=self.seed, n_init=self.n_init).fit(X)
        self.labels_ = self.kmeans_.labels_
        return self

    def predict(self, X):
        return self.kmeans_.predict(X)


@dataclass
class ThemeFit:
    labels: np.ndarray  # cluster label per item; -1 = unclassified
    similarity: np.ndarray  # cosine to the item's cluster centre
    centroids: dict[int, np.ndarray]
    params: dict = field(default_factory=dict)


def exact_neighbours(
    vectors: np.ndarray, k: int, block: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Every vector's ``k`` nearest vectors (itself included) and their cosine distances,
    exactly: one matrix product and a top-k per block of rows (L2-normalised vectors).

    UMAP would find them approximately with pynndescent, whose numba kernels are compiled
    afresh in every process: on 2 cores that took 40 of the 64 s of UMAP on 30,000 MiniLM
    vectors, where this takes 7 s. torch is loaded here anyway (BERTopic imports it); its
    top-k runs on both cores, numpy's argpartition on one and 2x slower."""
    import torch

    data = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    indices = np.empty((len(vectors), k), dtype=np.int64)
    distances = np.empty((len(vectors), k), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(vectors), block):
            sims, idx = torch.topk(data[start : start + block] @ data.T, k, dim=1, sorted=True)
            indices[start : start + block] = idx.numpy()
            distances[start : start + block] = np.maximum(0.0, 1.0 - sims.numpy())
    return indices, distances


def build_topic_model(
    seed: int = 42,
    n_neighbors: int = 15,
    n_components: int = 5,
    min_df: int = 2,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
):
    """BERTopic with every part injected and seeded: UMAP, AutoKClusterer, a vectorizer
    that keeps negations, class-based TF-IDF. ``neighbours``: the fitted vectors' exact
    nearest neighbours (``exact_neighbours``), which UMAP then does not search for."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from umap import UMAP

    return BERTopic(
        embedding_model=None,
        umap_model=UMAP(
            precomputed_knn=(*neighbours, None) if neighbours is not None else (None, None, None),
            n_neighbors=n_neighbors,
            n_components=n_components,
            metric="cosine",
            min_dist=0.0,
            random_state=seed,
            # the default spectral start is not repeatable above a few thousand items (the
            # same vectors gave 53 and 56 themes); a PCA start is, seed for seed
            init="pca",
            n_jobs=1,
        ),
        hdbscan_model=AutoKClusterer(seed=seed),
        vectorizer_model=_vectorizer(min_df),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=15,
        calculate_probabilities=False,
        verbose=False,
    )


def _vectorizer(min_df: int):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        stop_words=STOP_WORDS,
        ngram_range=(1, 3),
        min_df=min_df,
        token_pattern=_TOKEN,
        lowercase=True,
    )


def centroids_of(embeddings: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    return {
        int(t): normalise(embeddings[labels == t].mean(axis=0)) for t in np.unique(labels) if t >= 0
    }


def _nearest(
    embeddings: np.ndarray, ids: np.ndarray, matrix: np.ndarray, block: int = 50_000
) -> tuple[np.ndarray, np.ndarray]:
    """For each row: the id of the nearest centre and the cosine to it."""
    best = np.empty(len(embeddings), dtype=ids.dtype)
    sims = np.empty(len(embeddings), dtype=np.float32)
    for start in range(0, len(embeddings), block):
        s = embeddings[start : start + block] @ matrix.T
        j = s.argmax(axis=1)
        best[start : start + block] = ids[j]
        sims[start : start + block] = s[np.arange(len(j)), j]
    return best, sims


def _similarity_to(
    embeddings: np.ndarray,
    matrix: np.ndarray,
    own: np.ndarray,
    rows: np.ndarray | None = None,
    block: int = 50_000,
) -> np.ndarray:
    """The cosine of each row (every row, or those in ``rows``) to its centre
    ``matrix[own[i]]``, a block of rows at a time: gathering every row's centre, or the
    chosen rows, at once is a copy as big as the embeddings."""
    n = len(embeddings) if rows is None else len(rows)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, block):
        stop = start + block
        part = slice(start, stop) if rows is None else rows[start:stop]
        out[start:stop] = np.einsum("ij,ij->i", embeddings[part], matrix[own[start:stop]])
    return out


def fit_themes(
    texts: list[str],
    embeddings: np.ndarray,
    *,
    seed: int = 42,
    max_fit: int = 20_000,
    min_similarity: float = 0.25,
    n_neighbors: int = 15,
    n_components: int = 5,
) -> ThemeFit:
    """Cluster from scratch (BERTopic: UMAP → AutoKClusterer); items beyond the seeded
    fitting sample join the nearest cluster centre; items unlike every centre are -1."""
    n = len(texts)
    if n < 10:
        raise ValueError(f"{n} texts are too few to find themes in (need at least 10)")
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(n, size=max_fit, replace=False)) if n > max_fit else np.arange(n)
    k = min(n_neighbors, len(fit_idx) - 1)
    model = build_topic_model(
        seed=seed,
        n_neighbors=k,
        n_components=n_components,
        min_df=2 if len(fit_idx) >= 200 else 1,
        # below 4,096 items UMAP computes every distance itself, exactly, as before
        neighbours=exact_neighbours(embeddings[fit_idx], k) if len(fit_idx) >= 4096 else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topics, _ = model.fit_transform([texts[i] for i in fit_idx], embeddings=embeddings[fit_idx])
    topics = np.asarray(topics)
    labels = np.full(n, -1)
    labels[fit_idx] = topics
    cents = centroids_of(embeddings[fit_idx], topics)
    ids = np.array(sorted(cents))
    matrix = np.stack([cents[t] for t in ids])
    rest = labels < 0
    nearest, sims = _nearest(embeddings, ids, matrix)
    labels[rest] = nearest[rest]
    own = np.searchsorted(ids, labels)
    similarity = _similarity_to(embeddings, matrix, own)
    labels[similarity < min_similarity] = -1
    params = {
        "mode": "fit",
        "seed": seed,
        "fitted_on": int(len(fit_idx)),
        "k": int(model.hdbscan_model.k_),
        "min_cluster_size": int(model.hdbscan_model.min_cluster_size_),
        "n_neighbors": n_neighbors,
        "n_components": n_components,
        "min_similarity": min_similarity,
    }
    return ThemeFit(labels, similarity, centroids_of(embeddings, labels), params)


@dataclass
class Increment:
    theme_of: np.ndarray  # theme id per item; 0 = unclassified; new themes use new ids
    similarity: np.ndarray
    new_themes: list[int]
    params: dict = field(default_factory=dict)


def assign_incrementally(
    texts: list[str],
    embeddings: np.ndarray,
    previous: np.ndarray,
    live: dict[int, np.ndarray],
    next_id: int,
    *,
    seed: int = 42,
    min_new_theme: int | None = None,
    floor: float = 0.3,
    ceiling: float = 0.6,
) -> Increment:
    """Keep every item's theme; bring new items into the themes they clearly belong to;
    cluster only what fits nowhere, and make genuinely new themes of it.

    Measured on Banking77 (half, then the other half as a later week) this keeps 100% of
    the first half's theme ids at the same quality as a refit (NMI 0.81), where refitting
    from scratch and matching clusters keeps only 72-76%. ``previous``: each item's theme
    last run (-1 none, 0 unclassified), already resolved through analyst merges. A theme's
    entry bar is the similarity its own weaker members have to its centre (10th
    percentile), kept within [floor, ceiling]."""
    n = len(texts)
    ids = np.array(sorted(live))
    matrix = np.stack([normalise(live[t]) for t in ids])
    theme_of = np.where(np.isin(previous, ids), previous, 0).astype(np.int64)
    kept = theme_of > 0
    nearest, sims = _nearest(embeddings, ids, matrix)
    similarity = np.zeros(n, dtype=np.float32)
    if kept.any():
        own = np.searchsorted(ids, theme_of[kept])
        similarity[kept] = _similarity_to(embeddings, matrix, own, rows=np.flatnonzero(kept))
    bars = {}
    for t in ids:
        members = similarity[(theme_of == t)]
        bars[int(t)] = (
            float(np.clip(np.quantile(members, 0.10), floor, ceiling))
            if len(members) >= 5
            else ceiling
        )
    todo = ~kept
    bar = np.array([bars[int(t)] for t in nearest])
    joins = todo & (sims >= bar)
    theme_of[joins] = nearest[joins]
    similarity[joins] = sims[joins]
    residual = np.flatnonzero(todo & ~joins)
    min_new = min_new_theme or max(10, int(round(0.002 * n)))
    new_themes: list[int] = []
    if len(residual) >= 2 * min_new:
        fit = fit_themes([texts[i] for i in residual], embeddings[residual], seed=seed)
        for label, centre in sorted(fit.centroids.items()):
            members = residual[fit.labels == label]
            cohesion = float(np.mean(embeddings[members] @ centre)) if len(members) else 0.0
            if len(members) >= min_new and cohesion >= floor + 0.1:
                theme_of[members] = next_id
                similarity[members] = embeddings[members] @ centre
                new_themes.append(next_id)
                next_id += 1
    left = (theme_of == 0) & todo
    near_enough = left & (sims >= floor)
    theme_of[near_enough] = nearest[near_enough]
    similarity[near_enough] = sims[near_enough]
    params = {
        "mode": "incremental",
        "kept": int(kept.sum()),
        "joined": int(joins.sum()),
        "residual": int(len(residual)),
        "new_themes": len(new_themes),
        "min_new_theme": min_new,
    }
    return Increment(theme_of, similarity, new_themes, params)


def describe_themes(
    texts: list[str],
    theme_of: np.ndarray,
    similarity: np.ndarray,
    *,
    per_theme: int = 400,
) -> tuple[dict[int, list[str]], dict[int, str]]:
    """Keywords (class-based TF-IDF over each theme's most typical texts, computed by
    BERTopic given the assignments) and a readable label per theme."""
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer

    picked: list[int] = []
    for t in np.unique(theme_of):
        if t <= 0:
            continue
        members = np.flatnonzero(theme_of == t)
        picked.extend(members[np.argsort(-similarity[members])][:per_theme].tolist())
    picked_arr = np.array(sorted(picked))
    if len(picked_arr) == 0:
        return {}, {}
    docs = [texts[i] for i in picked_arr]
    y = theme_of[picked_arr]
    model = BERTopic(
        embedding_model=None,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        # c-TF-IDF reads one document per theme: min_df counts themes, so one theme needs 1
        vectorizer_model=_vectorizer(2 if len(docs) >= 200 and len(np.unique(y)) > 1 else 1),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=15,
        verbose=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit_transform(docs, embeddings=np.zeros((len(docs), 1), dtype=np.float32), y=y)
    mapping = {int(k): int(v) for k, v in model.topic_mapper_.get_mappings().items()}
    terms = {
        int(t): [(w, float(sc)) for w, sc in (model.get_topic(mapping[int(t)]) or []) if w]
        for t in np.unique(y)
    }
    keywords = {t: [w for w, _ in ts][:10] for t, ts in terms.items()}
    names = {}
    for t, ts in terms.items():
        members = np.flatnonzero(y == t)
        names[t] = readable_label(ts, [docs[i] for i in members[:300]])
    return keywords, disambiguate(names, keywords)


_CLAUSE_BREAK = re.compile(r"[.!?;:\n\r\t()\[\]\"\u201c\u201d]+|\s[-\u2013\u2014]+\s|,\s")
# words that open a clause without saying anything about the theme
_OPENERS = {
    "honestly",
    "reason",
    "overall",
    "because",
    "so",
    "and",
    "but",
    "also",
    "well",
    "really",
    "just",
    "hi",
    "hello",
    "update",
    "re",
    "fw",
    "fwd",
    "subject",
    "ok",
    "okay",
    "please",
    "thanks",
    "sadly",
    "unfortunately",
    "again",
    "comment",
    "comments",
    "feedback",
    "note",
}
_CLAUSE_WORDS = (2, 8)
# words a label cannot rest on: the negations and particles kept for c-TF-IDF (``_KEEP``)
# and vague amounts. "Not a lot", "Nothing much", "Still nothing" answer "what could we
# improve?" without saying what the theme is about.
_EMPTY = _KEEP | {
    "lot",
    "lots",
    "bit",
    "thing",
    "things",
    "stuff",
    "anything",
    "everything",
    "something",
    "much",
    "many",
}
_NOT_CONTENT = set(STOP_WORDS) | _EMPTY
ALTERNATIVE_SHARE = 0.7  # a runner-up clause scoring this share of the best may name a theme
# A top-level label says what sets its theme apart: a clause's closeness to its own theme's
# centre less this share of its closeness to the nearest other top-level theme's. On the demo
# (seeds 42 and 1, AVX2) 0.3 to 1.0 all raised label fidelity from 75 % to 81 %: "Refund of
# duplicate payment" instead of "The refund still hasn't arrived" for the double-charge
# group, which also holds refund chasers; "Is gigabit available at my address" gave way.
CONTRAST = 0.5


def clauses(text: str) -> list[str]:
    """The short clauses of a text that could name its theme: 2-8 words, no figures, no
    redaction marks, openers ("honestly", "reason:") stripped, and at least one word that
    says something (not a stop word, a negation or a vague amount: ``_EMPTY``)."""
    out = []
    for part in _CLAUSE_BREAK.split(text):
        words = part.strip().split()
        while words and words[0].lower().strip(",'") in _OPENERS:
            words = words[1:]
        if not _CLAUSE_WORDS[0] <= len(words) <= _CLAUSE_WORDS[1]:
            continue
        if any(ch.isdigit() or ch in "<>@#\u00a3$\u20ac%/\\_=" for w in words for ch in w):
            continue
        if not any(len(w) > 2 and w.lower().strip(",'") not in _NOT_CONTENT for w in words):
            continue
        out.append(" ".join(words).strip(",' "))
    return out


def _display(clause: str) -> str:
    words = ["I" if w == "i" else w for w in clause.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def sentence_labels(
    texts: list[str],
    members: dict[int, np.ndarray],
    centroids: dict[int, np.ndarray],
    embed_phrases,
    *,
    per_theme: int = 300,
    candidates: int = 25,
) -> dict[int, str]:
    """A label a person would write for each theme: the clause its own customers use that
    is closest in meaning to the theme's centre, weighted a little by how many of them use
    it ("Router not delivered", "Why has my bill gone up", "Waiting for a callback").

    ``members``: each theme's item indices, most typical first. Candidates are the
    ``candidates`` most frequent clauses (used at least twice) among its ``per_theme`` most
    typical texts; all themes' candidates are embedded in one call. A theme with no
    candidate gets no entry (the caller keeps its keyword label)."""
    ranked = ranked_sentence_labels(
        texts, members, centroids, embed_phrases, per_theme=per_theme, candidates=candidates
    )
    return {theme: labels[0] for theme, labels in ranked.items()}


def ranked_sentence_labels(
    texts: list[str],
    members: dict[int, np.ndarray],
    centroids: dict[int, np.ndarray],
    embed_phrases,
    *,
    per_theme: int = 300,
    candidates: int = 25,
    keep: float = ALTERNATIVE_SHARE,
    rivals: dict[int, np.ndarray] | None = None,
) -> dict[int, list[str]]:
    """``sentence_labels`` with the runners-up: each theme's clauses best first, those
    scoring at least ``keep`` of the best. A sub-theme whose best clause names its parent
    (groups are named first) takes its next clause, "No complaints" under "Great
    service", rather than the parent's with a keyword tacked on ("Great service (switch)").

    ``rivals``: per theme, the centres (rows, L2-normalised) of the themes its label must
    tell it apart from; a clause then scores by its closeness to the theme's centre less
    ``CONTRAST`` times its closeness to the nearest rival (floored just above zero)."""
    rivals = rivals or {}
    counts: dict[int, Counter] = {}
    forms: dict[str, Counter] = {}
    for theme, rows in members.items():
        seen: Counter = Counter()
        for i in rows[:per_theme]:
            for clause in dict.fromkeys(clauses(texts[int(i)])):  # once each, in order
                key = clause.lower()
                seen[key] += 1
                forms.setdefault(key, Counter())[clause] += 1
        counts[theme] = seen
    chosen = {
        t: [c for c, n in seen.most_common(candidates) if n >= 2] for t, seen in counts.items()
    }
    pool = sorted({c for cs in chosen.values() for c in cs})
    if not pool:
        return {}
    vectors = dict(
        zip(pool, normalise(np.asarray(embed_phrases(pool), dtype=np.float32)), strict=True)
    )
    out: dict[int, list[str]] = {}
    for theme, cands in chosen.items():
        if not cands or theme not in centroids:
            continue
        used = max(1, min(per_theme, len(members[theme])))
        phrases = np.stack([vectors[c] for c in cands])
        closeness = phrases @ centroids[theme]
        if len(rivals.get(theme, ())):
            closeness = np.maximum(
                closeness - CONTRAST * (phrases @ np.asarray(rivals[theme]).T).max(axis=1), 1e-6
            )
        frequency = np.array([counts[theme][c] / used for c in cands])
        scores = closeness * frequency**0.2
        order = np.argsort(-scores, kind="stable")  # ties: the more frequent clause
        best = scores[order[0]]
        out[theme] = [
            _display(forms[cands[j]].most_common(1)[0][0])
            for j in order
            if j == order[0] or (best > 0 and scores[j] >= keep * best)
        ]
    return out


def _words(phrase: str) -> list[str]:
    return phrase.lower().split()


def readable_label(
    terms: list[tuple[str, float]],
    texts: list[str],
) -> str:
    """A key phrase among the theme's c-TF-IDF terms, for a theme whose customers share no
    clause (``sentence_labels`` names the others).

    A candidate scores by its c-TF-IDF weight, how much of the theme's text contains it
    (coverage) and its length (2-3 words say more than one); repeats ("card card") and
    lone negations are out."""
    if not terms:
        return "misc"
    lowered = [t.lower() for t in texts[:300]] or [""]
    top = max(score for _, score in terms) or 1.0
    best, best_score = terms[0][0], -1.0
    for phrase, score in terms[:15]:
        words = _words(phrase)
        if (
            not words
            or len(set(words)) < len(words)
            or (len(words) == 1 and words[0] in _NEGATIONS)
        ):
            continue
        if words[0] in _NEGATIONS and len(words) == 2 and words[1] in STOP_WORDS:
            continue
        pattern = re.compile(r"\b" + re.escape(phrase.lower()) + r"\b")
        coverage = sum(1 for t in lowered if pattern.search(t)) / len(lowered)
        if coverage < 0.03:
            continue
        length = {1: 0.75, 2: 1.3, 3: 1.35}.get(len(words), 1.0)
        value = (score / top) * (coverage**0.5) * length
        if value > best_score:
            best, best_score = phrase, value
    if len(_words(best)) == 1:
        # a single word says little; pair it with the next distinct word
        others = [p for p, _ in terms[:6] if len(_words(p)) == 1 and p != best and p not in best]
        if others:
            best = f"{best} / {others[0]}"
    return best


def disambiguate(
    names: dict[int, str],
    keywords: dict[int, list[str]],
    taken: Iterable[str] = (),
    alternatives: dict[int, list[str]] | None = None,
) -> dict[int, str]:
    """Two themes never share a label (compared case-insensitively). ``taken`` are labels
    other themes keep (an analyst's, or last run's). Every theme whose name is shared, or
    already taken, gets its first free runner-up phrase (``alternatives``, best first:
    ``ranked_sentence_labels``), else its first distinguishing keyword that makes it
    unique, else its id: "card not arrived (replacement)", "card not arrived (#12)"."""
    alternatives = alternatives or {}
    used = {label.lower() for label in taken}
    counts = Counter(name.lower() for name in names.values())
    out: dict[int, str] = {}
    for theme in sorted(names):
        name = names[theme]
        if counts[name.lower()] == 1 and name.lower() not in used:
            out[theme] = name
            used.add(name.lower())
    for theme in sorted(names):
        if theme in out:
            continue
        name = names[theme]
        options = [a for a in alternatives.get(theme, []) if counts[a.lower()] == 0]
        options += [
            f"{name} ({k})" for k in keywords.get(theme, []) if k.lower() not in name.lower()
        ]
        options.append(f"{name} (#{theme})")
        label = next((o for o in options if o.lower() not in used), f"{name} (#{theme})")
        out[theme] = label
        used.add(label.lower())
    return out


def representative(
    embeddings: np.ndarray, centroid: np.ndarray, k: int = 3, diversity: float = 0.3
) -> list[int]:
    """Indices of ``k`` typical yet different members (maximal marginal relevance)."""
    if len(embeddings) == 0:
        return []
    relevance = embeddings @ centroid
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(k, len(embeddings)):
        redundancy = (embeddings @ embeddings[chosen].T).max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen
