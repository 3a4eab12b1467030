"""The sample company's urgent contacts (#18): planted contacts of every kind across
channels and languages, hard negatives, an answer key under ``flags``, and nothing of the
generated inbox changed by planting them."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from flows.sample_company import (
    MANIFEST_NAME,
    PLANTED_STORIES,
    PLANTED_URGENT,
    generate_sample,
    inbox,
)
from flows.sample_company.urgent import _survived
from models.urgent import CONTRACT_KINDS, detect, load_urgent_cues


def test_planted_contacts_cover_every_kind_on_several_channels_and_languages():
    kinds = Counter(k for ks, *_ in PLANTED_URGENT for k in ks)
    kinds.update(k for story in PLANTED_STORIES.values() for ks, *_ in story for k in ks)
    assert set(kinds) == set(CONTRACT_KINDS)
    assert min(kinds.values()) >= 4
    for kind in CONTRACT_KINDS:
        if kind == "repeat_failure":
            continue
        channels = {ch for ks, ch, *_ in PLANTED_URGENT if kind in ks}
        languages = {lang for ks, _ch, lang, *_ in PLANTED_URGENT if kind in ks}
        assert len(channels) >= 3, kind
        assert len(languages) >= 2, kind
    negatives = [p for p in PLANTED_URGENT if not p[0]]
    assert len(negatives) >= 15


def test_the_key_reads_sentences_that_survived_into_the_text():
    survived = _survived
    template = "I'm on a fixed income and can't afford to lose {amount}."
    assert survived(template, "Hi. I'm on a fixed income and can't afford to lose £40.00. Thanks")
    assert survived(
        template, "im on a fixed incom and cant afford to lose £40.00"
    )  # texting, a typo
    assert not survived(template, "My bill went up and nobody told me.")


def _digests(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(skip)
    }


@pytest.mark.slow  # writes the sample inbox twice
def test_planting_adds_files_and_changes_nothing_else(tmp_path, monkeypatch):
    manifest = generate_sample(tmp_path / "with" / "inbox")
    with_urgent = _digests(tmp_path / "with" / "inbox")
    monkeypatch.setattr(inbox, "write_urgent", lambda rng, inbox_writer: ([], []))
    generate_sample(tmp_path / "without" / "inbox")
    without = _digests(tmp_path / "without" / "inbox")
    added = set(with_urgent) - set(without)
    assert {k: v for k, v in with_urgent.items() if k in without} == without
    assert added == {p.file for p in manifest.urgent_contacts}
    assert all(
        a.startswith("emails/urgent/")
        or (a.startswith("calls/2026-W") and Path(a).name.startswith("C-9"))
        or a in ("surveys/pulse_survey_urgent.csv", "complaints/webform_escalations.jsonl")
        for a in added
    )

    # the answer key: every kind, planted and generated contacts, in the manifest on disk
    doc = json.loads((tmp_path / "with" / MANIFEST_NAME).read_text(encoding="utf-8"))
    flags = doc["flags"]
    assert {f["kind"] for f in flags} == set(CONTRACT_KINDS)
    assert all(set(f) == {"file", "source_id", "kind", "contact_id"} for f in flags)
    planted = {p.contact_id: p for p in manifest.urgent_contacts}
    generated = Counter(f["kind"] for f in flags if f["contact_id"] not in planted)
    assert generated["regulator"] > 50 and generated["churn_risk"] > 100
    assert generated["repeat_failure"] > 100 and generated["vulnerability"] > 50
    # the planted texts carry their kinds by the shipped cue file; hard negatives none
    urgent_cues = load_urgent_cues()
    for kinds, _ch, _lang, _day, _tag, _subject, text in PLANTED_URGENT:
        found = {f.kind for f in detect(text, urgent_cues)}
        assert found == set(kinds), text
