"""Named SQL queries kept in ``queries/*.sql`` (the aiosql idea in a few lines).

A file holds blocks that start with ``-- name: some_query``; the text up to the next
``-- name:`` is the query. Values are always bound parameters, never formatted in.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

QUERY_DIR = Path(__file__).resolve().parent / "queries"
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_named_queries(text: str, origin: str = "<text>") -> dict[str, str]:
    queries: dict[str, str] = {}
    marks = list(_NAME.finditer(text))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end() : end].strip()
        name = mark.group(1)
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice in {origin}")
        if not body:
            raise ValueError(f"query {name!r} in {origin} is empty")
        queries[name] = body
    return queries


@cache
def all_queries(directory: Path = QUERY_DIR) -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        for name, body in parse_named_queries(path.read_text(encoding="utf-8"), path.name).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined in two files (latest: {path.name})")
            queries[name] = body
    return queries


def named_query(name: str) -> str:
    """The SQL text of the named query."""
    try:
        return all_queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in {QUERY_DIR}") from None
