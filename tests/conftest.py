"""Shared test setup: a quiet, offline environment and throwaway warehouses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import flows.runtime

# the test session is an entry point like `voc`: offline, no telemetry, before Prefect loads
flows.runtime.quiet_environment()

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def warehouse(tmp_path: Path):
    from warehouse import Warehouse

    return Warehouse(tmp_path / "voc.duckdb", lock_timeout=20)


@pytest.fixture
def customer_key() -> bytes:
    return bytes(range(32))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own warehouse path and key; nothing touches ./data."""
    monkeypatch.setenv("VOC_DB", str(tmp_path / "voc.duckdb"))
    monkeypatch.delenv("VOC_CUSTOMER_KEY", raising=False)
    yield


@pytest.fixture(scope="session")
def shared_data():
    """Path into ../shared/data (real public data sets); fails loudly if it is missing.
    Every test that needs it, itself or through another fixture, is marked
    ``shared_data`` (``pytest_collection_modifyitems`` below)."""

    def locate(*parts: str) -> Path:
        path = SHARED_DATA.joinpath(*parts)
        assert path.exists(), f"shared data set missing: {path} (clone voc beside ../shared)"
        return path

    return locate


os.environ.setdefault("VOC_LOCK_TIMEOUT", "30")


@pytest.fixture(scope="session", autouse=True)
def _session_model_cache(tmp_path_factory):
    """MiniLM's compiled networks are built once per test session in a folder of its own
    (every voc process a test starts inherits it), never in the user's cache."""
    os.environ["VOC_MODEL_CACHE"] = str(tmp_path_factory.mktemp("model-cache"))
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read ../shared/data say so: ``-m "not shared_data"`` runs without it."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)
