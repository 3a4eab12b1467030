"""Urgent contacts: which contacts need a person today, and the words that say so.

Pure logic, no warehouse: the flows read contacts, call these functions and write
``contact_flags``. Two kinds of rule:

* **cues** (legal_threat, regulator, vulnerability, safety, churn_risk and any kind a team
  adds): phrases from one reviewed YAML file (``flows/urgent.yaml``), matched as whole
  words, case-insensitively. A cue does not count when it sits inside a listed non-cue
  ("losing the will to live"), when it is the company's words quoted back ("your letter
  said 'you can go to the Ombudsman'"), or, for kinds whose negation ``cancels``, when a
  negator comes shortly before it in the same clause ("no safety issue"). For kinds whose
  negation is ``ignored`` a denied threat still flags ("I am not going to complain to the
  ombudsman, but...").
* **repeat** (repeat_failure): the nth or later contact by one customer on one top-level
  theme within a window of days, across channels (``repeat_contacts``).

    urgent_cues = load_urgent_cues("flows/urgent.yaml")
    detect("There's no safety issue, but I'll go to Ofcom.", urgent_cues)
    # [Flag(kind='regulator', evidence="There's no safety issue, but I'll go to Ofcom", ...)]
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# how people read the built-in kinds (the dashboard, the digests); a kind a team adds to
# the cue file reads as its own name
KIND_NAMES = {
    "legal_threat": "Legal threat",
    "regulator": "Regulator / ombudsman",
    "vulnerability": "Vulnerable customer",
    "safety": "Safety",
    "repeat_failure": "Repeat failure",
    "churn_risk": "Churn risk",
}

DEFAULT_CUE_FILE = Path(__file__).resolve().parents[1] / "flows" / "urgent.yaml"
# the kinds the contract names (DESIGN.md: contact_flags); a team may add more
CONTRACT_KINDS = (
    "legal_threat",
    "regulator",
    "vulnerability",
    "safety",
    "repeat_failure",
    "churn_risk",
)
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
NEGATION_WINDOW = 4  # words before a cue, within its clause, that may deny it
EVIDENCE_CHARS = 200
_CLAUSE_BREAK = re.compile(r"[.!?;:,\n]|\bbut\b|\bhowever\b|\baber\b|\bmais\b|\bpero\b|\bale\b")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
_QUOTES = re.compile(r"\"([^\"]{1,400})\"|“([^”]{1,400})”|„([^“”]{1,400})[“”]|«([^»]{1,400})»")
_WORD = re.compile(r"[\w']+")


class CueFileError(ValueError):
    """The cue file is missing, is not YAML, or breaks the expected shape; the message
    names the file, the kind and the field."""


def _phrase(pattern: str) -> str:
    """A cue as written in the file → a regex part: a space matches any run of spaces."""
    return re.sub(r" +", r"\\s+", pattern.strip())


def _alternation(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [f"(?:{_phrase(p)})" for p in patterns]
    if not parts:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])", re.IGNORECASE)


class KindRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1, max_length=1_000)
    negation: Literal["cancels", "ignored"]
    cues: list[str] = Field(min_length=1)
    not_cues: list[str] = Field(default_factory=list)

    @field_validator("cues", "not_cues")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        bad = []
        for pattern in value:
            if not isinstance(pattern, str) or not pattern.strip():
                bad.append(f"{pattern!r} (empty)")
                continue
            try:
                compiled = re.compile(_phrase(pattern))
            except re.error as exc:
                bad.append(f"{pattern!r} ({exc})")
                continue
            if compiled.search(""):
                bad.append(f"{pattern!r} (matches empty text)")
        if bad:
            raise ValueError("not a usable pattern: " + "; ".join(bad))
        if len(set(value)) != len(value):
            raise ValueError("a pattern is listed twice")
        return value


class RepeatRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = "repeat_failure"
    nth: int = Field(default=3, ge=2, le=20)
    window_days: int = Field(default=30, ge=1, le=365)
    description: str = ""
    # the customer saying so ("this is the third time I've contacted you") also flags it
    cues: list[str] = Field(default_factory=list)
    not_cues: list[str] = Field(default_factory=list)

    _compiles = field_validator("cues", "not_cues")(KindRule._compiles.__func__)


class CueFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    negators: list[str] = Field(min_length=1)
    company_quote: list[str] = Field(default_factory=list)
    repeat: RepeatRule = RepeatRule()
    kinds: dict[str, KindRule] = Field(min_length=1)

    @field_validator("kinds")
    @classmethod
    def _names(cls, value: dict[str, KindRule]) -> dict[str, KindRule]:
        for name in value:
            if not _KIND_NAME.match(name):
                raise ValueError(f"{name!r}: a kind is lower_snake_case, 2-40 characters")
        return value


@dataclass(frozen=True)
class CompiledKind:
    name: str
    description: str
    negation_cancels: bool
    cues: re.Pattern[str]
    not_cues: re.Pattern[str] | None


@dataclass(frozen=True)
class UrgentCues:
    """The checked, compiled cue file."""

    kinds: tuple[CompiledKind, ...]
    negators: re.Pattern[str]
    company_quote: re.Pattern[str] | None
    repeat_kind: str
    repeat_nth: int
    repeat_window_days: int
    repeat_description: str
    source: str

    @property
    def kind_names(self) -> tuple[str, ...]:
        """Every kind a contact can be flagged with, the repeat kind included."""
        return tuple(dict.fromkeys([*(k.name for k in self.kinds), self.repeat_kind]))

    def describe(self, kind: str) -> str:
        if kind == self.repeat_kind:
            return self.repeat_description
        return next((k.description for k in self.kinds if k.name == kind), "")


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "kinds":
        return f"kinds.{parts[1]}" + (f" → {'.'.join(parts[2:])}" if parts[2:] else "")
    return ".".join(parts) or "(file)"


def parse_urgent_cues(raw: Mapping[str, Any], source: str = "<cues>") -> UrgentCues:
    """Check and compile a cue file already read from YAML. Every mistake is reported at
    once, each naming the kind and the field."""
    if not isinstance(raw, Mapping):
        raise CueFileError(f"{source}: expected a mapping with `kinds:` at the top")
    try:
        model = CueFile.model_validate(dict(raw))
    except ValidationError as exc:
        problems = [f"{source}: {_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CueFileError("\n".join(problems)) from None
    if model.repeat.kind in model.kinds:
        raise CueFileError(f"{source}: repeat.kind {model.repeat.kind!r} is also a cue kind")
    negators = _alternation(model.negators)
    assert negators is not None  # min_length=1
    try:
        quote = (
            re.compile(r"(?:" + "|".join(model.company_quote) + r")\s*[:,]?\s*$", re.IGNORECASE)
            if model.company_quote
            else None
        )
    except re.error as exc:
        raise CueFileError(f"{source}: company_quote: not a usable pattern ({exc})") from None
    kinds = []
    for name, rule in model.kinds.items():
        cues = _alternation(rule.cues)
        assert cues is not None
        kinds.append(
            CompiledKind(
                name=name,
                description=" ".join(rule.description.split()),
                negation_cancels=rule.negation == "cancels",
                cues=cues,
                not_cues=_alternation(rule.not_cues),
            )
        )
    said = _alternation(model.repeat.cues)
    if said is not None:
        kinds.append(
            CompiledKind(
                name=model.repeat.kind,
                description=" ".join(model.repeat.description.split()),
                negation_cancels=True,
                cues=said,
                not_cues=_alternation(model.repeat.not_cues),
            )
        )
    return UrgentCues(
        kinds=tuple(kinds),
        negators=negators,
        company_quote=quote,
        repeat_kind=model.repeat.kind,
        repeat_nth=model.repeat.nth,
        repeat_window_days=model.repeat.window_days,
        repeat_description=" ".join(model.repeat.description.split()),
        source=source,
    )


def load_urgent_cues(path: str | Path = DEFAULT_CUE_FILE) -> UrgentCues:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CueFileError(f"no cue file at {path}") from None
    except yaml.YAMLError as exc:
        raise CueFileError(f"{path.name}: not valid YAML ({exc})") from None
    return parse_urgent_cues(raw or {}, path.name)


# --------------------------------------------------------------------------------------
# cues in text
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Flag:
    kind: str
    evidence: str  # the sentence holding the cue, cut to EVIDENCE_CHARS around it
    cue: str  # the words that matched
    start: int
    end: int


_HASHTAG = re.compile(r"#([A-Za-z][A-Za-z0-9]+)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _normalise(text: str) -> str:
    # typographic apostrophes read as ASCII, so "can’t" meets the cue "can't"; a hashtag
    # reads as its words (#WillNeverFlyWithYou → Will Never Fly With You). Same length is
    # not kept: evidence is cut from the normalised text
    text = text.replace("’", "'").replace("‘", "'")
    return _HASHTAG.sub(lambda m: _CAMEL.sub(" ", m.group(1)), text)


def _company_quote_spans(text: str, urgent_cues: UrgentCues) -> list[tuple[int, int]]:
    """Spans of quoted text that the customer attributes to the company."""
    if urgent_cues.company_quote is None:
        return []
    spans = []
    for m in _QUOTES.finditer(text):
        lead = text[max(0, m.start() - 80) : m.start()]
        if urgent_cues.company_quote.search(lead):
            spans.append((m.start(), m.end()))
    return spans


def _negated(text: str, start: int, urgent_cues: UrgentCues) -> bool:
    before = text[max(0, start - 120) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end() :] if breaks else before
    words = _WORD.findall(clause)[-NEGATION_WINDOW:]
    return any(urgent_cues.negators.fullmatch(w) for w in words)


def _evidence(text: str, start: int, end: int) -> str:
    bounds = [0] + [m.end() for m in _SENTENCE_BREAK.finditer(text)] + [len(text)]
    lo = max(b for b in bounds if b <= start)
    hi = min((b for b in bounds if b >= end), default=len(text))
    lo_cut, hi_cut = lo, hi
    if hi - lo > EVIDENCE_CHARS:
        spare = max(0, EVIDENCE_CHARS - (end - start)) // 2
        lo_cut = max(lo, start - spare)
        hi_cut = min(hi, end + spare)
    out = " ".join(text[lo_cut:hi_cut].split()).strip()
    return ("…" if lo_cut > lo else "") + out + ("…" if hi_cut < hi else "")


def detect(text: str | None, urgent_cues: UrgentCues) -> list[Flag]:
    """The cue kinds this text carries, at most one flag (the first counting cue) per kind."""
    if not text:
        return []
    text = _normalise(text)
    quoted = _company_quote_spans(text, urgent_cues)
    flags = []
    for kind in urgent_cues.kinds:
        excluded = (
            [(m.start(), m.end()) for m in kind.not_cues.finditer(text)] if kind.not_cues else []
        )
        # a cue that does not count is passed by one character, not by its whole match:
        # in "without me having to chase - I had to ring four times" the denied "chase"
        # match must not swallow "ring four times"
        pos = 0
        while (m := kind.cues.search(text, pos)) is not None:
            s, e = m.start(), m.end()
            pos = s + 1
            if any(s < xe and xs < e for xs, xe in excluded):
                continue
            if any(qs <= s and e <= qe for qs, qe in quoted):
                continue
            if kind.negation_cancels and _negated(text, s, urgent_cues):
                continue
            flags.append(Flag(kind.name, _evidence(text, s, e), m.group(0), s, e))
            break
    return flags


# --------------------------------------------------------------------------------------
# repeat contacts
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contact:
    feedback_id: str
    customer_ref: str | None
    top_id: int | None
    received_at: datetime
    channel: str
    theme_label: str = ""


@dataclass(frozen=True)
class RepeatFlag:
    feedback_id: str
    nth: int  # its place among the customer's contacts on the theme within the window
    evidence: str


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def repeat_contacts(
    contacts: Iterable[Contact],
    *,
    nth: int = 3,
    window_days: int = 30,
    unclassified: Iterable[int | None] = (0, None),
) -> list[RepeatFlag]:
    """Contacts that are the ``nth`` or later from the same customer on the same top-level
    theme within ``window_days`` (the window ends at the contact; earlier contacts on any
    channel count). Contacts without a customer, or whose theme is unclassified, are never
    counted: "the same problem" needs both."""
    skip = set(unclassified)
    groups: dict[tuple[str, int], list[Contact]] = defaultdict(list)
    for c in contacts:
        if c.customer_ref and c.top_id not in skip:
            groups[(c.customer_ref, int(c.top_id))].append(c)  # type: ignore[arg-type]
    window = timedelta(days=window_days)
    out = []
    for items in groups.values():
        items.sort(key=lambda c: (c.received_at, c.feedback_id))
        lo = 0
        for i, c in enumerate(items):
            while items[lo].received_at < c.received_at - window:
                lo += 1
            place = i - lo + 1
            if place >= nth:
                earlier = ", ".join(
                    f"{p.received_at:%Y-%m-%d} {p.channel}" for p in items[lo:i][-(nth - 1) :]
                )
                label = f" on “{c.theme_label}”" if c.theme_label else ""
                out.append(
                    RepeatFlag(
                        c.feedback_id,
                        place,
                        f"{_ordinal(place)} contact in {window_days} days{label} "
                        f"(before: {earlier})",
                    )
                )
    out.sort(key=lambda f: f.feedback_id)
    return out
