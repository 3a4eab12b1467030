"""Which MiniLM network runs on this machine: measured once per machine, kept, explained.

OpenVINO compiles the same network to different kernels on different CPUs (AVX2, AVX-512
VNNI, AMX, bfloat16), and which of them wins, or is even right, differs: on one Xeon the
int8 network was the slower one and gave some texts a wrong vector. So nothing here
assumes. The first time a machine needs MiniLM, every network voc can run is tried on a
fixed set of texts against the exact float network (fp32 kernels):

* it must be batch-invariant: each text alone, in batches, and in another order, gets the
  same vector (cosine >= 0.9999);
* the fp32 network on bfloat16 kernels shares the float vectors' name, so it must match
  them (every cosine >= 0.9999);
* the int8 network has vectors of its own name; it must stay close (cosine mean >= 0.995,
  min >= 0.98);
* and a network other than the exact float one must be faster, by a margin above the
  noise of a measurement on a busy machine.

The fastest network that passes runs. The verdict, with its figures and the reason in
words, is saved beside the networks under a key naming what makes it machine-specific
(the instruction sets OpenVINO can use, the number of cores, the library versions), so a
cache copied to another CPU is measured again. ``choose`` is the pure rule; ``measure``
runs the trials.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# the exact float network, the reference every other network is checked against
FP32 = "fp32"
FP32_BF16 = "fp32-bf16"
INT8 = "int8"
NETWORKS = (FP32, FP32_BF16, INT8)

INVARIANCE_MIN = 0.9999  # a text's vector alone vs in any batch, any order
SAME_NAME_MIN = 0.9999  # bf16 kernels may share the float vectors' name only this close
INT8_MEAN_MIN = 0.995
INT8_MIN = 0.98
FASTER_BY = 1.05  # a measurement on 2 busy cores varies a few per cent
CHECK_TEXTS = 256
ALONE_TEXTS = 64  # encoded one by one: the slow part of the check


@dataclass(frozen=True)
class Trial:
    """One network's figures on the check set."""

    network: str
    texts_per_s: float
    invariance_min: float  # lowest cosine of a text alone or reordered vs in its batch
    cosine_mean: float  # against the exact float network
    cosine_min: float
    error: str = ""  # the network could not be built or run here

    def failures(self) -> list[str]:
        if self.error:
            return [self.error]
        out = []
        if self.invariance_min < INVARIANCE_MIN:
            out.append(
                f"a text's vector depends on its batch (cosine {self.invariance_min:.4f} < {INVARIANCE_MIN})"
            )
        if self.network == FP32_BF16 and self.cosine_min < SAME_NAME_MIN:
            out.append(
                f"its vectors differ from the float ones (min cosine {self.cosine_min:.5f} < {SAME_NAME_MIN})"
            )
        if self.network == INT8 and (
            self.cosine_mean < INT8_MEAN_MIN or self.cosine_min < INT8_MIN
        ):
            out.append(
                f"its vectors stray from the float ones (cosine mean {self.cosine_mean:.4f}, "
                f"min {self.cosine_min:.4f}; needs >= {INT8_MEAN_MIN} and >= {INT8_MIN})"
            )
        return out


@dataclass
class Verdict:
    """The network that runs on this machine, and why."""

    network: str
    reason: str
    trials: list[Trial] = field(default_factory=list)
    machine: str = ""
    measured_at: str = ""

    @property
    def precision(self) -> str:
        return INT8 if self.network == INT8 else FP32

    @property
    def fp32_kernels(self) -> str:
        """The kernels the float network runs on here: "bf16" where that passed and won."""
        return "bf16" if self.network == FP32_BF16 else "f32"

    def trial(self, network: str) -> Trial | None:
        return next((t for t in self.trials if t.network == network), None)

    def int8_refusal(self) -> str | None:
        """Why the int8 network must not run here (it failed its check), or None."""
        trial = self.trial(INT8)
        if trial is None:
            return None
        problems = trial.failures()
        return "; ".join(problems) if problems else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        data = json.loads(text)
        data["trials"] = [Trial(**t) for t in data.get("trials", [])]
        return cls(**data)


def _describe(trial: Trial) -> str:
    return {
        FP32: "float MiniLM (fp32 kernels)",
        FP32_BF16: "float MiniLM on bfloat16 kernels",
        INT8: "int8 MiniLM",
    }[trial.network]


def choose(trials: Sequence[Trial]) -> Verdict:
    """The fastest network that passes its check; the exact float one unless another is
    faster by more than ``FASTER_BY``. Pure: the figures in, the verdict and its reason out."""
    by_name = {t.network: t for t in trials}
    reference = by_name.get(FP32)
    if reference is None or reference.error:
        raise ValueError("the exact float network must be measured: it is the reference")
    best = reference
    notes = []
    for trial in trials:
        if trial.network == FP32:
            continue
        problems = trial.failures()
        if problems:
            notes.append(f"{_describe(trial)} failed its check: {'; '.join(problems)}")
            continue
        ratio = trial.texts_per_s / max(best.texts_per_s, 1e-9)
        if ratio >= FASTER_BY:
            if best is not reference:
                notes.append(
                    f"{_describe(best)} passed its check too, at {best.texts_per_s:.0f} texts/s"
                )
            best = trial
        else:
            notes.append(
                f"{_describe(trial)} passed its check but ran {trial.texts_per_s:.0f} texts/s "
                f"against {best.texts_per_s:.0f} ({ratio:.2f}x)"
            )
    if best is reference:
        head = f"{_describe(reference)}: {reference.texts_per_s:.0f} texts/s"
    else:
        head = (
            f"{_describe(best)}: passed its check on this CPU (batch-invariant to "
            f"{best.invariance_min:.5f}; cosine to the float vectors mean {best.cosine_mean:.4f}, "
            f"min {best.cosine_min:.4f}) and ran {best.texts_per_s:.0f} texts/s against "
            f"{reference.texts_per_s:.0f} for fp32 ({best.texts_per_s / reference.texts_per_s:.2f}x)"
        )
    reason = head + ("; " + "; ".join(notes) if notes else "")
    return Verdict(network=best.network, reason=reason, trials=list(trials))


# ------------------------------------------------------------------------ the machine
_ISA_PREFIXES = ("avx", "amx", "fma", "f16c", "sse4", "vnni", "bmi2")


def cpu_flags() -> list[str]:
    """The instruction sets of this CPU that OpenVINO's kernels choose between."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [platform.machine().lower()]
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            flags = line.partition(":")[2].split()
            return sorted({f for f in flags if f.startswith(_ISA_PREFIXES)})
    return [platform.machine().lower()]


def isa_signature(capabilities: Sequence[str]) -> str:
    """What makes a compiled or quantised network machine-specific: the CPU's instruction
    sets and the capabilities OpenVINO reports for it (BF16, INT8, FP16, ...)."""
    return " ".join(cpu_flags()) + " | " + " ".join(sorted(capabilities))


def verdict_key(network_key: str, signature: str) -> str:
    """A verdict holds for these networks on CPUs with this signature and core count."""
    text = f"{network_key}\n{signature}\ncores={os.cpu_count()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def verdict_path(model_dir: Path, key: str) -> Path:
    return model_dir / f"minilm-choice-{key}.json"


def load_verdict(path: Path) -> Verdict | None:
    try:
        return Verdict.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None  # none yet, or from another version of voc: measure again


def save_verdict(path: Path, verdict: Verdict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(verdict.to_json(), encoding="utf-8")
    tmp.replace(path)  # atomic: a concurrent reader sees the old verdict or the new one


# ------------------------------------------------------------------------ the trials
Encode = Callable[[list[str]], np.ndarray]


def trial(
    network: str, encode: Encode, texts: list[str], reference: np.ndarray | None
) -> tuple[Trial, np.ndarray]:
    """Figures for one network on ``texts`` (and its vectors): speed (best of two passes),
    batch invariance (every text in batches, in reverse order, and a spread of texts one
    by one) and, given the float vectors, closeness to them."""
    encode(texts[:64])  # warm up: first inferences allocate
    seconds = []
    vectors = None
    for _ in range(2):
        started = time.perf_counter()
        vectors = encode(texts)
        seconds.append(time.perf_counter() - started)
    assert vectors is not None
    reordered = encode(texts[::-1])[::-1]
    by_length = np.argsort([len(t) for t in texts], kind="stable")
    picks = by_length[np.linspace(0, len(texts) - 1, min(ALONE_TEXTS, len(texts))).astype(int)]
    alone = np.vstack([encode([texts[i]]) for i in picks])
    invariance = min(
        float((vectors * reordered).sum(axis=1).min()),
        float((vectors[picks] * alone).sum(axis=1).min()),
    )
    cosine = (vectors * (vectors if reference is None else reference)).sum(axis=1)
    figures = Trial(
        network=network,
        texts_per_s=round(len(texts) / min(seconds), 1),
        invariance_min=round(invariance, 6),
        cosine_mean=round(float(cosine.mean()), 6),
        cosine_min=round(float(cosine.min()), 6),
    )
    return figures, vectors


def measure(
    encoders: dict[str, Callable[[], Encode]],
    texts: list[str],
    machine: str,
    log: Callable[[str], None] | None = None,
) -> Verdict:
    """Run a trial of each network (``encoders`` maps a network to a function that builds
    its encoder; the float one first) and choose. A network that cannot be built or run
    here is recorded as failed, with the error, and not chosen."""
    reference_vectors = None
    trials = []
    for network, build in encoders.items():
        if log:
            log(f"checking {network} MiniLM on this CPU")
        try:
            result, vectors = trial(network, build(), texts, reference_vectors)
        except Exception as exc:  # a network this machine cannot run is a finding, not a crash
            if network == FP32:
                raise
            result = Trial(network, 0.0, 0.0, 0.0, 0.0, error=f"{type(exc).__name__}: {exc}")
        if network == FP32:
            reference_vectors = vectors
        trials.append(result)
    verdict = choose(trials)
    verdict.machine = machine
    verdict.measured_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return verdict
