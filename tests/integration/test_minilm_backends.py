"""MiniLM on OpenVINO gives torch's vectors and keeps its compiled networks; the network
voc runs is chosen by a check on this machine, gives every text one vector whatever its
batch, and stays close to the float one; a cache copied to another CPU is checked again.

Nothing here assumes which network wins on this CPU: the tests of closeness and
invariance run on whatever the machine's verdict selects. The networks are built, and the
verdict measured, once per session in the session's model cache."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import models.embeddings
from models import network_choice
from models.embeddings import MiniLMEmbedder, OpenVinoMiniLM, machine_verdict
from models.network_choice import FP32, FP32_BF16, INT8

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
def network_dir() -> Path:
    """The session's model cache (every voc process of the session uses it): the float and
    int8 networks are built there, and this machine's verdict measured, once."""
    folder = Path(os.environ["VOC_MODEL_CACHE"])
    machine_verdict(folder)
    return folder


@pytest.fixture(scope="session")
def verdict(network_dir):
    found = machine_verdict(network_dir, measure=False)
    assert found is not None
    return found


def _selectable(verdict) -> list[str]:
    """The networks voc may run on this machine: the ones that passed their check."""
    return [t.network for t in verdict.trials if not t.failures()]


@pytest.fixture(scope="session")
def fp32_vectors(network_dir) -> np.ndarray:
    return MiniLMEmbedder.preset(network_dir, FP32).encode(TEXTS)


@pytest.fixture(scope="session")
def torch_vectors() -> np.ndarray:
    return MiniLMEmbedder(backend="torch").encode(TEXTS)


def test_openvino_vectors_equal_torch_vectors(network_dir, verdict, torch_vectors):
    embedder = MiniLMEmbedder(model_dir=network_dir, precision="fp32")
    vectors = embedder.encode(TEXTS)
    assert embedder.backend_used == "openvino" and embedder.name == "all-MiniLM-L6-v2"
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)  # on the kernels this machine chose
    assert cosine.min() > 0.9999, dict(zip(TEXTS, cosine.round(6), strict=True))
    exact = (MiniLMEmbedder.preset(network_dir, FP32).encode(TEXTS) * torch_vectors).sum(axis=1)
    assert exact.min() > 0.99999, dict(zip(TEXTS, exact.round(6), strict=True))


def test_the_network_this_machine_runs_stays_close_to_the_float_one(
    network_dir, verdict, fp32_vectors, shared_data
):
    import polars as pl

    embedder = MiniLMEmbedder(model_dir=network_dir)  # whatever this machine measured best
    vectors = embedder.encode(TEXTS)
    assert embedder.precision == verdict.precision and embedder.why == verdict.reason
    assert embedder.name == "all-MiniLM-L6-v2" + ("-int8" if verdict.network == INT8 else "")
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # odd texts (empty, 400 times one word) drift most, and still point the same way
    odd = (vectors * fp32_vectors).sum(axis=1)
    assert odd.min() > 0.95, dict(zip(TEXTS, odd.round(4), strict=True))

    real = pl.read_csv(shared_data("banking77", "test.csv"))["text"].head(400).to_list()
    ours, theirs = embedder.encode(real), MiniLMEmbedder.preset(network_dir, FP32).encode(real)
    cosine = (ours * theirs).sum(axis=1)
    if verdict.network == INT8:
        assert cosine.mean() > 0.995 and cosine.min() > 0.98, (cosine.mean(), cosine.min())
    else:  # float vectors, on f32 or bf16 kernels: the same vectors
        assert cosine.min() > 0.9999, cosine.min()
    # and it finds the same nearest neighbour for nearly every text
    same = np.argsort(ours @ ours.T, axis=1)[:, -2] == np.argsort(theirs @ theirs.T, axis=1)[:, -2]
    assert same.mean() > 0.9, same.mean()


def test_every_build_of_the_int8_network_is_the_same(network_dir, tmp_path):
    import shutil

    (float_net,) = network_dir.glob("minilm-openvino-[0-9a-f]*")
    shutil.copytree(float_net, tmp_path / float_net.name)  # quantise again, not convert again
    again = MiniLMEmbedder.preset(tmp_path, INT8).encode(TEXTS)
    first = MiniLMEmbedder.preset(network_dir, INT8).encode(TEXTS)
    assert list(tmp_path.glob("minilm-openvino-int8-*")) != []
    np.testing.assert_array_equal(again, first)


NETWORKS = [FP32, FP32_BF16, INT8, "torch"]


@pytest.mark.parametrize("network", NETWORKS)
def test_a_text_gets_one_vector_alone_in_any_batch_and_any_order(
    network_dir, verdict, network, shared_data
):
    import polars as pl

    if network == "torch":
        make = lambda size: MiniLMEmbedder(backend="torch", batch_size=size)  # noqa: E731
    elif network not in _selectable(verdict):
        trial = verdict.trial(network)
        if trial is None:
            pytest.skip(f"{network} is not a network this CPU offers (no BF16 kernels)")
        # never selected here: plain minilm runs something else, and int8 is refused
        assert verdict.network != network
        if network == INT8:
            with pytest.raises(RuntimeError, match="failed its check on this CPU"):
                MiniLMEmbedder(model_dir=network_dir, precision="int8").encode(["x"])
        pytest.skip(f"{network} failed its check on this CPU: {trial.failures()}")
    else:
        make = lambda size: MiniLMEmbedder.preset(network_dir, network, batch_size=size)  # noqa: E731
    # texts of very different lengths: from one word piece to far past the 128 read
    real = pl.read_csv(shared_data("banking77", "test.csv"))["text"].head(60).to_list()
    texts = TEXTS + real + [" ".join(real[:k]) for k in (3, 8, 20)]
    together = make(32).encode(texts)
    reordered = make(32).encode(texts[::-1])[::-1]
    small = make(3).encode(texts)
    alone = np.vstack([make(32).encode([t]) for t in texts])
    for other in (reordered, small, alone):
        cosine = (together * other).sum(axis=1)
        assert cosine.min() >= 0.9999, dict(zip(texts, cosine.round(6), strict=True))


def test_a_cache_copied_to_another_cpu_is_checked_again(network_dir, verdict, monkeypatch):
    here = models.embeddings.network_keys(models.embeddings.cpu_signature())
    monkeypatch.setattr(
        network_choice, "cpu_flags", lambda: ["amx_bf16", "amx_int8", "avx512_vnni", "made-up"]
    )
    elsewhere = models.embeddings.network_keys(models.embeddings.cpu_signature())
    assert elsewhere[0] == here[0]  # the float network is the same on every CPU
    assert elsewhere[1] != here[1]  # the int8 one is calibrated on this CPU's kernels
    assert machine_verdict(network_dir, measure=False) is None
    assert "not measured on this machine yet" in models.embeddings.describe_network(network_dir)


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
    monkeypatch.setattr(network_choice, "measure", refuse)  # the verdict is read back too
    for network in (FP32, INT8):
        vectors = MiniLMEmbedder.preset(network_dir, network).encode(TEXTS[:2])
        assert vectors.shape == (2, 384)
    assert MiniLMEmbedder(model_dir=network_dir).encode(TEXTS[:2]).shape == (2, 384)
    (saved_verdict,) = network_dir.glob("minilm-choice-*.json")
    assert network_choice.load_verdict(saved_verdict) is not None


def test_a_saved_network_starts_without_importing_torch(network_dir, verdict):
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
    name = "all-MiniLM-L6-v2" + ("-int8" if verdict.network == INT8 else "")
    assert out.stdout.split("\n")[-2] == f"{name} openvino (1, 384) []"


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
