"""MiniLM on OpenVINO gives torch's vectors, keeps its compiled network, and falls back.

The OpenVINO network is converted once per session (a shared cache folder); each test
that needs torch's own vectors computes them once too."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.embeddings import MiniLMEmbedder, OpenVinoMiniLM

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

TEXTS = [
    "my card has not arrived yet",
    "I was charged twice for one order, please refund the second payment",
    "Où est mon colis ? Je l'attends depuis deux semaines",
    "Die Rechnung ist falsch, bitte korrigieren Sie den Betrag.",
    "😡😡 still no broadband after 3 days!!!",
    "",
    " ",
    "<script>alert(1)</script>'; DROP TABLE feedback; --",
    "word " * 400,  # far beyond the 128 word pieces the model reads
    "x" * 5000,
    "ok",
]


@pytest.fixture(scope="session")
def network_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("minilm-models")
    MiniLMEmbedder(backend="openvino", model_dir=folder).encode(["warm up"])
    return folder


@pytest.fixture(scope="session")
def torch_vectors() -> np.ndarray:
    return MiniLMEmbedder(backend="torch").encode(TEXTS)


def test_openvino_vectors_equal_torch_vectors(network_dir, torch_vectors):
    embedder = MiniLMEmbedder(model_dir=network_dir)
    vectors = embedder.encode(TEXTS)
    assert embedder.backend_used == "openvino"
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() > 0.9999, dict(zip(TEXTS, cosine.round(6), strict=True))


def test_the_order_of_texts_and_batching_do_not_change_a_vector(network_dir):
    embedder = MiniLMEmbedder(model_dir=network_dir, batch_size=3)
    together = embedder.encode(TEXTS)
    alone = np.vstack([embedder.encode([t]) for t in reversed(TEXTS)])[::-1]
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_the_compiled_network_is_read_back_not_converted_again(network_dir, monkeypatch):
    saved = list(network_dir.glob("minilm-openvino-*/model.xml"))
    assert len(saved) == 1 and saved[0].with_suffix(".bin").stat().st_size > 80_000_000
    assert not list(network_dir.glob(".minilm-openvino-*")), "a staging folder was left"

    def refuse(self, model):
        raise AssertionError("converted again although a saved network exists")

    monkeypatch.setattr(OpenVinoMiniLM, "_convert", refuse)
    vectors = MiniLMEmbedder(model_dir=network_dir).encode(TEXTS[:2])
    assert vectors.shape == (2, 384)


def test_a_saved_network_starts_without_importing_torch(network_dir):
    code = (
        "import sys; from pathlib import Path\n"
        "from models.embeddings import MiniLMEmbedder\n"
        f"e = MiniLMEmbedder(model_dir=Path({str(network_dir)!r}))\n"
        "v = e.encode(['where is my engineer'])\n"
        "print(e.backend_used, v.shape, 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[-2] == "openvino (1, 384) False"


def test_without_openvino_auto_falls_back_to_torch_and_says_so(
    monkeypatch, caplog, torch_vectors, tmp_path
):
    def broken(*args, **kwargs):
        raise RuntimeError("no OpenVINO CPU plugin")

    monkeypatch.setattr(OpenVinoMiniLM, "__init__", broken)
    with caplog.at_level(logging.WARNING, logger="models.embeddings"):
        embedder = MiniLMEmbedder(model_dir=tmp_path)
        vectors = embedder.encode(TEXTS)
    assert embedder.backend_used == "torch"
    assert "no OpenVINO CPU plugin" in caplog.text and "embedding with torch" in caplog.text
    np.testing.assert_allclose(vectors, torch_vectors, atol=1e-5)
    with pytest.raises(RuntimeError, match="no OpenVINO CPU plugin"):
        MiniLMEmbedder(backend="openvino").encode(["x"])


def test_the_backend_is_chosen_by_environment_and_checked(monkeypatch):
    monkeypatch.setenv("VOC_EMBED_BACKEND", "torch")
    assert MiniLMEmbedder().backend == "torch"
    monkeypatch.setenv("VOC_EMBED_BACKEND", "cuda")
    with pytest.raises(ValueError, match="auto, openvino or torch"):
        MiniLMEmbedder()
