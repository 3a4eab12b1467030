"""``minilm-adapted``: MiniLM fitted to one warehouse's own texts (issue #15 point 4).

A stronger sentence encoder (the teacher, EmbeddingGemma-300M: models/teacher.py) embeds a
seeded sample of the warehouse's texts once; MiniLM plus a linear head to the teacher's width
is then trained, by cosine, to give those texts the teacher's vectors. No labels and no LLM:
the student learns the teacher's geometry on the texts this warehouse actually holds, and
then embeds every item at MiniLM's cost. On Banking77 it took fine themes from NMI 0.834 /
ACC 0.677 (frozen MiniLM) to 0.862 / 0.718 on 7,003 texts it never saw
(bench/research/clustering.md).

Like the TF-IDF model, the student is fitted once per warehouse and kept beside it
(``<warehouse>/models/minilm-adapted-<key>/``); new items are embedded by it without fitting
again. Its key hashes everything the fit depends on (the sample, the seed, the recipe, the
teacher's and the student's files), so the same warehouse and seed give the same name and the
same vectors. It runs as MiniLM does: on the network this machine's check chooses for it
(float, bf16 kernels or int8; the verdict kept in its folder), on torch where OpenVINO is
missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from models.embeddings import (
    MAX_CHARS,
    MiniLMEmbedder,
    OpenVinoMiniLM,
    _normalise,
    _package,
    _save_once,
    machine_verdict,
)
from models.network_choice import INT8, Verdict

log = logging.getLogger(__name__)

RECIPE = {"version": 1, "sample": 3000, "epochs": 3, "lr": 2e-4, "batch": 64, "tokens": 128}
POINTER = "minilm_adapted.json"  # which fitted student this warehouse uses


def fitting_sample(texts: Sequence[str], size: int, seed: int) -> list[str]:
    """A seeded sample of at most ``size`` distinct texts, the same for the same set of texts
    in any order."""
    distinct = sorted({t[:MAX_CHARS] for t in texts if t and t.strip()})
    if len(distinct) <= size:
        return distinct
    pick = np.random.default_rng(seed).choice(len(distinct), size=size, replace=False)
    return [distinct[i] for i in sorted(pick)]


def _files_digest(folder: Path) -> str:
    """What identifies a model folder cheaply: its small files' bytes, its weights' sizes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.suffix in (".safetensors", ".bin"):
            digest.update(f"{rel}:{path.stat().st_size}".encode())
        elif path.suffix == ".json":
            digest.update(rel.encode() + path.read_bytes())
    return digest.hexdigest()


def fit_key(sample: Sequence[str], seed: int, teacher: Path, recipe: dict) -> str:
    digest = hashlib.sha256(json.dumps([recipe, seed], sort_keys=True).encode())
    digest.update(_files_digest(teacher).encode())
    digest.update(_files_digest(_package().get_model_path()).encode())
    for text in sample:
        digest.update(text.encode() + b"\x1e")
    return digest.hexdigest()[:12]


def teacher_vectors(
    folder: Path, texts: list[str], tokens: int, tick: Callable[[int], None]
) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    from models.teacher import PROMPT

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    teacher = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    teacher.max_seq_length = tokens
    prompt = PROMPT if PROMPT in (teacher.prompts or {}) else None
    parts = []
    for start in range(0, len(texts), 256):
        part = texts[start : start + 256]
        parts.append(
            teacher.encode(part, batch_size=32, normalize_embeddings=True, prompt_name=prompt)
        )
        tick(len(part))
    return np.vstack(parts).astype(np.float32)


def train_student(
    texts: list[str], target: np.ndarray, seed: int, recipe: dict, tick: Callable[[int], None]
):
    """MiniLM + a linear head to the teacher's width (started at the ridge map from the
    frozen vectors), trained to the teacher's vectors by cosine with AdamW, warm-up and
    linear decay; seeded, so the same inputs give the same student."""
    import torch
    import torch.nn.functional as F
    from sentence_transformers.sentence_transformer import modules as st_models

    torch.manual_seed(seed)
    model = _package().load_model(device="cpu")
    model.max_seq_length = recipe["tokens"]
    goal = torch.from_numpy(target)
    frozen = torch.from_numpy(
        np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True), np.float32)
    )
    width = frozen.shape[1]
    ridge = torch.linalg.solve(frozen.T @ frozen + torch.eye(width), frozen.T @ goal)
    head = st_models.Dense(
        width, goal.shape[1], bias=False, activation_function=torch.nn.Identity()
    )
    head.linear.weight.data = ridge.T.contiguous()
    model.append(head)
    model.append(st_models.Normalize())
    batch = recipe["batch"]
    steps = recipe["epochs"] * -(-len(texts) // batch)
    warm = max(1, steps // 10)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps)
    )
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(recipe["epochs"]):
        order = rng.permutation(len(texts))
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            out = model(model.preprocess([texts[i] for i in rows]))["sentence_embedding"]
            loss = (1 - (F.normalize(out, dim=-1) * goal[rows]).sum(-1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tick(len(rows))
    model.eval()
    return model


def _head_folder(student: Path) -> Path:
    """The saved linear head (sentence-transformers names it by its place: ``3_Dense``)."""
    (folder,) = student.glob("*_Dense")
    return folder


class AdaptedMiniLM(MiniLMEmbedder):
    """MiniLM fitted to this warehouse (see the module's doc). ``home`` is the warehouse's
    own model folder; ``teacher`` returns the teacher's folder when a fit needs it."""

    base_name = "all-MiniLM-L6-v2-adapted"

    def __init__(
        self,
        home: Path,
        teacher: Callable[[], Path],
        seed: int = 42,
        recipe: dict | None = None,
        backend: str = "auto",
        precision: str = "auto",
    ) -> None:
        super().__init__(model_dir=home, backend=backend, precision=precision)
        self.home = home
        self.teacher = teacher
        self.seed = seed
        self.recipe = dict(RECIPE, **(recipe or {}))
        self.max_seq_length = self.recipe["tokens"]
        self.key: str | None = None
        pointer = home / POINTER
        if pointer.is_file():
            saved = json.loads(pointer.read_text(encoding="utf-8"))
            if (home / f"minilm-adapted-{saved['key']}" / "modules.json").is_file():
                self.key, self.dim = saved["key"], int(saved["dim"])

    @property
    def fitted(self) -> bool:
        return self.key is not None

    @property
    def folder(self) -> Path:
        if self.key is None:
            raise RuntimeError("the adapted embedder is not fitted to this warehouse yet")
        return self.home / f"minilm-adapted-{self.key}"

    @property
    def name(self) -> str:
        if self.key is None:
            return self.base_name
        precision = self.precision if self.requested == "auto" else self.requested
        return f"{self.base_name}-{self.key}" + ("-int8" if precision == INT8 else "")

    @property
    def why(self) -> str:
        """Which network runs, and why: MiniLM's own rule, on this student's networks."""
        if self.key is None:
            return (
                "MiniLM to be adapted to this warehouse's texts (fitted once, on this run), "
                "then its networks checked on this machine"
            )
        return f"MiniLM adapted to this warehouse ({self.name}): {super().why}"

    def describe_here(self) -> str:
        """Which of the student's networks runs on this machine and why, without measuring
        (for `voc status`)."""
        if self.key is None:
            return "not fitted to this warehouse yet"
        verdict = self._machine_verdict(measure=False) if self.backend != "torch" else None
        if verdict is None:
            return f"{self.name}: not measured on this machine yet (the next `voc topics` does)"
        return f"{self.name}: {verdict.reason} (measured {verdict.measured_at})"

    def _machine_verdict(self, measure: bool) -> Verdict | None:
        """This machine's verdict on the student's networks, kept in its folder."""
        return machine_verdict(self.folder, measure=measure, preset=self._preset)

    def _preset(self, network: str) -> AdaptedMiniLM:
        """The student on one network exactly, unchecked (what the machine check runs)."""
        one = AdaptedMiniLM(self.home, self.teacher, self.seed, self.recipe, backend="openvino")
        return one._pin(network)

    def fit(self, texts: Sequence[str], progress: Callable[[int], None] | None = None):
        """Fit the student on a seeded sample of ``texts`` (a no-op when this very fit is
        already saved) and make it this warehouse's adapted embedder. ``progress`` counts
        texts: the sample once for the teacher, then once per epoch of training."""
        import time

        recipe, tick = self.recipe, progress or (lambda n: None)
        sample = fitting_sample(texts, recipe["sample"], self.seed)
        if len(sample) < 2:
            raise ValueError("the adapted embedder needs at least two distinct texts to learn from")
        teacher = self.teacher()
        key = fit_key(sample, self.seed, teacher, recipe)
        target = self.home / f"minilm-adapted-{key}"
        if not (target / "modules.json").is_file():
            started = time.perf_counter()
            log.info("adapting MiniLM: the teacher embeds %d texts (once)", len(sample))
            goal = teacher_vectors(teacher, sample, recipe["tokens"], tick)
            log.info("adapting MiniLM: training %d epochs on them", recipe["epochs"])
            student = train_student(sample, goal, self.seed, recipe, tick)
            _save_once(target, lambda folder: student.save(str(folder)))
            if not (target / "modules.json").is_file():
                raise RuntimeError(f"cannot save the adapted embedder in {self.home}")
            log.info("adapted MiniLM %s in %.0f s", key, time.perf_counter() - started)
        dim = json.loads((_head_folder(target) / "config.json").read_text())["out_features"]
        pointer = self.home / POINTER
        staged = pointer.with_suffix(f".{os.getpid()}.tmp")
        staged.write_text(json.dumps({"key": key, "dim": dim, "texts": len(sample)}))
        staged.replace(pointer)
        self.key, self.dim = key, int(dim)
        self._model = self._run = None
        self._why = ""
        self._precision = None
        return self

    def _load(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(max(1, os.cpu_count() or 1))
            self._model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
            self._model.max_seq_length = self.max_seq_length
        return self._model

    def _openvino_runner(self, int8: bool):
        """The student's transformer on OpenVINO (its networks kept in its folder), then the
        head in numpy: vectors equal to torch's, since the head is linear and both end
        normalised."""
        from safetensors.numpy import load_file

        network = OpenVinoMiniLM(
            self.max_seq_length,
            self.folder,
            self._load,
            int8=int8,
            kernels=None if int8 else self._kernels,
        )
        head = load_file(str(_head_folder(self.folder) / "model.safetensors"))
        weight = np.ascontiguousarray(head["linear.weight"].T, dtype=np.float32)
        return lambda batches: _normalise(network.encode(batches) @ weight)
