"""The adapted embedder (``minilm-adapted``, models/adapted.py): a student learns its
teacher's geometry from a warehouse's own texts, is fitted once and read back, gives the same
vectors for the same texts and seed, and gives a text one vector alone, in any batch and in
any order, on OpenVINO and on torch alike. The teacher is the stand-in of tests/conftest.py
(768-d, like EmbeddingGemma); EmbeddingGemma's own figures are in bench/research."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from models.adapted import AdaptedMiniLM, fitting_sample

pytestmark = pytest.mark.slow

SMALL = {"sample": 300, "epochs": 3, "lr": 2e-4}
TEXTS = [
    "my card has not arrived yet",
    "I was charged twice for one order, please refund the second payment",
    "Où est mon colis ? Je l'attends depuis deux semaines",
    "😡😡 still no broadband after 3 days!!!",
    "",
    "<script>alert(1)</script>'; DROP TABLE feedback; --",
    "word " * 400,  # far beyond the 128 word pieces the model reads
    "ok",
]


@pytest.fixture(scope="session")
def banking(shared_data) -> list[str]:
    return pl.read_csv(shared_data("banking77", "train.csv"))["text"].head(700).to_list()


@pytest.fixture(scope="session")
def student(tmp_path_factory, stand_in_teacher, banking) -> AdaptedMiniLM:
    home = tmp_path_factory.mktemp("warehouse-models")
    return AdaptedMiniLM(home, lambda: stand_in_teacher, recipe=SMALL).fit(banking[:500])


def _teacher_vectors(folder, texts):
    from sentence_transformers import SentenceTransformer

    teacher = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    return teacher.encode(texts, normalize_embeddings=True)


def test_the_student_moves_toward_its_teachers_vectors(
    tmp_path, student, stand_in_teacher, banking
):
    learnt_from = fitting_sample(banking[:500], SMALL["sample"], student.seed)
    goal = _teacher_vectors(stand_in_teacher, learnt_from)
    assert student.dim == 768 and student.encode(learnt_from[:3]).shape == (3, 768)
    exact = AdaptedMiniLM(student.home, student.teacher, recipe=SMALL, precision="fp32")
    learnt = float((exact.encode(learnt_from) * goal).sum(axis=1).mean())
    # the same recipe with a learning rate of 0: the head's ridge start, nothing learnt
    start = AdaptedMiniLM(
        tmp_path, lambda: stand_in_teacher, recipe={**SMALL, "lr": 0.0}, precision="fp32"
    )
    start.fit(banking[:500])
    assert start.name != student.name  # the recipe is part of the name
    before = float((start.encode(learnt_from) * goal).sum(axis=1).mean())
    print(f"teacher cosine on the sample: {before:.4f} at the start, {learnt:.4f} learnt")
    assert learnt > before + 0.003, (before, learnt)


def test_a_fitted_student_is_read_back_and_never_asks_for_its_teacher(student):
    def no_teacher():
        raise AssertionError("a fitted warehouse must not need the teacher")

    again = AdaptedMiniLM(student.home, no_teacher, recipe=SMALL)
    assert again.fitted and again.name == student.name and again.dim == 768
    cosine = (again.encode(TEXTS) * student.encode(TEXTS)).sum(axis=1)
    assert cosine.min() >= 0.9999


def test_the_same_texts_and_seed_give_the_same_name_and_vectors(
    tmp_path, student, stand_in_teacher, banking
):
    shuffled = banking[:500]
    random.Random(5).shuffle(shuffled)
    # float on both sides: each warehouse's student gets its own machine check, and on a
    # busy machine two checks may pick different networks (int8 vectors are named apart)
    twin = AdaptedMiniLM(tmp_path, lambda: stand_in_teacher, recipe=SMALL, precision="fp32")
    twin.fit(shuffled)
    assert twin.key == student.key and twin.name == f"{student.base_name}-{student.key}"
    exact = AdaptedMiniLM(student.home, student.teacher, recipe=SMALL, precision="fp32")
    cosine = (twin.encode(banking[500:]) * exact.encode(banking[500:])).sum(axis=1)
    assert cosine.min() >= 0.9999
    other_seed = AdaptedMiniLM(tmp_path / "b", lambda: stand_in_teacher, seed=7, recipe=SMALL)
    assert other_seed.fitted is False


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_a_text_gets_one_vector_alone_in_any_batch_and_any_order(student, backend, banking):
    def make(size: int) -> AdaptedMiniLM:
        made = AdaptedMiniLM(student.home, student.teacher, recipe=SMALL, backend=backend)
        made.batch_size = size
        return made

    texts = TEXTS + banking[500:560] + [" ".join(banking[:k]) for k in (3, 8, 20)]
    together = make(32).encode(texts)
    assert make(32).backend_used is None  # nothing runs before the first text
    reordered = make(32).encode(texts[::-1])[::-1]
    small = make(3).encode(texts)
    alone = np.vstack([make(32).encode([t]) for t in texts])
    # torch and OpenVINO's float network give one vector too
    exact = AdaptedMiniLM(student.home, student.teacher, recipe=SMALL, precision="fp32")
    same = [exact.encode(texts)] if backend == "torch" else []
    for other in (reordered, small, alone, *same):
        cosine = (together * other).sum(axis=1)
        assert cosine.min() >= 0.9999, dict(zip(texts, cosine.round(6), strict=True))
    runner = make(32)
    runner.encode(["x"])
    assert runner.backend_used == backend
    # which network runs is this machine's verdict on this student, said with its reason
    assert runner.why.startswith(f"MiniLM adapted to this warehouse ({runner.name}): ")
    if backend == "openvino":
        verdict = runner._machine_verdict(measure=False)
        assert verdict is not None and verdict.reason in runner.why
        assert runner.name.endswith("-int8") == (verdict.precision == "int8")
