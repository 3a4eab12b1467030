"""Urgent contacts: the cue file, cues in text (negation, quoting, non-cues, languages)
and repeat failures. Pure logic, no warehouse."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest
import yaml

from flows.config import DEFAULT_URGENT_CUES, load_settings
from models.urgent import (
    CONTRACT_KINDS,
    Contact,
    CueFileError,
    detect,
    load_urgent_cues,
    parse_urgent_cues,
    repeat_contacts,
)


@pytest.fixture(scope="module")
def urgent_cues():
    return load_urgent_cues(DEFAULT_URGENT_CUES)


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_URGENT_CUES.read_text(encoding="utf-8"))


def kinds(text: str, urgent_cues) -> set[str]:
    return {f.kind for f in detect(text, urgent_cues)}


def test_the_shipped_cue_file_is_where_the_settings_point_and_has_every_contract_kind(urgent_cues):
    assert load_settings().urgent_cues == DEFAULT_URGENT_CUES
    assert set(CONTRACT_KINDS) <= set(urgent_cues.kind_names)
    assert urgent_cues.repeat_kind == "repeat_failure"
    assert (urgent_cues.repeat_nth, urgent_cues.repeat_window_days) == (3, 30)
    assert all(urgent_cues.describe(k) for k in urgent_cues.kind_names)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'll be speaking to my solicitor about this charge.", {"legal_threat"}),
        ("If it's not refunded I will take you to court.", {"legal_threat"}),
        ("I am not threatening legal action yet, but keep this up.", {"legal_threat"}),
        ("I've reported you to Ofcom.", {"regulator"}),
        (
            "I am not going to complain to the ombudsman, but this is your last chance.",
            {"regulator"},
        ),
        ("We rely on the broadband for my mum's personal alarm.", {"vulnerability"}),
        ("My husband passed away last month and the account is in his name.", {"vulnerability"}),
        ("I'm on a fixed income and can't afford this.", {"vulnerability"}),
        ("The hub is sparking and smells of burning.", {"safety"}),
        ("There are exposed wires on the outside wall.", {"safety"}),
        ("If this isn't fixed I'm leaving.", {"churn_risk"}),
        ("I'm thinking of switching to Sky.", {"churn_risk"}),
        ("@airline never again. #WillNeverFlyWithYou", {"churn_risk"}),
        # other languages
        ("Wenn das Geld nicht zurück ist, meldet sich mein Anwalt.", {"legal_threat"}),
        ("Je vais saisir le médiateur.", {"regulator"}),
        ("Mi madre usa teleasistencia.", {"vulnerability"}),
        ("Router iskrzy, to niebezpieczne.", {"safety"}),
        ("Ich werde kündigen.", {"churn_risk"}),
    ],
)
def test_cues_flag_their_kind(urgent_cues, text, expected):
    assert kinds(text, urgent_cues) == expected


@pytest.mark.parametrize(
    "text",
    [
        # negation cancels where the kind says so
        "There is no safety issue, the engineer was careful.",
        "The router is not dangerous, it just drops out.",
        "I'm not going to leave, I just want it fixed.",
        "I don't have a disability, I just can't reach the socket.",
        "Je ne vais pas résilier.",
        "Es ist nicht gefährlich.",
        # figures of speech and look-alikes (non-cues)
        "I'm losing the will to live with this hold music.",
        "My bill is shocking. Absolutely shocking.",
        "My old router died last week.",
        "The Fire Stick app keeps buffering.",
        "The legal name on my account is wrong.",
        "I'm thinking of cancelling the direct debit.",
        "I had to cancel a hospital appointment to be in.",
        "Vulnerability flag checked.",
        "I cancelled my account in October and still no refund.",
        "Please leave the parcel with a neighbour.",
        # the company's words quoted back
        'Your letter said "you can refer this to the Ombudsman" but it is fixed now.',
        "",
    ],
)
def test_hard_negatives_do_not_flag(urgent_cues, text):
    assert kinds(text, urgent_cues) == set()


def test_a_quote_that_is_not_the_company_still_counts(urgent_cues):
    text = 'Customer rang to complain. In their words: "I will go to the Ombudsman."'
    assert kinds(text, urgent_cues) == {"regulator"}


def test_negation_only_reaches_back_within_the_clause(urgent_cues):
    assert kinds("Nothing was done. The socket is sparking.", urgent_cues) == {"safety"}
    assert kinds("I don't want to complain, but I'm leaving.", urgent_cues) == {"churn_risk"}


def test_a_cue_that_does_not_count_does_not_hide_one_that_does(urgent_cues):
    # the denied "chase" match runs on to "four times"; the cue after it still counts
    text = "Sorted it without me having to chase - I had to ring four times."
    (flag,) = detect(text, urgent_cues)
    assert (flag.kind, flag.cue) == ("repeat_failure", "ring four times")
    assert kinds("Sorted it without me having to chase it.", urgent_cues) == set()


def test_evidence_is_the_sentence_holding_the_cue_and_typographic_apostrophes_match(urgent_cues):
    text = "Hello. I can’t afford the new price since I lost my job. Please help."
    (flag,) = detect(text, urgent_cues)
    assert flag.kind == "vulnerability"
    assert flag.evidence == "I can't afford the new price since I lost my job."
    long = "word " * 200 + "my solicitor will write to you " + "word " * 200
    (flag,) = detect(long, urgent_cues)
    assert "solicitor" in flag.evidence and len(flag.evidence) <= 202
    assert flag.evidence.startswith("…") and flag.evidence.endswith("…")


def test_one_flag_per_kind_and_several_kinds_per_text(urgent_cues):
    text = "I've written to the Ombudsman and to Ofcom, and unless I can leave without a penalty I'll go elsewhere."
    flags = detect(text, urgent_cues)
    assert sorted(f.kind for f in flags) == ["churn_risk", "regulator"]


def test_a_team_can_add_a_kind_and_cues(raw):
    raw["kinds"]["fraud"] = {
        "description": "The customer reports fraud on their account.",
        "negation": "cancels",
        "cues": ["fraud\\w*", "scam(med)?"],
    }
    urgent_cues = parse_urgent_cues(raw)
    assert "fraud" in urgent_cues.kind_names
    assert kinds("Someone scammed me using your account.", urgent_cues) == {"fraud"}
    assert kinds("This is not fraud, just a billing error.", urgent_cues) == set()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["kinds"]["safety"].update(negation="sometimes"), "kinds.safety → negation"),
        (lambda r: r["kinds"]["safety"].update(cues=["fire("]), "kinds.safety → cues"),
        (lambda r: r["kinds"]["safety"].update(cues=[]), "kinds.safety → cues"),
        (lambda r: r["kinds"]["safety"].update(cues=["x?"]), "matches empty text"),
        (lambda r: r["kinds"]["safety"].pop("description"), "kinds.safety → description"),
        (lambda r: r["kinds"].update({"Bad Name": r["kinds"]["safety"]}), "lower_snake_case"),
        (lambda r: r["repeat"].update(nth=1), "repeat.nth"),
        (lambda r: r.update(colour="blue"), "colour"),
    ],
)
def test_mistakes_in_the_cue_file_are_named(raw, change, message):
    broken = copy.deepcopy(raw)
    change(broken)
    with pytest.raises(CueFileError, match=message):
        parse_urgent_cues(broken, "urgent.yaml")


def test_a_missing_or_broken_file_says_so(tmp_path):
    with pytest.raises(CueFileError, match="no cue file"):
        load_urgent_cues(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("kinds: [unclosed", encoding="utf-8")
    with pytest.raises(CueFileError, match="not valid YAML"):
        load_urgent_cues(bad)


# ------------------------------------------------------------------------ repeat failures
T0 = datetime(2026, 11, 1, 9, 0)


def contact(fid, ref, top, days, channel="email"):
    return Contact(fid, ref, top, T0 + timedelta(days=days), channel, "Broadband outages")


def test_the_third_contact_on_one_top_level_theme_within_30_days_is_a_repeat_failure():
    found = repeat_contacts(
        [
            contact("a1", "cust-a", 5, 0, "email"),
            contact("a2", "cust-a", 5, 4, "call"),
            contact("a3", "cust-a", 5, 9, "complaint"),
            contact("a4", "cust-a", 5, 12, "survey"),
        ]
    )
    assert [(f.feedback_id, f.nth) for f in found] == [("a3", 3), ("a4", 4)]
    assert found[0].evidence.startswith("3rd contact in 30 days on “Broadband outages”")
    assert "2026-11-01 email" in found[0].evidence and "2026-11-05 call" in found[0].evidence


def test_contacts_outside_the_window_other_themes_customers_or_unclassified_do_not_count():
    found = repeat_contacts(
        [
            # a third contact 31 days after the first: the first has left the window
            contact("b1", "cust-b", 5, 0),
            contact("b2", "cust-b", 5, 20),
            contact("b3", "cust-b", 5, 31),
            # three contacts, three themes
            contact("c1", "cust-c", 5, 0),
            contact("c2", "cust-c", 6, 1),
            contact("c3", "cust-c", 7, 2),
            # no customer, and the unclassified theme (0): never "the same problem"
            contact("d1", None, 5, 0),
            contact("d2", None, 5, 1),
            contact("d3", None, 5, 2),
            contact("e1", "cust-e", 0, 0),
            contact("e2", "cust-e", 0, 1),
            contact("e3", "cust-e", 0, 2),
        ]
    )
    assert found == []


def test_repeat_counting_does_not_depend_on_input_order_and_respects_the_rule():
    items = [contact(f"f{i}", "cust-f", 9, i) for i in range(5)]
    forward = repeat_contacts(items, nth=2, window_days=2)
    backward = repeat_contacts(list(reversed(items)), nth=2, window_days=2)
    assert forward == backward
    assert [f.feedback_id for f in forward] == ["f1", "f2", "f3", "f4"]
    assert max(f.nth for f in forward) == 3  # at most three contacts fit in a 2-day window


def test_a_customer_known_by_an_e_mail_and_a_phone_is_one_customer_for_repeats():
    import polars as pl

    from flows.urgent import repeat_flags

    frame = pl.DataFrame(
        {
            "feedback_id": ["e1", "c2", "x3"],
            "customer_ref": ["ref-email", "ref-phone", "ref-email"],
            "top_id": [5, 5, 5],
            "received_at": [T0, T0 + timedelta(days=3), T0 + timedelta(days=6)],
            "channel": ["email", "call", "complaint"],
            "top_label": ["Broadband outages"] * 3,
        }
    )
    urgent_cues = load_urgent_cues(DEFAULT_URGENT_CUES)
    assert repeat_flags(frame, urgent_cues).height == 0  # an e-mail and a phone: two strangers
    linked = repeat_flags(frame, urgent_cues, links=[("ref-email", "ref-phone")])
    assert linked["feedback_id"].to_list() == ["x3"]
    assert "2026-11-04 call" in linked["evidence"][0]
