"""Who may import whom (DESIGN.md §2): models/ and warehouse/ import nothing from flows/ or
dashboard/, and a flow imports no other flow (only the pipeline that chains them and the
schedule that deploys them do)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the modules that define Prefect flows
FLOWS = {"ingest", "notify", "pipeline", "serve", "topics", "urgent", "weekly"}
# they run the other flows by design: `voc run` and the demo chain them, `voc serve`
# deploys them
CHAINS = {"pipeline", "serve"}


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (lazy imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_models_and_warehouse_import_nothing_above_them():
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("models", "warehouse")
        for path in (ROOT / package).rglob("*.py")
        for name in imports_of(path)
        if name.split(".")[0] in ("flows", "dashboard")
    }
    assert not offending, sorted(offending)


def test_no_flow_imports_another_flow():
    offending = {
        f"flows/{flow}.py imports {name}"
        for flow in FLOWS - CHAINS
        for name in imports_of(ROOT / "flows" / f"{flow}.py")
        if name.startswith("flows.") and name.split(".")[1] in FLOWS - {flow}
    }
    assert not offending, sorted(offending)


def _defines_a_flow(path: Path) -> bool:
    return any(
        isinstance(node, ast.FunctionDef)
        and any(
            (isinstance(d, ast.Call) and getattr(d.func, "id", None) == "flow")
            or getattr(d, "id", None) == "flow"
            for d in node.decorator_list
        )
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def test_every_module_with_a_flow_is_known_here():
    with_flows = {path.stem for path in (ROOT / "flows").glob("*.py") if _defines_a_flow(path)}
    assert with_flows == FLOWS


def test_flows_sit_at_the_top_of_flows_and_their_parts_below():
    """flows/*.py holds the flows and their glue; the packages beneath it (intake/, cli/,
    sample_company/) hold parts a flow or the CLI calls, and define no flow themselves."""
    nested = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "flows").rglob("*.py")
        if path.parent != ROOT / "flows" and _defines_a_flow(path)
    )
    assert not nested, nested
