"""PII redaction: each kind is found, look-alikes are left alone, customers hash stably."""

from __future__ import annotations

import polars as pl
import pytest

from flows.intake.pii import clean_text, customer_refs, normalise_customer, redact


def one(text: str) -> str:
    return redact(pl.Series([text]))[0]


@pytest.mark.parametrize(
    "text,placeholder,secret",
    [
        (
            "mail me at jane.doe+bills@example.co.uk please",
            "<EMAIL>",
            "jane.doe+bills@example.co.uk",
        ),
        ("my mobile is 07700 900123", "<PHONE>", "07700 900123"),
        ("ring +44 7700 900 456 after six", "<PHONE>", "7700 900 456"),
        ("landline 020 7946 0958", "<PHONE>", "7946 0958"),
        ("US number (415) 555-2671", "<PHONE>", "555-2671"),
        ("card 4111 1111 1111 1111 was charged", "<CARD>", "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004", "<CARD>", "5500-0000-0000-0004"),
        ("pay to GB82 WEST 1234 5698 7654 32", "<IBAN>", "GB82 WEST 1234 5698 7654 32"),
        ("IBAN DE89370400440532013000", "<IBAN>", "DE89370400440532013000"),
        ("sort code 12-34-56", "<SORT_CODE>", "12-34-56"),
        ("account number 12345678", "<ACCOUNT>", "12345678"),
        ("I live in LS6 2AB now", "<POSTCODE>", "LS6 2AB"),
        ("at 221B Baker Street", "<ADDRESS>", "Baker Street"),
        ("Washington, DC 20500", "<POSTCODE>", "20500"),
        ("NI number AB 12 34 56 C", "<NINO>", "AB 12 34 56 C"),
        ("SSN 078-05-1120", "<SSN>", "078-05-1120"),
        ("Hi, my name is Sarah Jones and the router is dead", "my name is <NAME> and", "Sarah"),
        ("I spoke to Dave yesterday and nothing happened", "spoke to <NAME> yesterday", "Dave"),
        ("Mrs Patel next door has the same fault", "Mrs <NAME> next door", "Patel"),
        ("my name's O'Brien", "<NAME>", "O'Brien"),
        ("Please fix it.\nRegards,\nTom", "Regards,\n<NAME>", "Tom"),
        ("Thank you Priya for sorting it", "Thank you <NAME> for", "Priya"),
        # sign-offs and introductions in the demo's other languages, names in any alphabet
        ("Bonjour.\nCordialement Thibault Laurent", "Cordialement <NAME>", "Laurent"),
        ("Mit freundlichen Grüßen\nLukas Müller", "Grüßen\n<NAME>", "Müller"),
        ("Un saludo,\nÁlvaro Martínez", "Un saludo,\n<NAME>", "Martínez"),
        ("Z poważaniem\nŁukasz Lewandowska", "poważaniem\n<NAME>", "Łukasz"),
        ("Pozdrawiam, Katarzyna", "Pozdrawiam, <NAME>", "Katarzyna"),
        ("Je m'appelle Élodie Dubois et la box est en panne", "m'appelle <NAME> et", "Élodie"),
        ("Atenciosamente,\nJoão Silva", "Atenciosamente,\n<NAME>", "João"),
        ("Met vriendelijke groet,\nDaan de Vries", "groet,\n<NAME>", "Daan"),
    ],
)
def test_each_kind_is_replaced_by_its_placeholder(text, placeholder, secret):
    out = one(text)
    assert placeholder in out
    assert secret not in out


@pytest.mark.parametrize(
    "text",
    [
        "I paid £38.50 on 2026-11-03 at 10:30",
        "order 123456 arrived on 03/11/2026",
        "my speed is 35 Mbps, promised 900",
        "card ending 4111-1111-1111-1112 (not a valid card number)",
        "three weeks, 21 days, 504 hours",
        "I spoke to Billing twice and asked for a Manager",
        "speaking to Customer Service got me nowhere",
        "The engineer called Monday",
        "Thanks, but the app still crashes",
        "Pozdrawiam\nThe address is wrong",
        "Un saludo\nPlease ring me after six",
        "Merci beaucoup pour votre aide",
        "Cordialement, Le service client",
    ],
)
def test_look_alikes_are_left_alone(text):
    assert one(text) == text


def test_nulls_and_empty_strings_pass_through():
    assert redact(pl.Series([None, "", "no digits here"], dtype=pl.String)).to_list() == [
        None,
        "",
        "no digits here",
    ]


def test_clean_text_removes_controls_and_bidi_but_keeps_newlines():
    s = pl.Series(["a\x00b\x1b[31m c\u202ed\r\ne\tf", "Cafe\u0301"])
    assert clean_text(s).to_list() == ["ab cd\ne\tf", "Café"]


def test_hostile_strings_are_kept_as_text():
    for text in ["Robert'); DROP TABLE feedback;--", "<script>alert('x')</script> my bill"]:
        assert one(text) == text


def test_same_customer_written_two_ways_gets_one_ref():
    ids = pl.Series(
        [
            "Jane <Jane.Doe@Example.com>",
            "jane.doe@example.com ",
            "+44 7700 900123",
            "07700 900123",
            None,
            "",
        ]
    )
    assert normalise_customer(ids).to_list() == [
        "jane.doe@example.com",
        "jane.doe@example.com",
        "07700900123",
        "07700900123",
        None,
        None,
    ]
    refs = customer_refs(ids, b"k" * 32).to_list()
    assert refs[0] == refs[1] and refs[2] == refs[3] and refs[0] != refs[2]
    assert refs[4] is None and refs[5] is None
    assert "jane" not in refs[0]


def test_ref_depends_on_the_key():
    ids = pl.Series(["jane@example.com"])
    assert customer_refs(ids, b"a" * 32)[0] != customer_refs(ids, b"b" * 32)[0]


def test_identifiers_in_a_text_are_the_e_mails_and_phones_redaction_would_replace():
    from flows.intake.pii import identifiers_in

    said = "Should be 07700 900873, or a.b@example.co.uk if that's easier"
    assert identifiers_in(said) == ["07700 900873", "a.b@example.co.uk"]
    assert identifiers_in("+44 161 496 0033, that's the one.") == ["+44 161 496 0033"]
    # a date, an amount, a short reference and a card number are nobody's identity
    assert identifiers_in("On 12/10/2026 I paid £52.40, ref 12345, card 4111 1111 1111 1111") == []
