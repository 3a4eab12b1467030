"""A rendering in the team's language of a contact written in another one (issue #16).

Themes, labels and routes never read a rendering: contacts in other languages are placed
by meaning (models/crosslingual.py). A rendering is for the person reading the contact,
shown beside the original, marked as a machine's and named by the engine that made it.

voc renders only where an engine runs offline from what the package registries carry:

* Spanish → English: Apertium's rule-based ``spa-eng`` pair (Debian's ``apertium`` and
  ``apertium-eng-spa``, GPL, run as a separate program). "Me han cobrado dos veces la
  misma factura este mes" → "They have charged me twice the same bill this month".

There is none for German, French, Polish or the rest: no package on PyPI, npm or Debian
ships a translation model for them (every neural translator found fetches its weights
at run time; Apertium has no deu-eng, fra-eng or pol-eng pair, and fr→es→en pivots
read "coupe" as "short"). Those contacts are shown as written, with their language.

Apertium is installed by scripts/setup.sh where apt can run; without it nothing is
rendered and everything else works the same.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# (written in, rendered in) → Apertium's mode for the pair
APERTIUM_PAIRS: dict[tuple[str, str], str] = {("es", "en"): "spa-eng"}
MAX_CHARS = 4000  # a rendering is read, not searched: longer contacts are cut here
TIMEOUT = 120  # seconds for one batch


@dataclass(frozen=True)
class Apertium:
    """One Apertium pair, run on a batch of texts in one process, so a batch costs one
    start-up (about a quarter of a second): each text goes in on a line of its own (its
    own line breaks read as spaces) and Apertium keeps line breaks where they are."""

    mode: str
    binary: str

    @property
    def name(self) -> str:
        return f"apertium {self.mode}"

    def render(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        clean = [" ".join(t[:MAX_CHARS].split()) for t in texts]
        done = subprocess.run(
            [self.binary, "-u", self.mode],
            input="\n".join(clean) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.name} failed: {done.stderr.strip()[:300]}")
        parts = done.stdout.split("\n")
        if len(parts) == len(clean) + 1 and not parts[-1].strip():
            parts = parts[:-1]
        if len(parts) != len(clean):
            raise RuntimeError(f"{self.name} returned {len(parts)} text(s) for {len(clean)}")
        return [" ".join(p.split()) for p in parts]


def _installed(mode: str) -> str | None:
    """The ``apertium`` program, when it and the pair's data are installed."""
    binary = shutil.which("apertium")
    if binary is None:
        return None
    roots = [Path("/usr/share/apertium/modes"), Path("/usr/local/share/apertium/modes")]
    return binary if any((root / f"{mode}.mode").exists() for root in roots) else None


def renderer(written_in: str, team_language: str) -> Apertium | None:
    """The engine that renders ``written_in`` into ``team_language``, if one is installed."""
    mode = APERTIUM_PAIRS.get((written_in, team_language))
    if mode is None:
        return None
    binary = _installed(mode)
    return Apertium(mode, binary) if binary else None


def renderable(languages: Sequence[str], team_language: str) -> dict[str, Apertium]:
    """Of ``languages``, those voc can render into ``team_language`` here, with the engine."""
    out = {}
    for language in sorted(set(languages)):
        engine = renderer(language, team_language)
        if engine is not None:
            out[language] = engine
    return out


def engines_into(team_language: str) -> dict[str, Apertium]:
    """Every language voc can render into ``team_language`` here, with the engine."""
    return renderable([src for src, dst in APERTIUM_PAIRS if dst == team_language], team_language)
