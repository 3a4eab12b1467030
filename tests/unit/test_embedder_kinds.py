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


def test_plain_minilm_runs_what_this_machine_measured(monkeypatch, tmp_path):
    import models.embeddings as embeddings
    from models.network_choice import Trial, Verdict

    monkeypatch.setattr(embeddings, "int8_available", lambda: True)
    verdicts = {
        "int8": Verdict("int8", "int8 passed and is faster"),
        "fp32": Verdict("fp32", "int8 failed its check"),
    }
    for network, verdict in verdicts.items():
        monkeypatch.setattr(embeddings, "machine_verdict", lambda d, measure=True, v=verdict: v)
        embedder = get_embedder("minilm", model_dir=tmp_path)
        assert embedder.precision == network and embedder.why == verdict.reason
    # asked for int8 where it failed its check: refused, with the reason
    failed = Verdict("fp32", "r", trials=[Trial("int8", 900, 0.9, 0.99, 0.68)])
    monkeypatch.setattr(embeddings, "machine_verdict", lambda d, measure=True: failed)
    with pytest.raises(RuntimeError, match="int8 MiniLM failed its check on this CPU"):
        get_embedder("minilm-int8", model_dir=tmp_path).precision  # noqa: B018


def test_without_openvino_or_a_model_cache_plain_minilm_is_float(monkeypatch, tmp_path):
    import models.embeddings as embeddings

    monkeypatch.setattr(embeddings, "int8_available", lambda: False)
    embedder = get_embedder("minilm", model_dir=tmp_path)
    assert embedder.name == "all-MiniLM-L6-v2" and "not installed" in embedder.why
    monkeypatch.setattr(embeddings, "int8_available", lambda: True)
    embedder = get_embedder("minilm")  # no cache to keep a measured choice in
    assert embedder.name == "all-MiniLM-L6-v2" and "no model cache" in embedder.why
    with pytest.raises(ValueError, match="model_dir"):
        get_embedder("minilm-int8").precision  # noqa: B018
    torch = get_embedder("minilm", model_dir=tmp_path, backend="torch")
    assert torch.name == "all-MiniLM-L6-v2" and "torch" in torch.why


def test_the_backend_comes_from_the_settings_and_is_checked(monkeypatch, tmp_path):
    from pydantic import ValidationError

    monkeypatch.setenv("VOC_EMBED_BACKEND", "torch")
    settings = Settings(db=tmp_path / "voc.duckdb")
    assert make_embedder("minilm", settings).backend == "torch"
    with pytest.raises(ValueError, match="int8 vectors come from OpenVINO"):
        make_embedder("minilm-int8", settings)
    monkeypatch.setenv("VOC_EMBED_BACKEND", "cuda")
    with pytest.raises(ValidationError, match="embed_backend"):
        Settings(db=tmp_path / "voc.duckdb")
    with pytest.raises(ValueError, match="auto, openvino or torch"):
        get_embedder("minilm", backend="cuda")


def test_unknown_kinds_and_names_are_refused():
    assert "tfidf" in EMBEDDERS and "minilm" in EMBEDDERS
    with pytest.raises(ValueError, match="choose one of"):
        get_embedder("minilm-int4")
    with pytest.raises(ValueError, match="no embedder here"):
        kind_for_name("all-mpnet-base-v2")
    assert kind_for_name("tfidf-svd-256-1a2b") == "tfidf"


@pytest.mark.parametrize(
    ("asked", "last", "machine", "settled"),
    [
        ("minilm", None, "minilm-int8", "minilm"),  # a new warehouse: what this machine runs
        ("minilm", "all-MiniLM-L6-v2", "minilm-int8", "minilm-fp32"),  # float vectors: kept
        ("minilm", "all-MiniLM-L6-v2", "minilm-fp32", "minilm-fp32"),
        ("minilm", "all-MiniLM-L6-v2-int8", "minilm-int8", "minilm-int8"),  # right here: kept
        # int8 failed its check (or is slower) on this machine: the warehouse moves to float
        ("minilm", "all-MiniLM-L6-v2-int8", "minilm-fp32", "minilm"),
        ("minilm", "tfidf-svd-256-1a2b", "minilm-int8", "minilm"),  # from TF-IDF: the best here
        ("minilm", "some-model-gone-since", "minilm-fp32", "minilm"),
        ("minilm-int8", "all-MiniLM-L6-v2", "minilm-fp32", "minilm-int8"),  # asked explicitly
        ("minilm-fp32", "all-MiniLM-L6-v2-int8", "minilm-int8", "minilm-fp32"),
        ("tfidf", "all-MiniLM-L6-v2-int8", "minilm-int8", "tfidf"),
    ],
)
def test_a_warehouse_keeps_the_minilm_vectors_it_has_where_they_are_right_here(
    asked, last, machine, settled
):
    assert settle_kind(asked, last, machine) == settled


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


def test_an_adapted_name_leads_back_to_its_kind_which_only_a_warehouse_can_make(tmp_path):
    from models.embedder_choice import make_embedder as embedder_at

    assert kind_for_name("all-MiniLM-L6-v2-adapted-0123456789ab") == "minilm-adapted"
    with pytest.raises(ValueError, match="belongs to a warehouse"):
        get_embedder("minilm-adapted")
    made = embedder_at("minilm-adapted", db=tmp_path / "w" / "voc.duckdb", model_cache=tmp_path)
    assert made.home == tmp_path / "w" / "models" and not made.fitted
    assert made.name == "all-MiniLM-L6-v2-adapted"  # no key until it is fitted


def test_the_fitting_sample_is_seeded_and_blind_to_order_and_repeats():
    from models.adapted import fitting_sample

    texts = [f"text number {i}" for i in range(50)]
    one = fitting_sample(texts, 20, seed=42)
    assert len(one) == 20 == len(set(one))
    assert fitting_sample(list(reversed(texts)) + texts[:10], 20, seed=42) == one
    assert fitting_sample(texts, 20, seed=7) != one
    assert fitting_sample(texts + ["", "   "], 100, seed=42) == sorted(texts)


def test_a_teacher_folder_is_checked_against_the_sums_voc_measured(tmp_path, monkeypatch):
    from models import teacher

    (tmp_path / "config.json").write_text("{}")
    assert set(teacher.mismatches(tmp_path)) == set(teacher.SHA256)
    with pytest.raises(RuntimeError, match="has no modules.json"):
        teacher.teacher_dir(tmp_path / "cache", tmp_path)
    with pytest.raises(RuntimeError, match=r"scripts/setup.sh --teacher"):
        teacher.teacher_dir(tmp_path / "cache")
    (tmp_path / "modules.json").write_text("[]")
    assert teacher.teacher_dir(tmp_path / "cache", tmp_path) == tmp_path  # taken as given
