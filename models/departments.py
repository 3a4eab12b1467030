"""The departments a theme can be routed to, read from a YAML file and checked on load.

A department is who owns, and can fix, a kind of customer contact: a name, a description
of what it owns, the keywords and example sentences customers use, the head who answers
for it, and what a handled contact costs it per channel. "Needs triage" is not a
department: it is the absence of a confident route (see ``models.routing``).

    book = load_departments("flows/departments.yaml")
    book.names                      # ('Field Operations', 'Network', ...)
    book.cost("Billing", "call")    # 5.2 (the department's own figure, else the default)

Every mistake in the file is reported at once, each naming the file and the field, e.g.
``departments.yaml: departments[2] (Billing) → head: 'billing' is not an e-mail address``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Channel = Literal["survey", "complaint", "email", "call"]
CHANNELS: tuple[str, ...] = ("survey", "complaint", "email", "call")
# a plain check: an address with a local part, an @ and a dotted domain; no DNS, no IDN rules
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class DepartmentsFileError(ValueError):
    """The departments file is missing, is not YAML, or breaks the expected shape."""


def _clean_text(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError(f"{what} is empty")
    return value


class ChannelCosts(BaseModel):
    """GBP per handled contact; a channel left out falls back to the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    survey: float | None = Field(default=None, ge=0, le=10_000)
    complaint: float | None = Field(default=None, ge=0, le=10_000)
    email: float | None = Field(default=None, ge=0, le=10_000)
    call: float | None = Field(default=None, ge=0, le=10_000)


class DefaultCosts(ChannelCosts):
    """The global fallback: every channel must have a figure."""

    survey: float = Field(ge=0, le=10_000)
    complaint: float = Field(ge=0, le=10_000)
    email: float = Field(ge=0, le=10_000)
    call: float = Field(ge=0, le=10_000)


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cost_per_contact: DefaultCosts


class Department(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=80)
    description: str = Field(max_length=2_000)
    keywords: tuple[str, ...] = Field(default=(), max_length=200)
    examples: tuple[str, ...] = Field(default=(), max_length=200)
    head: str
    cost_per_contact: ChannelCosts = ChannelCosts()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _clean_text(value, "the name")

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _clean_text(value, "the description")

    @field_validator("keywords", "examples", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # `keywords: billing` is a list of one, not of letters
            return [value]
        return [] if value is None else value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for position, keyword in enumerate(value):
            cleaned = " ".join(str(keyword).lower().split())
            if not cleaned:
                raise ValueError(f"keyword {position + 1} is empty")
            seen.setdefault(cleaned, cleaned)  # duplicates are harmless: keep the first
        return tuple(seen)

    @field_validator("examples")
    @classmethod
    def _examples(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_clean_text(str(e), f"example {i + 1}") for i, e in enumerate(value))

    @field_validator("head")
    @classmethod
    def _head(cls, value: str) -> str:
        value = value.strip()
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.lower()


class DepartmentBook(BaseModel):
    """All departments of one organisation, with lookups the weekly review needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Defaults
    departments: tuple[Department, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> DepartmentBook:
        seen: dict[str, str] = {}
        for department in self.departments:
            key = department.name.casefold()
            if key in seen:
                raise ValueError(
                    f"two departments are called {department.name!r}; names must be unique"
                )
            seen[key] = department.name
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.departments)

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything routing or costing depends on changes."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def __len__(self) -> int:
        return len(self.departments)

    def __iter__(self) -> Iterator[Department]:  # type: ignore[override]
        return iter(self.departments)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def _find(self, name: str) -> Department | None:
        key = name.strip().casefold()
        return next((d for d in self.departments if d.name.casefold() == key), None)

    def get(self, name: str) -> Department:
        """The department called ``name`` (case-insensitive); KeyError naming the choices."""
        found = self._find(name)
        if found is None:
            raise KeyError(f"no department called {name!r}; known: {', '.join(self.names)}")
        return found

    def canonical_name(self, name: str) -> str:
        """The name as spelt in the file, e.g. for an analyst's 'billing'."""
        return self.get(name).name

    def head(self, name: str) -> str:
        return self.get(name).head

    def cost(self, department: str | None, channel: str) -> float:
        """GBP per handled contact of ``channel`` for ``department``.

        ``None`` (a contact still waiting for triage) and departments without their own
        figure for the channel use the default, so every contact has a cost."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
        if department is not None:
            own = getattr(self.get(department).cost_per_contact, channel)
            if own is not None:
                return float(own)
        return float(getattr(self.default.cost_per_contact, channel))

    def cost_rows(self) -> list[dict[str, Any]]:
        """One row per (department, channel) with the cost that applies, ready for a frame
        to join on; the rows with ``department`` None hold the default (triage) costs."""
        rows = [
            {"department": d.name, "channel": c, "cost_per_contact": self.cost(d.name, c)}
            for d in self.departments
            for c in CHANNELS
        ]
        rows += [
            {"department": None, "channel": c, "cost_per_contact": self.cost(None, c)}
            for c in CHANNELS
        ]
        return rows


def _where(loc: tuple[int | str, ...], data: Any) -> str:
    """``('departments', 2, 'head')`` → ``departments[2] (Billing) → head``."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and 0 <= step < len(node):
                node = node[step]
                if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                    label += f" ({node['name']})"
            else:
                node = None
            parts.append(label)
        else:
            parts.append(("" if not parts else " → ") + str(step))
            node = node.get(step) if isinstance(node, Mapping) else None
    return "".join(parts) or "(top level)"


def _friendly(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx") or {}
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        most = "at least" if kind == "too_short" else "at most"
        return f"needs {most} {bound} item(s), has {ctx.get('actual_length', '?')}"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def parse_departments(data: Any, source: str = "<departments>") -> DepartmentBook:
    """Validate already-loaded YAML/JSON data; errors name ``source`` and each field."""
    if not isinstance(data, Mapping):
        raise DepartmentsFileError(
            f"{source}: expected a mapping with 'default' and 'departments', "
            f"got {type(data).__name__}"
        )
    try:
        return DepartmentBook.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_where(tuple(e['loc']), data)}: {_friendly(e)}" for e in exc.errors()]
        noun = "problem" if len(lines) == 1 else "problems"
        raise DepartmentsFileError(
            f"{len(lines)} {noun} in the departments file:\n  " + "\n  ".join(lines)
        ) from None


def load_departments(path: str | Path) -> DepartmentBook:
    """Read and validate a departments YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DepartmentsFileError(f"{path}: no such departments file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DepartmentsFileError(f"{path}: cannot read the departments file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DepartmentsFileError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_departments(data, source=str(path))
