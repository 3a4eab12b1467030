"""MiniLM on OpenVINO gives torch's vectors, keeps its compiled network, and falls back;
its int8 network stays close to them, is the same on every build and is kept too.

The OpenVINO networks are built once per session (a shared cache folder); each test that
needs torch's own vectors computes them once too."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import models.embeddings
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
    MiniLMEmbedder(backend="openvino", precision="int8", model_dir=folder).encode(["warm up"])
    return folder  # holds the float network and the int8 one made from it


@pytest.fixture(scope="session")
def fp32_vectors(network_dir) -> np.ndarray:
    return MiniLMEmbedder(model_dir=network_dir, precision="fp32").encode(TEXTS)


@pytest.fixture(scope="session")
def torch_vectors() -> np.ndarray:
    return MiniLMEmbedder(backend="torch").encode(TEXTS)


def test_openvino_vectors_equal_torch_vectors(network_dir, torch_vectors):
    embedder = MiniLMEmbedder(model_dir=network_dir, precision="fp32")
    vectors = embedder.encode(TEXTS)
    assert embedder.backend_used == "openvino" and embedder.name == "all-MiniLM-L6-v2"
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() > 0.9999, dict(zip(TEXTS, cosine.round(6), strict=True))


def test_int8_vectors_stay_close_to_the_float_ones_under_their_own_name(
    network_dir, fp32_vectors, shared_data
):
    import polars as pl

    embedder = MiniLMEmbedder(model_dir=network_dir)  # int8 where it can: here it can
    vectors = embedder.encode(TEXTS)
    assert (embedder.precision, embedder.name) == ("int8", "all-MiniLM-L6-v2-int8")
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # odd texts (empty, 400 times one word) drift most, and still point the same way
    odd = (vectors * fp32_vectors).sum(axis=1)
    assert odd.min() > 0.95, dict(zip(TEXTS, odd.round(4), strict=True))

    real = pl.read_csv(shared_data("banking77", "test.csv"))["text"].head(400).to_list()
    ours, theirs = (
        embedder.encode(real),
        MiniLMEmbedder(model_dir=network_dir, precision="fp32").encode(real),
    )
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.mean() > 0.995 and cosine.min() > 0.98, (cosine.mean(), cosine.min())
    # and it finds the same nearest neighbour for nearly every text
    same = np.argsort(ours @ ours.T, axis=1)[:, -2] == np.argsort(theirs @ theirs.T, axis=1)[:, -2]
    assert same.mean() > 0.9, same.mean()


def test_every_build_of_the_int8_network_is_the_same(network_dir, tmp_path):
    import shutil

    (float_net,) = network_dir.glob("minilm-openvino-[0-9a-f]*")
    shutil.copytree(float_net, tmp_path / float_net.name)  # quantise again, not convert again
    again = MiniLMEmbedder(model_dir=tmp_path).encode(TEXTS)
    first = MiniLMEmbedder(model_dir=network_dir).encode(TEXTS)
    assert list(tmp_path.glob("minilm-openvino-int8-*")) != []
    np.testing.assert_array_equal(again, first)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_order_of_texts_and_batching_do_not_change_a_vector(network_dir, precision):
    embedder = MiniLMEmbedder(model_dir=network_dir, batch_size=3, precision=precision)
    together = embedder.encode(TEXTS)
    alone = np.vstack([embedder.encode([t]) for t in reversed(TEXTS)])[::-1]
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_the_compiled_networks_are_read_back_not_built_again(network_dir, monkeypatch):
    saved = list(network_dir.glob("minilm-openvino-[0-9a-f]*/model.xml"))
    assert len(saved) == 1 and saved[0].with_suffix(".bin").stat().st_size > 80_000_000
    (int8,) = network_dir.glob("minilm-openvino-int8-*/model.xml")
    assert 20_000_000 < int8.with_suffix(".bin").stat().st_size < 40_000_000  # int8 weights
    assert not list(network_dir.glob(".minilm-openvino-*")), "a staging folder was left"

    def refuse(*args):
        raise AssertionError("built again although a saved network exists")

    monkeypatch.setattr(OpenVinoMiniLM, "_convert", refuse)
    monkeypatch.setattr(models.embeddings, "_quantize", refuse)
    for precision in ("fp32", "int8"):
        vectors = MiniLMEmbedder(model_dir=network_dir, precision=precision).encode(TEXTS[:2])
        assert vectors.shape == (2, 384)


def test_a_saved_network_starts_without_importing_torch(network_dir):
    code = (
        "import sys; from pathlib import Path\n"
        "from models.embeddings import MiniLMEmbedder\n"
        f"e = MiniLMEmbedder(model_dir=Path({str(network_dir)!r}))\n"
        "v = e.encode(['where is my engineer'])\n"
        "print(e.name, e.backend_used, v.shape, sorted({'torch', 'nncf'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[-2] == "all-MiniLM-L6-v2-int8 openvino (1, 384) []"


def test_without_openvino_auto_falls_back_to_torch_and_says_so(
    monkeypatch, caplog, torch_vectors, tmp_path
):
    def broken(*args, **kwargs):
        raise RuntimeError("no OpenVINO CPU plugin")

    monkeypatch.setattr(OpenVinoMiniLM, "__init__", broken)
    with caplog.at_level(logging.WARNING, logger="models.embeddings"):
        embedder = MiniLMEmbedder(model_dir=tmp_path, precision="fp32")
        vectors = embedder.encode(TEXTS)
    assert embedder.backend_used == "torch"
    assert "no OpenVINO CPU plugin" in caplog.text and "embedding with torch" in caplog.text
    np.testing.assert_allclose(vectors, torch_vectors, atol=1e-5)
    with pytest.raises(RuntimeError, match="no OpenVINO CPU plugin"):
        MiniLMEmbedder(backend="openvino", precision="fp32").encode(["x"])
    # int8 vectors only come from OpenVINO: no quiet switch to vectors of another model
    with pytest.raises(RuntimeError, match="no OpenVINO CPU plugin"):
        MiniLMEmbedder(model_dir=tmp_path, precision="int8").encode(["x"])


def test_the_backend_is_chosen_by_environment_and_checked(monkeypatch):
    monkeypatch.setenv("VOC_EMBED_BACKEND", "torch")
    assert MiniLMEmbedder().backend == "torch"
    assert MiniLMEmbedder().name == "all-MiniLM-L6-v2"  # torch makes float vectors
    with pytest.raises(ValueError, match="int8 vectors come from OpenVINO"):
        MiniLMEmbedder(precision="int8")
    monkeypatch.setenv("VOC_EMBED_BACKEND", "cuda")
    with pytest.raises(ValueError, match="auto, openvino or torch"):
        MiniLMEmbedder()
