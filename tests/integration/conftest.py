"""Integration tests run the real flows against a real (temporary) Prefect server."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _inside_the_prefect_server(prefect_server: str):
    """Every integration test runs inside the session's Prefect server (tests/conftest.py)."""
    yield
