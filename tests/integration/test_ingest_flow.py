"""The real ingest flow on a real DuckDB file over a mixed folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.config import load_settings
from flows.ingest import run_ingest

PLANTED_PII = [
    "jane.doe@example.com",
    "07700 900123",
    "4111 1111 1111 1111",
    "GB82 WEST 1234 5698 7654 32",
    "LS6 2AB",
]
HOSTILE = ["Robert'); DROP TABLE feedback;--", "<script>alert('x')</script> my bill is wrong"]


def build_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    (inbox / "surveys").mkdir(parents=True)
    (inbox / "complaints").mkdir()
    (inbox / "emails").mkdir()
    (inbox / "calls").mkdir()
    (inbox / "surveys" / "nps_w1.csv").write_text(
        "ResponseId,RecordedDate,NPS,Comment,RecipientEmail\n"
        'R1,2026-10-01 09:00:00,2,"Engineer never came, call me on 07700 900123",jane.doe@example.com\n'
        "R2,2026-10-01 10:00:00,9,Fast install and friendly engineer,sam@example.org\n"
        "R3,2026-10-02 11:00:00,11,Out of range score,kim@example.net\n"
        "R4,yesterday,5,Unparseable date,kim@example.net\n"
        "R5,2026-10-02 12:00:00,6,,lee@example.net\n"
        f'R6,2026-10-03 12:00:00,1,"{HOSTILE[0]}",bob@example.net\n'
        f'R7,2026-10-03 13:00:00,1,"{HOSTILE[1]}",bob@example.net\n'
    )
    # the next week's export overlaps the first by one response
    (inbox / "surveys" / "nps_w2.csv").write_text(
        "ResponseId,RecordedDate,NPS,Comment,RecipientEmail\n"
        "R2,2026-10-01 10:00:00,9,Fast install and friendly engineer,sam@example.org\n"
        "R8,2026-10-08 09:00:00,3,Charged twice for October,amy@example.com\n"
    )
    (inbox / "complaints" / "cases.csv").write_text(
        "Case Number,Date Opened,Contact Email,Subject,Description\n"
        'C1,2026-10-05,jane.doe@example.com,Card charged twice,"Card 4111 1111 1111 1111 was charged twice, I live at LS6 2AB"\n'
        'C2,2026-10-05,ann@example.com,Refund,"Refund to GB82 WEST 1234 5698 7654 32 never came"\n'
        "C3,2026-10-06,ann@example.com,Broken,line,with,too,many,fields\n"
        'C4,2026-10-06,max@example.com,Log,"' + "x" * 200_000 + '"\n'
    )
    (inbox / "complaints" / "corrupt.csv").write_bytes(bytes(range(256)) * 20)
    (inbox / "complaints" / "webform.jsonl").write_text(
        json.dumps(
            {
                "id": "W1",
                "submitted_at": "2026-10-07T08:00:00Z",
                "customer": {"email": "zed@example.com"},
                "message": "My router has not arrived",
            }
        )
        + "\n"
        + "{broken json\n"
    )
    (inbox / "surveys" / "questions.docx").write_bytes(b"PK\x03\x04 not a survey")
    (inbox / "emails" / "msg1.eml").write_text(
        "From: Jane Doe <jane.doe@example.com>\nTo: support@lumen-broadband.example\n"
        "Subject: Engineer missed again\nDate: Mon, 12 Oct 2026 09:30:00 +0100\nMessage-ID: <m1@example.com>\n\n"
        "Hello, the engineer did not turn up again today.\n\nJane\n"
    )
    (inbox / "calls" / "call_2026-10-09_C1.txt").write_text(
        "Agent: Thanks for calling Lumen, how can I help?\nCustomer: My broadband keeps dropping every evening.\n"
        "Agent: Sorry to hear that, let me check the line.\nCustomer: It has been like this for a week.\n"
    )
    return inbox


@pytest.fixture
def inbox(tmp_path):
    return build_inbox(tmp_path)


def counts(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = {
            "feedback": "SELECT count(*) FROM feedback",
            "quarantine": "SELECT count(*) FROM quarantine",
            "ingest_runs": "SELECT count(*) FROM ingest_runs",
            "ingest_notes": "SELECT count(*) FROM ingest_notes",
        }
        return {table: con.execute(query).fetchall()[0][0] for table, query in sql.items()}
    finally:
        con.close()


def test_mixed_folder_accounting_pii_and_idempotence(inbox, tmp_path):
    settings = load_settings(db=tmp_path / "voc.duckdb")
    results = run_ingest([inbox], settings=settings)
    by_file = {r.source_file: r for r in results}
    # every record read is loaded, a duplicate, or quarantined
    for r in results:
        assert r.rows_read == r.rows_loaded + r.rows_duplicate + r.rows_quarantined, r
    nps1 = by_file["inbox/surveys/nps_w1.csv"]
    nps2 = by_file["inbox/surveys/nps_w2.csv"]
    assert (nps1.rows_read, nps1.rows_quarantined, nps2.rows_read) == (7, 3, 2)
    # files are read in parallel but written in path order: the response both exports hold
    # (R2) is loaded from the first week's file and is a duplicate in the second, every time
    assert (nps1.rows_loaded, nps1.rows_duplicate) == (4, 0)
    assert (nps2.rows_loaded, nps2.rows_duplicate) == (1, 1)
    assert by_file["inbox/complaints/cases.csv"].rows_quarantined == 1
    assert by_file["inbox/complaints/corrupt.csv"].status == "rejected"
    assert by_file["inbox/surveys/questions.docx"].status == "rejected"

    db = settings.db
    con = duckdb.connect(str(db), read_only=True)
    try:
        texts = [r[0] for r in con.execute("SELECT text FROM feedback").fetchall()]
        assert not any(secret in t for t in texts for secret in PLANTED_PII)
        for hostile in HOSTILE:
            assert hostile in texts  # stored as plain text, nothing executed
        runs = con.execute(
            "SELECT sum(rows_read), sum(rows_loaded), sum(rows_duplicate), sum(rows_quarantined) FROM ingest_runs"
        ).fetchall()[0]
        feedback_rows = con.execute("SELECT count(*) FROM feedback").fetchall()[0][0]
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        assert runs[0] == runs[1] + runs[2] + runs[3]
        assert runs[1] == feedback_rows and runs[3] == quarantined
        reasons = dict(
            con.execute(
                "SELECT source_ref, reason_code FROM quarantine WHERE source_file LIKE '%nps_w1.csv'"
            ).fetchall()
        )
        assert reasons == {"R3": "bad_score", "R4": "bad_date", "R5": "empty_text"}
        cut = con.execute("SELECT note FROM ingest_notes").fetchall()
        assert cut == [("text cut from 200000 to 20000 characters",)] or cut[0][0].startswith(
            "text cut from"
        )
        refs = con.execute(
            "SELECT DISTINCT customer_ref FROM feedback WHERE source_ref IN ('R1', 'C1', 'm1@example.com')"
        ).fetchall()
        assert len(refs) == 1  # the same customer across channels
    finally:
        con.close()

    before = counts(db)
    again = run_ingest([inbox], settings=settings)
    assert sum(r.rows_loaded for r in again) == 0
    after = counts(db)
    assert after["feedback"] == before["feedback"] and after["quarantine"] == before["quarantine"]

    # moved and renamed: still nothing new
    moved = tmp_path / "elsewhere" / "archive"
    shutil.copytree(inbox, moved)
    (moved / "surveys" / "nps_w1.csv").rename(moved / "surveys" / "renamed.csv")
    third = run_ingest([moved], settings=settings)
    assert sum(r.rows_loaded for r in third) == 0
    assert counts(db)["feedback"] == before["feedback"]


def test_only_new_skips_files_seen_before(inbox, tmp_path):
    settings = load_settings(db=tmp_path / "voc.duckdb")
    run_ingest([inbox], settings=settings)
    (inbox / "surveys" / "nps_w3.csv").write_text(
        "ResponseId,RecordedDate,NPS,Comment\nR9,2026-10-15 09:00:00,4,Slow speeds again\n"
    )
    results = run_ingest([inbox], settings=settings, only_new=True)
    assert [r.source_file for r in results] == ["inbox/surveys/nps_w3.csv"]
    assert results[0].rows_loaded == 1


def test_map_option_reaches_the_parser(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text(
        "Ref,Opened,Agent notes,What the customer wrote\nA1,2026-10-01,called back,my bill doubled\n"
    )
    settings = load_settings(db=tmp_path / "voc.duckdb")
    [r] = run_ingest(
        [f],
        settings=settings,
        channel="complaint",
        mapping={"text": "What the customer wrote", "id": "Ref"},
    )
    assert r.rows_loaded == 1
    con = duckdb.connect(str(settings.db), read_only=True)
    assert con.execute("SELECT text, source_ref FROM feedback").fetchall() == [
        ("my bill doubled", "A1")
    ]
    con.close()
    assert pl.read_csv(f).height == 1


def test_files_read_ahead_while_prefect_starts_are_read_once(inbox, tmp_path, monkeypatch):
    """The first files are read ahead on a thread while the flow starts; each task takes
    its file's result from there or does the work itself, and no file is read twice."""
    import threading
    from collections import Counter

    import flows.ingest
    import flows.intake.readahead

    reads: Counter = Counter()
    ahead: set[str] = set()
    real = flows.intake.readahead.read_and_prepare_file

    def counted(file, job):
        reads[file.source_file] += 1
        if threading.current_thread().name == "voc-read-ahead":
            ahead.add(file.source_file)
        return real(file, job)

    monkeypatch.setattr(flows.intake.readahead, "read_and_prepare_file", counted)
    monkeypatch.setattr(flows.ingest, "read_and_prepare_file", counted)
    settings = load_settings(db=tmp_path / "voc.duckdb")
    results = run_ingest([inbox], settings=settings)
    assert sorted(reads) == sorted(r.source_file for r in results)
    assert set(reads.values()) == {1}
    assert "inbox/calls/call_2026-10-09_C1.txt" in ahead  # the first file, in path order
    assert flows.intake.readahead._current is None  # nothing kept after the run
    nps1 = next(r for r in results if r.source_file == "inbox/surveys/nps_w1.csv")
    assert (nps1.rows_read, nps1.rows_loaded, nps1.rows_quarantined) == (7, 4, 3)
