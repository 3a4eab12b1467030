"""Route themes and contacts to the department that can fix them, with a confidence.

Each department is described three ways in the departments file: a description, keywords
and example sentences. The router embeds them as *prototypes* (several per department)
and scores a text by

1. **meaning**: cosine similarity to the department's prototypes (best prototype blended
   with the department's centroid, so one lucky sentence cannot carry a department);
2. **keywords**: whole-word hits of the department's keywords, each weighted by how
   specific it is (a keyword listed by two departments counts half) and how long it is;
3. **analyst examples**: texts an analyst routed by hand (reassignments) become labelled
   examples. Each department's similarity moves towards its examples' centroid (more so
   the more examples it has), and the nearest examples vote, each by how close it is in
   absolute terms: the same kind of text goes to the right department next time, while
   examples that all name one department do not drag unrelated texts along.

The evidence is added up as logits and turned into probabilities with a softmax. The
confidence is the best department's probability; below ``min_confidence`` the route is
``None``: *needs triage*, with the best guess kept for the analyst. Its default (0.6) is
read off the reliability table ``bench/routing.py`` prints (``triage_threshold``): the
lowest confidence at or above which 95 % of routes are right on the dev set. A theme's
logits are the weighted mean of its label's, its keyword list's and its sample texts'
logits.

Similarities are put on a common scale per embedder: each is divided by the spread of
similarities between different departments' prototypes, so MiniLM and TF-IDF vectors (whose
cosines live on very different scales) share one set of weights. ``Router.calibrate``
with a sample of ordinary contacts removes half of each department's average lead, so a
department whose description sounds like everything stops attracting everything.
Defaults were chosen on public labelled data (``bench/routing.py``): with MiniLM, the
confidence tracks the share routed right on real airline tweets.

Pure numpy over vectors from any ``models.embeddings.Embedder``; texts can be routed from
vectors already in the warehouse (``vectors=``) so nothing is embedded twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from models.departments import Organisation
from models.embeddings import Embedder
from warehouse.contract import TRIAGE_SOURCE

# a route nobody is confident about has no department (None), and the source
# TRIAGE_SOURCE where a source is recorded (warehouse/contract.py)
# the default triage threshold: see RouterSettings.min_confidence
TRIAGE_BELOW = 0.6


@dataclass(frozen=True)
class LabelledExample:
    """A text an analyst routed by hand: ``weight`` > 1 for a decision that should count
    more (e.g. a whole theme reassigned), < 1 for a weak hint."""

    text: str
    department: str
    weight: float = 1.0


@dataclass(frozen=True)
class Route:
    department: str | None  # None: needs triage
    confidence: float  # probability of ``best_guess``, in [0, 1]
    runner_up: str | None
    reason: str
    best_guess: str | None = None  # the top department even when sent to triage
    margin: float = 0.0  # best minus runner-up probability


@dataclass(frozen=True)
class RouterSettings:
    """The knobs, with defaults chosen on public labelled data (bench/routing.py)."""

    # below it a route goes to triage: read off bench/routing.py's reliability table with
    # ``triage_threshold`` (bitext, MiniLM, zero-shot: 96.8 % of the routes at or above 0.6
    # are right, 94.5 % at or above 0.5; 99.1 % at or above 0.8)
    min_confidence: float = TRIAGE_BELOW
    # pooled similarity = max_weight * best prototype + (1 - max_weight) * their mean
    max_weight: float = 0.5
    # similarities are divided by the prototype spread, then by the temperature: 0.5 makes
    # the confidence match the share routed right on real tweets (MiniLM, bench/routing.py)
    temperature: float = 0.5
    keyword_weight: float = 2.0  # logits for a saturated keyword score
    # analyst examples: a department's similarity moves towards its examples' centroid by
    # example_blend * w / (w + example_prior) (w: their total weight), and the nearest
    # examples vote with up to example_weight logits
    # (4 logits, 3 neighbours: on bitext, 20 theme assignments lift per-item accuracy from
    # 91.6 % to 96.6 %, where 2 and 7 reached 94.4 %; bench/routing.py)
    example_blend: float = 0.5
    example_prior: float = 5.0
    example_weight: float = 4.0
    neighbours: int = 3
    calibration_weight: float = 0.5  # share of a department's lead removed by calibrate()
    # a theme's logits are the weighted mean of its texts' logits (the label and keyword
    # list weigh as this many samples), times theme_sharpness: a mean over many texts is
    # steadier than any one of them, so it deserves more confidence than a single text
    theme_label_weight: float = 3.0
    theme_keywords_weight: float = 3.0
    theme_sharpness: float = 1.0


_APOSTROPHES = str.maketrans({"\u2019": "", "\u2018": "", "`": "", "'": ""})
_TOKEN = re.compile(r"[^\W_]+")
# inflections a keyword also matches on its last word: "engineer" → "engineers",
# "charge" → "charged", "cancel" → "cancelled", "buffer" → "buffering"
_SUFFIXES = ("s", "es", "d", "ed", "ing", "led", "ling")


def _tokens(text: str) -> list[str]:
    """Lower-case word tokens; apostrophes vanish ("didn't" → "didnt"), hyphens split."""
    return _TOKEN.findall(text.translate(_APOSTROPHES).lower())


class KeywordMatcher:
    """Whole-word keyword hits for all departments: one pass over each text's tokens.

    A keyword matches whole words only ("app" is not in "happy"), with spaces, hyphens
    and apostrophes forgiven ("log in" = "log-in" = "login", "didn't" = "didnt") and the
    usual inflections of its last word. Overlapping keywords: the longest wins."""

    def __init__(self, keywords: Sequence[Sequence[str]]) -> None:
        owners: dict[str, list[int]] = {}
        self._display: dict[str, str] = {}  # normalised → as written, for reasons
        for index, words in enumerate(keywords):
            for word in words:
                key = " ".join(_tokens(word))
                if key and index not in owners.setdefault(key, []):
                    owners[key].append(index)
                    self._display.setdefault(key, " ".join(word.lower().split()))
        self.n_departments = len(keywords)
        self._owners = owners
        # a keyword's weight: shared keywords say less; phrases say more than single words
        self._weight = {
            k: (1.0 / len(d)) * min(1.6, 1.0 + 0.3 * (len(k.split()) - 1))
            for k, d in owners.items()
        }
        # every surface form (a tuple of tokens) → the keyword it spells
        self._forms: dict[tuple[str, ...], str] = {}
        for keyword in sorted(owners, key=lambda k: -len(k)):
            parts = tuple(keyword.split())
            shapes = [parts] + ([("".join(parts),)] if len(parts) > 1 else [])
            for shape in shapes:
                self._forms.setdefault(shape, keyword)
                for suffix in _SUFFIXES:
                    self._forms.setdefault((*shape[:-1], shape[-1] + suffix), keyword)
        self._longest = max((len(f) for f in self._forms), default=0)

    def hits(self, text: str) -> dict[int, list[str]]:
        """Department index → the distinct keywords of it found in ``text``."""
        found: dict[int, list[str]] = {}
        if not self._forms:
            return found
        tokens = _tokens(text)
        seen: set[str] = set()
        forms, longest = self._forms, self._longest
        i, n = 0, len(tokens)
        while i < n:
            step = 1
            for size in range(min(longest, n - i), 0, -1):
                keyword = forms.get(tuple(tokens[i : i + size]))
                if keyword is not None:
                    step = size
                    if keyword not in seen:
                        seen.add(keyword)
                        for owner in self._owners[keyword]:
                            found.setdefault(owner, []).append(self._display[keyword])
                    break
            i += step
        return found

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, list[dict[int, list[str]]]]:
        """(n, departments) evidence in [0, 1): 1 - exp(-sum of hit weights)."""
        raw = np.zeros((len(texts), self.n_departments), dtype=np.float32)
        all_hits = []
        for row, text in enumerate(texts):
            hits = self.hits(text)
            all_hits.append(hits)
            for owner, words in hits.items():
                raw[row, owner] = sum(self._weight[" ".join(_tokens(w))] for w in words)
        return 1.0 - np.exp(-raw), all_hits


@dataclass
class RouteScores:
    """Vectorised routing of n texts: the arrays the weekly flow stores, plus reasons."""

    departments: tuple[str, ...]
    probabilities: np.ndarray  # (n, departments), rows sum to 1
    min_confidence: float
    keyword_hits: list[dict[int, list[str]]] = field(repr=False)
    nearest_prototype: list[str | None] = field(repr=False)  # per text, for the best dept
    neighbour_votes: np.ndarray | None = field(default=None, repr=False)  # (n, departments)

    def __len__(self) -> int:
        return self.probabilities.shape[0]

    @property
    def best(self) -> np.ndarray:
        return np.argmax(self.probabilities, axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1) if len(self) else np.zeros(0)

    @property
    def margin(self) -> np.ndarray:
        if self.probabilities.shape[1] < 2:
            return self.confidence
        top2 = -np.sort(-self.probabilities, axis=1)[:, :2]
        return top2[:, 0] - top2[:, 1]

    @property
    def best_guess(self) -> np.ndarray:
        """(n,) object array of the top department names, triage or not."""
        names = np.array(self.departments, dtype=object)
        return names[self.best] if len(self) else np.array([], dtype=object)

    @property
    def department(self) -> np.ndarray:
        """(n,) object array: the routed department, None where it needs triage."""
        out = self.best_guess.copy()
        out[self.confidence < self.min_confidence] = None
        return out

    @property
    def runner_up(self) -> np.ndarray:
        names = np.array(self.departments, dtype=object)
        if self.probabilities.shape[1] < 2:
            return np.full(len(self), None, dtype=object)
        return names[np.argsort(-self.probabilities, axis=1)[:, 1]]

    def route(self, i: int) -> Route:
        probs = self.probabilities[i]
        order = np.argsort(-probs)
        best = int(order[0])
        second = int(order[1]) if len(order) > 1 else None
        confidence = float(probs[best])
        margin = confidence - (float(probs[second]) if second is not None else 0.0)
        routed = confidence >= self.min_confidence
        name = self.departments[best]
        runner = self.departments[second] if second is not None else None
        evidence = []
        words = self.keyword_hits[i].get(best, []) if self.keyword_hits else []
        if words:
            evidence.append("keywords " + ", ".join(f"'{w}'" for w in words[:4]))
        if self.neighbour_votes is not None and self.neighbour_votes[i, best] >= 0.5:
            evidence.append(f"{self.neighbour_votes[i, best]:.0%} of the nearest analyst examples")
        if self.nearest_prototype[i]:
            evidence.append(f"close to '{_clip(self.nearest_prototype[i], 70)}'")
        why = "; ".join(evidence) or "closest description"
        if routed:
            reason = f"{name} ({confidence:.0%}): {why}"
            if runner is not None:
                reason += f"; runner-up {runner} ({probs[second]:.0%})"
        else:
            reason = (
                f"needs triage: best guess {name} ({confidence:.0%}) is below "
                f"{self.min_confidence:.0%}"
                + (f", runner-up {runner} ({probs[second]:.0%})" if runner else "")
                + f"; {why}"
            )
        return Route(
            department=name if routed else None,
            confidence=round(confidence, 4),
            runner_up=runner,
            reason=reason,
            best_guess=name,
            margin=round(margin, 4),
        )

    def routes(self) -> list[Route]:
        return [self.route(i) for i in range(len(self))]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Router:
    """Routes texts and themes to the departments of a ``Organisation``.

    ``examples`` are analyst decisions (``LabelledExample``); those naming a department
    the org no longer has are ignored and counted in ``ignored_examples``. Prototype
    vectors are embedded lazily, after the first texts, so a TF-IDF embedder is fitted on
    real contacts rather than on the department descriptions.

    ``calibrate`` (optional, recommended) takes a sample of ordinary contacts (a few
    thousand of the warehouse's own) and removes half of each department's lead over
    the others on ordinary text: a department whose description happens to sound like
    everything then stops attracting everything."""

    def __init__(
        self,
        org: Organisation,
        embedder: Embedder,
        examples: Sequence[LabelledExample] = (),
        min_confidence: float | None = None,
        settings: RouterSettings | None = None,
    ) -> None:
        self.org = org
        self.embedder = embedder
        settings = settings or RouterSettings()
        if min_confidence is not None:
            settings = replace(settings, min_confidence=min_confidence)
        if not 0.0 <= settings.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {settings.min_confidence}")
        self.settings = settings
        self.departments = org.names
        self.keywords = KeywordMatcher([d.keywords for d in org.departments])
        # prototypes: the description, the keyword list, and each example sentence
        texts, owners = [], []
        for index, department in enumerate(org.departments):
            texts.append(f"{department.name}. {department.description}")
            owners.append(index)
            if department.keywords:
                texts.append(f"{department.name}: " + ", ".join(department.keywords))
                owners.append(index)
            for example in department.examples:
                texts.append(example)
                owners.append(index)
        self._prototype_texts = texts
        self._prototype_owner = np.array(owners, dtype=np.int64)
        self._prototypes: np.ndarray | None = None
        self._scale = 1.0
        self._offset = np.zeros(len(self.departments), dtype=np.float32)
        self.examples: list[LabelledExample] = []
        self.ignored_examples = 0
        self._example_owner = np.zeros(0, dtype=np.int64)
        self._example_weight = np.zeros(0, dtype=np.float32)
        self._example_vectors: np.ndarray | None = None
        self._pending_examples: list[LabelledExample] = []
        self.add_examples(examples)

    # ----------------------------------------------------------------- examples
    def add_examples(
        self, examples: Sequence[LabelledExample], vectors: np.ndarray | None = None
    ) -> None:
        """Learn from analyst decisions; ``vectors`` (one row per example) skips embedding."""
        kept, kept_rows = [], []
        for row, example in enumerate(examples):
            if example.department not in self.org or example.weight <= 0 or not example.text:
                self.ignored_examples += 1
                continue
            canonical = self.org.canonical_name(example.department)
            kept.append(LabelledExample(example.text, canonical, float(example.weight)))
            kept_rows.append(row)
        if not kept:
            return
        if vectors is not None:
            vectors = np.asarray(vectors, dtype=np.float32)
            if vectors.shape[0] != len(examples):
                raise ValueError(f"{vectors.shape[0]} vectors for {len(examples)} examples")
            self._append_examples(kept, vectors[kept_rows])
        else:
            self._pending_examples.extend(kept)

    def _append_examples(self, examples: list[LabelledExample], vectors: np.ndarray) -> None:
        index = {name: i for i, name in enumerate(self.departments)}
        self.examples.extend(examples)
        self._example_owner = np.concatenate(
            [self._example_owner, [index[e.department] for e in examples]]
        ).astype(np.int64)
        self._example_weight = np.concatenate(
            [self._example_weight, [e.weight for e in examples]]
        ).astype(np.float32)
        self._example_vectors = (
            vectors
            if self._example_vectors is None
            else np.vstack([self._example_vectors, vectors])
        )

    def _ready(self) -> None:
        if self._prototypes is None:
            self._prototypes = np.asarray(
                self.embedder.encode(self._prototype_texts), dtype=np.float32
            )
            self._scale = self._spread(self._prototypes, self._prototype_owner)
        if self._pending_examples:
            pending, self._pending_examples = self._pending_examples, []
            vectors = np.asarray(self.embedder.encode([e.text for e in pending]), dtype=np.float32)
            self._append_examples(pending, vectors)

    @staticmethod
    def _spread(vectors: np.ndarray, owner: np.ndarray) -> float:
        """Standard deviation of similarities between different departments' prototypes:
        the embedder's natural unit of 'how different are two departments'."""
        sims = vectors @ vectors.T
        other = owner[:, None] != owner[None, :]
        values = sims[other]
        spread = float(values.std()) if values.size > 1 else 0.0
        return spread if spread > 1e-4 else 0.1

    def calibrate(
        self, texts: Sequence[str] | None = None, vectors: np.ndarray | None = None
    ) -> None:
        """Learn each department's pull on ordinary contacts from an unlabelled sample
        (``texts`` or their ``vectors``; a few thousand is plenty)."""
        if vectors is None:
            if not texts:
                raise ValueError("calibrate needs texts or vectors")
            vectors = self.embedder.encode(list(texts))
        vectors = np.asarray(vectors, dtype=np.float32)
        self._ready()
        self._check_dim(vectors)
        pooled, _ = self._similarity(vectors)
        lead = pooled.mean(axis=0)
        self._offset = (self.settings.calibration_weight * (lead - lead.mean())).astype(np.float32)

    # ------------------------------------------------------------------ scoring
    def _similarity(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pooled similarity to each department's own prototypes, and the best one's index."""
        s = self.settings
        n, n_dep = vectors.shape[0], len(self.departments)
        sims = vectors @ self._prototypes.T  # (n, prototypes)
        pooled = np.zeros((n, n_dep), dtype=np.float32)
        best_index = np.zeros((n, n_dep), dtype=np.int64)
        for d in range(n_dep):
            columns = np.flatnonzero(self._prototype_owner == d)
            block = sims[:, columns]
            best_index[:, d] = columns[np.argmax(block, axis=1)]
            pooled[:, d] = s.max_weight * block.max(axis=1) + (1 - s.max_weight) * block.mean(
                axis=1
            )
        return pooled, best_index

    def _example_evidence(self, vectors: np.ndarray, pooled: np.ndarray) -> np.ndarray | None:
        """Blend analyst examples into ``pooled`` (in place); return nearest-neighbour votes.

        Each department's similarity moves towards its examples' weighted centroid
        similarity, more so the more examples it has; and the k nearest examples vote,
        each by how near it is in absolute terms, so lopsided examples (all for one
        department) only pull texts that really resemble them."""
        if self._example_vectors is None or not len(self._example_vectors):
            return None
        s = self.settings
        n, n_dep = vectors.shape[0], len(self.departments)
        ex_sims = vectors @ self._example_vectors.T  # (n, examples)
        for d in range(n_dep):
            mine = np.flatnonzero(self._example_owner == d)
            if not mine.size:
                continue
            weights = self._example_weight[mine]
            total = float(weights.sum())
            centroid = ex_sims[:, mine] @ weights / total
            share = s.example_blend * total / (total + s.example_prior)
            pooled[:, d] = (1 - share) * pooled[:, d] + share * centroid
        k = min(s.neighbours, ex_sims.shape[1])
        nearest = np.argpartition(-ex_sims, k - 1, axis=1)[:, :k]
        near_sims = np.take_along_axis(ex_sims, nearest, axis=1)
        closeness = np.exp(-(1.0 - near_sims) / (2 * self._scale))  # 1 for a duplicate
        weights = self._example_weight[nearest]
        votes = np.zeros((n, n_dep), dtype=np.float32)
        rows = np.repeat(np.arange(n), k)
        np.add.at(
            votes, (rows, self._example_owner[nearest].ravel()), (weights * closeness).ravel()
        )
        votes /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        return votes

    def _logits(
        self, texts: Sequence[str], vectors: np.ndarray
    ) -> tuple[np.ndarray, list[dict[int, list[str]]], list[str | None], np.ndarray | None]:
        s = self.settings
        pooled, best_index = self._similarity(vectors)
        votes = self._example_evidence(vectors, pooled)
        keyword_score, hits = self.keywords.score(texts)
        logits = (pooled - self._offset) / self._scale / s.temperature
        logits = logits + s.keyword_weight * keyword_score
        if votes is not None:
            logits = logits + s.example_weight * votes
        winner = np.argmax(logits, axis=1)
        nearest_text = [self._prototype_texts[best_index[i, winner[i]]] for i in range(len(texts))]
        return logits.astype(np.float64), hits, nearest_text, votes

    def _check_dim(self, vectors: np.ndarray) -> None:
        if vectors.ndim != 2 or vectors.shape[1] != self._prototypes.shape[1]:
            raise ValueError(
                f"vectors of shape {vectors.shape} do not match {self.embedder.name}, which "
                f"gives {self._prototypes.shape[1]} dimensions: made by another embedder?"
            )

    def _encode(self, texts: Sequence[str], vectors: np.ndarray | None) -> np.ndarray:
        if vectors is None:
            vectors = self.embedder.encode(list(texts))  # before the prototypes: see class doc
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape[0] != len(texts):
            raise ValueError(f"{vectors.shape[0]} vectors for {len(texts)} texts")
        self._ready()
        self._check_dim(vectors)
        return vectors

    def score_texts(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> RouteScores:
        """Route many texts at once (items). ``vectors``: their embeddings, if known."""
        texts = [t or "" for t in texts]
        if not texts:
            empty = np.zeros((0, len(self.departments)))
            return RouteScores(self.departments, empty, self.settings.min_confidence, [], [])
        vectors = self._encode(texts, vectors)
        logits, hits, nearest, votes = self._logits(texts, vectors)
        return RouteScores(
            departments=self.departments,
            probabilities=_softmax(logits),
            min_confidence=self.settings.min_confidence,
            keyword_hits=hits,
            nearest_prototype=nearest,
            neighbour_votes=votes,
        )

    def route_texts(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[Route]:
        return self.score_texts(texts, vectors).routes()

    def route_theme(
        self,
        label: str,
        keywords: Sequence[str] = (),
        sample_texts: Sequence[str] = (),
        sample_vectors: np.ndarray | None = None,
    ) -> Route:
        """Route a theme by what it is called, its keywords and what its contacts say.

        The logits of the label, the keyword list and each sample text are averaged (the
        label and keyword list weigh as ``theme_label_weight`` / ``theme_keywords_weight``
        samples), so a theme routes like its typical contact, and a few odd samples
        cannot carry it."""
        s = self.settings
        samples = [t for t in sample_texts if t and t.strip()]
        if sample_vectors is not None and len(samples) != len(sample_texts):
            keep = [i for i, t in enumerate(sample_texts) if t and t.strip()]
            sample_vectors = np.asarray(sample_vectors)[keep]
        parts: list[str] = []
        weights: list[float] = []
        if label and label.strip():
            parts.append(label)
            weights.append(s.theme_label_weight)
        keyword_text = ", ".join(k for k in keywords if k and k.strip())
        if keyword_text:
            parts.append(keyword_text)
            weights.append(s.theme_keywords_weight)
        if not parts and not samples:
            raise ValueError("a theme needs a label, keywords or sample texts to be routed")
        # samples first: an unfitted TF-IDF embedder must learn from contacts, not labels
        body = self._encode(samples, sample_vectors) if samples else None
        self._ready()
        head = self.embedder.encode(parts) if parts else None
        vectors = np.vstack([v for v in (head, body) if v is not None])
        texts = parts + samples
        weights += [1.0] * len(samples)
        logits, hits, _, votes = self._logits(texts, np.asarray(vectors, dtype=np.float32))
        w = np.asarray(weights)[:, None]
        mean_logits = (logits * w).sum(axis=0, keepdims=True) / w.sum()
        probabilities = _softmax(mean_logits * s.theme_sharpness)
        best = int(np.argmax(probabilities[0]))
        # the evidence for the reason: which texts voted for the winner, which keywords hit
        per_text_best = np.argmax(logits, axis=1)
        agree = int((per_text_best[len(parts) :] == best).sum())
        theme_hits: dict[int, list[str]] = {}
        for text_hits in hits:
            for owner, words in text_hits.items():
                bucket = theme_hits.setdefault(owner, [])
                bucket.extend(w for w in words if w not in bucket)
        scores = RouteScores(
            departments=self.departments,
            probabilities=probabilities,
            min_confidence=s.min_confidence,
            keyword_hits=[theme_hits],
            nearest_prototype=[None],
            neighbour_votes=(
                None if votes is None else (votes * w).sum(axis=0, keepdims=True) / w.sum()
            ),
        )
        route = scores.route(0)
        if samples:
            note = f"{agree} of {len(samples)} sample texts point to {self.departments[best]}"
            route = Route(
                department=route.department,
                confidence=route.confidence,
                runner_up=route.runner_up,
                reason=f"{route.reason}; {note}",
                best_guess=route.best_guess,
                margin=route.margin,
            )
        return route


def item_departments(
    theme_department: Sequence[str | None] | np.ndarray,
    item_department: Sequence[str | None] | np.ndarray,
    item_confidence: Sequence[float] | np.ndarray,
    item_margin: Sequence[float] | np.ndarray,
    *,
    min_confidence: float = 0.8,
    min_margin: float = 0.5,
    fallback_confidence: float = TRIAGE_BELOW,
) -> tuple[np.ndarray, np.ndarray]:
    """Each contact's department for ``feedback_departments``.

    A contact keeps its theme's department unless the contact itself routes clearly
    elsewhere: its own confidence ≥ ``min_confidence`` *and* a margin over its runner-up
    ≥ ``min_margin``. A contact whose theme is in triage takes its own route when that is
    ≥ ``fallback_confidence``, else stays in triage. ``item_department`` is the item's best
    guess (``RouteScores.best_guess``).

    Returns (departments, sources): object arrays; a source is 'theme', 'item' or
    'triage'."""
    theme = np.asarray(theme_department, dtype=object)
    own = np.asarray(item_department, dtype=object)
    confidence = np.asarray(item_confidence, dtype=np.float64)
    margin = np.asarray(item_margin, dtype=np.float64)
    if not (theme.shape == own.shape == confidence.shape == margin.shape):
        raise ValueError(
            "theme_department, item_department, confidence and margin differ in length"
        )
    theme_missing = np.array([t is None for t in theme], dtype=bool)
    own_missing = np.array([o is None for o in own], dtype=bool)
    clearly_elsewhere = (
        ~theme_missing
        & ~own_missing
        & (own != theme)
        & (confidence >= min_confidence)
        & (margin >= min_margin)
    )
    own_fallback = theme_missing & ~own_missing & (confidence >= fallback_confidence)
    departments = theme.copy()
    departments[clearly_elsewhere | own_fallback] = own[clearly_elsewhere | own_fallback]
    sources = np.full(theme.shape, "theme", dtype=object)
    sources[clearly_elsewhere | own_fallback] = "item"
    sources[theme_missing & ~own_fallback] = TRIAGE_SOURCE
    departments[theme_missing & ~own_fallback] = None
    return departments, sources


@dataclass(frozen=True)
class ReliabilityBin:
    """Items whose confidence is in [low, high): how many, and the share routed right."""

    low: float
    high: float
    count: int
    accuracy: float  # nan for an empty bin
    # of every item at or above ``low``: how many, and the share routed right
    count_above: int
    precision_above: float


def reliability_table(
    confidence: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    edges: Sequence[float] = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
) -> list[ReliabilityBin]:
    """Bins of confidence (the last bin includes 1.0) with their count and accuracy, and
    the precision of everything at or above each bin's lower edge: what a triage threshold
    at that edge would let through."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    if conf.shape != ok.shape:
        raise ValueError("confidence and correct differ in length")
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError("edges must be at least two increasing numbers")
    bins = []
    for i, (low, high) in enumerate(zip(edges, edges[1:], strict=False)):
        last = i == len(edges) - 2
        inside = (conf >= low) & ((conf <= high) if last else (conf < high))
        above = conf >= low
        bins.append(
            ReliabilityBin(
                low=float(low),
                high=float(high),
                count=int(inside.sum()),
                accuracy=float(ok[inside].mean()) if inside.any() else float("nan"),
                count_above=int(above.sum()),
                precision_above=float(ok[above].mean()) if above.any() else float("nan"),
            )
        )
    return bins


def triage_threshold(table: Sequence[ReliabilityBin], precision: float = 0.95) -> float:
    """The lowest bin edge at or above which at least ``precision`` of the routes are
    right: routes below it go to triage, so triage gets the uncertain ones and only them.
    1.0 when no edge reaches ``precision`` (everything to triage)."""
    for b in table:
        if b.count_above and b.precision_above >= precision:
            return b.low
    return 1.0
