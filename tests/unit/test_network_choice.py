"""Which MiniLM network runs: the pure rule, the machine key, and the trials on fake
encoders (one of them batch-dependent, as int8 was on an AMX Xeon)."""

from __future__ import annotations

import numpy as np
import pytest

from models import network_choice
from models.embeddings import equal_length_batches
from models.network_choice import FP32, FP32_BF16, INT8, Trial, Verdict, choose


def _trial(network, speed, invariance=1.0, mean=1.0, low=1.0, error=""):
    return Trial(network, speed, invariance, mean, low, error)


def test_the_exact_float_network_runs_unless_another_passes_and_is_faster():
    verdict = choose([_trial(FP32, 400), _trial(INT8, 410, mean=0.998, low=0.99)])
    assert verdict.network == FP32 and verdict.precision == "fp32"
    assert "int8 MiniLM passed its check but ran 410 texts/s against 400" in verdict.reason

    verdict = choose([_trial(FP32, 400), _trial(INT8, 600, mean=0.998, low=0.99)])
    assert verdict.network == INT8 and verdict.precision == "int8"
    assert "1.50x" in verdict.reason and "passed its check on this CPU" in verdict.reason


def test_a_batch_dependent_or_straying_int8_network_never_runs_however_fast():
    # the figures seen on an AVX-512/AMX Xeon: min cosine 0.684, and a batch-dependent vector
    verdict = choose([_trial(FP32, 1391), _trial(INT8, 5000, invariance=0.904, low=0.684)])
    assert verdict.network == FP32
    assert "depends on its batch (cosine 0.9040" in verdict.reason
    assert "min 0.6840" in verdict.reason
    assert verdict.int8_refusal() is not None
    for mean, low in ((0.994, 0.99), (0.999, 0.97)):
        assert choose([_trial(FP32, 1), _trial(INT8, 9, mean=mean, low=low)]).network == FP32


def test_bfloat16_kernels_share_the_float_name_only_when_their_vectors_are_the_float_ones():
    close = _trial(FP32_BF16, 700, invariance=0.99999, mean=0.99999, low=0.99995)
    verdict = choose([_trial(FP32, 400), close])
    assert verdict.network == FP32_BF16 and verdict.precision == "fp32"
    assert verdict.fp32_kernels == "bf16"
    far = _trial(FP32_BF16, 700, invariance=0.99999, mean=0.9999, low=0.9995)
    assert choose([_trial(FP32, 400), far]).fp32_kernels == "f32"


def test_the_fastest_passing_network_wins_and_the_reason_names_the_others():
    verdict = choose(
        [
            _trial(FP32, 400),
            _trial(FP32_BF16, 700, low=0.99995),
            _trial(INT8, 868, mean=0.998, low=0.99),
        ]
    )
    assert verdict.network == INT8
    assert "float MiniLM on bfloat16 kernels passed its check too, at 700 texts/s" in verdict.reason
    # the AMX figures: int8 slower than float on bf16 kernels
    verdict = choose(
        [_trial(FP32, 400), _trial(FP32_BF16, 1391, low=0.99995), _trial(INT8, 868, low=0.99)]
    )
    assert verdict.network == FP32_BF16
    assert "int8 MiniLM passed its check but ran 868 texts/s against 1391" in verdict.reason


def test_a_network_that_cannot_run_here_is_recorded_not_chosen():
    verdict = choose([_trial(FP32, 400), _trial(INT8, 0, error="RuntimeError: no int8 kernels")])
    assert verdict.network == FP32 and "no int8 kernels" in verdict.reason
    with pytest.raises(ValueError, match="reference"):
        choose([_trial(INT8, 900)])


def test_a_verdict_survives_its_file_and_a_broken_file_means_measure_again(tmp_path):
    verdict = choose([_trial(FP32, 400), _trial(INT8, 600, mean=0.998, low=0.99)])
    verdict.machine, verdict.measured_at = "avx2 fma | FP32 INT8", "2026-12-05T08:00:00Z"
    path = tmp_path / "minilm-choice-x.json"
    network_choice.save_verdict(path, verdict)
    assert network_choice.load_verdict(path) == verdict
    path.write_text("{not json")
    assert network_choice.load_verdict(path) is None
    assert network_choice.load_verdict(tmp_path / "missing.json") is None


def test_the_verdict_key_names_the_instruction_sets_so_a_copied_cache_is_measured_again():
    avx2 = network_choice.verdict_key("net", "avx avx2 fma | FP32 INT8")
    amx = network_choice.verdict_key("net", "amx_bf16 amx_int8 avx512_vnni | BF16 FP32 INT8")
    assert avx2 != amx
    assert avx2 == network_choice.verdict_key("net", "avx avx2 fma | FP32 INT8")
    assert avx2 != network_choice.verdict_key("other-net", "avx avx2 fma | FP32 INT8")
    flags = network_choice.cpu_flags()
    assert flags and all(" " not in f for f in flags)


def _float_encoder(texts: list[str]) -> np.ndarray:
    rng = np.random.default_rng(7)
    basis = rng.normal(size=(256, 16))
    rows = np.array([basis[[ord(c) % 256 for c in t]].sum(axis=0) for t in texts])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _batch_dependent_encoder(texts: list[str]) -> np.ndarray:
    """Like int8 on the AMX machine: what else is in the batch moves a vector."""
    vectors = _float_encoder(texts)
    if len(texts) > 1:
        vectors = vectors + 0.5 * vectors.mean(axis=0)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_trials_catch_a_batch_dependent_network_and_keep_the_float_one():
    texts = [("word " * n).strip() + str(n) for n in range(1, 120)]
    verdict = network_choice.measure(
        {FP32: lambda: _float_encoder, INT8: lambda: _batch_dependent_encoder}, texts, "test cpu"
    )
    fp32, int8 = verdict.trials
    assert fp32.invariance_min > 0.99999 and fp32.cosine_min > 0.99999
    assert int8.invariance_min < 0.99 and int8.failures()
    assert verdict.network == FP32 and "depends on its batch" in verdict.reason
    assert verdict.machine == "test cpu" and verdict.measured_at.endswith("Z")


def test_trials_record_a_network_that_fails_to_build():
    def broken():
        raise RuntimeError("OpenVINO has no int8 kernels for this CPU")

    verdict = network_choice.measure({FP32: lambda: _float_encoder, INT8: broken}, ["a", "bb"], "x")
    assert verdict.network == FP32 and "no int8 kernels" in verdict.trial(INT8).error


@pytest.mark.parametrize("size", [1, 3, 32])
def test_batches_hold_texts_of_one_length_so_nothing_is_padded(size):
    lengths = [5, 9, 5, 128, 9, 5, 5, 1, 128, 5]
    batches = equal_length_batches(lengths, size)
    covered = np.concatenate(batches)
    assert sorted(covered.tolist()) == list(range(len(lengths)))  # every text exactly once
    for batch in batches:
        assert 1 <= len(batch) <= size
        assert len({lengths[i] for i in batch}) == 1
    assert equal_length_batches([], size) == []


def test_a_verdict_says_which_kernels_the_float_network_uses():
    assert Verdict(FP32, "r").fp32_kernels == "f32"
    assert Verdict(INT8, "r").precision == "int8"
