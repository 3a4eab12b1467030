"""The whole inbox: every channel written in order from one seed, and the manifest."""

from __future__ import annotations

import random
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

from flows.sample_company.calls import write_calls
from flows.sample_company.company import (
    COMPANY,
    FIRST_DAY,
    FIX_LAST_NORMAL_WEEK,
    FIXED_FACTOR,
    FIXED_THEME,
    LAST_DAY,
    MANIFEST_NAME,
    SPIKE_FACTOR,
    SPIKE_THEME,
    SPIKE_WEEK,
    SUPPORT_ADDRESS,
    THEMES,
    WEEKS,
    _iso_z,
    make_customers,
)
from flows.sample_company.complaints import write_crm, write_legacy, write_webform
from flows.sample_company.emails import write_emails
from flows.sample_company.manifest import (
    ContactRecord,
    InboxWriter,
    PlantedPII,
    PlantedUrgent,
    SampleManifest,
    _cid,
)
from flows.sample_company.plan import Contact, plan_contacts
from flows.sample_company.surveys import write_csat, write_qualtrics, write_unreadable
from flows.sample_company.urgent import urgent_key, write_urgent
from flows.sample_company.writing import Writer, assign_forms, render


def _clear(inbox: Path) -> None:
    if not inbox.exists() or not any(inbox.iterdir()):
        return
    if not (inbox.parent / MANIFEST_NAME).exists():
        raise FileExistsError(
            f"{inbox} already holds files and is not a sample inbox voc wrote; choose an empty folder"
        )
    shutil.rmtree(inbox)


def generate_sample(inbox: Path, *, seed: int = 7) -> SampleManifest:
    """Write Lumen Broadband's eight-week inbox under ``inbox`` and return its answer key,
    also written to ``inbox.parent / "sample_manifest.json"``. Same seed, same bytes."""
    inbox = Path(inbox)
    _clear(inbox)
    inbox.mkdir(parents=True, exist_ok=True)

    def rng(part: str) -> random.Random:
        return random.Random(f"voc-sample/{seed}/{part}")

    people = make_customers(rng("people"))
    contacts = plan_contacts(rng("plan"), people)
    assign_forms(rng("forms"), contacts)
    render(Writer(rng("text")), contacts)
    inbox_writer = InboxWriter(inbox)
    write_qualtrics(rng("qualtrics"), inbox_writer, contacts, people)
    write_csat(rng("csat"), inbox_writer, contacts, people)
    write_crm(rng("crm"), inbox_writer, contacts, people)
    write_webform(rng("webform"), inbox_writer, contacts)
    write_legacy(rng("legacy"), inbox_writer, contacts, people)
    write_emails(rng("email"), inbox_writer, contacts, people)
    write_calls(rng("calls"), inbox_writer, contacts)
    write_unreadable(rng("junk"), inbox_writer)
    planted, planted_flags = write_urgent(rng("urgent"), inbox_writer)
    flags = [
        {"file": c.file, "source_id": c.source_id, "kind": kind, "contact_id": _cid(c)}
        for c, kind in urgent_key(contacts)
    ] + planted_flags
    manifest = _manifest(seed, contacts, inbox_writer, flags, planted)
    (inbox.parent / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _manifest(
    seed: int,
    contacts: list[Contact],
    inbox_writer: InboxWriter,
    flags: list[dict[str, str]],
    planted: list[PlantedUrgent],
) -> SampleManifest:
    """The answer key: every contact as written, the planted PII, spike, fix and flags."""
    records = [
        ContactRecord(
            contact_id=_cid(c),
            channel=c.channel,
            file=c.file,
            source_id=c.source_id,
            row=c.row,
            timestamp=_iso_z(c.at),
            week=c.week,
            theme=c.theme.key,
            demand=c.theme.demand,
            department=c.theme.department,
            customer_email=c.customer.email,
            customer_phone=c.customer.phone,
            identity_in_source=c.identity,
            score=c.score,
            score_kind=c.score_kind,
            language=c.language,
            repeat_of=_cid(c.repeat_of) if c.repeat_of else None,
            also_in=c.also_in,
        )
        for c in contacts
    ]
    pii = [
        PlantedPII(kind, value, _cid(c), c.file, where)
        for c in contacts
        for kind, value, where in c.pii
    ]
    weekly = {week: {t.key: 0 for t in THEMES} for week in WEEKS}
    for c in contacts:
        weekly[c.week][c.theme.key] += 1
    spike_monday = FIRST_DAY + timedelta(days=7 * SPIKE_WEEK)
    return SampleManifest(
        company=COMPANY,
        support_address=SUPPORT_ADDRESS,
        seed=seed,
        weeks=WEEKS,
        first_day=FIRST_DAY.isoformat(),
        last_day=LAST_DAY.isoformat(),
        themes=[
            {"key": t.key, "label": t.label, "demand": t.demand, "department": t.department}
            for t in THEMES
        ],
        spike={
            "theme": SPIKE_THEME,
            "week": WEEKS[SPIKE_WEEK],
            "factor": SPIKE_FACTOR,
            "area": "Leeds (LS6, Headingley / Hyde Park)",
            "started_on": spike_monday.isoformat(),
        },
        fix={
            "theme": FIXED_THEME,
            "last_normal_week": WEEKS[FIX_LAST_NORMAL_WEEK],
            "shipped_on": (FIRST_DAY + timedelta(days=7 * (FIX_LAST_NORMAL_WEEK + 1))).isoformat(),
            "residual_share": FIXED_FACTOR,
        },
        contacts=records,
        bad_records=inbox_writer.bad,
        pii=pii,
        files=dict(sorted(inbox_writer.files.items())),
        weekly_theme_counts=weekly,
        channel_counts=dict(Counter(c.channel for c in contacts)),
        distinct_customers=len({c.customer.email for c in contacts}),
        flags=flags,
        urgent_contacts=planted,
    )
