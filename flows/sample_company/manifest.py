"""The answer key (``SampleManifest``) and the writer that puts files in the inbox and keeps
its accounts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from flows.sample_company.plan import Contact


@dataclass
class ContactRecord:
    contact_id: str  # the generator's own id, K00001...
    channel: str  # survey, complaint, email, call
    file: str  # relative to the inbox, with forward slashes
    source_id: str  # ResponseId, Respondent ID, Case Number, webform id, Message-ID, call id
    row: int | None  # 1-based data row in a tabular file (after any header rows)
    timestamp: str  # UTC, ISO 8601 with Z
    week: str  # ISO week, e.g. 2026-W40
    theme: str
    demand: str  # failure or value
    department: str
    customer_email: str
    customer_phone: str
    identity_in_source: str  # email (a field), email_in_text, phone_in_text
    score: int | None
    score_kind: str | None  # nps (0-10) or csat (1-5)
    language: str
    repeat_of: str | None  # contact_id of the previous contact on the same theme
    also_in: list[str] = field(default_factory=list)  # other files carrying the same record


@dataclass
class BadRecord:
    kind: str
    file: str
    ref: str  # the record's id, or the file name for a whole-file problem
    row: int | None  # 1-based data row in a tabular file
    expected: str  # quarantine | load | truncate | duplicate | not_feedback
    reason: str  # what a sensible quarantine reason or load note says
    contact_id: str | None = None  # when the record loads, the contact it is


@dataclass
class PlantedPII:
    kind: (
        str  # email, phone, card, postcode, address, sort_code, bank_account, iban, account_number
    )
    value: str  # exactly as it appears in the file
    contact_id: str
    file: str
    where: str  # text (the feedback text) or signature (an e-mail signature)


@dataclass
class FileCount:
    records: int  # what a parser reads from it (a whole-file reject is 1)
    contacts: int  # records that are contacts and load into feedback
    duplicates: int  # records already seen (same id) in this or an earlier file
    quarantined: int  # planted bad records that must be quarantined
    not_feedback: int  # outbound company e-mail


@dataclass
class SampleManifest:
    company: str
    support_address: str
    seed: int
    weeks: list[str]
    first_day: str
    last_day: str
    themes: list[dict]
    spike: dict
    fix: dict
    contacts: list[ContactRecord]
    bad_records: list[BadRecord]
    pii: list[PlantedPII]
    files: dict[str, FileCount]
    weekly_theme_counts: dict[str, dict[str, int]]
    channel_counts: dict[str, int]
    distinct_customers: int
    # urgent contacts (#18): every (file, source_id, kind) that should be flagged, and the
    # contacts planted for it in files of their own (not in ``contacts``)
    flags: list[dict[str, str]] = field(default_factory=list)
    urgent_contacts: list[PlantedUrgent] = field(default_factory=list)

    def to_json(self) -> str:
        # vars() rather than dataclasses.asdict: the same dict, without a deep copy of 5,000 records
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["contacts"] = [vars(c) for c in self.contacts]
        doc["bad_records"] = [vars(b) for b in self.bad_records]
        doc["pii"] = [vars(p) for p in self.pii]
        doc["files"] = {k: vars(v) for k, v in self.files.items()}
        doc["urgent_contacts"] = [vars(p) for p in self.urgent_contacts]
        return json.dumps(doc, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> SampleManifest:
        raw = json.loads(text)
        raw["contacts"] = [ContactRecord(**c) for c in raw["contacts"]]
        raw["bad_records"] = [BadRecord(**b) for b in raw["bad_records"]]
        raw["pii"] = [PlantedPII(**p) for p in raw["pii"]]
        raw["files"] = {k: FileCount(**v) for k, v in raw["files"].items()}
        raw["urgent_contacts"] = [PlantedUrgent(**p) for p in raw.get("urgent_contacts", [])]
        return cls(**raw)


class InboxWriter:
    """Writes files under the inbox and keeps the accounts the manifest reports."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.files: dict[str, FileCount] = {}
        self.bad: list[BadRecord] = []

    def write(self, rel: str, data: bytes) -> None:
        path = self.inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files.setdefault(rel, FileCount(0, 0, 0, 0, 0))

    def tally(
        self,
        rel: str,
        *,
        contacts: int = 0,
        duplicates: int = 0,
        quarantined: int = 0,
        not_feedback: int = 0,
    ) -> None:
        f = self.files.setdefault(rel, FileCount(0, 0, 0, 0, 0))
        f.contacts += contacts
        f.duplicates += duplicates
        f.quarantined += quarantined
        f.not_feedback += not_feedback
        f.records = f.contacts + f.duplicates + f.quarantined + f.not_feedback

    def plant(
        self,
        kind: str,
        rel: str,
        ref: str,
        row: int | None,
        expected: str,
        reason: str,
        contact: Contact | None = None,
    ) -> None:
        self.bad.append(
            BadRecord(kind, rel, ref, row, expected, reason, _cid(contact) if contact else None)
        )
        if expected == "quarantine":
            self.tally(rel, quarantined=1)


def _cid(c: Contact) -> str:
    return f"K{c.n:05d}"


@dataclass
class PlantedUrgent:
    """A contact planted for the urgent-contact benchmark (not one of ``contacts``)."""

    contact_id: str  # U001...
    channel: str
    file: str
    source_id: str
    timestamp: str
    language: str
    customer_email: str
    kinds: list[str]  # empty: a hard negative (reads urgent, is not)
    note: str
