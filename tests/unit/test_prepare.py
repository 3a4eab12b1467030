"""Validation, cutting, redaction and stable ids, shared by every channel."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from flows.prepare import prepare
from flows.sources import complaint, survey
from flows.sources.base import ParsedSource, records_frame

KEY = bytes(range(32))
NOW = datetime(2026, 11, 24, 12, 0)
FILE_DATE = datetime(2026, 11, 20, 8, 0)


def run(parsed: ParsedSource, **kw):
    return prepare(
        parsed, source_file="f.csv", file_date=FILE_DATE, customer_key=KEY, now=NOW, **kw
    )


def parsed_of(rows, channel="survey"):
    frame = records_frame(rows)
    return ParsedSource(
        channel,
        frame,
        pl.DataFrame(
            schema={
                "source_ref": pl.String,
                "reason_code": pl.String,
                "reason": pl.String,
                "raw_excerpt": pl.String,
            }
        ),
        frame.height,
    )


def test_empty_and_placeholder_answers_are_quarantined():
    batch = run(
        parsed_of(
            [
                {"source_ref": "1", "text": "  "},
                {"source_ref": "2", "text": "N/A"},
                {"source_ref": "3", "text": "..."},
                {"source_ref": "4", "text": "Fine thanks"},
            ]
        )
    )
    assert batch.feedback["source_ref"].to_list() == ["4"]
    assert batch.quarantine["reason_code"].to_list() == ["empty_text"] * 3
    batch.check()


def test_scores_outside_their_range_are_quarantined():
    rows = [
        {"source_ref": "a", "text": "x1", "score": 11.0, "score_kind": "nps"},
        {"source_ref": "b", "text": "x2", "score": -1.0, "score_kind": "nps"},
        {"source_ref": "c", "text": "x3", "score": 7.5, "score_kind": "nps"},
        {"source_ref": "d", "text": "x4", "score": 6.0, "score_kind": "csat"},
        {"source_ref": "e", "text": "x5", "score": 10.0, "score_kind": "nps"},
        {"source_ref": "f", "text": "x6", "score": 5.0, "score_kind": "csat"},
    ]
    batch = run(parsed_of(rows))
    assert batch.feedback["source_ref"].to_list() == ["e", "f"]
    reasons = batch.quarantine.sort("source_ref")["reason"].to_list()
    assert reasons[0] == "score 11.0 is outside the NPS range 0-10 (whole numbers)"
    assert "CSAT range 1-5" in reasons[3]


def test_future_dates_are_quarantined_and_missing_dates_take_the_file_date():
    rows = [
        {"source_ref": "1", "text": "a", "received_at": datetime(2099, 1, 1)},
        {"source_ref": "2", "text": "b"},
    ]
    batch = run(parsed_of(rows))
    assert batch.quarantine["reason"].to_list() == ["date 2099-01-01 is in the future"]
    assert batch.feedback["received_at"].to_list() == [FILE_DATE]


def test_oversized_text_is_cut_with_a_note():
    batch = run(parsed_of([{"source_ref": "1", "text": "word " * 40_000}]), max_text_chars=1000)
    assert batch.feedback["text"].str.len_chars()[0] < 1010
    assert batch.notes["note"].to_list() == ["text cut from 199999 to 1000 characters"]
    assert batch.notes["feedback_id"][0] == batch.feedback["feedback_id"][0]


def test_text_context_attributes_and_excerpts_are_redacted():
    rows = [
        {
            "source_ref": "1",
            "text": "call me 07700 900123",
            "context": "agent: card 4111 1111 1111 1111?",
            "attributes": '{"note":"jane@example.com"}',
            "customer": "jane@example.com",
        },
        {"source_ref": "2", "text": "", "raw_excerpt": "jane@example.com said nothing"},
    ]
    batch = run(parsed_of(rows))
    row = batch.feedback.row(0, named=True)
    assert (
        row["text"] == "call me <PHONE>"
        and "<CARD>" in row["context"]
        and "<EMAIL>" in row["attributes"]
    )
    assert row["customer_ref"] and "@" not in row["customer_ref"]
    assert batch.quarantine["raw_excerpt"][0] == "<EMAIL> said nothing"


def test_language_is_detected_when_the_source_has_none():
    batch = run(
        parsed_of(
            [
                {"source_ref": "1", "text": "the engineer did not come and I have been waiting"},
                {
                    "source_ref": "2",
                    "text": "Ich warte seit drei Wochen auf den Techniker",
                    "language": None,
                },
                {"source_ref": "3", "text": "x y z", "language": "fr"},
            ]
        )
    )
    assert batch.feedback["language"].to_list() == ["en", "de", "fr"]


def test_ids_are_stable_and_identical_contacts_stay_separate():
    data = b"comment,date\nsame words,2026-10-01\nsame words,2026-10-01\nother,2026-10-02\n"
    first = run(complaint.parse("a.csv", data))
    again = run(complaint.parse("renamed.csv", data))
    assert first.feedback["feedback_id"].to_list() == again.feedback["feedback_id"].to_list()
    assert first.feedback["feedback_id"].n_unique() == 3  # two identical contacts are two rows


def test_overlapping_exports_share_the_overlap_ids():
    week1 = b"ResponseId,date,comment\nR1,2026-10-01,one\nR2,2026-10-02,two\n"
    week2 = b"ResponseId,date,comment\nR2,2026-10-02,two\nR3,2026-10-08,three\n"
    a = set(run(survey.parse("w1.csv", week1)).feedback["feedback_id"])
    b = set(run(survey.parse("w2.csv", week2)).feedback["feedback_id"])
    assert len(a & b) == 1


def test_repeated_natural_id_in_one_file_is_a_duplicate():
    data = b"Case Number,Description\nC1,router late\nC1,router late\nC2,bill wrong\n"
    batch = run(complaint.parse("c.csv", data))
    assert batch.feedback.height == 2 and batch.duplicates_in_file == 1
    batch.check()


def test_ids_do_not_depend_on_the_redaction_of_the_text():
    data = b"comment\nmy number is 07700 900123\n"
    batch = run(complaint.parse("c.csv", data))
    import flows.prepare as prep

    frame = complaint.parse("c.csv", data).records.with_columns(
        pl.col("text").alias("text_key"),
        pl.lit(None, pl.String).alias("customer_norm"),
        pl.lit(None, pl.String).alias("date_key"),
    )
    assert prep.feedback_ids("complaint", frame)[0] == batch.feedback["feedback_id"][0]
