"""One configuration: the environment is read by ``flows.config.Settings`` alone, and
importing voc changes nothing in it (the CLI and the test session set their quiet
defaults themselves, at start-up)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from flows.process_setup import _QUIET_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("flows", "models", "warehouse", "dashboard")
SETTINGS_MODULE = "flows/config.py"
# Streamlit scripts: importing one runs the page
SCRIPTS = ("dashboard/app.py", "dashboard/pages/")


def _product_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _mentions_environment(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv", "environb"))
        or (isinstance(n, ast.Name) and n.id in ("environ", "getenv"))
        for n in ast.walk(node)
    )


def _voc_names(node: ast.AST) -> list[str]:
    return [
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("VOC_")
    ]


def environment_reads(source: str) -> list[tuple[int, str]]:
    """(line, name) of every ``VOC_`` variable read from the environment in ``source``:
    ``os.environ[...]``, ``os.environ.get(...)``, ``os.getenv(...)``, ``... in
    os.environ``, and the same through ``from os import environ``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript | ast.Call | ast.Compare) and _mentions_environment(node):
            found += [(node.lineno, name) for name in _voc_names(node)]
    return sorted(set(found))


def test_the_scan_finds_every_way_of_reading_a_variable():
    source = (
        "import os\nfrom os import environ, getenv\n"
        "a = os.environ['VOC_A']\n"
        "b = os.environ.get('VOC_B', 'x')\n"
        "c = os.getenv('VOC_C')\n"
        "d = 'VOC_D' in os.environ\n"
        "e = environ.get('VOC_E')\n"
        "f = getenv('VOC_F')\n"
        "g = os.environ.get('HOME')\n"
        "h = {**os.environ, 'VOC_DB': 'x'}\n"  # handing an environment to a child process
    )
    assert [name for _, name in environment_reads(source)] == [
        "VOC_A",
        "VOC_B",
        "VOC_C",
        "VOC_D",
        "VOC_E",
        "VOC_F",
    ]


def test_only_the_settings_read_voc_variables():
    readers = {}
    for path in _product_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == SETTINGS_MODULE:
            continue
        reads = environment_reads(path.read_text(encoding="utf-8"))
        if reads:
            readers[rel] = reads
    assert not readers, f"read VOC_ variables through flows.config.Settings instead: {readers}"


def test_the_settings_read_what_the_product_documents(monkeypatch):
    from flows.config import load_settings

    monkeypatch.setenv("VOC_CRASH_AT", "ingest.writing")
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("VOC_DATE_ORDER", "dmy")
    monkeypatch.setenv("VOC_SOURCE_TIMEZONE", "Europe/London")
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    monkeypatch.delenv("VOC_MODEL_CACHE", raising=False)
    monkeypatch.setenv("VOC_CUSTOMER_KEY", "ab" * 32)
    settings = load_settings()
    assert settings.crash_at == "ingest.writing"
    assert settings.prefect_api_url == "http://127.0.0.1:9/api"
    assert settings.date_order == "dmy" and settings.source_timezone == "Europe/London"
    assert settings.resolved_model_cache == Path("/somewhere/cache/voc/models")
    assert settings.customer_key() == bytes.fromhex("ab" * 32)
    assert {"source_timezone", "date_order"} <= settings.model_fields_set


# imports every product module and reports what changed in os.environ; the libraries
# they import at module level (and the pending embedder) are imported first, so what
# those do to the environment is not counted against voc
_IMPORT_ALL = """
import ast, importlib, json, os, sys
from pathlib import Path

root = Path.cwd()
modules, libraries = [], set()
for package in ("warehouse", "models", "flows", "dashboard"):
    for path in sorted((root / package).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        # scripts: importing one runs it (the Streamlit pages, `python -m flows.cli`)
        if rel == "dashboard/app.py" or rel.startswith("dashboard/pages/") or path.name == "__main__.py":
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                libraries.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                libraries.add(node.module.split(".")[0])
for name in sorted(libraries - {"flows", "models", "warehouse", "dashboard"}):
    importlib.import_module(name)
before = dict(os.environ)
for name in modules:
    importlib.import_module(name)
after = dict(os.environ)
changed = {k: [before.get(k), after.get(k)] for k in set(before) | set(after)
           if before.get(k) != after.get(k)}
print(json.dumps({"modules": len(modules), "changed": changed}))
"""


def test_importing_voc_leaves_the_environment_alone():
    # without the quiet defaults the test session set, so an import that sets them shows
    env = {k: v for k, v in os.environ.items() if k not in _QUIET_DEFAULTS}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["modules"] > 40
    assert report["changed"] == {}


def test_prefects_own_temporary_server_gets_as_long_to_start_as_vocs():
    """The quiet defaults name a setting Prefect reads: a misspelt variable would leave a
    server Prefect starts itself at its 20 s default, which timed out on a busy 2-core
    machine."""
    from flows.process_setup import _STARTUP_TIMEOUT_SECONDS

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = _QUIET_DEFAULTS[
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    ]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from prefect.settings import get_current_settings as s;"
            "print(s().server.ephemeral.startup_timeout_seconds)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) == _STARTUP_TIMEOUT_SECONDS > 20
