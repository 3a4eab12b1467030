"""Concurrency under load, at test size: while an ingest writes, tracker edits from a
second process all land and reads from a third never see a half-applied run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from test_faults import _env  # noqa: E402

from bench.concurrency import run  # noqa: E402


@pytest.mark.slow
def test_edits_land_and_reads_stay_consistent_during_an_ingest(tmp_path):
    result = run(rows=60_000, edits=40, work=tmp_path, env=_env())
    assert result["ingest_ok"], result["ingest_stderr"]
    assert result["loaded"] == 60_000
    assert result["edits_failed"] == 0, result["failures"]
    assert result["edits_landed"] == 40  # nothing lost
    assert result["reads"] > 5 and result["read_violations"] == 0
