"""flows.intake.sources.call: .vtt / .srt / JSON / .txt transcripts → one record per call."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from flows.intake.sources import call as call_parser
from flows.intake.sources.base import QUARANTINE_SCHEMA, RECORD_SCHEMA, ParsedSource, ParseOptions
from flows.intake.sources.call import Turn

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "calls"
ALL_FIXTURES = sorted(p.name for p in FIXTURES.iterdir() if p.is_file())


def parse(name: str, data: bytes | str, **options) -> ParsedSource:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return call_parser.parse(name, data, ParseOptions(**options))


def fixture(name: str) -> ParsedSource:
    return parse(name, (FIXTURES / name).read_bytes())


def only_record(result: ParsedSource) -> dict:
    assert result.quarantine.height == 0, result.quarantine.to_dicts()
    assert result.records.height == 1
    return result.records.row(0, named=True)


def only_quarantine(result: ParsedSource) -> dict:
    assert result.records.height == 0
    assert result.quarantine.height == 1
    return result.quarantine.row(0, named=True)


def attrs(row: dict) -> dict:
    return json.loads(row["attributes"])


# --------------------------------------------------------------------------------------
# the contract, for every fixture
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_keeps_the_accounting_identity_and_schemas(name):
    result = fixture(name)
    assert result.channel == "call"
    assert result.rows_read == result.records.height + result.quarantine.height >= 1
    assert dict(result.records.schema) == RECORD_SCHEMA
    assert dict(result.quarantine.schema) == QUARANTINE_SCHEMA
    for row in result.records.iter_rows(named=True):
        assert row["source_ref"] and row["record_key"] and row["raw_excerpt"]
        assert row["text"] and row["context"]  # every fixture has both sides talking
        assert attrs(row)["turns"] >= 2


def test_fixture_files_are_small():
    assert all((FIXTURES / name).stat().st_size < 4096 for name in ALL_FIXTURES)


# --------------------------------------------------------------------------------------
# WebVTT
# --------------------------------------------------------------------------------------
def test_vtt_with_voices_and_note_metadata():
    row = only_record(fixture("support_call_voices.vtt"))
    assert row["source_ref"] == "support_call_voices.vtt"
    assert row["record_key"] == "C-1001"
    assert row["received_at"] == datetime(2026, 11, 3, 10, 15)
    assert row["customer"] == "jane.doe@example.com"
    assert row["language"] == "en"  # "Language: en-GB" header
    assert row["text"] == (
        "Hi, my bill for October is twice what I normally pay and I haven't used more energy.\n"
        "I typed <script>alert(1)</script> into your chat and it broke & logged me out.\n"
        "Thanks, that's all I needed."
    )
    assert row["context"].startswith("Thank you for calling Acme Energy, this is Sarah.")
    assert "estimated reading" in row["context"] and "Thanks, that's all" not in row["context"]
    assert attrs(row) == {
        "format": "vtt",
        "duration_seconds": 24.75,
        "turns": 6,
        "customer_turns": 3,
        "queue": "Billing",
        "agent": "Sarah",
    }


def test_vtt_without_voices_uses_speaker_prefixes_and_infers_roles():
    row = only_record(fixture("captions_no_voices.vtt"))
    assert row["text"] == (
        "Yeah hi, my internet drops every evening around eight. It has been like this for two weeks.\n"
        "Fine, but I want a discount for the days it was down."
    )
    assert row["context"].startswith("Hello, you're through to Northwind Broadband")
    assert row["record_key"].startswith("sha256:")
    assert row["received_at"] is None and row["customer"] is None
    assert attrs(row)["roles_inferred"] is True and attrs(row)["agent"] == "Sarah"


def test_vtt_voice_span_styles_and_several_voices_in_one_cue():
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n"
        "<v.loud.angry Caller>The router <i>died</i> again!</v> <v Rep>Sorry to hear that.</v>\n"
        "<v Caller>Third time this month.\n"
    )
    row = only_record(parse("c.vtt", vtt))
    assert row["text"] == "The router died again!\nThird time this month."
    assert row["context"] == "Sorry to hear that."


def test_vtt_without_the_webvtt_header_is_still_read():
    vtt = "00:00:01.000 --> 00:00:02.000\nAgent: Hello\n\n00:00:02.000 --> 00:00:04.000\nCustomer: My TV is broken.\n"
    row = only_record(parse("headerless.vtt", vtt))
    assert row["text"] == "My TV is broken."


def test_vtt_with_no_cues_is_an_empty_transcript():
    row = only_quarantine(parse("e.vtt", "WEBVTT\n\nNOTE nothing was said\n"))
    assert row["reason_code"] == "empty_transcript"


def test_vtt_that_is_not_vtt_is_quarantined():
    row = only_quarantine(parse("x.vtt", "just some words, no cues"))
    assert row["reason_code"] == "empty_transcript"


def test_vtt_escaped_entities_and_unknown_tags_are_text():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Customer>5 &lt; 6 &amp; <iframe src=x> is odd</v>\n"
    assert only_record(parse("e.vtt", vtt))["text"] == "5 < 6 & <iframe src=x> is odd"


# --------------------------------------------------------------------------------------
# SubRip
# --------------------------------------------------------------------------------------
def test_srt_with_speaker_prefixes_continuations_and_tags():
    row = only_record(fixture("2026-10-01T09-14_C10024.srt"))
    assert row["text"] == (
        "My card was declined at the supermarket even though I have plenty of money in the account. "
        "It was really embarrassing.\n'); DROP TABLE feedback;--"
    )
    assert row["context"] == (
        "Thanks for calling Contoso Bank, how may I help you?\n"
        "I understand. I can see a fraud block on the card, I'll lift it now."
    )
    assert row["received_at"] == datetime(2026, 10, 1, 9, 14)  # from the file name
    assert attrs(row)["duration_seconds"] == 16.25
    assert "roles_inferred" not in attrs(row)


def test_srt_dash_dialogue_inside_one_cue():
    srt = "1\n00:00:01,000 --> 00:00:04,000\n- Agent: Anything else?\n- Customer: Yes, cancel my plan.\n"
    row = only_record(parse("d.srt", srt))
    assert (row["text"], row["context"]) == ("Yes, cancel my plan.", "Anything else?")


@pytest.mark.parametrize(
    "srt",
    [
        "00:00:01,000 --> 00:00:02,000\nno index numbers\n",
        "hello there\nthis is not subrip\n",
        "1\nno timing line\nAgent: hi\n",
    ],
)
def test_srt_that_cannot_be_read_is_malformed(srt):
    row = only_quarantine(parse("bad.srt", srt))
    assert row["reason_code"] == "malformed_transcript"
    assert row["source_ref"] == "bad.srt" and "SubRip" in row["reason"]


def test_srt_with_webvtt_content_is_read_as_webvtt():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Customer>Wrong extension.\n"
    assert only_record(parse("really_vtt.srt", vtt))["text"] == "Wrong extension."


# --------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------
def test_json_calls_list_with_nested_customer_csat_queue_and_mixed_key_case():
    result = fixture("calls_export.json")
    first, second = result.records.iter_rows(named=True)
    assert first["source_ref"] == "calls_export.json#D-5001" and first["record_key"] == "D-5001"
    assert first["received_at"] == datetime(2026, 11, 2, 7, 30)  # +01:00 → UTC
    assert first["customer"] == "lee.wong@example.com"  # e-mail preferred over phone
    assert (first["score"], first["score_kind"]) == (2.0, "csat")
    assert first["language"] == "en"
    assert (
        first["text"]
        == "My parcel says delivered but it is not here.\nThis is the second time this month."
    )
    assert attrs(first) == {
        "format": "json",
        "duration_seconds": 14.5,
        "turns": 4,
        "customer_turns": 2,
        "queue": "Deliveries",
        "agent": "Marco",
    }
    # Contact_Id / Timestamp (epoch) / Caller / Utterances / Role / Utterance
    assert second["source_ref"] == "calls_export.json#D-5002"
    assert second["received_at"] == datetime(2026, 11, 2, 7, 30)
    assert second["customer"] == "+49 30 901820"
    assert second["text"] == "I was charged a restocking fee that nobody told me about."
    assert second["score"] is None


def test_contact_lens_output():
    row = only_record(fixture("contact_lens.json"))
    assert row["source_ref"] == "contact_lens.json"
    assert row["record_key"] == "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
    assert row["language"] == "en"
    assert row["text"] == (
        "I've been on hold for forty minutes just to change my address.\nThe app should let me do this myself."
    )
    assert attrs(row)["duration_seconds"] == 32.08
    assert "roles_inferred" not in attrs(row)


def test_contact_lens_with_participant_ids_that_are_not_role_names():
    data = {
        "CustomerMetadata": {"ContactId": "cid-1"},
        "Participants": [
            {"ParticipantId": "p-9f1", "ParticipantRole": "CUSTOMER"},
            {"ParticipantId": "p-0a2", "ParticipantRole": "AGENT"},
        ],
        "Transcript": [
            {"ParticipantId": "p-9f1", "Content": "Hello? Is anyone there?"},
            {"ParticipantId": "p-0a2", "Content": "Thank you for calling, how can I help?"},
            {"ParticipantId": "p-9f1", "Content": "My meter is broken."},
        ],
    }
    row = only_record(parse("cl.json", json.dumps(data)))
    assert row["text"] == "Hello? Is anyone there?\nMy meter is broken."
    assert row["context"] == "Thank you for calling, how can I help?"


def test_json_single_call_object_and_top_level_list():
    call = {
        "id": 7,
        "turns": [{"speaker": "Agent", "text": "Hi"}, {"speaker": "Customer", "text": "Bad wifi"}],
    }
    single = only_record(parse("one.json", json.dumps(call)))
    assert (single["source_ref"], single["record_key"]) == ("one.json", "7")
    listed = parse(
        "many.json",
        json.dumps([call, {**call, "id": 8}, {k: v for k, v in call.items() if k != "id"}]),
    )
    assert listed.records["source_ref"].to_list() == ["many.json#7", "many.json#8", "many.json#3"]
    assert listed.records["record_key"].to_list()[2].startswith("sha256:")


def test_json_bare_list_of_turns_is_one_call():
    turns = [{"role": "agent", "content": "Hello"}, {"role": "user", "content": "Refund please"}]
    row = only_record(parse("turns.json", json.dumps(turns)))
    assert (row["source_ref"], row["text"], row["context"]) == (
        "turns.json",
        "Refund please",
        "Hello",
    )


def test_json_transcript_as_one_string():
    data = {"call_id": "S-1", "transcript": "Agent: Hello\nCustomer: The app keeps logging me out."}
    row = only_record(parse("s.json", json.dumps(data)))
    assert row["text"] == "The app keeps logging me out." and row["record_key"] == "S-1"


def test_json_nested_turn_text_like_transcribe_alternatives():
    data = {
        "turns": [
            {"speaker": "agent", "text": {"alternatives": [{"transcript": "How can I help?"}]}},
            {"speaker": "customer", "text": ["My", "order", "is", "late"]},
            {"speaker": "customer", "text": 404},
        ]
    }
    row = only_record(parse("n.json", json.dumps(data)))
    assert row["text"] == "My order is late\n404"
    assert row["context"] == "How can I help?"


def test_json_bad_items_quarantine_only_themselves():
    good = {"call_id": "G", "turns": [{"speaker": "customer", "text": "fine"}]}
    data = {
        "calls": [
            good,
            {"call_id": "E", "turns": []},
            {"call_id": "N", "notes": "x"},
            5,
            {"call_id": "T", "turns": 3},
        ]
    }
    result = parse("mixed.json", json.dumps(data))
    assert result.rows_read == 5
    assert result.records["source_ref"].to_list() == ["mixed.json#G"]
    codes = dict(
        zip(result.quarantine["source_ref"], result.quarantine["reason_code"], strict=True)
    )
    assert codes == {
        "mixed.json#E": "empty_transcript",
        "mixed.json#N": "malformed_transcript",
        "mixed.json#4": "malformed_transcript",
        "mixed.json#T": "malformed_transcript",
    }


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ('{"calls": [', "malformed_transcript"),
        ("{'single': 'quotes'}", "malformed_transcript"),
        ('{"no": "turns here"}', "malformed_transcript"),
        ("[]", "malformed_transcript"),
        ('"just a string"', "malformed_transcript"),
        ("42", "malformed_transcript"),
    ],
)
def test_json_that_holds_no_call(data, code):
    row = only_quarantine(parse("bad.json", data))
    assert row["reason_code"] == code and row["source_ref"] == "bad.json"


def test_deeply_nested_json_is_quarantined_not_a_crash():
    row = only_quarantine(parse("deep.json", "[" * 200_000 + "]" * 200_000))
    assert row["reason_code"] == "malformed_transcript"


def test_deeply_nested_turn_text_is_not_read_as_words():
    nested: object = "deep words"
    for _ in range(500):
        nested = {"text": nested}
    data = {
        "turns": [
            {"speaker": "customer", "text": "shallow"},
            {"speaker": "customer", "text": nested},
        ]
    }
    row = only_record(parse("n.json", json.dumps(data)))
    assert row["text"] == "shallow"


def test_non_numeric_csat_is_kept_raw_not_scored():
    data = {"call_id": "Q", "csat": "n/a", "turns": [{"speaker": "customer", "text": "meh"}]}
    row = only_record(parse("q.json", json.dumps(data)))
    assert row["score"] is None and row["score_kind"] is None
    assert attrs(row)["score_raw"] == "n/a"


def test_phone_only_customer_and_customer_object():
    data = {
        "customer": {"name": "Jo", "phone": "+1 (555) 010-9999"},
        "turns": [{"speaker": "caller", "text": "hi"}],
    }
    assert only_record(parse("p.json", json.dumps(data)))["customer"] == "+1 (555) 010-9999"


def test_unreadable_call_date_is_quarantined():
    data = {
        "call_id": "B",
        "started_at": "the 5th of never",
        "turns": [{"speaker": "customer", "text": "x"}],
    }
    row = only_quarantine(parse("2026-10-01_b.json", json.dumps(data)))
    assert row["reason_code"] == "bad_date" and "the 5th of never" in row["reason"]


# --------------------------------------------------------------------------------------
# plain text
# --------------------------------------------------------------------------------------
def test_txt_with_metadata_block_timestamps_and_continuation_lines():
    row = only_record(fixture("call_2026-10-01.txt"))
    assert row["record_key"] == "TX-7781"
    assert row["received_at"] == datetime(2026, 10, 1)
    assert row["text"] == (
        "Hi. I ordered a sofa three weeks ago and it arrived with a torn cushion. "
        "I sent photos twice and nobody answered.\n"
        "How long will that take?\n"
        "OK. Please make sure someone actually calls me this time."
    )
    assert "[00:00" not in row["context"] and "00:00:27" not in row["text"]
    assert attrs(row)["queue"] == "Returns" and attrs(row)["agent"] == "Priya"


def test_txt_hash_comment_metadata():
    txt = "# call_id=H-9 started_at=2026-11-05T08:00:00Z customer=+4930123456 csat=5\nAgent: Hi\nCustomer: Great service.\n"
    row = only_record(parse("h.txt", txt))
    assert (row["record_key"], row["customer"], row["score"]) == ("H-9", "+4930123456", 5.0)
    assert row["received_at"] == datetime(2026, 11, 5, 8)


def test_txt_label_with_inline_timestamp_and_otter_style():
    txt = "Agent [00:00:01]: Hello.\nCaller (00:00:04): Where is my refund?\n"
    assert only_record(parse("a.txt", txt))["text"] == "Where is my refund?"
    otter = "Speaker 1  0:00\nThank you for calling, how can I help?\n\nSpeaker 2  0:04\nMy refund never came.\n"
    row = only_record(parse("otter.txt", otter))
    assert (row["text"], row["context"]) == (
        "My refund never came.",
        "Thank you for calling, how can I help?",
    )


def test_txt_urls_and_colon_lines_inside_a_turn_stay_text():
    txt = (
        "Agent: Please go to https://example.com/help for the form.\n"
        "Customer: I tried that.\nOrder number: 12345\nStill nothing.\n"
        "Agent: Noted.\nCustomer: Thanks.\n"
    )
    row = only_record(parse("u.txt", txt))
    assert row["text"] == "I tried that. Order number: 12345 Still nothing.\nThanks."
    assert row["context"] == "Please go to https://example.com/help for the form.\nNoted."


def test_unknown_speakers_agent_phrases_decide():
    txt = "John: Hi, I have a problem with my bill.\nSarah: Thank you for calling, how can I help?\nJohn: It doubled.\n"
    row = only_record(parse("n.txt", txt))
    assert (row["text"], row["context"]) == (
        "Hi, I have a problem with my bill.\nIt doubled.",
        "Thank you for calling, how can I help?",
    )
    assert attrs(row)["agent"] == "Sarah" and attrs(row)["roles_inferred"] is True


def test_unknown_speakers_without_agent_phrases_first_speaker_is_agent():
    txt = "Sarah: Hello.\nJohn: My parcel is lost.\nSarah: Let me look.\n"
    row = only_record(parse("n.txt", txt))
    assert (row["text"], row["context"]) == ("My parcel is lost.", "Hello.\nLet me look.")


def test_more_than_two_unknown_speakers_all_non_agents_are_customer():
    txt = (
        "Tom: My wife and I both have accounts.\n"
        "Sarah: Thanks for calling, how can I help?\n"
        "Ana: Yes, mine was charged twice.\n"
        "Tom: And mine too.\n"
    )
    row = only_record(parse("three.txt", txt))
    assert row["context"] == "Thanks for calling, how can I help?"
    assert (
        row["text"]
        == "My wife and I both have accounts.\nYes, mine was charged twice.\nAnd mine too."
    )


def test_no_customer_turns_gives_empty_text_for_the_validator():
    row = only_record(parse("agent_only.txt", "Agent: Hello?\nAgent: Is anybody there?\n"))
    assert row["text"] == "" and row["context"] == "Hello? Is anybody there?"
    assert attrs(row)["customer_turns"] == 0


def test_transcript_without_any_speaker_labels_is_the_customers():
    row = only_record(
        parse("voicemail.txt", "Hi, this is Jane. My internet has been down since Monday.\n")
    )
    assert row["text"] == "Hi, this is Jane. My internet has been down since Monday."
    assert row["context"] is None


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.mark.parametrize("name", ["x.vtt", "x.srt", "x.json", "x.txt"])
def test_binary_file_is_undecodable(name):
    row = only_quarantine(parse(name, PNG * 20))
    assert row["reason_code"] == "undecodable_file" and row["source_ref"] == name


@pytest.mark.parametrize("name", ["x.vtt", "x.srt", "x.json", "x.txt"])
@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t", b"\xef\xbb\xbf"])
def test_empty_file_is_an_empty_transcript(name, data):
    row = only_quarantine(parse(name, data))
    assert row["reason_code"] == "empty_transcript"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_legacy_encodings_are_decoded(encoding):
    text = "Agent: Grüß Gott, wie kann ich helfen?\nKunde: Die Rechnung über 50 € ist falsch, schöne Grüße.\n"
    if encoding == "latin-1":
        text = text.replace("€", "EUR")
    row = only_record(parse("k.txt", text.encode(encoding)))
    assert row["text"].startswith("Die Rechnung über 50") and "schöne Grüße" in row["text"]
    assert row["context"] == "Grüß Gott, wie kann ich helfen?"


def test_hostile_strings_kept_verbatim_in_every_format():
    hostile = "'); DROP TABLE feedback;-- <script>alert(1)</script>"
    cases = {
        "h.txt": f"Agent: hi\nCustomer: {hostile}\n",
        "h.srt": f"1\n00:00:01,000 --> 00:00:02,000\nCustomer: {hostile}\n",
        "h.json": json.dumps({"turns": [{"speaker": "customer", "text": hostile}]}),
        "h.vtt": f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Customer>{hostile}\n",
    }
    for name, data in cases.items():
        assert only_record(parse(name, data))["text"] == hostile, name


@pytest.mark.parametrize("name", ["long.txt", "long.vtt", "long.srt"])
@pytest.mark.timeout(120)  # a quadratic regex would hang here for minutes
def test_200k_character_line_is_kept_and_fast(name):
    words = "On and on it goes: " * 11_000
    assert len(words) > 200_000
    body = {
        "long.txt": f"Agent: hello\nCustomer: {words}\n",
        "long.vtt": f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Customer>{words}\n",
        "long.srt": f"1\n00:00:01,000 --> 00:00:02,000\nCustomer: {words}\n",
    }[name]
    row = only_record(parse(name, body))
    assert row["text"] == words.strip()


def test_unexpected_error_in_one_call_is_a_parser_error_row(monkeypatch):
    real = call_parser.assign_roles

    def flaky(turns, forced=None):
        if any("boom" in t.text for t in turns):
            raise RuntimeError("kaboom")
        return real(turns, forced)

    monkeypatch.setattr(call_parser, "assign_roles", flaky)
    calls = [
        {"id": "A", "turns": [{"speaker": "customer", "text": "ok"}]},
        {"id": "B", "turns": [{"speaker": "customer", "text": "boom"}]},
    ]
    result = parse("f.json", json.dumps(calls))
    assert result.records["source_ref"].to_list() == ["f.json#A"]
    row = result.quarantine.row(0, named=True)
    assert (row["source_ref"], row["reason_code"]) == (
        "f.json#B",
        "parser_error",
    ) and "kaboom" in row["reason"]


def test_unexpected_error_for_the_whole_file_never_escapes(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("nope")

    monkeypatch.setattr(call_parser, "detect_format", broken)
    row = only_quarantine(parse("x.vtt", "WEBVTT\n"))
    assert row["reason_code"] == "parser_error" and "KeyError" in row["reason"]


# --------------------------------------------------------------------------------------
# identity: the same call is the same record
# --------------------------------------------------------------------------------------
def test_content_key_survives_rename_move_and_retiming():
    srt = "1\n00:00:01,000 --> 00:00:02,000\nAgent: Hi\n\n2\n00:00:02,500 --> 00:00:04,000\nCustomer: Broken again.\n"
    retimed = srt.replace("00:00:0", "00:10:0")
    key = only_record(parse("calls/a.srt", srt))["record_key"]
    assert key.startswith("sha256:")
    assert only_record(parse("archive/2026/renamed.srt", srt))["record_key"] == key
    assert only_record(parse("a.srt", retimed))["record_key"] == key
    assert only_record(parse("a.srt", srt.replace("again", "once more")))["record_key"] != key


def test_same_words_on_different_calls_are_different_records():
    base = "# customer={who}\nAgent: Hi\nCustomer: I want to cancel.\n"
    one = only_record(parse("a.txt", base.format(who="a@example.com")))["record_key"]
    two = only_record(parse("a.txt", base.format(who="b@example.com")))["record_key"]
    assert one != two


def test_call_id_is_the_key_when_present():
    data = {"ContactId": "X-1", "turns": [{"speaker": "customer", "text": "x"}]}
    assert only_record(parse("a.json", json.dumps(data)))["record_key"] == "X-1"
    assert only_record(parse("b/c.json", json.dumps(data)))["record_key"] == "X-1"


def test_metadata_date_wins_over_file_name():
    txt = "# started_at=2026-11-05T08:00:00+01:00\nCustomer: x\n"
    assert only_record(parse("call_2026-10-01.txt", txt))["received_at"] == datetime(2026, 11, 5, 7)


# --------------------------------------------------------------------------------------
# the pieces
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("Agent", "agent"),
        ("AGENT", "agent"),
        ("Agent Sarah", "agent"),
        ("Advisor (Tom)", "agent"),
        ("Customer Service Rep", "agent"),
        ("IVR", "agent"),
        ("bot", "agent"),
        ("CSR", "agent"),
        ("Customer", "customer"),
        ("CUSTOMER", "customer"),
        ("Caller", "customer"),
        ("Account holder", "customer"),
        ("Member", "customer"),
        ("cust", "customer"),
        ("Sarah", None),
        ("Speaker 1", None),
        ("spk_0", None),
        ("", None),
        (None, None),
    ],
)
def test_role_of_label(label, role):
    assert call_parser.role_of_label(label) == role


def test_known_agent_makes_unknown_speakers_customers():
    turns = [
        Turn("Agent", "how can I help"),
        Turn("Bob", "thank you for calling back"),
        Turn("Eve", "yes"),
    ]
    roles, inferred = call_parser.assign_roles(turns)
    assert roles == {"Agent": "agent", "Bob": "customer", "Eve": "customer"} and inferred


def test_known_customer_makes_first_unknown_the_agent():
    turns = [Turn("Customer", "hello?"), Turn("Sarah", "yes"), Turn("Customer", "my bill")]
    roles, _ = call_parser.assign_roles(turns)
    assert roles == {"Customer": "customer", "Sarah": "agent"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2026-10-01T09-14_C10024.srt", datetime(2026, 10, 1, 9, 14)),
        ("call_2026-10-01.txt", datetime(2026, 10, 1)),
        ("20261001_091400.vtt", datetime(2026, 10, 1, 9, 14)),
        ("rec 2026_10_01 08.30.json", datetime(2026, 10, 1, 8, 30)),
        ("2026-10-01_1002.srt", datetime(2026, 10, 1, 10, 2)),
        ("call_10024.srt", None),
        ("call_4915112345678.txt", None),
        ("2026-13-45.txt", None),
    ],
)
def test_date_from_name(name, expected):
    assert call_parser.date_from_name(name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-03T10:15:00Z", datetime(2026, 11, 3, 10, 15)),
        ("2026-11-03T10:15:00.250-05:00", datetime(2026, 11, 3, 15, 15, 0, 250000)),
        ("2026-11-03 10:15", datetime(2026, 11, 3, 10, 15)),
        (1793700000, datetime(2026, 11, 3, 10, 0)),
        (1793700000000, datetime(2026, 11, 3, 10, 0)),
        ("1793700000", datetime(2026, 11, 3, 10, 0)),
        ("13/11/2026 10:15", datetime(2026, 11, 13, 10, 15)),
        ("garbage", None),
        ("0001-01-01T00:00:00", None),
        (True, None),
    ],
)
def test_parse_when(value, expected):
    assert call_parser.parse_when(value) == expected


def test_parse_when_follows_the_date_order_option():
    assert call_parser.parse_when("03/11/2026", ParseOptions(date_order="dmy")) == datetime(
        2026, 11, 3
    )
    assert call_parser.parse_when("03/11/2026", ParseOptions(date_order="mdy")) == datetime(
        2026, 3, 11
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("v.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v " + " " * 200_000 + "x\n"),
        ("v.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + "<v <b <c.x " * 20_000 + "\n"),
        ("c.txt", "Agent: hi\n" + "a" * 30 + ":" * 200_000 + "\n"),
        ("c.txt", "Agent: hi\n" + "\n" * 200_000 + "Customer: x\n"),
        ("s.srt", "".join(f"{i}\n00:00:01,000 --> 00:00:02,000\nA: x\n\n" for i in range(1, 5000))),
    ],
    ids=["voice-then-spaces", "unclosed-tags", "colons", "newlines", "5000-cues"],
)
@pytest.mark.timeout(120)  # a quadratic regex would hang here for minutes
def test_pathological_input_is_fast(name, data):
    result = parse(name, data)
    assert result.rows_read == 1


def test_mutated_fixtures_never_raise_and_keep_the_identity():
    import random

    rnd = random.Random(20261103)
    seeds = [(name, (FIXTURES / name).read_bytes()) for name in ALL_FIXTURES]
    for _ in range(300):
        name, original = rnd.choice(seeds)
        data = bytearray(original)
        for _ in range(rnd.randint(1, 6)):
            pos = rnd.randrange(len(data) + 1)
            roll = rnd.random()
            if roll < 0.3:
                del data[pos : pos + rnd.randint(1, 80)]
            elif roll < 0.6:
                data[pos:pos] = bytes(
                    rnd.choice(b'<>:{}[]",\n-0123456789v ') for _ in range(rnd.randint(1, 12))
                )
            elif roll < 0.8:
                data[pos : pos + 1] = bytes([rnd.randrange(256)])
            else:
                data = data[:pos]
        result = parse(name, bytes(data))  # ParsedSource itself checks the identity
        assert "parser_error" not in result.quarantine["reason_code"].to_list(), (
            result.quarantine.to_dicts()
        )


def test_times_without_offset_are_in_the_source_timezone():
    berlin = ParseOptions(source_timezone="Europe/Berlin")
    assert call_parser.parse_when("2026-11-03T10:15:00", berlin) == datetime(2026, 11, 3, 9, 15)
    assert call_parser.parse_when("2026-07-03 10:15", berlin) == datetime(2026, 7, 3, 8, 15)
    assert call_parser.parse_when("13/11/2026 10:15", berlin) == datetime(2026, 11, 13, 9, 15)
    # an explicit offset, or an epoch, is not local time
    assert call_parser.parse_when("2026-11-03T10:15:00Z", berlin) == datetime(2026, 11, 3, 10, 15)
    assert call_parser.parse_when(1793700000, berlin) == datetime(2026, 11, 3, 10, 0)
    # a time in the file name is local too
    srt = "1\n00:00:01,000 --> 00:00:02,000\nCustomer: x\n"
    row = only_record(call_parser.parse("2026-10-01T09-14_a.srt", srt.encode(), berlin))
    assert row["received_at"] == datetime(2026, 10, 1, 7, 14)


def test_unknown_source_timezone_falls_back_to_utc():
    options = ParseOptions(source_timezone="Mars/Olympus_Mons")
    assert call_parser.parse_when("2026-11-03T10:15:00", options) == datetime(2026, 11, 3, 10, 15)


# --------------------------------------------------------------------------------------
# who the caller is, when the file does not say
# --------------------------------------------------------------------------------------
ID_CHECK_SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\nAgent: Okay, can I take the number the account's registered to?\n\n"
    "2\n00:00:03,500 --> 00:00:05,000\nCaller: +44 161 496 0033, that's the one.\n\n"
    "3\n00:00:05,500 --> 00:00:08,000\nCaller: The internet has been down since Monday.\n"
)


def test_a_caller_the_file_does_not_name_is_known_by_their_answer_to_the_id_check():
    row = only_record(parse("C-1.srt", ID_CHECK_SRT))
    assert row["customer"] == "+44 161 496 0033"
    # the record key is what it was before callers were identified this way, so a call
    # loaded by an earlier version is the same record (no duplicate on re-ingest)
    assert (
        row["record_key"]
        == "sha256:f8512acd5b230eadeef24b38560eb80ce7a01312a75d6b70e5976e163c1bd976"
    )
    txt = (
        "Agent: Let me pull up the account. What's the email address you use with us?\n"
        "Customer: It's Graham.Ellis50@example.net.\n"
        "Agent: And a number we can reach you on?\n"
        "Customer: My mobile's 07700 900873.\n"
        "Customer: The hub light is red again.\n"
    )
    row = only_record(parse("call.txt", txt))
    assert row["customer"] == "Graham.Ellis50@example.net"  # an e-mail address first
    assert row["customer_also"] == ["07700 900873"]


def test_numbers_said_outside_the_id_check_name_nobody():
    txt = (
        "Agent: Thanks for calling, how can I help?\n"
        "Customer: I rang 0161 496 0000 twice and wrote to billing@lumen.example, nothing.\n"
        "Agent: What's the postcode on the account?\n"
        "Customer: LS6 2AB.\n"
    )
    row = only_record(parse("call.txt", txt))
    assert row["customer"] is None and row["customer_also"] is None


def test_a_call_naming_its_customer_two_ways_links_them_and_keeps_the_e_mail_first():
    data = {
        "call_id": "C-7",
        "customer": {"email": "chris@example.org", "phone": "+447700900740", "name": "Chris"},
        "turns": [
            {"speaker": "agent", "text": "What's the phone number on the account?"},
            {"speaker": "customer", "text": "It's 07700 900741, the other one's my old one."},
        ],
    }
    row = only_record(parse("c.json", json.dumps(data)))
    assert row["customer"] == "chris@example.org"
    assert row["customer_also"] == ["+447700900740", "07700 900741"]  # a bare name links nobody
