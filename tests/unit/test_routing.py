"""Routing: keywords, prototypes, confidence and triage, analyst examples, themes, items.

No torch: a tiny hashing embedder (each word a fixed random direction) for the logic, and
the real TF-IDF embedder for the default Lumen departments."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence

import numpy as np
import pytest

from flows.config import DEFAULT_DEPARTMENTS
from models.departments import load_departments, parse_departments
from models.embeddings import TfidfSvdEmbedder
from models.routing import (
    TRIAGE_BELOW,
    KeywordMatcher,
    LabelledExample,
    Route,
    Router,
    item_departments,
    reliability_table,
    triage_threshold,
)


class WordHashEmbedder:
    """Embedder protocol with fixed vectors: the normalised sum of one seeded random
    direction per word, so texts sharing words are similar and nothing is fitted."""

    name = "word-hash-64"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    @staticmethod
    def _word(word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(64)

    def encode(self, texts: Sequence[str], progress=None) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row] += self._word(word)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return out / norms


SMALL_BOOK = {
    "default": {"cost_per_contact": {"survey": 0.4, "complaint": 12, "email": 3.2, "call": 4.8}},
    "departments": [
        {
            "name": "Billing",
            "description": "Owns bills, charges, payments and refunds.",
            "keywords": ["bill", "charged twice", "refund", "direct debit"],
            "examples": ["I was charged twice for my bill", "Where is my refund"],
            "head": "billing@x.example",
        },
        {
            "name": "Network",
            "description": "Owns broadband outages, dropping connections and slow speeds.",
            "keywords": ["outage", "broadband down", "slow speed", "connection drops"],
            "examples": ["My broadband is down again", "The connection drops every night"],
            "head": "network@x.example",
        },
        {
            "name": "Field Operations",
            "description": "Owns engineer appointments, installations and home visits.",
            "keywords": ["engineer", "appointment", "installation", "no-show"],
            "examples": ["The engineer never turned up", "My installation appointment moved"],
            "head": "field@x.example",
        },
    ],
}


@pytest.fixture
def org():
    return parse_departments(SMALL_BOOK)


@pytest.fixture
def router(org):
    return Router(org, WordHashEmbedder())


# ----------------------------------------------------------------------- keywords
def test_keywords_match_whole_words_with_forgiving_spelling():
    matcher = KeywordMatcher(
        [["log in", "didn't turn up", "charge", "app"], ["slow speed", "wi-fi"]]
    )
    assert matcher.hits("I was Charged, twice!") == {0: ["charge"]}
    assert matcher.hits("so happy with the apps") == {0: ["app"]}  # not inside "happy"
    assert matcher.hits("Login fails; log-in fails") == {0: ["log in"]}  # counted once
    assert matcher.hits("the engineer didnt turn-up") == {0: ["didn't turn up"]}
    assert matcher.hits("slow speeds on the WiFi") == {1: ["slow speed", "wi-fi"]}
    assert matcher.hits("nothing relevant here") == {}


def test_the_longest_keyword_wins_and_shared_keywords_weigh_less():
    matcher = KeywordMatcher([["charge", "charged twice"], ["bill"], ["bill", "outage"]])
    assert matcher.hits("charged twice again") == {0: ["charged twice"]}
    scores, _ = matcher.score(["my bill", "an outage"])
    assert scores[0, 1] == pytest.approx(scores[0, 2])  # "bill" is shared: half each
    assert scores[1, 2] > scores[0, 2] > 0  # a keyword of its own says more
    assert np.all((scores >= 0) & (scores < 1))


# -------------------------------------------------------------------------- routing
def test_clear_texts_route_with_a_probability_and_a_reason(router):
    routes = router.route_texts(
        [
            "I was charged twice on my bill",
            "broadband down, outage since Monday",
            "the engineer missed the appointment",
        ]
    )
    assert [r.department for r in routes] == ["Billing", "Network", "Field Operations"]
    for route in routes:
        assert isinstance(route, Route)
        assert 0.5 <= route.confidence <= 1.0
        assert route.runner_up is not None and route.runner_up != route.department
        assert route.reason.startswith(f"{route.department} (")
        assert "keywords" in route.reason and "runner-up" in route.reason
    assert "'charged twice'" in routes[0].reason


def test_scores_are_probabilities_and_arrays_line_up(router):
    texts = ["refund please", "slow speed tonight", "hello there", "engineer"]
    scores = router.score_texts(texts)
    assert scores.probabilities.shape == (4, 3)
    np.testing.assert_allclose(scores.probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert list(scores.best_guess) == [r.best_guess for r in scores.routes()]
    assert np.all(scores.margin <= scores.confidence)
    routed = scores.department
    assert all(
        (d is None) == (c < router.settings.min_confidence)
        for d, c in zip(routed, scores.confidence, strict=True)
    )


def test_text_like_no_department_goes_to_triage_with_a_best_guess(router):
    route = router.route_texts(["hello, quick question about something else entirely"])[0]
    assert route.department is None
    assert route.best_guess in ("Billing", "Network", "Field Operations")
    assert route.reason.startswith("needs triage: best guess ")
    assert route.confidence < 0.5


def test_min_confidence_decides_triage(org):
    text = ["hello, quick question about something else entirely"]
    assert Router(org, WordHashEmbedder(), min_confidence=0.0).route_texts(text)[0].department
    assert (
        Router(org, WordHashEmbedder(), min_confidence=1.0)
        .route_texts(["charged twice bill refund"])[0]
        .department
        is None
    )
    with pytest.raises(ValueError, match="min_confidence must be in"):
        Router(org, WordHashEmbedder(), min_confidence=1.5)


def test_known_vectors_skip_embedding_and_must_fit(router):
    texts = ["charged twice", "outage again"]
    vectors = router.embedder.encode(texts)
    before = router.embedder.calls
    via_vectors = router.score_texts(texts, vectors=vectors)
    assert router.embedder.calls == before + 1  # only the prototypes, once
    np.testing.assert_allclose(
        via_vectors.probabilities, router.score_texts(texts).probabilities, rtol=1e-5
    )
    with pytest.raises(ValueError, match="2 vectors for 3 texts"):
        router.score_texts([*texts, "x"], vectors=vectors)
    with pytest.raises(ValueError, match="made by another embedder"):
        router.score_texts(texts, vectors=np.ones((2, 8), dtype=np.float32))


def test_no_texts_no_routes(router):
    assert router.route_texts([]) == []
    assert router.score_texts([]).probabilities.shape == (0, 3)


# ------------------------------------------------------------------ analyst examples
def test_an_analyst_reassignment_pulls_similar_texts_next_time(org):
    odd = "the man from lumen left mud all over the hall carpet"
    before = Router(org, WordHashEmbedder()).route_texts([odd])[0]
    assert before.best_guess != "Billing"
    taught = Router(org, WordHashEmbedder(), examples=[LabelledExample(odd, "billing", weight=3.0)])
    after = taught.route_texts([odd, "lumen left mud all over my hall carpet", "outage again"])
    assert after[0].best_guess == "Billing" and after[0].department == "Billing"
    assert after[1].best_guess == "Billing"  # a near-duplicate follows
    assert "analyst examples" in after[0].reason
    # lopsided examples (all for Billing) do not drag unrelated texts along
    assert after[2].department == "Network"


def test_a_theme_assignment_teaches_the_contacts_of_other_themes(org):
    """What `voc themes assign` records (the theme's label with weight 2, its three
    representative contacts with weight 1) moves contacts of OTHER themes that resemble it,
    and leaves unrelated contacts where they were."""
    assigned = [
        LabelledExample("parcel locker code", "Field Operations", 2.0),
        LabelledExample("the parcel locker code never came", "Field Operations"),
        LabelledExample("no code for the parcel locker", "Field Operations"),
        LabelledExample("locker code for my parcel please", "Field Operations"),
    ]
    elsewhere = [  # another theme's contacts: none of them is an example
        "which locker is my parcel in, I have no code",
        "my parcel is stuck in the locker without a code",
    ]
    unrelated = ["I was charged twice on my bill", "broadband down, connection drops"]
    before = Router(org, WordHashEmbedder()).score_texts(elsewhere + unrelated)
    assert not any(g == "Field Operations" for g in before.best_guess[:2])
    after = Router(org, WordHashEmbedder(), examples=assigned).score_texts(elsewhere + unrelated)
    assert list(after.best_guess) == ["Field Operations", "Field Operations", "Billing", "Network"]


def test_examples_for_unknown_departments_are_ignored_and_counted(org):
    router = Router(
        org,
        WordHashEmbedder(),
        examples=[
            LabelledExample("x", "Marketing"),
            LabelledExample("y", "Billing", weight=0),
            LabelledExample("refund late", "BILLING"),
        ],
    )
    assert router.ignored_examples == 2
    router.route_texts(["anything"])  # embeds the pending example
    assert [e.department for e in router.examples] == ["Billing"]


def test_examples_can_come_with_their_vectors(org):
    embedder = WordHashEmbedder()
    router = Router(org, embedder)
    examples = [LabelledExample("mud on the carpet", "Billing")] * 2
    router.add_examples(examples, vectors=embedder.encode([e.text for e in examples]))
    assert len(router.examples) == 2
    with pytest.raises(ValueError, match="1 vectors for 2 examples"):
        router.add_examples(examples, vectors=embedder.encode(["one"]))


def test_calibration_centres_the_departments_pull(router):
    background = ["the engineer appointment", "engineer visit", "engineer came", "a bill"]
    router.calibrate(texts=background)
    assert abs(float(router._offset.sum())) < 1e-5
    assert router.route_texts(["charged twice on my bill"])[0].department == "Billing"
    with pytest.raises(ValueError, match="needs texts or vectors"):
        router.calibrate()


# -------------------------------------------------------------------------- themes
def test_a_theme_routes_like_its_typical_contact(router):
    route = router.route_theme(
        "Charged twice this month",
        ["charged", "twice", "refund", "bill"],
        [
            "charged twice for the same month",
            "double direct debit taken",
            "where is my refund for the extra payment",
            "my broadband is down",  # one odd sample cannot carry the theme
        ],
    )
    assert route.department == "Billing"
    assert route.reason.endswith("of 4 sample texts point to Billing")
    assert route.confidence > 0.5


def test_a_theme_needs_something_to_route(router):
    with pytest.raises(ValueError, match="needs a label, keywords or sample texts"):
        router.route_theme("", [], ["", "  "])
    assert router.route_theme("broadband outage", []).department == "Network"


def test_theme_sample_vectors_are_used_when_given(router):
    samples = ["engineer never came", "", "appointment missed"]
    vectors = router.embedder.encode(samples)
    with_vectors = router.route_theme("engineer no-show", [], samples, sample_vectors=vectors)
    assert with_vectors == router.route_theme("engineer no-show", [], samples)


# ------------------------------------------------------------- the real departments
LUMEN_TEXTS = {
    "The engineer never turned up and I took the day off work": "Field Operations",
    "I have been charged twice for November, please refund the double payment": "Billing",
    "I can't log in to the My Lumen app, the password reset just loops": "Digital",
    "Broadband down again, no internet since yesterday, keeps dropping": "Network",
    "The router you sent still hasn't arrived, the tracking number says delivered": "Logistics",
    "I was on hold for an hour and nobody called back as promised": "Customer Service",
    "How do I set up the Wi-Fi on the new router and pair the TV box remote?": "Digital Self-Service",
    "The TV app keeps buffering and half the channels are missing": "TV Product",
    "I'd like to upgrade to the faster fibre package and add sports": "Sales",
    "We are moving house next month, can you move my broadband to the new address?": "Sales (Home Moves)",
    "I want to cancel at the end of my contract, what is the notice period?": "Retention",
    "Brilliant service, the installer was friendly and helpful, thank you": "Customer Experience",
}


@pytest.fixture(scope="module")
def lumen_router():
    org = load_departments(DEFAULT_DEPARTMENTS)
    corpus = [d.description for d in org] + [e for d in org for e in d.examples]
    corpus += list(LUMEN_TEXTS) * 2
    embedder = TfidfSvdEmbedder(dim=64).fit(corpus)
    return Router(org, embedder)


def test_lumen_departments_route_typical_contacts(lumen_router):
    routes = lumen_router.route_texts(list(LUMEN_TEXTS))
    got = {text: r.best_guess for text, r in zip(LUMEN_TEXTS, routes, strict=True)}
    assert got == LUMEN_TEXTS
    assert sum(r.department is not None for r in routes) >= 10


def test_an_unfitted_tfidf_embedder_learns_from_the_texts_not_the_departments():
    org = load_departments(DEFAULT_DEPARTMENTS)
    embedder = TfidfSvdEmbedder(dim=32)
    Router(org, embedder).route_texts(list(LUMEN_TEXTS) * 3)
    vocabulary = embedder._pipeline[0].vocabulary_
    assert "buffering" in vocabulary  # from the texts
    assert "openreach" not in vocabulary  # only in the departments file


def test_ten_thousand_items_route_in_seconds(lumen_router):
    rng = np.random.default_rng(0)
    texts = [str(t) for t in rng.choice(list(LUMEN_TEXTS), 10_000)]
    vectors = lumen_router.embedder.encode(texts)
    started = time.perf_counter()
    scores = lumen_router.score_texts(texts, vectors=vectors)
    routes = scores.routes()
    elapsed = time.perf_counter() - started
    assert len(routes) == 10_000
    assert elapsed < 10, f"routing 10k texts took {elapsed:.1f}s"


# ------------------------------------------------------------ items within themes
def test_an_item_keeps_its_theme_unless_it_clearly_belongs_elsewhere():
    departments, sources = item_departments(
        ["Billing", "Billing", "Billing", None, None, "Network"],
        ["Billing", "Network", "Network", "Network", "Sales", None],
        [0.95, 0.95, 0.70, 0.60, 0.30, 0.10],
        [0.90, 0.80, 0.50, 0.30, 0.05, 0.00],
    )
    assert departments.tolist() == ["Billing", "Network", "Billing", "Network", None, "Network"]
    assert sources.tolist() == ["theme", "item", "theme", "item", "triage", "theme"]


def test_item_rule_thresholds_and_shapes():
    keep, _ = item_departments(["A"], ["B"], [0.85], [0.45], min_margin=0.5)
    assert keep.tolist() == ["A"]  # confident but not a clear margin
    move, _ = item_departments(["A"], ["B"], [0.85], [0.45], min_margin=0.4)
    assert move.tolist() == ["B"]
    with pytest.raises(ValueError, match="differ in length"):
        item_departments(["A", "B"], ["A"], [0.9], [0.9])
    empty, sources = item_departments([], [], [], [])
    assert empty.size == 0 and sources.size == 0


# -------------------------------------------------------------- calibrated confidence
def test_reliability_table_bins_counts_and_precision_above():
    confidence = [0.1, 0.35, 0.55, 0.65, 0.85, 0.95, 1.0, 0.9]
    correct = [False, False, True, False, True, True, True, True]
    table = reliability_table(confidence, correct, edges=(0.0, 0.5, 0.8, 1.0))
    assert [(b.low, b.high, b.count) for b in table] == [
        (0.0, 0.5, 2),
        (0.5, 0.8, 2),
        (0.8, 1.0, 4),  # the last bin keeps 1.0
    ]
    assert [b.accuracy for b in table] == [0.0, 0.5, 1.0]
    assert [b.count_above for b in table] == [8, 6, 4]
    assert table[1].precision_above == pytest.approx(5 / 6)
    empty = reliability_table([0.9], [True], edges=(0.0, 0.5, 1.0))[0]
    assert empty.count == 0 and np.isnan(empty.accuracy) and empty.count_above == 1
    with pytest.raises(ValueError, match="differ in length"):
        reliability_table([0.5], [True, False])
    with pytest.raises(ValueError, match="increasing"):
        reliability_table([0.5], [True], edges=(0.5, 0.5))


def test_triage_threshold_is_the_lowest_edge_with_enough_precision():
    confidence = [0.2, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 0.97]
    correct = [False, False, False, True, True, True, True, True]
    table = reliability_table(confidence, correct, edges=(0.0, 0.5, 0.6, 0.7, 1.0))
    assert triage_threshold(table, 0.95) == 0.6  # 0.5 would let a wrong route through
    assert triage_threshold(table, 0.5) == 0.0
    assert triage_threshold(reliability_table([0.9], [False]), 0.95) == 1.0  # none good


def test_the_default_threshold_sends_the_uncertain_to_triage(router):
    assert router.settings.min_confidence == TRIAGE_BELOW == 0.6  # bench's reliability table
    scores = router.score_texts(["refund please", "hello there", "engineer", "slow speed"])
    routed = scores.department
    assert all((d is None) == (c < 0.6) for d, c in zip(routed, scores.confidence, strict=True))


def test_tfidf_fits_a_corpus_with_fewer_terms_than_dimensions():
    """Many texts over a small vocabulary (fewer terms than ``dim``) used to fail in
    the SVD (n_components > n_features); the embedder takes fewer components."""
    words = ["card", "late", "pin", "blocked", "rate", "exchange", "stolen", "lost", "new"]
    texts = [f"{words[i % 9]} {words[(i * 7) % 9]} {words[(i * 5) % 9]}" for i in range(400)]
    vectors = TfidfSvdEmbedder(dim=64).fit(texts).encode(texts)
    assert vectors.shape == (400, 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
