"""flows.intake.sources.email: .eml / .mbox / .txt → customer-written records, the rest quarantined."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from flows.intake.sources import email as email_parser
from flows.intake.sources.base import QUARANTINE_SCHEMA, RECORD_SCHEMA, ParsedSource, ParseOptions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
ALL_FIXTURES = sorted(p.name for p in FIXTURES.iterdir() if p.is_file())


def parse(name: str, data: bytes | str, **options) -> ParsedSource:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return email_parser.parse(name, data, ParseOptions(**options))


def fixture(name: str, **options) -> ParsedSource:
    return parse(name, (FIXTURES / name).read_bytes(), **options)


def only_record(result: ParsedSource) -> dict:
    assert result.quarantine.height == 0, result.quarantine.to_dicts()
    assert result.records.height == 1
    return result.records.row(0, named=True)


def only_quarantine(result: ParsedSource) -> dict:
    assert result.records.height == 0
    assert result.quarantine.height == 1
    return result.quarantine.row(0, named=True)


def message(
    body: str,
    *,
    subject: str = "Broken app",
    sender: str = "Jane Doe <jane@example.com>",
    to: str = "support@acme.example",
    date: str | None = "Tue, 03 Nov 2026 10:15:00 +0000",
    message_id: str | None = "<m1@example.com>",
    headers: str = "",
) -> str:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    if date is not None:
        lines.append(f"Date: {date}")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    head = "\n".join(lines) + ("\n" + headers.strip() if headers.strip() else "")
    return f"{head}\n\n{body}"


def mbox(*messages: str) -> str:
    return "".join(
        f"From sender{i}@example.com Tue Nov  3 10:{i % 60:02d}:00 2026\n{m.rstrip()}\n\n"
        for i, m in enumerate(messages)
    )


def reply(body: str, subject: str = "Hello") -> str:
    """The text voc keeps of a one-message body: subject line and blank line removed."""
    text = only_record(parse("m.eml", message(body, subject=subject)))["text"]
    prefix = email_parser.clean_subject(subject) + "\n\n"
    return text[len(prefix) :] if text.startswith(prefix) else ("" if text == subject else text)


# --------------------------------------------------------------------------------------
# the contract, for every fixture
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_keeps_the_accounting_identity_and_schemas(name):
    result = fixture(name)
    assert result.channel == "email"
    assert result.rows_read == result.records.height + result.quarantine.height
    assert result.rows_read >= 1
    assert dict(result.records.schema) == RECORD_SCHEMA
    assert dict(result.quarantine.schema) == QUARANTINE_SCHEMA
    for row in result.records.iter_rows(named=True):
        assert row["source_ref"] and row["record_key"]
        assert row["context"] is None and row["score"] is None and row["score_kind"] is None
        assert row["raw_excerpt"]
        json.loads(row["attributes"])
    assert result.quarantine["reason"].is_not_null().all()


def test_fixture_files_are_small():
    assert all((FIXTURES / name).stat().st_size < 4096 for name in ALL_FIXTURES)


def test_parse_is_pure_and_repeatable():
    data = (FIXTURES / "support_inbox.mbox").read_bytes()
    first, second = parse("support_inbox.mbox", data), parse("support_inbox.mbox", data)
    assert first.records.equals(second.records)
    assert first.quarantine.equals(second.quarantine)


# --------------------------------------------------------------------------------------
# realistic fixtures (built from tickets_v5_en_de_complete_rows.csv)
# --------------------------------------------------------------------------------------
def test_plain_and_html_alternative_takes_plain_and_drops_the_sign_off():
    row = only_record(fixture("ticket_en_signature.eml"))
    assert row["source_ref"] == row["record_key"] == "CAF=ticket67.2026@mail.example.org"
    assert row["customer"] == "priya.raman@example.org"  # addr-spec only, lower-cased
    assert row["received_at"] == datetime(2026, 11, 2, 7, 41, 7)  # +0100 → naive UTC
    text = row["text"]
    assert text.startswith("Problem Report\n\nCustomer Support,")
    assert "delays and confusion when handling several accounts" in text
    # a closing sentence is the customer's; the sign-off and name below it are not
    assert text.endswith("Thanks for your support.")
    assert "Best regards" not in text and "[Your Name]" not in text
    assert "<p>" not in text
    assert json.loads(row["attributes"]) == {"subject": "Problem Report"}


def test_quoted_reply_keeps_only_the_new_text():
    row = only_record(fixture("ticket_en_reply_quoted.eml"))
    text = row["text"]
    assert text == (
        "Inquiry About Company Offerings\n\n"
        "Thanks for the quick answer. We are mainly interested in the analytics suite and the\n"
        "on-premise storage appliances, for about 40 seats. A price list would be great."
    )
    assert "Sent from my iPhone" not in text
    assert "brochures" not in text.lower()  # the company's answer and the original mail
    attributes = json.loads(row["attributes"])
    assert attributes["subject"] == "Re: Inquiry About Company Offerings"
    assert attributes["in_reply_to"] == "ans-111@acme.example"
    assert row["received_at"] == datetime(2026, 11, 4, 15, 2, 55)


def test_german_outlook_reply_latin1_quoted_printable():
    row = only_record(fixture("ticket_de_outlook.eml"))
    text = row["text"]
    assert text.startswith("Anfrage zu Firmenangeboten\n\n")  # "AW: WG: " removed
    assert "Cloud-Speicherlösungen und die Lizenzpreise für 25 Arbeitsplätze" in text
    assert "Mit freundlichen Grüßen" not in text and "Jürgen Weiß" not in text
    assert "Von:" not in text and "Vielen Dank für Ihr Interesse" not in text
    assert "Ursprüngliche Nachricht" not in text
    assert row["customer"] == "j.weiss@example.de"
    assert row["language"] == "de"  # Content-Language: de-DE


def test_html_only_mail_becomes_text_without_script_style_or_quote():
    row = only_record(fixture("ticket_html_only.eml"))
    text = row["text"]
    assert text.startswith("Billing Issue\n\nProblem mit der Zahlungsabwicklung")
    assert (
        "Die Rechnung INV-2026-1104 wurde zweimal abgebucht.\nBitte erstatten Sie den Betrag."
        in text
    )
    assert "erste Abbuchung: 03.11.\nzweite Abbuchung: 04.11." in text
    for gone in ("alert", "color: red", "Abrechnung</title>", "<b>", "schrieb", "Vielen Dank"):
        assert gone not in text
    assert json.loads(row["attributes"])["html_only"] is True


def test_attachments_are_named_never_read():
    row = only_record(fixture("ticket_attachment.eml"))
    assert json.loads(row["attributes"])["attachments"] == ["invoice_2026-11.pdf", "error.log"]
    assert "SECRET-LOG-LINE" not in row["text"] and "%PDF" not in row["text"]
    assert row["text"].endswith("The invoice and the error log are attached.")


def test_mbox_outbound_bad_date_missing_message_id_and_from_escapes():
    result = fixture("support_inbox.mbox")
    assert result.rows_read == 5
    records = {r["source_ref"]: r for r in result.records.iter_rows(named=True)}
    assert set(records) == {"inbox-1@example.com", "message 3", "inbox-5@example.de"}
    # mboxrd ">From " is unescaped
    assert "\nFrom my side everything was configured" in records["inbox-1@example.com"]["text"]
    # no Message-ID: position in the file, and a content hash as key
    assert records["message 3"]["record_key"].startswith("sha256:")
    assert records["message 3"]["received_at"] == datetime(2026, 11, 3, 14, 5)
    # German, RFC 2047 subject, 8-bit UTF-8 body, "Viele Grüße" sign-off cut
    german = records["inbox-5@example.de"]["text"]
    assert german.startswith("Anfrage zu Abrechnungsplänen\n\nKönnten Sie bitte")
    assert "Viele Grüße" not in german and "Lukas" not in german

    quarantine = {r["source_ref"]: r for r in result.quarantine.iter_rows(named=True)}
    assert quarantine["inbox-2@acme.example"]["reason_code"] == "outbound_email"
    assert "support@acme.example" in quarantine["inbox-2@acme.example"]["reason"]
    assert quarantine["inbox-4@example.org"]["reason_code"] == "bad_date"
    assert "the day after tomorrow" in quarantine["inbox-4@example.org"]["reason"]
    assert (
        "Questions Regarding Promotional Solutions"
        in quarantine["inbox-4@example.org"]["raw_excerpt"]
    )
    assert any("support@acme.example" in note for note in result.notes)


def test_truncated_mbox_keeps_what_it_can_read():
    result = fixture("truncated.mbox")
    assert result.rows_read == 2 and result.quarantine.height == 0
    second = result.records.row(1, named=True)
    assert second["text"].endswith("The checkout page shows an error when I pay with my card.")
    assert json.loads(second["attributes"])["attachments"] == ["error.png"]
    assert any("never closed" in note for note in result.notes)


def test_mbox_cut_off_inside_the_headers():
    first = message("The first one is fine.")
    cut = "From: bob@example.com\nTo: support@acme.example\nSubject: I was cut o"
    result = parse(
        "cut.mbox", mbox(first) + "From bob@example.com Tue Nov  3 11:00:00 2026\n" + cut
    )
    assert result.rows_read == 2
    assert result.records.height + result.quarantine.height == 2
    assert result.records["text"].to_list()[0] == "Broken app\n\nThe first one is fine."


def test_mbox_cut_off_inside_a_date_quarantines_only_that_message():
    first = message("Fine.")
    cut = "From: bob@example.com\nDate: Tue, 3 No"
    result = parse(
        "cut.mbox", mbox(first) + "From bob@example.com Tue Nov  3 11:00:00 2026\n" + cut
    )
    assert result.records.height == 1
    assert result.quarantine["reason_code"].to_list() == ["bad_date"]


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.mark.parametrize(
    "data", [PNG, PNG * 50, b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256))]
)
def test_binary_file_is_one_undecodable_row(data):
    row = only_quarantine(parse("scan.eml", data))
    assert row["reason_code"] == "undecodable_file"
    assert row["source_ref"] == "scan.eml"
    assert "binary" in row["reason"] or "not UTF-8" in row["reason"]


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\n"])
def test_empty_file_is_one_quarantine_row(data):
    row = only_quarantine(parse("empty.eml", data))
    assert row["reason_code"] == "empty_file"


def test_plain_text_without_headers_is_not_an_email():
    row = only_quarantine(parse("notes.txt", "The app crashes when I log in.\nPlease fix it.\n"))
    assert row["reason_code"] == "malformed_email"
    assert "not an e-mail" in row["reason"]


def test_eml_like_txt_is_read():
    row = only_record(parse("saved.txt", message("The app crashes when I log in.")))
    assert row["text"] == "Broken app\n\nThe app crashes when I log in."


def test_extensionless_maildir_file_is_one_message():
    body = "First line.\n\nFrom 9:00 to 17:00 yesterday 2026 the site was down.\n"
    row = only_record(parse("1700000000.M1P2.host", message(body)))
    assert "From 9:00 to 17:00 yesterday 2026 the site was down." in row["text"]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_undeclared_legacy_charset_falls_back(encoding):
    raw = message("Die Rechnung über 50 € ist falsch. Schöne Grüße aus Köln", subject="Rechnung")
    if encoding == "latin-1":
        raw = raw.replace("€", "EUR")
    row = only_record(parse("legacy.eml", raw.encode(encoding)))
    assert "Die Rechnung über 50" in row["text"] and "Köln" in row["text"]
    assert "\ufffd" not in row["text"]


def test_declared_charset_that_lies_falls_back():
    raw = message(
        "Gebühr doppelt berechnet – bitte prüfen.",
        headers="Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
    )
    row = only_record(parse("liar.eml", raw.encode("cp1252")))
    assert "Gebühr doppelt berechnet – bitte prüfen." in row["text"]


def test_unknown_charset_name_falls_back():
    raw = message(
        "Ça ne marche pas.", headers="Content-Type: text/plain; charset=x-no-such-charset"
    )
    row = only_record(parse("odd.eml", raw.encode("utf-8")))
    assert row["text"].endswith("Ça ne marche pas.")


def test_raw_8bit_subject_and_encoded_words_are_decoded():
    raw = message(
        "body",
        subject="Rückerstattung für Bestellung",
        sender="=?utf-8?q?J=C3=BCrgen?= <JUERGEN@Example.DE>",
    )
    row = only_record(parse("h.eml", raw.encode("latin-1")))
    assert row["text"].startswith("Rückerstattung für Bestellung")
    assert row["customer"] == "juergen@example.de"


def test_utf16_file_with_bom_is_read():
    row = only_record(parse("u16.eml", message("Hello from UTF-16.").encode("utf-16")))
    assert row["text"] == "Broken app\n\nHello from UTF-16."


def test_crlf_line_endings():
    raw = message(
        "Line one.\nLine two.\n\nOn Mon, 2 Nov 2026, Support <s@acme.example> wrote:\n> old"
    )
    row = only_record(parse("crlf.eml", raw.replace("\n", "\r\n")))
    assert row["text"] == "Broken app\n\nLine one.\nLine two."


def test_broken_from_header_does_not_sink_the_message():
    row = only_record(parse("f.eml", message("Still readable.", sender='<broken@@>,,, "')))
    assert row["text"].endswith("Still readable.")


def test_malformed_chunk_inside_mbox_quarantines_only_itself():
    junk = "this is not a mail at all\njust some words"
    result = parse(
        "mixed.mbox",
        mbox(message("one", message_id="<a@x>"), junk, message("two", message_id="<b@x>")),
    )
    assert result.rows_read == 3
    assert result.records["source_ref"].to_list() == ["a@x", "b@x"]
    assert result.quarantine.row(0, named=True)["source_ref"] == "message 2"
    assert result.quarantine.row(0, named=True)["reason_code"] == "malformed_email"


def test_unexpected_error_in_one_message_is_a_parser_error_row(monkeypatch):
    real = email_parser._record

    def flaky(msg, ref, notes):
        if "boom" in msg.headers.get("subject", ""):
            raise RuntimeError("kaboom")
        return real(msg, ref, notes)

    monkeypatch.setattr(email_parser, "_record", flaky)
    result = parse(
        "f.mbox",
        mbox(message("ok", message_id="<a@x>"), message("x", subject="boom", message_id="<b@x>")),
    )
    assert result.records["source_ref"].to_list() == ["a@x"]
    row = result.quarantine.row(0, named=True)
    assert (row["source_ref"], row["reason_code"]) == ("b@x", "parser_error")
    assert "kaboom" in row["reason"]


def test_unexpected_error_for_the_whole_file_never_escapes(monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("no")

    monkeypatch.setattr(email_parser, "split_mbox", broken)
    row = only_quarantine(parse("x.mbox", mbox(message("a"))))
    assert row["reason_code"] == "parser_error" and "MemoryError" in row["reason"]


# --------------------------------------------------------------------------------------
# headers: ids, dates, senders
# --------------------------------------------------------------------------------------
def test_message_without_message_id_gets_position_and_stable_content_key():
    raw = message("My order never arrived.", message_id=None)
    first = only_record(parse("a/one.eml", raw))
    moved = only_record(parse("b/renamed.eml", raw))
    changed = only_record(parse("a/one.eml", raw.replace("never", "still has not")))
    assert first["source_ref"] == "message 1"
    assert first["record_key"] == moved["record_key"]
    assert (
        first["record_key"].startswith("sha256:") and first["record_key"] != changed["record_key"]
    )


def test_message_id_is_the_key_whatever_the_file_is_called():
    raw = message("x", message_id="  <CA+abc.123@mail.gmail.com>  ")
    assert only_record(parse("one.eml", raw))["record_key"] == "CA+abc.123@mail.gmail.com"
    assert only_record(parse("two.eml", raw))["source_ref"] == "CA+abc.123@mail.gmail.com"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tue, 03 Nov 2026 10:15:00 +0000", datetime(2026, 11, 3, 10, 15)),
        ("Tue, 03 Nov 2026 10:15:00 +0530", datetime(2026, 11, 3, 4, 45)),
        ("Tue, 03 Nov 2026 10:15:00 -0000", datetime(2026, 11, 3, 10, 15)),
        ("3 Nov 2026 10:15 -0800", datetime(2026, 11, 3, 18, 15)),
        ("Tue, 03 Nov 2026 10:15:00 GMT", datetime(2026, 11, 3, 10, 15)),
    ],
)
def test_date_header_becomes_naive_utc(header, expected):
    assert only_record(parse("d.eml", message("x", date=header)))["received_at"] == expected


@pytest.mark.parametrize(
    "header", ["yesterday", "Tue, 33 Nov 2026 10:15:00 +0000", "2026-13-45", "Tue, 03 Xyz 2026"]
)
def test_unparseable_date_is_quarantined_with_the_value(header):
    row = only_quarantine(parse("d.eml", message("x", date=header)))
    assert row["reason_code"] == "bad_date"
    assert header in row["reason"] and row["source_ref"] == "m1@example.com"


def test_no_date_header_means_no_date():
    assert only_record(parse("d.eml", message("x", date=None)))["received_at"] is None


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ('"Doe, Jane" <Jane.Doe@Example.COM>', "jane.doe@example.com"),
        ("JANE@EXAMPLE.COM", "jane@example.com"),
        ("Jane <jane+orders@example.co.uk> (via web form)", "jane+orders@example.co.uk"),
    ],
)
def test_customer_is_the_lower_cased_from_address(sender, expected):
    assert only_record(parse("s.eml", message("x", sender=sender)))["customer"] == expected


# --------------------------------------------------------------------------------------
# outbound mail
# --------------------------------------------------------------------------------------
def test_company_domain_sender_is_outbound():
    raw = message(
        "We have refunded you.",
        sender="Acme Support <Help@Mail.Acme.Example>",
        to="jane@example.com",
    )
    row = only_quarantine(parse("o.eml", raw, company_email_domains=("acme.example",)))
    assert row["reason_code"] == "outbound_email"
    assert "help@mail.acme.example" in row["reason"]


def test_similar_but_different_domain_is_not_outbound():
    raw = message("I am a customer.", sender="x@notacme.example")
    only_record(parse("o.eml", raw, company_email_domains=("acme.example", "@acme.example")))


def test_support_inbox_rule_needs_three_messages():
    inbound = message("Help", message_id="<a@x>")
    outbound = message(
        "Answer", sender="support@acme.example", to="jane@example.com", message_id="<b@x>"
    )
    assert parse("two.mbox", mbox(inbound, outbound)).records.height == 2
    third = message("More help", sender="bob@example.com", message_id="<c@x>")
    result = parse("three.mbox", mbox(inbound, outbound, third))
    assert result.records["source_ref"].to_list() == ["a@x", "c@x"]
    assert result.quarantine["reason_code"].to_list() == ["outbound_email"]


def test_support_inbox_needs_a_majority():
    msgs = [message("x", to=f"team{i}@acme.example", message_id=f"<{i}@x>") for i in range(4)]
    msgs.append(message("y", sender="team0@acme.example", message_id="<5@x>"))
    assert parse("spread.mbox", mbox(*msgs)).records.height == 5


# --------------------------------------------------------------------------------------
# mbox splitting
# --------------------------------------------------------------------------------------
def test_mbox_split_needs_a_from_line_after_a_blank_line():
    data = (
        b"From a@example.com Tue Nov  3 10:00:00 2026\nSubject: one\n\n"
        b"text\nFrom the start it was broken 10:00 2026\n\n"
        b"From b@example.com Tue Nov  3 11:00:00 2026\nSubject: two\n\nmore\n"
    )
    chunks = email_parser.split_mbox(data)
    assert len(chunks) == 2
    assert b"From the start it was broken" in chunks[0]


def test_mboxrd_unescaping_removes_one_level():
    data = b"From a@example.com Tue Nov  3 10:00:00 2026\nSubject: x\n\n>From here\n>>From there\n"
    (chunk,) = email_parser.split_mbox(data)
    assert b"\nFrom here\n>From there\n" in chunk


def test_mbox_with_a_preamble_and_blank_chunks():
    data = b"\n\nFrom a@example.com Tue Nov  3 10:00:00 2026\nSubject: x\n\nhi\n\n\n"
    assert len(email_parser.split_mbox(data)) == 1


def test_eml_starting_with_a_from_line():
    raw = "From jane@example.com Tue Nov  3 10:15:00 2026\n" + message("Exported by Apple Mail.")
    assert only_record(parse("apple.eml", raw))["text"].endswith("Exported by Apple Mail.")


# --------------------------------------------------------------------------------------
# subject and body
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: RE: Fwd: AW: WG: SV: Antw: Invoice", "Invoice"),
        ("Re[2]: Invoice", "Invoice"),
        ("FW:Invoice", "Invoice"),
        ("Reply needed about my invoice", "Reply needed about my invoice"),
        ("Rewards points missing", "Rewards points missing"),
        ("", ""),
    ],
)
def test_subject_prefixes(subject, expected):
    assert email_parser.clean_subject(subject) == expected


def test_empty_body_keeps_the_subject_as_text():
    assert (
        only_record(parse("e.eml", message("", subject="Re: Cancel my contract")))["text"]
        == "Cancel my contract"
    )


def test_no_subject_and_no_body_is_still_a_record_for_the_validator():
    row = only_record(parse("e.eml", message("   \n\n", subject="")))
    assert row["text"] == ""


def test_hostile_strings_are_kept_verbatim():
    body = "'); DROP TABLE feedback;--\n<script>alert(1)</script>\n${jndi:ldap://x}"
    row = only_record(parse("h.eml", message(body, subject="<img src=x onerror=alert(1)>")))
    assert row["text"] == "<img src=x onerror=alert(1)>\n\n" + body


def test_html_entities_and_hostile_html_in_an_html_mail():
    html = (
        "<p>I typed &lt;script&gt;alert(1)&lt;/script&gt; and it broke.</p><script>steal()</script>"
    )
    raw = message(html, headers="Content-Type: text/html; charset=utf-8")
    row = only_record(parse("h.eml", raw))
    assert row["text"].endswith("I typed <script>alert(1)</script> and it broke.")
    assert "steal" not in row["text"]


@pytest.mark.timeout(120)  # a quadratic regex would hang here for minutes
def test_200k_character_line_is_kept_and_fast():
    long_line = "On " + "the app is slow " * 12_500  # the library's quadratic case
    assert len(long_line) > 200_000
    row = only_record(parse("long.eml", message(long_line + "\n\nBest regards,\nJane")))
    assert row["text"] == "Broken app\n\n" + long_line.strip()


@pytest.mark.timeout(120)  # a quadratic regex would hang here for minutes
def test_many_messages_parse_quickly():
    msgs = [message(f"Complaint number {i}.", message_id=f"<{i}@x>") for i in range(300)]
    result = parse("big.mbox", mbox(*msgs))
    assert result.records.height == 300


# --------------------------------------------------------------------------------------
# quoted replies, signatures, forwards: what mail-parser-reply does and where voc helps it
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "My invoice is wrong again.\n\nOn Tue, 3 Nov 2026 at 10:15, Acme <support@acme.example> wrote:\n> We fixed it.",
            "My invoice is wrong again.",
            id="gmail-on-wrote",
        ),
        pytest.param(
            "Wrong again.\n\nOn Tue, 3 Nov 2026 at 10:15, Acme Support <support@acme.example>\nwrote:\n> We fixed it.",
            "Wrong again.",
            id="gmail-wrapped-attribution",
        ),
        pytest.param(
            "Still broken.\n\n-----Original Message-----\nFrom: Acme Support\nSent: Tuesday, November 3, 2026 10:15 AM\n"
            "To: Jane\nSubject: RE: invoice\n\nWe fixed it.",
            "Still broken.",
            id="outlook-original-message",
        ),
        pytest.param(
            "Still broken.\n\n________________________________\nFrom: Acme Support <support@acme.example>\n"
            "Sent: Tuesday, November 3, 2026 10:15 AM\nTo: Jane <jane@example.com>\nSubject: RE: invoice\n\nWe fixed it.",
            "Still broken.",
            id="outlook-from-sent-block",
        ),
        pytest.param(
            "The app crashes on login.\n\n-- \nJane Doe\nACME Corp",
            "The app crashes on login.",
            id="dash-dash-signature",
        ),
        pytest.param(
            "The app crashes on login.\n\nSent from my iPhone",
            "The app crashes on login.",
            id="iphone",
        ),
        pytest.param(
            "The app crashes.\n\nKind regards,\nJane", "The app crashes.", id="kind-regards"
        ),
        pytest.param(
            "Meine Rechnung ist falsch.\n\nMit freundlichen Grüßen\nHans\n\n"
            "Am 03.11.2026 um 10:15 schrieb Acme Support <support@acme.example>:\n> Wir haben das korrigiert.",
            "Meine Rechnung ist falsch.",
            id="german-am-schrieb",
        ),
        pytest.param(
            "Geht nicht.\n\nGesendet von meinem iPhone", "Geht nicht.", id="german-iphone"
        ),
        pytest.param(
            "Ma facture est fausse.\n\nCordialement,\nMarie\n\n"
            "Le mar. 3 nov. 2026 à 10:15, Acme <support@acme.example> a écrit :\n> Nous avons corrigé.",
            "Ma facture est fausse.",
            id="french-a-ecrit",
        ),
        pytest.param(
            "Mi factura está mal.\n\nEl mar, 3 nov 2026 a las 10:15, Acme <support@acme.example> escribió:\n> Corregido.",
            "Mi factura está mal.",
            id="spanish-escribio",
        ),
        pytest.param(
            "De rekening klopt niet.\n\nOp di 3 nov 2026 om 10:15 schreef Acme <support@acme.example>:\n> Opgelost.",
            "De rekening klopt niet.",
            id="dutch-schreef",
        ),
        pytest.param(
            "La fattura è sbagliata.\n\nIl giorno mar 3 nov 2026 alle ore 10:15 Acme <support@acme.example> ha scritto:\n> Corretto.",
            "La fattura è sbagliata.",
            id="italian-ha-scritto",
        ),
        # where voc helps the library
        pytest.param(
            "A fatura está errada.\n\nEm ter., 3 de nov. de 2026 às 10:15, Acme <support@acme.example> escreveu:\n> Corrigido.",
            "A fatura está errada.",
            id="portuguese-escreveu",
        ),
        pytest.param(
            "My colleague wrote:\nthe app is broken since Monday.",
            "My colleague wrote:\nthe app is broken since Monday.",
            id="wrote-in-a-sentence-is-not-a-quote",
        ),
        pytest.param(
            "Ça ne marche pas.\n\nEnvoyé de mon iPhone", "Ça ne marche pas.", id="french-iphone"
        ),
        pytest.param(
            "The app crashes.\nThanks, but your last fix did not help at all.\nIt still crashes.\n\nThanks,\nJane",
            "The app crashes.\nThanks, but your last fix did not help at all.\nIt still crashes.",
            id="thanks-sentence-is-not-a-signature",
        ),
        pytest.param(
            "Sent from my laptop, the payment failed three times.\nPlease check.",
            "Sent from my laptop, the payment failed three times.\nPlease check.",
            id="sent-from-my-sentence-is-not-a-footer",
        ),
        pytest.param(
            "Envoyé de mon bureau, ce message est urgent : la facture est fausse.",
            "Envoyé de mon bureau, ce message est urgent : la facture est fausse.",
            id="french-sentence-is-not-a-footer",
        ),
        pytest.param(
            "Two problems:\n- the app crashes\n- the invoice is wrong\nPlease help.",
            "Two problems:\n- the app crashes\n- the invoice is wrong\nPlease help.",
            id="hyphen-list-is-not-a-signature",
        ),
        pytest.param(
            "On Tue, 3 Nov 2026 at 10:15, Acme Support <support@acme.example> wrote:\n> We have corrected your invoice.",
            "",
            id="nothing-new-above-the-quote",
        ),
        pytest.param(
            "-----Original Message-----\nFrom: Acme Support\nSent: Tuesday\nTo: Jane\nSubject: x\n\nWe fixed it.",
            "",
            id="nothing-new-above-outlook-quote",
        ),
        pytest.param(
            "On Tue, 3 Nov 2026 at 10:15, Acme <support@acme.example> wrote:\n> We corrected it.\n\nNo, you have not.",
            "No, you have not.",
            id="bottom-posted-reply",
        ),
        pytest.param(
            "> We have corrected your invoice.\n\nNo you have not.",
            "No you have not.",
            id="quote-without-attribution",
        ),
        pytest.param(
            "FYI, still no answer.\n\n---------- Forwarded message ---------\nFrom: Jane <jane@example.com>\n"
            "Date: Tue, 3 Nov 2026 at 10:15\nSubject: broken\nTo: <support@acme.example>\n\nThe app is broken.",
            "FYI, still no answer.",
            id="forward-with-own-words",
        ),
    ],
)
def test_latest_reply(body, expected):
    assert reply(body) == expected


def test_forward_without_own_words_uses_the_forwarded_mail():
    body = (
        "---------- Forwarded message ---------\nFrom: Jane <jane@example.com>\nDate: Tue, 3 Nov 2026\n"
        "Subject: broken\nTo: <support@acme.example>\n\nThe app has been broken for a week.\n\n-- \nJane"
    )
    row = only_record(parse("f.eml", message(body, subject="Fwd: broken")))
    assert row["text"] == "broken\n\nThe app has been broken for a week."
    assert json.loads(row["attributes"])["forwarded"] is True


def test_reply_languages_are_all_supported_by_the_library():
    from mailparser_reply.constants import MAIL_LANGUAGES

    assert set(email_parser.REPLY_LANGUAGES) <= set(MAIL_LANGUAGES)


def test_records_frame_types():
    result = fixture("support_inbox.mbox")
    assert result.records["received_at"].dtype == pl.Datetime("us")
    assert result.records["language"].null_count() == result.records.height


def test_blank_plain_alternative_falls_back_to_the_html_part():
    raw = (
        message("", headers='MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b"')
        + "--b\nContent-Type: text/plain; charset=utf-8\n\n \n"
        + "--b\nContent-Type: text/html; charset=utf-8\n\n<p>The HTML part has the words.</p>\n--b--\n"
    )
    row = only_record(parse("alt.eml", raw))
    assert row["text"] == "Broken app\n\nThe HTML part has the words."
    assert json.loads(row["attributes"])["html_only"] is True


def test_raw_excerpt_is_short_even_for_a_huge_body():
    row = only_record(parse("big.eml", message("word " * 100_000)))
    assert len(row["raw_excerpt"]) < 700
    assert row["raw_excerpt"].startswith("From: Jane Doe <jane@example.com>")


def test_mbox_of_only_separator_lines_is_empty():
    row = only_quarantine(parse("x.mbox", "From a@b.c Tue Nov  3 10:00:00 2026\n" * 3))
    assert row["reason_code"] == "empty_file"


@pytest.mark.parametrize(
    "body",
    [
        "start" + "\n" * 200_000 + "end",  # the library's "\s*^" patterns are quadratic here
        "start\n" + " " * 200_000 + "\nend",
        "start\n" + "> " * 100_000 + "\nend",
        "start\n" + "-" * 200_000 + "\nend",
    ],
    ids=["newlines", "spaces", "quote-marks", "dashes"],
)
@pytest.mark.timeout(120)  # a quadratic regex would hang here for minutes
def test_pathological_whitespace_and_punctuation_is_fast(body):
    row = only_record(parse("w.eml", message(body)))
    assert row["text"].startswith("Broken app\n\nstart")


def test_mutated_fixtures_never_raise_and_keep_the_identity():
    import random

    rnd = random.Random(20261103)
    seeds = [(FIXTURES / name).read_bytes() for name in ALL_FIXTURES]
    for _ in range(150):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 6)):
            pos = rnd.randrange(len(data) + 1)
            roll = rnd.random()
            if roll < 0.3:
                del data[pos : pos + rnd.randint(1, 80)]
            elif roll < 0.6:
                data[pos:pos] = bytes(
                    rnd.choice(b'<>:=@-\n >From\t\\"') for _ in range(rnd.randint(1, 12))
                )
            elif roll < 0.8:
                data[pos : pos + 1] = bytes([rnd.randrange(256)])
            else:
                data = data[:pos]
        name = rnd.choice(["m.eml", "m.mbox", "m.txt", "m"])
        result = parse(name, bytes(data))  # ParsedSource itself checks the identity
        assert "parser_error" not in result.quarantine["reason_code"].to_list(), (
            result.quarantine.to_dicts()
        )
