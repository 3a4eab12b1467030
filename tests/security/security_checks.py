"""What the security tests share: hostile payloads, the dashboard's pages, and checks on
a warehouse (row counts, nothing dropped) and on what an AppTest run rendered.

Kept out of ``conftest.py`` so the tests can import it by a name of its own: a bare
``from conftest import`` gets whichever directory's conftest pytest loaded last (the
one in tests/app when both directories are collected in that order)."""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APP = ROOT / "dashboard" / "app.py"
if str(HERE.parent / "app") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "app"))

from dashboard_sample import THEMES  # noqa: E402

__all__ = ["THEMES"]  # re-exported for the tests


PAGES = {
    "this_week": "pages/this_week.py",
    "theme_explorer": "pages/theme_explorer.py",
    "triage": "pages/triage.py",
    "tracker": "pages/tracker.py",
    "cost": "pages/cost.py",
    "data_quality": "pages/data_quality.py",
}


# Classic SQL-injection payloads, placeholders of every paramstyle DuckDB and Python
# drivers know, template syntax, look-alike quotes and a NUL.
SQL_PAYLOADS = [
    "'); DROP TABLE feedback;--",
    "1 OR 1=1",
    '" OR ""="',
    "' OR '1'='1",
    "Robert'); DELETE FROM issues WHERE ('1'='1",
    "$1",
    "?",
    "%s",
    "${x}",
    "$issue_id",
    ":name",
    "\\'; SELECT 1;--",
    "‘); DROP TABLE themes;--’ “x” ＇ ＂",
    "nul\x00byte'; DROP TABLE users;--",
]


# What a browser (or Streamlit's markdown) could turn into markup, links or script.
HTML_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** [link](javascript:alert(1))",
]


# What Rich (the CLI's console) would read as markup instead of text.
RICH_PAYLOADS = ["[bold]not bold[/bold]", "[/]", "[link=https://evil.example]click[/link]"]


def payload_id(value: str) -> str:
    """A readable pytest id for a payload."""
    return re.sub(r"[^A-Za-z0-9]+", "_", value.encode("unicode_escape").decode())[:30] or "x"


def table_counts(db: Path) -> dict[str, int]:
    """Every table of the warehouse with its row count (no SQL text built from names)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return {name: con.table(name).count("*").fetchall()[0][0] for name in sorted(names)}
    finally:
        con.close()


def fetch(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def assert_intact(db: Path, before: dict[str, int], *, changed: dict[str, int] | None = None):
    """Every table still exists; row counts are as before plus the expected ``changed``
    deltas (``{table: rows added}``)."""
    after = table_counts(db)
    assert set(after) == set(before), f"tables changed: {set(before) ^ set(after)}"
    expected = dict(before)
    for name, delta in (changed or {}).items():
        expected[name] += delta
    assert after == expected, {k: (expected[k], after[k]) for k in after if after[k] != expected[k]}


def walk(node) -> Iterator:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


def everything_rendered(at) -> str:
    """Every string an AppTest run sent to the browser: element values and labels,
    widget options, dataframe cells and the raw protobufs (chart data, help texts)."""
    parts: list[str] = []
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for attr in ("value", "label", "options", "help", "body", "delta"):
            try:
                value = getattr(node, attr)
            except Exception:  # noqa: BLE001 - not every element has every attribute
                continue
            if value is None or callable(value):
                continue
            if hasattr(value, "to_csv"):
                parts.append(value.to_csv())
            else:
                parts.append(str(value))
    text = "\n".join(parts)
    # protobuf text format escapes non-ASCII and quotes; undo the common escapes too
    return text + "\n" + re.sub(r"\\(.)", r"\1", text)


# Elements whose text Streamlit renders as (GitHub-flavoured) markdown.
MARKDOWN_KINDS = (
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "info",
    "success",
    "warning",
    "error",
)


def markdown_strings(at) -> list[tuple[str, str]]:
    """``(what, markdown source)`` for every string the browser renders as markdown:
    text elements, alerts, metric labels/values/deltas, widget labels, tab and expander
    labels, button labels."""
    out: list[tuple[str, str]] = []
    for kind in MARKDOWN_KINDS:
        for element in getattr(at, kind):
            out.append((kind, str(element.value)))
    for metric in at.metric:
        out.append(("metric.label", str(metric.label)))
        out.append(("metric.value", str(metric.value)))
        if metric.delta:
            out.append(("metric.delta", str(metric.delta)))
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        label = getattr(proto, "label", None) if proto is not None else None
        if isinstance(label, str) and label:
            out.append((f"{type(node).__name__}.label", label))
    return out


def rendered_text(markdown_source: str) -> tuple[str, str]:
    """``(html, visible text)`` of a markdown string rendered the way Streamlit does
    without ``unsafe_allow_html`` (CommonMark + GFM tables/strikethrough, raw HTML off)."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    rendered = parser.render(markdown_source)
    visible = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    return rendered, " ".join(visible.split())


def other_department_strings(department: str) -> list[str]:
    """Theme labels, verbatims and issue titles of the sample that belong to other
    departments (or to nobody yet): none may reach a head of ``department``."""
    titles = {
        "Network": ["Evening drop-outs on the network"],
        "Billing": ["Duplicate direct debits", "Price rise letters not sent"],
        "Field Operations": ["Engineer no-shows"],
        "Digital": ["Login loop after password reset"],
        "Customer Service": ["Hold times"],
    }
    labels = {5: "Long hold times on the phone line"}  # renamed by the sample
    out: list[str] = []
    for theme in THEMES:
        if theme.department == department and theme.source != "triage":
            continue
        out.append(labels.get(theme.theme_id, theme.label))
        out.extend(t for t in theme.texts if "<" not in t and "'" not in t)
    for name, items in titles.items():
        if name != department:
            out.extend(items)
    return out
