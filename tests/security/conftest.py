"""Security tests (issue #8): hostile values in every user-controlled field, department
isolation, secrets and the inbox boundary.

Fixtures here reuse the dashboard's sample warehouse (``tests/app/dashboard_sample.py``,
built once per session and copied per test) and the session's Prefect server
(``prefect_server`` in ``tests/conftest.py``, started only by the tests that run a flow).
What the tests import (payloads, checks) lives in ``security_checks.py``."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "app") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "app"))

from dashboard_sample import Sample  # noqa: E402
from security_checks import APP, PAGES  # noqa: E402


# ---------------------------------------------------------------------- warehouses
@pytest.fixture
def sample(sample_template: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sample:
    """A fresh copy of the dashboard's sample warehouse, named by ``VOC_DB``."""
    path = tmp_path / "sample" / "voc.duckdb"
    path.parent.mkdir()
    shutil.copy(sample_template.path, path)
    monkeypatch.setenv("VOC_DB", str(path))
    monkeypatch.setenv("VOC_LOCK_TIMEOUT", "30")
    return dataclasses.replace(sample_template, path=path)


# ------------------------------------------------------------------------ dashboard
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
def dashboard(sample: Sample) -> Callable:
    """``dashboard(username, page=None, query=None)`` → an AppTest of the dashboard on a
    copy of the sample warehouse, signed in the way streamlit-authenticator allows (the
    role still comes from the users table)."""
    from streamlit.testing.v1 import AppTest

    def make(username: str | None, page: str | None = None, query: dict | None = None):
        at = AppTest.from_file(str(APP), default_timeout=90)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        if username:
            at.session_state["authentication_status"] = True
            at.session_state["username"] = username
            at.session_state["name"] = username
            at.session_state["logout"] = None
        at.run()
        if page:
            at.switch_page(PAGES[page]).run()
        return at

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The everyday lane (``-m "not slow"``) runs each parametrized security check with
    its first case (a payload, a page, a viewer); the full run sweeps them all."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            callspec is not None
            and HERE in Path(item.path).parents
            and any(index >= 1 for index in callspec.indices.values())
        ):
            item.add_marker(pytest.mark.slow)
