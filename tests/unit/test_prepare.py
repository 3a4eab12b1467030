"""Validation, cutting, redaction and stable ids, shared by every channel."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from flows.intake.prepare import prepare
from flows.intake.sources import complaint, survey
from flows.intake.sources.base import ParsedSource, records_frame

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
    import flows.intake.prepare as prep

    frame = complaint.parse("c.csv", data).records.with_columns(
        pl.col("text").alias("text_key"),
        pl.lit(None, pl.String).alias("customer_norm"),
        pl.lit(None, pl.String).alias("date_key"),
    )
    assert prep.feedback_ids("complaint", frame)[0] == batch.feedback["feedback_id"][0]


def _mixed_rows(n: int) -> list[dict]:
    """Every kind of record prepare handles, spread so that each kind falls in every part:
    duplicates whose twin is in another part, bad rows, oversized texts, PII, repeat
    customers, other languages, records with and without their own key."""
    rows = []
    for i in range(n):
        kind = i % 9
        row = {
            "source_ref": str(i),
            "text": f"Engineer did not come, booking {i % 50}",
            "customer": f"Cust{i % 37}@Example.com",
            "received_at": datetime(2026, 11, 1 + i % 20, 9, 0),
            "score": float(i % 11),
            "score_kind": "nps",
            "attributes": '{"plan": "fibre"}' if i % 2 else None,
            "context": "Agent: call me on 07700 900123" if i % 4 == 0 else None,
        }
        if kind == 1:
            row["text"] = "n/a"  # empty answer
        elif kind == 2:
            row["text"] = "Der Techniker ist nicht gekommen, bitte rufen Sie mich an"
        elif kind == 3:
            row["text"] = "I’m charged twice, card 4111 1111 1111 1111, mail me at a@b.co"
        elif kind == 4:
            row["text"] = "very long " * 40  # cut
        elif kind == 5:
            row["score"] = 42.0  # out of range
        elif kind == 6:
            row["record_key"] = f"K{i % 25}"  # a keyed record, repeated far apart
        elif kind == 7:
            row["text"] = "Engineer did not come, booking 7"  # same content again
            row["customer"] = "cust7@example.com"
            row["received_at"] = None
        rows.append(row)
    return rows


def test_a_long_file_prepared_in_parts_on_threads_equals_one_pass(monkeypatch):
    import flows.intake.prepare as module

    parsed = parsed_of(_mixed_rows(3_000))
    monkeypatch.setattr(module, "_PARALLEL_MIN_ROWS", 10**9)
    whole = run(parsed, max_text_chars=300)
    assert module._parts(parsed.records.height) == 1
    monkeypatch.setattr(module, "_PARALLEL_MIN_ROWS", 500)
    monkeypatch.setattr(module.os, "cpu_count", lambda: 4)
    assert module._parts(parsed.records.height) == 4
    split = run(parsed, max_text_chars=300)

    assert split.feedback.equals(whole.feedback)
    assert split.quarantine.equals(whole.quarantine)
    assert split.notes.equals(whole.notes)
    assert (split.duplicates_in_file, split.messages) == (
        whole.duplicates_in_file,
        whole.messages,
    )
    # and the file exercised what it should
    assert whole.duplicates_in_file > 0 and whole.notes.height > 0
    assert set(whole.quarantine["reason_code"]) == {"empty_text", "bad_score"}
    assert whole.feedback["customer_ref"].null_count() == 0
    assert whole.feedback["customer_ref"].n_unique() < 40
    assert not whole.feedback["text"].str.contains("4111|a@b.co").any()
    assert not whole.feedback["context"].drop_nulls().str.contains("07700").any()
    assert "de" in whole.feedback["language"].to_list()


def test_a_record_naming_its_customer_two_ways_links_the_two_keyed_hashes():
    from flows.intake.pii import customer_refs

    rows = [
        {
            "source_ref": "1",
            "text": "No internet again",
            "customer": "Ann@Example.com",
            "customer_also": ["+44 7700 900123", "n/a", "Ann"],
            "received_at": datetime(2026, 11, 2),
        },
        {
            "source_ref": "2",
            "text": "Still no internet",
            "customer": "07700900123",  # the same phone written another way: no new link
            "customer_also": ["07700 900123"],
            "received_at": datetime(2026, 11, 3),
        },
        {"source_ref": "3", "text": "Slow", "customer": None, "customer_also": ["07700 900999"]},
    ]
    batch = run(parsed_of(rows, channel="complaint"))
    email, phone = customer_refs(pl.Series(["ann@example.com", "07700 900123"]), KEY).to_list()
    assert batch.links.to_dicts() == [{"ref_a": min(email, phone), "ref_b": max(email, phone)}]
    assert "customer_also" not in batch.feedback.columns
    assert not any("@" in v or "7700" in v for v in batch.links.to_series().to_list())
