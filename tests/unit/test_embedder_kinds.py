"""Which MiniLM vectors a warehouse gets: names, kinds and the precision it keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.config import Settings
from flows.topics import make_embedder, settle_kind
from models.embeddings import EMBEDDERS, get_embedder, kind_for_name


@pytest.mark.parametrize(
    ("kind", "name"),
    [("minilm-int8", "all-MiniLM-L6-v2-int8"), ("minilm-fp32", "all-MiniLM-L6-v2")],
)
def test_a_kind_names_its_vectors_and_the_name_leads_back_to_the_kind(kind, name):
    embedder = get_embedder(kind)  # nothing is loaded until it encodes
    assert embedder.name == name
    assert kind_for_name(name) == kind


def test_plain_minilm_is_int8_where_openvino_and_nncf_are_installed(monkeypatch):
    import models.embeddings as embeddings

    monkeypatch.setattr(embeddings, "int8_available", lambda: True)
    assert get_embedder("minilm").name == "all-MiniLM-L6-v2-int8"
    monkeypatch.setattr(embeddings, "int8_available", lambda: False)
    assert get_embedder("minilm").name == "all-MiniLM-L6-v2"


def test_unknown_kinds_and_names_are_refused():
    assert "tfidf" in EMBEDDERS and "minilm" in EMBEDDERS
    with pytest.raises(ValueError, match="choose one of"):
        get_embedder("minilm-int4")
    with pytest.raises(ValueError, match="no embedder here"):
        kind_for_name("all-mpnet-base-v2")
    assert kind_for_name("tfidf-svd-256-1a2b") == "tfidf"


@pytest.mark.parametrize(
    ("asked", "last", "settled"),
    [
        ("minilm", None, "minilm"),  # a new warehouse gets the best there is
        ("minilm", "all-MiniLM-L6-v2", "minilm-fp32"),  # themed on float vectors: kept
        ("minilm", "all-MiniLM-L6-v2-int8", "minilm-int8"),
        ("minilm", "tfidf-svd-256-1a2b", "minilm"),  # moving from TF-IDF: the best there is
        ("minilm", "some-model-gone-since", "minilm"),
        ("minilm-int8", "all-MiniLM-L6-v2", "minilm-int8"),  # asked for explicitly: moves
        ("minilm-fp32", "all-MiniLM-L6-v2-int8", "minilm-fp32"),
        ("tfidf", "all-MiniLM-L6-v2-int8", "tfidf"),
    ],
)
def test_a_warehouse_keeps_the_minilm_precision_it_was_themed_with(asked, last, settled):
    assert settle_kind(asked, last) == settled


def test_minilm_networks_live_in_one_cache_per_machine_tfidf_beside_its_warehouse(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("VOC_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = Settings(db=tmp_path / "w" / "voc.duckdb")
    assert make_embedder("minilm", settings).model_dir == tmp_path / "cache" / "voc" / "models"
    assert make_embedder("tfidf", settings).model_dir == tmp_path / "w" / "models"
    monkeypatch.setenv("VOC_MODEL_CACHE", str(tmp_path / "elsewhere"))
    assert make_embedder("minilm-fp32", Settings(db=tmp_path / "voc.duckdb")).model_dir == Path(
        tmp_path / "elsewhere"
    )
