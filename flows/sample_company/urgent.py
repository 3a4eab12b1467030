"""Urgent contacts (#18): the answer key of flags, and the planted urgent contacts."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from flows.sample_company.company import (
    AGENTS,
    FIRST_DAY,
    FIRST_NAMES,
    LAST_NAMES,
    SUPPORT_ADDRESS,
    TEXTS,
    _ascii,
    _aware_london,
    _iso_z,
    _utc_offset,
    iso_week,
)
from flows.sample_company.manifest import InboxWriter, PlantedUrgent
from flows.sample_company.plan import Contact
from flows.sample_company.surveys import _csv_bytes

URGENT_SENTENCES: dict[str, str] = TEXTS["urgent"]["urgent_sentences"]
ESCALATION_SENTENCE = "refer the matter to the Ombudsman"  # every formal-complaint .eml
SAID_REPEAT_SENTENCES = set(TEXTS["urgent"]["said_repeat_sentences"])


def _count_at_least_three(template: str, ctx: dict) -> bool:
    if "{n}" in template:
        return ctx.get("n") not in (None, "several")
    if "{nd}" in template:
        return int(ctx.get("nd") or 0) >= 3
    if "{ordinal}" in template:
        return ctx.get("ordinal") in ("third", "fourth", "3rd")
    return True


REPEAT_NTH = 3
REPEAT_WINDOW = timedelta(days=30)
_KEY_WORD = re.compile(r"[^\W_]+")


def _key_words(text: str) -> list[str]:
    return _KEY_WORD.findall(text.replace("’", "'").replace("'", "").lower())


def _survived(template: str, text: str) -> bool:
    """Whether a sentence written into a contact is still in its final text: typos and
    texting change a word or two, the survey's length cap or a call note's cut drop it."""
    runs = [_key_words(part) for part in re.split(r"\{\w+\}", template)]
    pairs = {(a, b) for run in runs for a, b in zip(run, run[1:], strict=False)}
    words = _key_words(text)
    if not pairs:
        return any(w in words for run in runs for w in run)
    have = set(zip(words, words[1:], strict=False))
    return len(pairs & have) / len(pairs) >= 0.34


def _customer_text(c: Contact) -> str:
    """What voc stores as the contact's text: subject and body, or the customer's turns."""
    if c.turns:
        return "\n".join(t for who, t in c.turns if who == "customer")
    return f"{c.subject}\n\n{c.text}" if c.subject else c.text


def urgent_key(contacts: list[Contact]) -> list[tuple[Contact, str]]:
    """(contact, kind) for every generated contact that is urgent: from the labelled
    sentences it was written from, and repeat failures from the plan (the third or later
    contact by one customer on one theme within 30 days) or from what the customer says
    ("this is the third time I've contacted you")."""
    out: list[tuple[Contact, str]] = []
    for c in contacts:
        text = _customer_text(c)
        kinds = {
            URGENT_SENTENCES[t]
            for t in c.extra.get("templates", [])
            if t in URGENT_SENTENCES and _survived(t, text)
        }
        if c.form == "eml" and ESCALATION_SENTENCE in c.text:
            kinds.add("regulator")
        ctx = c.extra.get("ctx", {})
        if any(
            t in SAID_REPEAT_SENTENCES and _count_at_least_three(t, ctx) and _survived(t, text)
            for t in c.extra.get("templates", [])
        ):
            kinds.add("repeat_failure")
        out += [(c, k) for k in sorted(kinds)]
    by_story: dict[tuple[str, str], list[Contact]] = {}
    for c in sorted(contacts, key=lambda c: (c.at, c.n)):
        by_story.setdefault((c.customer.email, c.theme.key), []).append(c)
    said = {id(c) for c, kind in out if kind == "repeat_failure"}
    for story in by_story.values():
        for i, c in enumerate(story):
            if id(c) in said:
                continue
            if sum(1 for p in story[: i + 1] if c.at - p.at <= REPEAT_WINDOW) >= REPEAT_NTH:
                out.append((c, "repeat_failure"))
    return out


PLANTED_URGENT: list[tuple[tuple[str, ...], str, str, int, str, str, str]] = [
    (tuple(kinds), *rest) for kinds, *rest in TEXTS["urgent"]["planted_urgent"]
]
PLANTED_STORIES: dict[str, list[tuple[tuple[str, ...], str, int, str]]] = {
    tag: [(tuple(kinds), *rest) for kinds, *rest in story]
    for tag, story in TEXTS["urgent"]["planted_stories"].items()
}


def _planted_customer(rng: random.Random, tag: str) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{_ascii(first).lower()}.{_ascii(last).lower()}.u{ord(tag[0]) + len(tag)}@example.net"
    return f"{first} {last}", email


def write_urgent(
    rng: random.Random, inbox_writer: InboxWriter
) -> tuple[list[PlantedUrgent], list[dict[str, str]]]:
    """Write the planted urgent contacts and hard negatives to files of their own (the
    generated inbox is not touched): a survey CSV, a web-form JSONL, .eml messages in
    emails/urgent/ and JSON call transcripts (C-9…) in the week folders of calls/. Returns them and their flags."""
    # long: each planted contact written in its channel's format, one after another; the random
    # draws stay in this order (same seed, same bytes)
    items = [
        (kinds, ch, lang, day, tag, subj, text)
        for kinds, ch, lang, day, tag, subj, text in PLANTED_URGENT
    ]
    for tag, story in PLANTED_STORIES.items():
        items += [(kinds, ch, "en", day, tag, "", text) for kinds, ch, day, text in story]
    people: dict[str, tuple[str, str]] = {}
    planted: list[PlantedUrgent] = []
    surveys: list[list[str]] = []
    forms: list[str] = []
    for n, (kinds, channel, language, day, tag, subject, text) in enumerate(items, start=1):
        if tag not in people:
            people[tag] = _planted_customer(rng, tag)
        name, email = people[tag]
        local = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time()) + timedelta(
            hours=rng.randint(8, 19), minutes=rng.randrange(60)
        )
        at = local - _utc_offset(local.date())
        cid = f"U{n:03d}"
        if channel == "survey":
            rel, source = "surveys/pulse_survey_urgent.csv", f"PS-{7000 + n}"
            score = "0" if kinds else str(rng.choice([3, 5, 6, 7, 8]))
            surveys.append([source, _iso_z(at), email, score, text])
        elif channel == "complaint":
            rel, source = "complaints/webform_escalations.jsonl", f"WE-{51000 + n}"
            record = {
                "id": source,
                "submitted_at": _iso_z(at),
                "customer": {"email": email, "name": name},
                "topic": "Escalation",
                "message": text,
            }
            forms.append(json.dumps(record, ensure_ascii=False))
        elif channel == "email":
            source = f"<urgent.{n:03d}.{rng.randrange(16**8):08x}@mail.example.net>"
            rel = f"emails/urgent/{cid}.eml"
            msg = EmailMessage()
            msg["From"] = f"{name} <{email}>"
            msg["To"] = SUPPORT_ADDRESS
            msg["Subject"] = subject or "Broadband"
            msg["Date"] = format_datetime(_aware_london(at))
            msg["Message-ID"] = source
            msg.set_content(f"{text}\n\n{name.split()[0]}\n")
            inbox_writer.write(rel, msg.as_bytes(policy=policy.default))
            inbox_writer.tally(rel, contacts=1)
        else:
            source = f"C-9{n:05d}"
            rel = f"calls/{iso_week(at.date())}/{source}.json"
            doc = {
                "call_id": source,
                "started_at": _iso_z(at),
                "duration_seconds": rng.randint(120, 900),
                "customer": {"email": email, "phone": None},
                "queue": "general",
                "agent": rng.choice(AGENTS),
                "turns": [
                    {"speaker": "agent", "text": "Thanks for calling Lumen, how can I help?"},
                    {"speaker": "customer", "text": text},
                    {
                        "speaker": "agent",
                        "text": "I'm sorry to hear that, let me look into it now.",
                    },
                ],
            }
            inbox_writer.write(rel, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode())
            inbox_writer.tally(rel, contacts=1)
        planted.append(
            PlantedUrgent(
                cid,
                channel,
                rel,
                source,
                _iso_z(at),
                language,
                email,
                list(kinds),
                "planted" if kinds else "hard negative",
            )
        )
    rel = "surveys/pulse_survey_urgent.csv"
    inbox_writer.write(
        rel, _csv_bytes([["id", "submitted_at", "email", "nps", "comment"], *surveys])
    )
    inbox_writer.tally(rel, contacts=len(surveys))
    rel = "complaints/webform_escalations.jsonl"
    inbox_writer.write(rel, ("\n".join(forms) + "\n").encode("utf-8"))
    inbox_writer.tally(rel, contacts=len(forms))
    flags = [
        {"file": p.file, "source_id": p.source_id, "kind": k, "contact_id": p.contact_id}
        for p in planted
        for k in p.kinds
    ]
    return planted, flags
