"""The departments a theme can be routed to, read from a YAML file and checked on load.

A department is who owns, and can fix, a kind of customer contact: a name, a description
of what it owns, the keywords customers use and, optionally, example sentences, the head
who answers for it (a name or an e-mail address) and what a handled contact costs it per
channel. "Needs triage" is not a department: it is the absence of a confident route (see
``models.routing``).

The file is what a new user would write: a list of departments, a mapping with a
``departments:`` list (and an optional ``default:`` block of costs), or a mapping from
department name to its fields. Costs are optional: a contact whose department and the
default both lack a figure for its channel has an unknown cost (None), never 0.

    org = load_departments("flows/departments.yaml")
    org.names                      # ('Field Operations', 'Network', ...)
    org.cost("Billing", "call")    # 5.2 (its own figure, else the default, else None)

Every mistake in the file is reported at once, each naming the file and the field, e.g.
``departments.yaml: departments[1] (Network) → description: is required``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warehouse.contract import CHANNELS

# an e-mail address (a local part, an @ and a dotted domain) is kept in lower case
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_TOP_LEVEL = {"departments", "default"}
# ${NAME} (or $NAME): the environment variable a secret is read from
_ENV_REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
_WEBHOOK_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?")


class DepartmentsFileError(ValueError):
    """The departments file is missing, is not YAML, or breaks the expected shape."""


def _clean_text(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError(f"{what} is empty")
    return value


class ChannelCosts(BaseModel):
    """GBP per handled contact; a channel left out falls back to the default, else is unknown.
    One field per channel of ``CHANNELS`` (tests/unit/test_contract.py holds them equal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    survey: float | None = Field(default=None, ge=0, le=10_000)
    complaint: float | None = Field(default=None, ge=0, le=10_000)
    email: float | None = Field(default=None, ge=0, le=10_000)
    call: float | None = Field(default=None, ge=0, le=10_000)


class Defaults(BaseModel):
    """Optional fallbacks for every department; any channel may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cost_per_contact: ChannelCosts = ChannelCosts()

    @field_validator("cost_per_contact", mode="before")
    @classmethod
    def _no_costs(cls, value: Any) -> Any:
        return {} if value is None else value


class Department(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=80)
    description: str = Field(max_length=2_000)
    keywords: tuple[str, ...] = Field(default=(), max_length=200)
    examples: tuple[str, ...] = Field(default=(), max_length=200)
    head: str | None = Field(default=None, max_length=200)
    # where this department's digests and alerts are posted besides its head's e-mail: an
    # incoming-webhook URL, or ${NAME} for the environment variable holding it (a webhook
    # URL is a secret: keep it out of a committed file)
    webhook: str | None = Field(default=None, max_length=2_000)
    cost_per_contact: ChannelCosts = ChannelCosts()

    @field_validator("cost_per_contact", mode="before")
    @classmethod
    def _no_costs(cls, value: Any) -> Any:
        return {} if value is None else value

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

    @field_validator("webhook", mode="before")
    @classmethod
    def _webhook(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("should be a webhook URL (https://...) or ${ENV_VAR}")
        value = value.strip()
        if not value:
            return None
        if _ENV_REFERENCE.fullmatch(value) or _WEBHOOK_URL.fullmatch(value):
            return value
        raise ValueError(
            "should be a webhook URL (https://...) or ${ENV_VAR} naming the variable that holds it"
        )

    @property
    def webhook_variable(self) -> str | None:
        """The environment variable the webhook is read from, when it is written ${NAME}."""
        found = _ENV_REFERENCE.fullmatch(self.webhook or "")
        return (found["braced"] or found["bare"]) if found else None

    @field_validator("head", mode="before")
    @classmethod
    def _head(cls, value: Any) -> Any:
        """Any identifier: a name ("Dana Whitfield") or an e-mail address."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("should be a name or an e-mail address")
        value = " ".join(str(value).split())  # an employee number is an identifier too
        if not value:
            return None
        return value.lower() if _EMAIL.match(value) else value


class Organisation(BaseModel):
    """All departments of one organisation, with lookups the weekly review needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Defaults = Defaults()
    departments: tuple[Department, ...] = Field(min_length=1)

    @field_validator("default", mode="before")
    @classmethod
    def _no_default(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="after")
    def _unique_names(self) -> Organisation:
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
        # where messages go is not routing: a webhook added changes nothing here
        dumped = self.model_dump(mode="json", exclude={"departments": {"__all__": {"webhook"}}})
        canonical = json.dumps(dumped, sort_keys=True)
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

    def head(self, name: str) -> str | None:
        return self.get(name).head

    def cost(self, department: str | None, channel: str) -> float | None:
        """GBP per handled contact of ``channel`` for ``department``, or None when unknown.

        ``None`` (a contact still waiting for triage) and departments without their own
        figure for the channel use the default; without one either, the cost is unknown
        (None), so that it is never added up as 0."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
        if department is not None:
            own = getattr(self.get(department).cost_per_contact, channel)
            if own is not None:
                return float(own)
        fallback = getattr(self.default.cost_per_contact, channel)
        return None if fallback is None else float(fallback)

    def cost_rows(self) -> list[dict[str, Any]]:
        """One row per (department, channel) with the cost that applies (None: unknown),
        ready for a frame to join on; the rows with ``department`` None hold the default
        (triage) costs."""
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


def _node(loc: tuple[int | str, ...], data: Any) -> Any:
    node = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(step, str) and isinstance(node, Mapping):
            node = node.get(step)
        else:
            return None
    return node


def _friendly(error: Mapping[str, Any], data: Any) -> str | None:
    """The message for one error, or None when another error already says it better."""
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx") or {}
        # pydantic counts the items that validated, so seven departments with a mistake
        # each would read "has 0": count what the file holds, and let the items speak
        node = _node(tuple(error.get("loc", ())), data)
        actual = len(node) if isinstance(node, list) else ctx.get("actual_length", "?")
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        if kind == "too_short" and isinstance(actual, int) and actual >= (bound or 0):
            return None
        most = "at least" if kind == "too_short" else "at most"
        return f"needs {most} {bound} item(s), has {actual}"
    if kind in ("tuple_type", "list_type"):
        given = error.get("input")
        if given is None:
            return "is empty: list the items under it, each starting with '- '"
        if isinstance(given, Mapping):
            return "should be a list of items (each starting with '- '), not a mapping"
    loc = tuple(error.get("loc", ()))
    if kind in ("model_type", "dict_type") and loc[:1] == ("departments",) and len(loc) == 2:
        given = _excerpt(error.get("input"))
        return f"should be a department's fields (name, description, keywords), got {given}"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def _excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _named(departments: Mapping[Any, Any]) -> list[Any]:
    """``{Billing: {description: ...}}`` → ``[{name: Billing, description: ...}]``."""
    items: list[Any] = []
    for name, fields in departments.items():
        if fields is None:
            fields = {}
        if isinstance(fields, Mapping) and "name" not in fields:
            fields = {"name": str(name), **fields}
        items.append(fields)
    return items


def _normalised(data: Any, source: str) -> dict[str, Any]:
    """The shapes people write, as one: ``{"default": ..., "departments": [...]}``."""
    if isinstance(data, list):
        return {"departments": data}
    if not isinstance(data, Mapping):
        shown = "an empty file" if data is None else f"a {type(data).__name__}"
        raise DepartmentsFileError(
            f"{source}: expected a list of departments (or a 'departments:' list), got {shown}"
        )
    if "departments" in data or "default" in data:
        out = dict(data)
        if isinstance(out.get("departments"), Mapping) and all(
            isinstance(v, Mapping | None) for v in out["departments"].values()
        ):
            out["departments"] = _named(out["departments"])
        return out
    if data and all(isinstance(v, Mapping | None) for v in data.values()):
        return {"departments": _named(data)}
    raise DepartmentsFileError(
        f"{source}: expected a list of departments, a 'departments:' list, or a mapping from "
        f"department name to its fields; found top-level keys {', '.join(map(str, data))}"
    )


def parse_departments(data: Any, source: str = "<departments>") -> Organisation:
    """Validate already-loaded YAML/JSON data; errors name ``source`` and each field."""
    data = _normalised(data, source)
    try:
        return Organisation.model_validate(data)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            message = _friendly(e, data)
            if message is not None:
                lines.append(f"{source}: {_where(tuple(e['loc']), data)}: {message}")
        noun = "problem" if len(lines) == 1 else "problems"
        raise DepartmentsFileError(
            f"{len(lines)} {noun} in the departments file:\n  " + "\n  ".join(lines)
        ) from None


def load_departments(path: str | Path) -> Organisation:
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
