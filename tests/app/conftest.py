"""Dashboard tests: a sample warehouse (built once, copied per test) and AppTest helpers.

The warehouse comes from ``dashboard_sample.build``: 8 weeks of contacts, 5 departments,
an emerging theme, a theme in triage, a low-confidence route, a fixed-and-verified issue,
an overdue one and quarantined rows, plus the demo users (password ``DEMO_PASSWORD``)."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APP = ROOT / "dashboard" / "app.py"
sys.path.insert(0, str(HERE))

from dashboard_sample import Sample  # noqa: E402

PAGES = {
    "this_week": "pages/this_week.py",
    "theme_explorer": "pages/theme_explorer.py",
    "triage": "pages/triage.py",
    "tracker": "pages/tracker.py",
    "cost": "pages/cost.py",
    "data_quality": "pages/data_quality.py",
}


@pytest.fixture
def sample(sample_template: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sample:
    """A fresh copy of the sample warehouse for this test, named by ``VOC_DB``."""
    path = tmp_path / "dashboard" / "voc.duckdb"
    path.parent.mkdir()
    shutil.copy(sample_template.path, path)
    monkeypatch.setenv("VOC_DB", str(path))
    monkeypatch.setenv("VOC_LOCK_TIMEOUT", "30")
    return dataclasses.replace(sample_template, path=path)


@pytest.fixture
def signed_in() -> Callable:
    """``signed_in(username)`` → an AppTest of the dashboard on ``VOC_DB``, already run,
    signed in as ``username`` (the sign-in form is skipped the way streamlit-authenticator
    allows; the role still comes from the users table). ``None`` shows the sign-in page."""
    from streamlit.testing.v1 import AppTest

    def make(username: str | None):
        at = AppTest.from_file(str(APP), default_timeout=60)
        if username:
            at.session_state["authentication_status"] = True
            at.session_state["username"] = username
            at.session_state["name"] = username
            at.session_state["logout"] = None
        return at.run()

    return make


@pytest.fixture
def app(sample: Sample, signed_in: Callable) -> Callable:
    """``app(username, page=None)``: the dashboard on a copy of the sample warehouse."""

    def make(username: str | None, page: str | None = None):
        at = signed_in(username)
        if page:
            at.switch_page(PAGES[page]).run()
        return at

    return make


@pytest.fixture
def viewers():
    from dashboard.data import Viewer

    return {
        "admin": Viewer("admin", "Demo Admin", "admin"),
        "analyst": Viewer("analyst", "Insight Analyst", "analyst"),
        "network": Viewer("head.network", "Head of Network", "head", "Network"),
        "billing": Viewer("head.billing", "Head of Billing", "head", "Billing"),
    }


@pytest.fixture
def page_text() -> Callable:
    return _texts


@pytest.fixture
def pipeline_writing() -> Callable:
    return _pipeline_writing


def _texts(at) -> str:
    """Every piece of text an AppTest rendered, joined (for "is it on the page" checks)."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "text",
        "info",
        "success",
        "warning",
        "error",
    ):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value}" for m in at.metric)
    # user text is markdown-escaped on the page ("Wi\\-Fi"): compare the words
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


@contextmanager
def _pipeline_writing(db: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """Another process (as a flow would) holds the warehouse in a write transaction for
    ``seconds``; yields once it holds it."""
    code = (
        "import sys, time\n"
        "from warehouse import Warehouse\n"
        "with Warehouse(sys.argv[1], lock_timeout=30).write() as con:\n"
        "    con.execute(\"UPDATE ingest_runs SET message = 'weekly run writing' WHERE false\")\n"
        "    print('holding', flush=True)\n"
        "    time.sleep(float(sys.argv[2]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "holding", f"the writer did not start: {line!r}"
        started = time.monotonic()
        yield proc
        # let the test see how long it waited, if it wants to
        proc.held_for = time.monotonic() - started  # type: ignore[attr-defined]
    finally:
        try:
            proc.wait(timeout=seconds + 30)
        finally:
            if proc.poll() is None:
                proc.kill()
