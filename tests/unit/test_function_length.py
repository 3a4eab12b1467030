"""No product function is over 80 lines unless a comment says why (#19).

The rule: every function or method in ``flows/``, ``models/``, ``dashboard/`` and
``warehouse/`` is at most 80 lines long, counted from its ``def`` line to its last line.
A function may be longer only when one of the comment lines among its first
``MARKER_WINDOW`` lines (from the ``def``, so a docstring may come first) contains the
marker ``long:`` followed by the reason, for example::

    def write_qualtrics(...):
        \"\"\"Write the Qualtrics export.\"\"\"
        # long: one file format written column by column, in the order the export has them

Split a function that does several jobs into well-named helpers instead; keep the marker
for a body whose natural shape is one long sequence of steps.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("flows", "models", "dashboard", "warehouse")
MAX_LINES = 80
MARKER = "long:"
MARKER_WINDOW = 15


def _comment_lines(source: str) -> dict[int, str]:
    """Line number -> comment text, for every comment in the source."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string for t in tokens if t.type == tokenize.COMMENT}


def _too_long(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    comments = _comment_lines(source)
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = node.end_lineno - node.lineno + 1
        if length <= MAX_LINES:
            continue
        window = range(node.lineno, node.lineno + MARKER_WINDOW)
        if any(MARKER in comments.get(line, "") for line in window):
            continue
        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_long_function_without_a_reason():
    too_long = [
        hit
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for hit in _too_long(path)
    ]
    assert not too_long, (
        f"functions over {MAX_LINES} lines with no '# {MARKER} <why>' comment near the top "
        "(split them, or say why they stay long):\n" + "\n".join(too_long)
    )


def test_the_marker_is_found_only_in_a_comment():
    """A string that mentions the marker is not a reason; a comment is."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    in_string = f'def f():\n    """long: not a comment"""\n{body}\n'
    in_comment = f"def f():\n    # long: one format, step by step\n{body}\n"
    assert _comment_lines(in_string) == {}
    assert 2 in _comment_lines(in_comment)
