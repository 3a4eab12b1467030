"""Survey and complaint exports: formats, encodings, real tools' headers, bad rows."""

from __future__ import annotations

import io
import json
from datetime import datetime

import polars as pl
import pytest

from flows.intake.sources import complaint, survey
from flows.intake.sources.base import ParseOptions
from flows.intake.sources.tabular import find_columns, sniff_delimiter, tokens


def rec(parsed, i=0):
    return parsed.records.row(i, named=True)


def test_plain_csv_finds_text_date_score_id_and_keeps_extra_columns():
    data = (
        b"Response ID,Submitted,NPS,Comment,Store\n"
        b"R1,2026-11-02 09:15:00,3,The engineer never came,Leeds\n"
        b"R2,2026-11-03 10:00:00,9,Great service,York\n"
    )
    p = survey.parse("s.csv", data)
    assert (p.rows_read, p.records.height, p.quarantine.height) == (2, 2, 0)
    r = rec(p)
    assert r["text"] == "The engineer never came"
    assert r["source_ref"] == "R1" and r["record_key"] == "R1"
    assert r["received_at"] == datetime(2026, 11, 2, 9, 15)
    assert r["score"] == 3 and r["score_kind"] == "nps"
    assert json.loads(r["attributes"]) == {"Store": "Leeds"}


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_any_delimiter_with_quoted_newlines_and_delimiters(sep):
    rows = [
        ["id", "date", "comment"],
        ["1", "2026-10-01", f'"line one{sep} still one\nline two"'],
        ["2", "2026-10-02", "short"],
    ]
    data = "\n".join(sep.join(r) for r in rows).encode()
    p = complaint.parse("c.csv", data)
    assert p.records.height == 2, p.quarantine
    assert rec(p)["text"] == f"line one{sep} still one\nline two"
    assert sniff_delimiter(data.decode()) == sep


@pytest.mark.parametrize(
    "encoding,text",
    [
        ("utf-8", "Café £5 naïve"),
        ("utf-8-sig", "Café £5 naïve"),
        ("latin-1", "Café £5 naïve"),
        ("cp1252", "Café €5 “quoted” naïve"),
        ("utf-16", "Café £5 naïve"),
    ],
)
def test_encodings_are_detected(encoding, text):
    data = f"comment,date\n{text},2026-10-01\nplain ascii here,2026-10-02\n".encode(encoding)
    p = survey.parse("e.csv", data)
    assert p.records.height == 2
    assert rec(p)["text"] == text


def test_binary_file_is_quarantined_as_undecodable():
    import random

    rng = random.Random(1)
    data = bytes(rng.randrange(256) for _ in range(5000))
    p = complaint.parse("corrupt.csv", data)
    assert p.records.height == 0 and p.rows_read == 1
    q = p.quarantine.row(0, named=True)
    assert q["reason_code"] == "undecodable_file"
    assert "binary" in q["reason"] and q["source_ref"] == "corrupt.csv"


def test_malformed_line_is_quarantined_and_the_rest_loads():
    data = b"id,comment,date\n1,fine,2026-10-01\n2,broken,line,with,extra,2026-10-01\n3,also fine,2026-10-02\n"
    p = complaint.parse("m.csv", data)
    assert p.records["source_ref"].to_list() == ["1", "3"]
    q = p.quarantine.row(0, named=True)
    assert q["reason_code"] == "malformed_line" and "6 fields" in q["reason"]
    assert "broken" in q["raw_excerpt"]
    assert p.rows_read == 3


def test_unterminated_quote_is_malformed_not_swallowing_silently():
    body = "x" * 200_000
    data = f'id,comment\n1,fine\n2,"never closed {body}\n3,after\n'.encode()
    p = complaint.parse("q.csv", data)
    assert p.records["source_ref"].to_list() == ["1"]
    assert p.quarantine["reason_code"].to_list() == ["malformed_line"]


def test_empty_file_reads_nothing():
    p = survey.parse("empty.csv", b"")
    assert p.rows_read == 0 and p.records.height == 0


def test_header_only_file_reads_nothing():
    p = survey.parse("h.csv", b"comment,score\n")
    assert p.rows_read == 0


def test_cfpb_export_needs_no_map(shared_data):
    header = (
        "Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,"
        "Company public response,Company,State,ZIP code,Tags,Consumer consent provided?,"
        "Submitted via,Date sent to company,Company response to consumer,Timely response?,"
        "Consumer disputed?,Complaint ID"
    )
    row = (
        '2023-05-12,Credit card,General-purpose credit card,Billing dispute,,"I was charged twice for '
        'the same purchase and nobody will refund me.",Company has responded,BIG BANK,CA,941XX,,Consent provided,'
        "Web,2023-05-12,Closed with explanation,Yes,N/A,6954321"
    )
    p = complaint.parse("complaints.csv", f"{header}\n{row}\n".encode())
    r = rec(p)
    assert r["text"].startswith("I was charged twice")
    assert r["source_ref"] == "6954321"
    assert r["received_at"] == datetime(2023, 5, 12)
    attrs = json.loads(r["attributes"])
    assert attrs["Product"] == "Credit card" and attrs["Issue"] == "Billing dispute"
    assert attrs["Company public response"] == "Company has responded"


def test_qualtrics_three_header_rows_are_folded():
    data = (
        b"StartDate,EndDate,ResponseId,RecipientEmail,RecipientFirstName,IPAddress,Q1_NPS_GROUP,Q1,Q2\n"
        b'"Start Date","End Date","Response ID","Recipient Email","Recipient First Name","IP Address",'
        b'"How likely...? - Group","How likely are you to recommend us to a friend?","Why did you give that score?"\n'
        b'"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""_recordId""}",'
        b'"{""ImportId"":""recipientEmail""}","{""ImportId"":""recipientFirstName""}","{""ImportId"":""ipAddress""}",'
        b'"{""ImportId"":""QID1_NPS_GROUP""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2_TEXT""}"\n'
        b'2026-10-01 09:14:33,2026-10-01 09:16:00,R_abc,jane@example.com,Jane,203.0.113.9,1,2,"Engineer missed two appointments"\n'
    )
    p = survey.parse("qualtrics.csv", data)
    assert p.rows_read == 1, p.notes
    r = rec(p)
    assert r["text"] == "Engineer missed two appointments"
    assert r["score"] == 2 and r["score_kind"] == "nps"
    assert r["source_ref"] == "R_abc" and r["customer"] == "jane@example.com"
    attrs = json.loads(r["attributes"] or "{}")
    assert not any("First Name" in k or "IP" in k for k in attrs), attrs  # personal data withheld
    assert any("Qualtrics" in n for n in p.notes)


def test_surveymonkey_two_header_rows_are_folded():
    data = (
        b'Respondent ID,Collector ID,Start Date,Email Address,"How likely is it that you would recommend this company to a friend or colleague?","What is the primary reason for your score?"\n'
        b",,,,Response,Open-Ended Response\n"
        b'114000001,4000,10/01/2026 09:14:33 AM,sam@example.org,4,"Billing is confusing"\n'
        b'114000002,4000,10/13/2026 01:14:33 PM,kim@example.org,10,"Fast and friendly"\n'
    )
    p = survey.parse("sm.csv", data)
    assert p.records.height == 2
    r = rec(p)
    assert (r["text"], r["score"], r["score_kind"], r["source_ref"]) == (
        "Billing is confusing",
        4,
        "nps",
        "114000001",
    )
    assert rec(p, 1)["received_at"] == datetime(2026, 10, 13, 13, 14, 33)


def test_zendesk_ticket_export_uses_subject_and_description_and_good_bad_csat():
    data = (
        b"Id,Requester,Requester email,Subject,Description,Status,Created at,Satisfaction Score\n"
        b'4512,Ann Lee,ann@example.com,Router missing,"Ordered 2 weeks ago, still nothing",open,2026-10-05T08:00:00Z,Bad\n'
        b"4513,Bo Ng,bo@example.com,Thanks,Sorted quickly,solved,2026-10-06T08:00:00Z,Good\n"
        b"4514,Cy Oh,cy@example.com,Question,How do I pay?,solved,2026-10-07T08:00:00Z,Offered\n"
    )
    p = complaint.parse("zendesk.csv", data)
    rows = p.records.to_dicts()
    assert rows[0]["text"] == "Router missing\n\nOrdered 2 weeks ago, still nothing"
    assert [r["score"] for r in rows] == [0.0, 1.0, None]
    assert rows[0]["score_kind"] == "csat_binary"
    assert rows[0]["customer"] == "ann@example.com" and rows[0]["source_ref"] == "4512"


def test_map_overrides_and_bad_map_quarantines_with_the_columns_listed():
    data = b"ref,when,notes,verbatim_2\nA1,2026-10-01,internal note,what the customer said\n"
    p = complaint.parse(
        "x.csv", data, ParseOptions(mapping=(("text", "verbatim_2"), ("id", "ref")))
    )
    assert rec(p)["text"] == "what the customer said" and rec(p)["source_ref"] == "A1"
    bad = complaint.parse("x.csv", data, ParseOptions(mapping=(("text", "No Such Column"),)))
    assert bad.records.height == 0 and bad.rows_read == 1
    reason = bad.quarantine["reason"][0]
    assert "No Such Column" in reason and "'verbatim_2'" in reason


def test_no_text_column_quarantines_every_row_with_a_hint():
    p = complaint.parse("n.csv", b"id,amount\n1,5\n2,7\n")
    assert p.quarantine.height == 2 and p.records.height == 0
    assert "--map text=" in p.quarantine["reason"][0]


def test_unparseable_date_and_non_numeric_score_are_quarantined_per_row():
    data = b"id,date,nps,comment\n1,2026-10-01,7,ok\n2,yesterday,7,bad date\n3,2026-10-02,seven,bad score\n4,,5,no date\n"
    p = survey.parse("d.csv", data)
    assert sorted(p.records["source_ref"].to_list()) == ["1", "4"]
    reasons = dict(zip(p.quarantine["source_ref"], p.quarantine["reason_code"], strict=True))
    assert reasons == {"2": "bad_date", "3": "bad_score"}
    assert "yesterday" in p.quarantine.filter(pl.col("source_ref") == "2")["reason"][0]
    assert rec(p, 1)["received_at"] is None  # an empty date takes the file's date later


def test_day_first_dates_are_recognised_from_the_data():
    data = b"comment,date\na,01/02/2026\nb,25/02/2026\n"
    p = survey.parse("d.csv", data)
    assert p.records["received_at"].to_list() == [datetime(2026, 2, 1), datetime(2026, 2, 25)]


def test_ambiguous_dates_follow_date_order_option():
    data = b"comment,date\na,01/02/2026\nb,03/04/2026\n"
    assert survey.parse("d.csv", data).records["received_at"][0] == datetime(2026, 1, 2)
    dmy = survey.parse("d.csv", data, ParseOptions(date_order="dmy"))
    assert dmy.records["received_at"][0] == datetime(2026, 2, 1)


def _cfpb_csv(rows: list[tuple[str, str]]) -> bytes:
    """A complaint export shaped like the CFPB database's, one row per (id, date received)."""
    out = io.StringIO()
    out.write(
        "Date received,Product,Sub-product,Issue,Consumer complaint narrative,Company,"
        "State,ZIP code,Submitted via,Complaint ID\n"
    )
    for ref, when in rows:
        out.write(
            f"{when},Credit card,General-purpose credit card,Fees or interest,"
            f'"I was charged a late fee on {ref}, although I paid on time.",'
            f"Big Bank,CA,90210,Web,{ref}\n"
        )
    return out.getvalue().encode()


def test_a_merged_export_with_two_date_formats_loads_every_row():
    # one system wrote 2019/9/24, the other ISO: more than a sample's worth of the first
    first = [(f"A{i}", f"2019/{1 + i % 12}/{1 + i % 28}") for i in range(620)]
    second = [(f"B{i}", f"2023-06-{10 + i % 20:02d}") for i in range(300)]
    third = [("C1", "2023-06-27T14:05:00Z"), ("C2", "06/28/2023"), ("C3", "2023-06-29 08:00")]
    p = complaint.parse("merged.csv", _cfpb_csv(first + second + third))
    assert p.quarantine.height == 0, p.quarantine["reason"].to_list()[:3]
    assert p.records.height == 923
    got = dict(zip(p.records["source_ref"], p.records["received_at"], strict=True))
    assert got["A0"] == datetime(2019, 1, 1) and got["A619"] == datetime(2019, 8, 4)
    assert got["B0"] == datetime(2023, 6, 10) and got["B299"] == datetime(2023, 6, 29)
    assert got["C1"] == datetime(2023, 6, 27, 14, 5)
    assert got["C2"] == datetime(2023, 6, 28) and got["C3"] == datetime(2023, 6, 29, 8)


@pytest.mark.parametrize(
    "iso, expected",
    [
        ("2023-06-27", datetime(2023, 6, 27)),
        ("2023-06-27T10:00", datetime(2023, 6, 27, 10)),
        ("2023-06-27T10:00:00+01:00", datetime(2023, 6, 27, 9)),
        ("2023-06-27T10:00:00.250Z", datetime(2023, 6, 27, 10, 0, 0, 250000)),
        ("2023-06-27 10:00:00+0200", datetime(2023, 6, 27, 8)),
        ("20230627", datetime(2023, 6, 27)),
        ("2023-W26-2", datetime(2023, 6, 27)),
    ],
)
def test_iso_8601_always_loads_whatever_the_columns_main_format(iso, expected):
    rows = [(f"R{i}", f"{1 + i % 12}/{13 + i % 15}/2023") for i in range(30)] + [("X", iso)]
    p = complaint.parse("c.csv", _cfpb_csv(rows))
    assert p.quarantine.height == 0, p.quarantine["reason"].to_list()
    got = dict(zip(p.records["source_ref"], p.records["received_at"], strict=True))
    assert got["X"] == expected and got["R0"] == datetime(2023, 1, 13)


def test_day_month_order_is_settled_per_file_from_its_own_data():
    uk = _cfpb_csv([("U1", "03/04/2023"), ("U2", "25/12/2023"), ("U3", "2023-06-27")])
    us = _cfpb_csv([("S1", "03/04/2023"), ("S2", "12/25/2023"), ("S3", "2023-06-27")])
    for name, data, expected in [
        ("uk.csv", uk, datetime(2023, 4, 3)),
        ("us.csv", us, datetime(2023, 3, 4)),
    ]:
        p = complaint.parse(name, data)
        assert p.quarantine.height == 0 and p.records.height == 3, name
        assert p.records["received_at"][0] == expected, name
        assert p.records["received_at"][2] == datetime(2023, 6, 27), name


def test_a_stray_day_first_value_loads_and_does_not_flip_a_month_first_file():
    rows = [(f"S{i}", f"{1 + i % 12}/{13 + i % 15}/2023") for i in range(40)]
    rows += [("AMB", "03/04/2023"), ("UK", "25/02/2023")]
    p = complaint.parse("c.csv", _cfpb_csv(rows))
    assert p.quarantine.height == 0
    got = dict(zip(p.records["source_ref"], p.records["received_at"], strict=True))
    assert got["AMB"] == datetime(2023, 3, 4) and got["UK"] == datetime(2023, 2, 25)


def test_only_truly_ambiguous_or_unreadable_dates_are_quarantined_each_with_its_reason():
    # a US and a UK export merged: both orders in earnest, so 03/04/2023 cannot be told
    rows = [(f"S{i}", f"{1 + i % 12}/{13 + i % 15}/2023") for i in range(20)]
    rows += [(f"U{i}", f"{13 + i % 15}/{1 + i % 12}/2023") for i in range(20)]
    rows += [("AMB", "03/04/2023"), ("SAME", "05/05/2023"), ("BAD", "soon"), ("ISO", "2023-06-27")]
    p = complaint.parse("c.csv", _cfpb_csv(rows))
    reasons = dict(zip(p.quarantine["source_ref"], p.quarantine["reason_code"], strict=True))
    assert reasons == {"AMB": "ambiguous_date", "BAD": "bad_date"}
    why = dict(zip(p.quarantine["source_ref"], p.quarantine["reason"], strict=True))
    assert "'03/04/2023'" in why["AMB"] and "day-first and month-first" in why["AMB"]
    assert "unparseable date 'soon'" in why["BAD"]
    got = dict(zip(p.records["source_ref"], p.records["received_at"], strict=True))
    assert got["S0"] == datetime(2023, 1, 13) and got["U0"] == datetime(2023, 1, 13)
    assert got["SAME"] == datetime(2023, 5, 5) and got["ISO"] == datetime(2023, 6, 27)
    assert any("both day-first" in n for n in p.notes)
    # the user's word settles it
    dmy = complaint.parse("c.csv", _cfpb_csv(rows), ParseOptions(date_order="dmy"))
    assert dmy.quarantine["source_ref"].to_list() == ["BAD"]
    got = dict(zip(dmy.records["source_ref"], dmy.records["received_at"], strict=True))
    assert got["AMB"] == datetime(2023, 4, 3) and got["S0"] == datetime(2023, 1, 13)


def test_ids_shared_by_different_records_are_not_trusted():
    data = b"tweet_id,text\n5.70306e+17,first tweet\n5.70306e+17,second tweet\n"
    p = complaint.parse("t.csv", data)
    assert p.records["record_key"].to_list() == [None, None]
    assert any("same id" in n for n in p.notes)


def test_xlsx_json_jsonl_and_parquet_read_the_same_records():
    frame = pl.DataFrame(
        {
            "Case Number": ["C1", "C2"],
            "Date Opened": ["2026-10-01", "2026-10-02"],
            "Description": ["router late", "bill wrong"],
            "Product": ["Fibre", "TV"],
        }
    )
    xlsx = io.BytesIO()
    frame.write_excel(xlsx)
    pq = io.BytesIO()
    frame.write_parquet(pq)
    as_json = json.dumps({"data": frame.to_dicts()}).encode()
    as_jsonl = "\n".join(json.dumps(r) for r in frame.to_dicts()).encode()
    for name, data in [
        ("c.xlsx", xlsx.getvalue()),
        ("c.parquet", pq.getvalue()),
        ("c.json", as_json),
        ("c.jsonl", as_jsonl),
    ]:
        p = complaint.parse(name, data)
        assert p.records["text"].to_list() == ["router late", "bill wrong"], name
        assert p.records["source_ref"].to_list() == ["C1", "C2"], name
        assert p.records["received_at"][1] == datetime(2026, 10, 2), name
        assert json.loads(p.records["attributes"][0]) == {"Product": "Fibre"}, name


def test_nested_json_is_flattened_and_bad_lines_are_quarantined():
    data = (
        b'{"id": 1, "customer": {"email": "a@example.com"}, "message": "hello there", "meta": {"page": "billing"}}\n'
        b"{not json}\n"
        b'"a string, not an object"\n'
        b'{"id": 2, "customer": {"email": "b@example.com"}, "message": "second"}\n'
    )
    p = complaint.parse("web.jsonl", data)
    assert p.records["text"].to_list() == ["hello there", "second"]
    assert p.records["customer"].to_list() == ["a@example.com", "b@example.com"]
    assert sorted(p.quarantine["reason_code"].to_list()) == ["malformed_line", "malformed_record"]
    assert json.loads(p.records["attributes"][0])["meta.page"] == "billing"


def test_deeply_nested_json_does_not_crash():
    deep = "[" * 5000 + "]" * 5000
    p = complaint.parse("deep.json", deep.encode())
    assert p.records.height == 0 and p.quarantine.height >= 1


def test_header_tokens_and_column_roles_on_real_public_exports(shared_data):
    p = complaint.parse(
        "airline.csv",
        shared_data("twitter_us_airline_sentiment", "airline_tweets_clean.csv").read_bytes(),
    )
    assert p.records.height == 14_640 and p.quarantine.height == 0
    assert p.records["received_at"].dt.year().unique().to_list() == [2015]
    nps = survey.parse("nps.csv", shared_data("nps_verbatims", "nps_verbatims.csv").read_bytes())
    assert nps.records["score_kind"].drop_nulls().unique().to_list() == ["nps"]
    assert nps.records["score"].drop_nulls().is_between(0, 10).all()
    assert sorted(nps.records["received_at"].dt.year().unique().to_list()) == [2017, 2018]
    assert nps.records["received_at"].max() < datetime(2018, 7, 1)
    assert tokens("ResponseId") == ["response", "id"] and tokens(
        "Consumer complaint narrative"
    ) == ["consumer", "complaint", "narrative"]


def test_find_columns_ignores_company_written_text():
    labels = ["Company response to consumer", "Consumer complaint narrative"]
    body = pl.DataFrame(
        {
            "c0": ["Closed with explanation of the matter at length" * 3],
            "c1": ["they charged me twice"],
        }
    )
    assert find_columns(labels, body, {}).columns["text"] == 1


def test_local_timestamps_are_stored_as_utc():
    data = b"comment,date\nsummer,2026-10-01 09:00:00\nwinter,2026-11-02 09:00:00\noffset,2026-11-02T09:00:00+01:00\n"
    p = survey.parse("tz.csv", data, ParseOptions(source_timezone="Europe/London"))
    assert p.records["received_at"].to_list()[:2] == [
        datetime(2026, 10, 1, 8, 0),
        datetime(2026, 11, 2, 9, 0),
    ]


def test_other_columns_naming_the_customer_are_kept_as_identity_links_only():
    data = (
        b"Case Number,Date Opened,Contact Email,Contact Phone,Account No,Agent Phone,Description\n"
        b"00418230,02/11/2026 09:15,ann@example.com,07700 900123,47162377,0113 496 0000,No internet\n"
        b"00418231,03/11/2026 10:00,bob@example.com,,,0113 496 0000,Bill wrong\n"
    )
    p = complaint.parse("crm.csv", data)
    ann, bob = rec(p, 0), rec(p, 1)
    assert ann["customer"] == "ann@example.com"
    assert ann["customer_also"] == ["07700 900123", "47162377"]  # never the agent's phone
    assert bob["customer_also"] == []
    assert "07700" not in (ann["attributes"] or "")  # a phone is still not stored as data
