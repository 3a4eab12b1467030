"""Failure vs value demand: cue rules on fixed texts, themes, and a check on public data."""

from __future__ import annotations

import random

import polars as pl
import pytest

from models.demand import (
    DESCRIBE,
    FAILURE_KINDS,
    KIND_TYPE,
    VALUE_KINDS,
    classify_text,
    classify_texts,
    classify_theme,
)


@pytest.mark.parametrize(
    ("text", "demand_type", "sub_kind"),
    [
        ("Where is my engineer? Nobody came between 8 and 1", "failure", "chasing_progress"),
        (
            "The router still hasn't arrived, when will it be delivered?",
            "failure",
            "chasing_progress",
        ),
        ("Any update on my refund? It's been three weeks", "failure", "chasing_progress"),
        ("Broadband keeps dropping every evening", "failure", "broken"),
        ("I can't log in to the app, password reset loops", "failure", "broken"),
        ("There's no internet at all since yesterday", "failure", "broken"),
        ("I was charged twice for October", "failure", "mistake"),
        ("My bill went up without any warning", "failure", "mistake"),
        ("How do I set up the Wi-Fi on the new hub?", "failure", "confusion_how_do_i"),
        ("I don't understand the charges on this", "failure", "confusion_how_do_i"),
        ("This is the third time I have rung about this", "failure", "repeat_contact"),
        ("I'd like to upgrade to 900 Mbps", "value", "purchase_upgrade"),
        ("Can I add sports to my package?", "value", "purchase_upgrade"),
        ("We're moving house on the 14th, new address below", "value", "change_of_circumstances"),
        ("Please update my bank details for the direct debit", "value", "change_of_circumstances"),
        ("I want to cancel my contract when it ends", "value", "cancellation"),
        ("What is the notice period if I leave?", "value", "cancellation"),
        (
            "Brilliant service, the engineer was lovely, thank you for a quick install",
            "value",
            "praise",
        ),
        ("What are your broadband prices for new customers?", "value", "information"),
        ("ok", "unclear", None),
    ],
)
def test_texts_by_sub_kind(text, demand_type, sub_kind):
    verdict = classify_text(text)
    assert (verdict.demand_type, verdict.sub_kind) == (demand_type, sub_kind), verdict.cues


def test_precedence_rules_follow_the_definitions():
    # a value action beats "how do I": the customer wants to upgrade
    assert classify_text("How do I upgrade my package?").demand_type == "value"
    # a failure cue beats a value cue: the cancellation is caused by a failure
    caused = classify_text("I want to cancel because the broadband keeps dropping")
    assert (caused.demand_type, caused.sub_kind) == ("failure", "broken")
    # cancelled *on* the customer is a failure, not their choice
    assert classify_text("My appointment was cancelled again").demand_type == "failure"
    # politeness in a complaint is not praise; negated praise is not praise
    assert classify_text("Thanks for nothing, I was overcharged").demand_type == "failure"
    assert classify_text("I am not happy with the service").demand_type == "failure"


def test_cues_are_quoted_from_the_text():
    verdict = classify_text("Still waiting for my router, where is my parcel?")
    assert "still waiting" in verdict.cues["chasing_progress"]
    assert "where is my" in verdict.cues["chasing_progress"]


def test_every_sub_kind_is_typed_and_described():
    assert set(KIND_TYPE) == set(FAILURE_KINDS) | set(VALUE_KINDS) == set(DESCRIBE)
    assert {KIND_TYPE[k] for k in FAILURE_KINDS} == {"failure"}
    assert {KIND_TYPE[k] for k in VALUE_KINDS} == {"value"}


# --------------------------------------------------------------------------- themes
def test_a_chasing_theme_explains_itself_with_a_share_and_quotes():
    verdict = classify_theme(
        "Router not delivered",
        ["router", "delivery", "arrived"],
        [
            "Still waiting for my router, ordered two weeks ago",
            "When will my router arrive?",
            "The router hasn't arrived yet",
            "Where is my parcel? Tracking says nothing",
            "Router arrived but the box was damaged",
        ],
        repeat_share=0.2,
    )
    assert (verdict.demand_type, verdict.sub_kind) == ("failure", "chasing_progress")
    assert verdict.reason.startswith("failure demand (chasing progress): ")
    assert '% of contacts ask where something is or when it will happen — "' in verdict.reason
    assert "20% are repeat contacts" in verdict.reason
    assert verdict.evidence and all(e in verdict.reason for e in verdict.evidence)
    assert verdict.confidence == 1.0
    assert verdict.shares["repeat_contact"] >= 0.2


def test_the_texts_decide_not_only_the_label():
    # a neutral label; the contacts are people wanting to leave
    verdict = classify_theme(
        "Account changes",
        [],
        [
            "I want to cancel my broadband at the end of my contract",
            "please close my account, I'm switching provider",
            "what is the exit fee if I leave now?",
        ],
    )
    assert (verdict.demand_type, verdict.sub_kind) == ("value", "cancellation")


def test_repeat_contacts_count_as_failure_demand():
    texts = ["I'd like to upgrade my package", "Can I add TV?", "the line is dead"]
    assert classify_theme("", [], texts).demand_type == "value"
    pushed = classify_theme("", [], texts, repeat_share=0.6)
    assert pushed.demand_type == "failure"
    assert pushed.sub_kind == "repeat_contact"
    assert "60% of contacts have been in touch about it before" in pushed.reason


def test_repeats_name_the_sub_kind_only_when_they_outweigh_the_texts():
    verdict = classify_theme(
        "Broadband outage", [], ["no internet again", "outage in Leeds"], repeat_share=0.3
    )
    assert (verdict.demand_type, verdict.sub_kind) == ("failure", "broken")


def test_a_theme_without_cues_is_unclear():
    assert classify_theme("Miscellaneous", [], ["ok", "see attached", "n/a"]).demand_type == (
        "unclear"
    )
    assert classify_theme().reason == "unclear: nothing to classify"
    with pytest.raises(ValueError, match="repeat_share must be in"):
        classify_theme("x", repeat_share=1.5)


LUMEN_THEMES = [
    # (label, a few contacts in customers' words, expected type)
    (
        "Engineer no-show / where is my engineer",
        ["engineer never turned up", "waited in all day, nobody came"],
        "failure",
    ),
    (
        "Charged twice / double direct debit",
        ["you've taken the payment twice", "charged twice this month"],
        "failure",
    ),
    (
        "Can't log in to My Lumen",
        ["app won't let me sign in", "password reset link doesn't work"],
        "failure",
    ),
    (
        "Broadband outage / connection keeps dropping",
        ["internet down again", "keeps dropping"],
        "failure",
    ),
    (
        "Speeds far below what was promised",
        ["paying for 500 and getting 30", "so slow in the evening"],
        "failure",
    ),
    ("Router not delivered", ["where is my router", "still hasn't arrived"], "failure"),
    (
        "Unexpected price rise / confusing bill",
        ["bill went up with no notice", "why has my price increased"],
        "failure",
    ),
    ("Refund not received", ["still no refund", "when will I get my money back"], "failure"),
    (
        "Long hold times / callbacks that never came",
        ["on hold for an hour", "promised a call back, nothing"],
        "failure",
    ),
    (
        "How do I set up the Wi-Fi / TV box",
        ["how do I connect the TV box", "can't find the wifi password"],
        "failure",
    ),
    (
        "TV app buffering / channels missing",
        ["tv app keeps buffering", "channels missing since update"],
        "failure",
    ),
    (
        "Moving home / transfer my service",
        ["moving house next month", "transfer my broadband to new address"],
        "value",
    ),
    ("Upgrade / add TV or mobile", ["I'd like to upgrade", "add a mobile sim please"], "value"),
    (
        "Cancel / leave at end of contract",
        ["I want to cancel when my contract ends", "give notice"],
        "value",
    ),
    (
        "Praise: fast install, friendly engineer",
        ["engineer was brilliant", "really happy with the speeds"],
        "value",
    ),
]


@pytest.mark.parametrize(
    ("label", "texts", "expected"), LUMEN_THEMES, ids=[t[0] for t in LUMEN_THEMES]
)
def test_lumen_themes(label, texts, expected):
    assert classify_theme(label, [], texts).demand_type == expected


# ---------------------------------------------------------- public data: Bitext
# Bitext's intents → the demand type a Price & Jaffe reading gives them. None: the text
# names no reason for the contact, so no reading can tell (left out of the agreement).
BITEXT_EXPECTED: dict[str, str | None] = {
    "create_account": "value",  # joining: what the organisation exists for
    "delete_account": "value",  # leaving as a choice
    "edit_account": "value",  # change of circumstances
    "switch_account": "value",  # change of circumstances
    "recover_password": "failure",  # locked out: they could not help themselves
    "registration_problems": "failure",  # something broke
    "check_cancellation_fee": "value",  # information before a decision to leave
    "contact_customer_service": None,  # "I want to talk to someone": about what?
    "contact_human_agent": None,
    "delivery_options": "value",  # information before buying
    "delivery_period": "failure",  # "when will my tickets arrive": chasing an order
    "complaint": "failure",  # something went wrong
    "review": None,  # wants to leave a review: no demand either way
    "check_invoices": "value",  # their own bills: information (debatable: could be
    "get_invoice": "value",  # failure if bills should be self-serve; we say value)
    "newsletter_subscription": "value",
    "cancel_order": "value",
    "change_order": "value",
    "place_order": "value",
    "track_order": "failure",  # chasing progress
    "check_payment_methods": "value",  # information
    "payment_issue": "failure",  # broken
    "check_refund_policy": "value",  # information before deciding
    "get_refund": "failure",  # money back because what was bought did not happen/work
    "track_refund": "failure",  # chasing progress
    "change_shipping_address": "value",
    "set_up_shipping_address": "value",
}


@pytest.fixture(scope="module")
def bitext(shared_data):
    path = shared_data("bitext_customer_support", "TrainingdatasetBitextsample.csv")
    frame = pl.read_csv(path, columns=["utterance", "intent"])
    return frame.with_columns(
        expected=pl.col("intent").replace_strict(BITEXT_EXPECTED, default=None)
    )


def test_bitext_items_agree_with_the_intent_mapping(bitext):
    """On all 18,453 determinable utterances: 76.6% agree, 14% unclear, 89% of the decided
    ones agree (a third of them here). The floors leave room; they are not tuned."""
    judged = bitext.filter(pl.col("expected").is_not_null()).gather_every(3)  # keeps it fast
    predicted = [v.demand_type for v in classify_texts(judged["utterance"].to_list())]
    agreement = (
        sum(p == e for p, e in zip(predicted, judged["expected"], strict=True)) / judged.height
    )
    decided = [(p, e) for p, e in zip(predicted, judged["expected"], strict=True) if p != "unclear"]
    assert agreement >= 0.72
    assert sum(p == e for p, e in decided) / len(decided) >= 0.85
    assert set(bitext["intent"].unique()) == set(BITEXT_EXPECTED)


def test_bitext_themes_agree_with_the_intent_mapping(bitext):
    """Each determinable intent as a theme of 20 sampled utterances, 5 draws: 88% agree."""
    right = total = 0
    for intent, expected in BITEXT_EXPECTED.items():
        if expected is None:
            continue
        texts = bitext.filter(pl.col("intent") == intent)["utterance"].to_list()
        rng = random.Random(intent)
        for _ in range(5):
            total += 1
            right += classify_theme("", (), rng.sample(texts, 20)).demand_type == expected
    assert right / total >= 0.8
