"""The memory-lean paths of the topics flow compute what the plain ones did."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

from models.embeddings import TfidfSvdEmbedder, fit_svd_by_blocks
from warehouse import core_tables


def _tall_sparse(rows: int = 3000, cols: int = 400, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    topics = rng.random((8, cols)) ** 4  # a few strong directions, as text has
    weights = rng.random((rows, 8)) ** 3
    dense = weights @ topics * (rng.random((rows, cols)) < 0.05)
    return sp.csr_matrix(dense)


def test_blockwise_svd_fit_matches_scikit_learns():
    matrix = _tall_sparse()
    plain = TruncatedSVD(n_components=32, random_state=42).fit(matrix)
    lean = fit_svd_by_blocks(TruncatedSVD(n_components=32, random_state=42), matrix, block=700)
    # the leading components are where the spectrum is clear; all match to rounding
    np.testing.assert_allclose(lean.components_, plain.components_, atol=1e-8)
    np.testing.assert_allclose(lean.singular_values_, plain.singular_values_, rtol=1e-10)
    np.testing.assert_allclose(lean.explained_variance_, plain.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(
        lean.explained_variance_ratio_, plain.explained_variance_ratio_, rtol=1e-8
    )
    assert lean.n_features_in_ == plain.n_features_in_
    np.testing.assert_allclose(lean.transform(matrix[:50]), plain.transform(matrix[:50]), atol=1e-8)


def test_blockwise_svd_fit_refuses_a_wide_matrix():
    with pytest.raises(ValueError):
        fit_svd_by_blocks(TruncatedSVD(n_components=4), _tall_sparse().T.tocsr())


def test_tfidf_embedder_on_a_tall_corpus_vectors_as_before():
    words = "bill late router broken refund slow engineer missed app crash contract".split()
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(words, size=6)) + f" case {i % 40}" for i in range(2000)]
    lean = TfidfSvdEmbedder(dim=16).fit(texts)
    plain = TfidfSvdEmbedder(dim=16)
    from sklearn.pipeline import make_pipeline

    vectorizer = type(lean._pipeline[0])(**lean._pipeline[0].get_params())
    plain._pipeline = make_pipeline(vectorizer, TruncatedSVD(n_components=16, random_state=42))
    plain._pipeline.fit(texts)
    np.testing.assert_allclose(lean.encode(texts[:100]), plain.encode(texts[:100]), atol=1e-5)


def test_corpus_vectors_line_up_with_the_corpus(warehouse):
    rng = np.random.default_rng(2)
    ids = [f"{i:04x}" for i in rng.permutation(300)]
    at = datetime(2026, 10, 1)
    feedback = pl.DataFrame(
        {
            "feedback_id": ids,
            "channel": "survey",
            "source_file": "f.csv",
            "source_ref": ids,
            "received_at": at,
            "text": [f"text {i}" for i in ids],
            "run_id": "r",
            "ingested_at": at,
        }
    )
    vectors = rng.random((300, 8), dtype=np.float32)
    with warehouse.write() as con:
        con.register("staged", feedback)
        con.execute("INSERT INTO feedback BY NAME SELECT * FROM staged")
        con.unregister("staged")
        # stored out of order, and one item without a vector for this model
        core_tables.store_embeddings(con, "m", ids[:-1], list(vectors[:-1]), at)
        core_tables.store_embeddings(con, "other", ids[-1:], list(vectors[-1:]), at)
    with warehouse.read() as con:
        corpus = core_tables.corpus_for_topics(con, "m")
        matrix = core_tables.corpus_vectors(con, "m", corpus.height)
        empty = core_tables.corpus_vectors(con, "none", 0)
    assert corpus.height == 299 and matrix.shape == (299, 8) and matrix.dtype == np.float32
    by_id = dict(zip(ids, vectors, strict=True))
    expected = np.stack([by_id[i] for i in corpus["feedback_id"]])
    assert np.array_equal(matrix, expected)
    assert corpus["feedback_id"].is_sorted()
    assert empty.shape == (0, 0)


def test_similarity_by_blocks_is_the_plain_einsum():
    from models.topics import _similarity_to

    rng = np.random.default_rng(3)
    embeddings = rng.random((1234, 16), dtype=np.float32)
    matrix = rng.random((7, 16), dtype=np.float32)
    own = rng.integers(0, 7, size=1234)
    plain = np.einsum("ij,ij->i", embeddings, matrix[own]).astype(np.float32)
    assert np.array_equal(_similarity_to(embeddings, matrix, own, block=100), plain)
