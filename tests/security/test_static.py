"""Source scans: SQL is never assembled from values, named queries never run text as SQL
or read files from a parameter, and the dashboard never renders user text as HTML."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("flows", "models", "warehouse", "dashboard")
SQL_METHODS = {"execute", "executemany", "sql", "query"}

# (file relative to the repo, enclosing function, argument as written): why it is safe.
# Every entry needs a reason a reviewer can check; a new one is a design decision.
ALLOWED_DYNAMIC_SQL = {
    ("warehouse/core_tables.py", "fetch_frame", "sql"): (
        "the typed wrapper every core_tables/tracker read goes through; its callers pass named_query(...) "
        "text from warehouse/queries and the values as params (checked below: every call "
        "of fetch_frame passes named_query(...) or a name bound from it)"
    ),
    ("warehouse/db.py", "migrate", "sql"): (
        "DDL read from the package's own warehouse/schema/NNN_*.sql files (schema_files), "
        "never from user input"
    ),
}


def _python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _is_named_query_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "named_query")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "named_query")
        )
        and len(node.args) == 1
    )


def _names_bound_from_named_query(function: ast.AST) -> set[str]:
    """Names a function assigns only from ``named_query(...)`` (or a string constant)."""
    good: set[str] = set()
    bad: set[str] = set()
    for node in ast.walk(function):
        targets: list[ast.AST] = []
        value = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.AugAssign):
            targets, value = [node.target], None
        for target in targets:
            if isinstance(target, ast.Name):
                safe = value is not None and (
                    _is_named_query_call(value)
                    or (isinstance(value, ast.Constant) and isinstance(value.value, str))
                )
                (good if safe else bad).add(target.id)
    return good - bad


def _enclosing_functions(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    """Each node → the innermost function (or the module) it is in."""
    owner: dict[ast.AST, ast.AST] = {}

    def visit(node: ast.AST, scope: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            inner = (
                child
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                else scope
            )
            owner[child] = scope
            visit(child, inner)

    visit(tree, tree)
    return owner


def _safe_sql_argument(arg: ast.AST, scope: ast.AST) -> bool:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return True
    if _is_named_query_call(arg):
        return True
    return isinstance(arg, ast.Name) and arg.id in _names_bound_from_named_query(scope)


def _sql_calls():
    """``(file, function, argument source, line, safe)`` for every call of a method named
    execute/executemany/sql/query (DuckDB connections and relations, duckdb.sql) and of
    the project's own SQL helpers (fetch_frame takes the SQL second)."""
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        owner = _enclosing_functions(tree)
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else None
            )
            if name in SQL_METHODS and node.args:
                arg = node.args[0]
            elif name == "fetch_frame" and len(node.args) >= 2:
                arg = node.args[1]
            else:
                continue
            scope = owner.get(node, tree)
            function = getattr(scope, "name", "<module>")
            yield rel, function, ast.unparse(arg), node.lineno, _safe_sql_argument(arg, scope)


def test_no_sql_is_built_from_strings_at_run_time():
    offenders = []
    for rel, function, arg, line, safe in _sql_calls():
        if safe or (rel, function, arg) in ALLOWED_DYNAMIC_SQL:
            continue
        offenders.append(f"{rel}:{line} in {function}(): SQL argument {arg!r}")
    assert not offenders, (
        "SQL must be a string constant or named_query('query_name') with values as bound parameters "
        "(DESIGN.md §7); these calls pass something else:\n  " + "\n  ".join(offenders)
    )


def test_every_allow_listed_dynamic_sql_still_exists_and_is_justified():
    seen = {(rel, function, arg) for rel, function, arg, _, safe in _sql_calls() if not safe}
    for entry, reason in ALLOWED_DYNAMIC_SQL.items():
        assert entry in seen, f"stale allow-list entry {entry}: remove it"
        assert len(reason) > 40, f"{entry} needs a real justification"


def test_the_scan_catches_assembled_sql():
    """The scanner itself: f-strings, concatenation, % and .format are all caught."""
    bad = [
        'con.execute(f"SELECT * FROM t WHERE a = {x}")',
        'con.execute("SELECT * FROM t WHERE a = " + x)',
        'con.sql("SELECT * FROM t WHERE a = %s" % x)',
        'con.execute("SELECT {}".format(x))',
        'sql = f"SELECT {x}"\ncon.execute(sql)',
        'sql = named_query("a")\nsql += x\ncon.execute(sql)',
    ]
    good = [
        'con.execute("SELECT 1")',
        'con.sql(named_query("a"), params=p)',
        'sql = named_query("a")\ncon.sql(sql)',
    ]
    for source, expected in [(s, False) for s in bad] + [(s, True) for s in good]:
        tree = ast.parse("def f():\n    " + source.replace("\n", "\n    "))
        function = tree.body[0]
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in SQL_METHODS
        ]
        assert calls, source
        assert _safe_sql_argument(calls[-1].args[0], function) is expected, source


def test_named_queries_never_run_text_or_read_files_from_parameters():
    """Inside SQL a bound value is still dangerous when handed to something that runs it
    as SQL (query(), query_table(), PREPARE/EXECUTE) or opens a path (read_csv, glob,
    COPY, ATTACH, INSTALL/LOAD)."""
    dangerous = re.compile(
        r"\b(query|query_table|read_csv\w*|read_json\w*|read_parquet|read_text|read_blob|"
        r"read_xlsx|glob|getenv)\s*\(|\b(PREPARE|EXECUTE|ATTACH|COPY|INSTALL|LOAD|EXPORT|"
        r"IMPORT)\b",
        re.IGNORECASE,
    )
    offenders = []
    for path in sorted((ROOT / "warehouse").rglob("*.sql")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("--", 1)[0]
            if dangerous.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# ------------------------------------------------------------------------------ HTML
def test_the_dashboard_never_renders_html():
    """User text must never reach a renderer that executes HTML: no unsafe_allow_html,
    no st.html, no components.html / components.v1.html / iframe of built markup."""
    pattern = re.compile(
        r"unsafe_allow_html|\bst\.html\s*\(|components(?:\.v1)?\.html\s*\(|"
        r"components(?:\.v1)?\.iframe\s*\(|\.html\s*\(\s*f?[\"']"
    )
    offenders = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
                offenders.append(f"{path.relative_to(ROOT)}:{node.value.lineno} unsafe_allow_html")
        for number, line in enumerate(source.splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(sorted(set(offenders)))


def test_no_link_columns_or_markdown_columns_take_user_text():
    """A LinkColumn renders its cell as a link; none is used on user data."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "dashboard").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "LinkColumn" in line or "ImageColumn" in line
    ]
    assert not offenders, offenders
