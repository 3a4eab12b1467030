"""Security tests (issue #8): hostile values in every user-controlled field, department
isolation, secrets and the inbox boundary.

Fixtures here reuse the dashboard's sample warehouse (``tests/app/dashboard_sample.py``,
built once per session and copied per test) and the Prefect harness pattern of
``tests/integration/conftest.py`` (started only by the tests that run a flow). What the
tests import (payloads, checks) lives in ``security_checks.py``."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "app") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "app"))

from dashboard_sample import Sample, build  # noqa: E402
from security_checks import APP, PAGES  # noqa: E402


# --------------------------------------------------------------------------- Prefect
@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A temporary Prefect server for the tests that run a flow; yields its API URL."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        # the heartbeat thread adds about a second to every flow call
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield str(PREFECT_API_URL.value())


# ---------------------------------------------------------------------- warehouses
@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return build(tmp_path_factory.mktemp("security-sample") / "voc.duckdb")


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
