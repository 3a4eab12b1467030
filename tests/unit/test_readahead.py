"""Reading ahead: a file's work done while Prefect starts is exactly the task's work, is
handed over once, and is never trusted for a file that changed or for other settings."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from flows.intake.discover import discover
from flows.intake.readahead import FileJob, ReadAhead, read_and_prepare_file
from flows.intake.sources import ParseOptions

JOB = FileJob(ParseOptions(), bytes(range(32)), 10_000, datetime(2026, 11, 20, 8, 0))
HEADER = "ResponseId,Date,NPS,Comment,Email\n"


@pytest.fixture
def files(tmp_path: Path):
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    for week in (1, 2, 3):
        (surveys / f"nps_w{week}.csv").write_text(
            HEADER
            + f"R{week}1,2026-10-0{week},3,Engineer no-show in week {week},a{week}@example.com\n"
            + f"R{week}2,2026-10-0{week},11,Score out of range,b{week}@example.com\n"
        )
    (surveys / "notes.docx").write_bytes(b"PK\x03\x04 not a survey")
    return discover([str(tmp_path)], None)


def finished(ahead: ReadAhead) -> ReadAhead:
    ahead._thread.join(30)
    assert not ahead._thread.is_alive()
    return ahead


def assert_same(a, b) -> None:
    assert (a.file, a.file_sha256, a.size_bytes) == (b.file, b.file_sha256, b.size_bytes)
    assert_frame_equal(a.batch.feedback, b.batch.feedback)
    assert_frame_equal(a.batch.quarantine, b.batch.quarantine)
    assert a.batch.rows_read == b.batch.rows_read


def test_what_was_read_ahead_is_what_the_task_computes_and_is_handed_over_once(files):
    assert len(files) == 4
    ahead = finished(ReadAhead(files, JOB).start())
    for file in files:
        taken = ahead.take(file, JOB)
        assert taken is not None, file.source_file
        assert_same(taken, read_and_prepare_file(file, JOB))
        assert ahead.take(file, JOB) is None  # once
    unknown = next(f for f in files if f.channel is None)
    assert read_and_prepare_file(unknown, JOB).batch.quarantine["reason_code"].to_list() == [
        "unknown_file"
    ]


def test_other_settings_get_nothing_from_the_read_ahead(files):
    ahead = finished(ReadAhead(files, JOB).start())
    other_key = FileJob(JOB.options, bytes(32), JOB.max_text_chars, JOB.default_date)
    assert ahead.take(files[0], other_key) is None


def test_a_file_changed_since_it_was_read_ahead_is_done_again(files):
    ahead = finished(ReadAhead(files, JOB).start())
    target = next(f for f in files if f.source_file.endswith("nps_w2.csv"))
    stat = target.path.stat()
    target.path.write_text(HEADER + "R21,2026-10-02,9,Now all fine,a2@example.com\n")
    os.utime(target.path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time, new size
    assert ahead.take(target, JOB) is None
    assert read_and_prepare_file(target, JOB).batch.feedback["text"].to_list() == ["Now all fine"]


def test_a_file_that_failed_ahead_is_left_to_the_task(files):
    target = next(f for f in files if f.channel == "survey")
    target.path.unlink()
    ahead = finished(ReadAhead(files, JOB).start())
    assert ahead.take(target, JOB) is None
    with pytest.raises(OSError):
        read_and_prepare_file(target, JOB)  # the task's own attempt reports it


def test_reading_ahead_stops_at_its_budget_and_at_the_first_take(files):
    surveys = [f for f in files if f.channel == "survey"]
    ahead = finished(ReadAhead(surveys, JOB, budget=1).start())
    assert ahead.take(surveys[1], JOB) is None  # past the budget: never read
    assert ahead.take(surveys[0], JOB) is not None

    stopped = ReadAhead(files, JOB)
    assert stopped.take(files[0], JOB) is None  # the flow's tasks began: they do the work
    finished(stopped.start())
    assert stopped._work == {}
