"""The sample inbox `voc demo` writes: deterministic, realistic, and its answer key right.

One inbox is generated per test module (about 3 seconds) and read back with the standard
library only (csv, json, email, mailbox) plus polars for the one XLSX file, so these tests
check the files as any tool would see them, not as voc's own parsers do.
"""

from __future__ import annotations

import csv
import email
import hashlib
import json
import mailbox
import re
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from email import policy
from functools import cache
from pathlib import Path
from statistics import mean

import polars as pl
import pytest

from flows.sample_company import (
    FIRST_DAY,
    MANIFEST_NAME,
    SUPPORT_ADDRESS,
    SampleManifest,
    generate_sample,
)

csv.field_size_limit(10_000_000)
WEEKS = [f"2026-W{w}" for w in range(40, 48)]
HOSTILE_SQL = "Robert'); DROP TABLE feedback;--"
HOSTILE_HTML = "<script>alert('x')</script> my bill is wrong"


@cache
def _xlsx(path: Path) -> pl.DataFrame:
    return pl.read_excel(path)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, SampleManifest, float]:
    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    started = time.perf_counter()
    manifest = generate_sample(inbox, seed=7)
    return inbox, manifest, time.perf_counter() - started


@pytest.fixture(scope="module")
def inbox(sample) -> Path:
    return sample[0]


@pytest.fixture(scope="module")
def manifest(sample) -> SampleManifest:
    return sample[1]


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------------------
# reading every format back with the standard library
# --------------------------------------------------------------------------------------
@cache
def _qualtrics_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


@cache
def _crm_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@cache
def _legacy_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="cp1252", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


@cache
def _mbox_messages(path: Path) -> list[email.message.EmailMessage]:
    box = mailbox.mbox(
        path,
        factory=lambda f: email.message_from_binary_file(f, policy=policy.default),
        create=False,
    )
    return list(box)


def _body(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def _call_customer_text(path: Path) -> str:
    data = path.read_text(encoding="utf-8")
    if path.suffix == ".vtt":
        return " ".join(re.findall(r"^<v Customer>(.*)$", data, re.M))
    if path.suffix == ".srt":
        return " ".join(re.findall(r"^Caller: (.*)$", data, re.M))
    if path.suffix == ".json":
        return " ".join(t["text"] for t in json.loads(data)["turns"] if t["speaker"] == "customer")
    return " ".join(re.findall(r"^Customer: (.*)$", data, re.M))


@pytest.fixture(scope="module")
def texts(inbox: Path, manifest: SampleManifest) -> dict[str, str]:
    """contact_id -> what the customer wrote or said, read back from the files."""
    by_source: dict[tuple[str, str], str] = {}
    for path in sorted((inbox / "surveys").glob("qualtrics_nps_*.csv")):
        rel = path.relative_to(inbox).as_posix()
        for row in _qualtrics_rows(path)[3:]:
            by_source[(rel, row[8])] = row[18]
    frame = _xlsx(inbox / "surveys/csat_post_contact.xlsx")
    for rid, text in (
        frame.slice(1).select("Respondent ID", "What could we have done better?").iter_rows()
    ):
        by_source[("surveys/csat_post_contact.xlsx", str(rid))] = text or ""
    for path in sorted((inbox / "complaints").glob("crm_cases_2026-*.csv")):
        rel = path.relative_to(inbox).as_posix()
        for row in _crm_rows(path)[1:]:
            if len(row) == 11:
                by_source.setdefault((rel, row[0]), row[7])
    rel = "complaints/webform_complaints.jsonl"
    for line in (inbox / rel).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        by_source[(rel, record["id"])] = record["message"]
    rel = "complaints/legacy_billing_complaints.csv"
    for row in _legacy_rows(inbox / rel)[1:]:
        by_source[(rel, row[0])] = row[6]
    for path in sorted((inbox / "emails").glob("*.mbox")):
        rel = path.relative_to(inbox).as_posix()
        for message in _mbox_messages(path):
            by_source[(rel, str(message["Message-ID"]))] = _body(message)
    out: dict[str, str] = {}
    for c in manifest.contacts:
        if c.channel == "call":
            out[c.contact_id] = _call_customer_text(inbox / c.file)
        elif c.file.endswith(".eml"):
            message = email.message_from_bytes((inbox / c.file).read_bytes(), policy=policy.default)
            out[c.contact_id] = _body(message)
        else:
            out[c.contact_id] = by_source[(c.file, c.source_id)]
    return out


# --------------------------------------------------------------------------------------
# determinism and speed
# --------------------------------------------------------------------------------------
@pytest.mark.slow  # writes the whole sample inbox a second time
def test_same_seed_gives_byte_identical_files(sample):
    inbox, _, _ = sample
    before = _digests(inbox)
    manifest_before = (inbox.parent / MANIFEST_NAME).read_bytes()
    generate_sample(inbox, seed=7)  # over its own earlier output: cleared and rewritten
    assert _digests(inbox) == before
    assert (inbox.parent / MANIFEST_NAME).read_bytes() == manifest_before
    assert len(before) > 700


def test_refuses_to_clear_a_folder_it_did_not_write(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "precious.csv").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate_sample(inbox)
    assert (inbox / "precious.csv").read_text() == "keep me"


def test_manifest_round_trips_through_json(inbox, manifest):
    loaded = SampleManifest.from_json((inbox.parent / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert loaded == manifest


# --------------------------------------------------------------------------------------
# volume, calendar, channels, customers
# --------------------------------------------------------------------------------------
def test_volume_weeks_and_channel_mix(manifest):
    contacts = manifest.contacts
    assert 4_500 <= len(contacts) <= 5_500
    assert manifest.weeks == WEEKS
    assert {c.week for c in contacts} == set(WEEKS)
    first, last = FIRST_DAY, FIRST_DAY + timedelta(days=55)
    for c in contacts:
        at = datetime.strptime(c.timestamp, "%Y-%m-%dT%H:%M:%SZ")
        assert first <= at.date() <= last
        assert c.week == "{}-W{:02d}".format(*at.date().isocalendar()[:2])
    share = {k: v / len(contacts) for k, v in Counter(c.channel for c in contacts).items()}
    assert share["survey"] == pytest.approx(0.40, abs=0.05)
    assert share["complaint"] == pytest.approx(0.25, abs=0.05)
    assert share["email"] == pytest.approx(0.20, abs=0.05)
    assert share["call"] == pytest.approx(0.15, abs=0.05)
    assert 1_500 <= len({c.customer_email for c in contacts}) <= 2_000 == 2_000
    assert manifest.distinct_customers == len({c.customer_email for c in contacts})


def test_contacts_come_in_the_daytime_and_mostly_on_weekdays(manifest):
    hours, weekdays = Counter(), Counter()
    for c in manifest.contacts:
        at = datetime.strptime(c.timestamp, "%Y-%m-%dT%H:%M:%SZ")
        weekdays[at.weekday()] += 1
        if c.file.startswith("complaints/legacy"):
            continue  # the old billing system keeps dates only
        local = at + (timedelta(hours=1) if at.date() < date(2026, 10, 25) else timedelta(0))
        hours[local.hour] += 1
    assert min(hours) >= 7 and max(hours) <= 22
    assert mean(weekdays[d] for d in range(5)) > 1.4 * mean(weekdays[d] for d in (5, 6))
    assert weekdays[0] > weekdays[6]


def test_identities_are_invented(manifest):
    drama = re.compile(
        r"^(07700 900\d{3}|020 7946 0\d{3}|0(113|114|115|117|121|131|141|161) 496 0\d{3}|0191 498 0\d{3}"
        r"|029 2018 0\d{3}|028 9649 6\d{3})$"
    )
    for c in manifest.contacts:
        assert c.customer_email.rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"}
        assert drama.match(c.customer_phone), c.customer_phone
    phones = defaultdict(set)
    for c in manifest.contacts:
        phones[c.customer_phone].add(c.customer_email)
    assert all(len(owners) == 1 for owners in phones.values())  # a phone number is one customer


# --------------------------------------------------------------------------------------
# themes and the two stories: a spike and a fix
# --------------------------------------------------------------------------------------
def _weekly(manifest: SampleManifest, theme: str) -> list[int]:
    counts = Counter(c.week for c in manifest.contacts if c.theme == theme)
    return [counts[w] for w in WEEKS]


def test_themes_are_many_and_mostly_failure_demand(manifest):
    themes = {t["key"]: t for t in manifest.themes}
    assert len(themes) >= 14
    demand = Counter(t["demand"] for t in themes.values())
    assert demand["failure"] > demand["value"] > 0
    used = Counter(c.theme for c in manifest.contacts)
    assert set(used) == set(themes)
    assert min(used.values()) >= 100
    for c in manifest.contacts:
        assert c.demand == themes[c.theme]["demand"]
        assert c.department == themes[c.theme]["department"]
    failure_share = sum(1 for c in manifest.contacts if c.demand == "failure") / len(
        manifest.contacts
    )
    assert failure_share > 0.6


def test_weekly_theme_counts_match_the_contacts(manifest):
    recount = {w: Counter() for w in WEEKS}
    for c in manifest.contacts:
        recount[c.week][c.theme] += 1
    for week in WEEKS:
        assert {k: v for k, v in manifest.weekly_theme_counts[week].items() if v} == dict(
            recount[week]
        )


def test_outage_spikes_in_the_last_week(manifest, texts):
    assert manifest.spike["theme"] == "outage" and manifest.spike["week"] == "2026-W47"
    weekly = _weekly(manifest, "outage")
    assert weekly[7] >= 3 * mean(weekly[:7])
    assert weekly[7] <= 6 * mean(weekly[:7])
    late = [
        texts[c.contact_id].lower()
        for c in manifest.contacts
        if c.theme == "outage" and c.week == "2026-W47"
    ]
    leeds = (
        "leeds",
        "ls6",
        "ls4",
        "ls5",
        "headingley",
        "hyde park",
        "kirkstall",
        "burley",
        "meanwood",
    )
    assert sum(any(k in t for k in leeds) for t in late) / len(late) >= 0.4
    assert sum(("since monday" in t or "since this morning" in t) for t in late) / len(late) >= 0.3
    early = [
        texts[c.contact_id].lower()
        for c in manifest.contacts
        if c.theme == "outage" and c.week != "2026-W47"
    ]
    assert sum("since monday" in t for t in early) / len(early) < 0.05


def test_login_loop_falls_away_after_the_fix(manifest):
    assert manifest.fix["theme"] == "login_loop" and manifest.fix["last_normal_week"] == "2026-W44"
    weekly = _weekly(manifest, "login_loop")
    assert max(weekly[5:]) <= 0.25 * mean(weekly[:5])
    assert all(w > 0 for w in weekly)  # a trickle remains, it does not vanish
    others = _weekly(manifest, "engineer_no_show")
    assert mean(others[5:]) > 0.75 * mean(others[:5])


# --------------------------------------------------------------------------------------
# repeats, scores, languages
# --------------------------------------------------------------------------------------
def test_failure_demand_brings_customers_back(manifest):
    by_id = {c.contact_id: c for c in manifest.contacts}
    repeats = [c for c in manifest.contacts if c.repeat_of]
    assert repeats
    cross_channel = 0
    for c in repeats:
        first = by_id[c.repeat_of]
        assert (first.customer_email, first.theme) == (c.customer_email, c.theme)
        assert c.demand == "failure"
        gap = datetime.fromisoformat(c.timestamp[:10]) - datetime.fromisoformat(
            first.timestamp[:10]
        )
        assert 1 <= gap.days <= 14
        cross_channel += first.channel != c.channel
    assert 0.2 * len(repeats) <= cross_channel < len(repeats)
    firsts = {
        (c.customer_email, c.theme)
        for c in manifest.contacts
        if c.demand == "failure" and not c.repeat_of
    }
    again = {(c.customer_email, c.theme) for c in repeats}
    assert 0.10 <= len(again) / len(firsts) <= 0.22
    calls_by_phone_only = [c for c in manifest.contacts if c.identity_in_source == "phone_in_text"]
    assert calls_by_phone_only and all(c.channel == "call" for c in calls_by_phone_only)


def test_scores_move_with_themes(manifest):
    nps = defaultdict(list)
    for c in manifest.contacts:
        if c.score_kind == "nps":
            assert c.score in range(11)
            nps["praise" if c.theme == "praise" else c.demand].append(c.score)
        elif c.score_kind == "csat":
            assert c.score in range(1, 6)
        else:
            assert c.score is None and c.channel != "survey"
    assert mean(nps["failure"]) < 5 < mean(nps["value"]) < mean(nps["praise"])
    assert sum(s <= 6 for s in nps["failure"]) / len(nps["failure"]) >= 0.8
    assert sum(s >= 9 for s in nps["praise"]) / len(nps["praise"]) >= 0.8


def test_a_few_contacts_are_not_in_english(manifest, texts):
    foreign = [c for c in manifest.contacts if c.language != "en"]
    assert 0.015 <= len(foreign) / len(manifest.contacts) <= 0.05
    assert {c.language for c in foreign} == {"de", "fr", "es", "pl"}
    markers = {"de": "ich", "fr": "je", "es": "me", "pl": "się"}
    hits = sum(markers[c.language] in texts[c.contact_id].lower().split() for c in foreign)
    assert hits >= 0.3 * len(foreign)


# --------------------------------------------------------------------------------------
# the words: varied, not templated
# --------------------------------------------------------------------------------------
def test_every_contact_has_text_in_its_file(manifest, texts):
    assert len(texts) == len(manifest.contacts)
    assert all(t.strip() for t in texts.values())
    assert not [t for t in texts.values() if re.search(r"\{\w+\}", t)]  # no unfilled placeholder


def test_every_contact_carries_its_customer_identity(inbox, manifest):
    @cache
    def lower_text(rel: str) -> str:
        if rel.endswith(".xlsx"):
            return "\n".join(_xlsx(inbox / rel)["Email Address"].drop_nulls().to_list()).lower()
        return (inbox / rel).read_bytes().decode("utf-8", errors="replace").lower()

    kinds = Counter()
    for c in manifest.contacts:
        kinds[c.identity_in_source] += 1
        if c.identity_in_source == "phone_in_text":
            digits = re.sub(r"\D", "", lower_text(c.file))
            assert c.customer_phone.replace(" ", "")[1:] in digits, c
            assert "@" not in lower_text(c.file)
        else:
            assert c.customer_email in lower_text(c.file), c
    assert set(kinds) == {"email", "email_in_text", "phone_in_text"}


def test_complaint_descriptions_are_varied(manifest, texts):
    by_theme = defaultdict(list)
    for c in manifest.contacts:
        if c.channel == "complaint":
            by_theme[c.theme].append(texts[c.contact_id])
    for theme, descriptions in by_theme.items():
        if len(descriptions) >= 10:
            assert len(set(descriptions)) / len(descriptions) >= 0.9, theme


def test_openers_are_varied(manifest, texts):
    openers = defaultdict(set)
    for c in manifest.contacts:
        if c.channel in ("survey", "complaint"):
            openers[c.theme].add(" ".join(texts[c.contact_id].lower().split()[:5]))
    for theme, firsts in openers.items():
        assert len(firsts) >= 15, theme
    complaint_openers = defaultdict(set)
    for c in manifest.contacts:
        if c.channel == "complaint":
            complaint_openers[c.theme].add(" ".join(texts[c.contact_id].lower().split()[:5]))
    big = [
        t
        for t in complaint_openers
        if sum(c.theme == t and c.channel == "complaint" for c in manifest.contacts) >= 40
    ]
    assert big and all(len(complaint_openers[t]) >= 15 for t in big)


def test_different_customers_rarely_say_the_same_thing(manifest, texts):
    who = defaultdict(set)
    for c in manifest.contacts:
        who[texts[c.contact_id]].add(c.customer_email)
    shared = sum(len(people) for people in who.values() if len(people) > 1)
    assert shared / len(manifest.contacts) < 0.06
    lengths = [len(texts[c.contact_id].split()) for c in manifest.contacts if c.channel == "survey"]
    assert min(lengths) >= 1 and max(lengths) <= 40 and 4 <= mean(lengths) <= 20


def test_some_customers_text_in_lower_case_or_with_typos(manifest, texts):
    surveys = [
        texts[c.contact_id]
        for c in manifest.contacts
        if c.channel == "survey" and c.language == "en"
    ]
    lower = sum(t == t.lower() and any(ch.isalpha() for ch in t) for t in surveys)
    assert 0.05 <= lower / len(surveys) <= 0.4
    typos = (
        "recieve",
        "definately",
        "untill",
        "becuase",
        "appointmant",
        "enginer",
        "interent",
        "realy",
        "adress",
    )
    assert any(any(w in t.lower() for w in typos) for t in texts.values())


# --------------------------------------------------------------------------------------
# formats, as real tools export them
# --------------------------------------------------------------------------------------
def test_qualtrics_exports_have_three_header_rows(inbox):
    paths = sorted((inbox / "surveys").glob("qualtrics_nps_*.csv"))
    assert [p.name for p in paths] == [f"qualtrics_nps_{w}.csv" for w in WEEKS]
    for path in paths:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        rows = _qualtrics_rows(path)
        assert rows[0][:3] == ["StartDate", "EndDate", "Status"] and rows[0][-3:] == [
            "Q1",
            "Q2",
            "Q3",
        ]
        assert len(rows[0]) == 20 and rows[0][8] == "ResponseId" and rows[0][11] == "RecipientEmail"
        assert (
            rows[1][17]
            == "How likely are you to recommend Lumen Broadband to a friend or colleague?"
        )
        assert rows[1][18] == "What is the main reason for your score?"
        assert rows[1][19] == "Which part of our service was this about?"
        assert json.loads(rows[2][0]) == {"ImportId": "startDate", "timeZone": "Europe/London"}
        assert all(json.loads(cell)["ImportId"] for cell in rows[2])
        for row in rows[3:]:
            assert len(row) == 20
            datetime.strptime(row[7], "%Y-%m-%d %H:%M:%S")
            assert row[8].startswith("R_") and len(row[8]) == 17


def test_last_qualtrics_export_overlaps_the_one_before(inbox, manifest):
    w46 = {r[8]: r for r in _qualtrics_rows(inbox / "surveys/qualtrics_nps_2026-W46.csv")[3:]}
    w47 = {r[8]: r for r in _qualtrics_rows(inbox / "surveys/qualtrics_nps_2026-W47.csv")[3:]}
    shared = set(w46) & set(w47)
    assert len(shared) >= 5
    assert all(w46[rid] == w47[rid] and w46[rid][7].startswith("2026-11-15") for rid in shared)
    listed = {
        c.source_id for c in manifest.contacts if "surveys/qualtrics_nps_2026-W47.csv" in c.also_in
    }
    assert listed == shared
    assert manifest.files["surveys/qualtrics_nps_2026-W47.csv"].duplicates == len(shared)


def test_surveymonkey_xlsx_has_two_header_rows(inbox):
    frame = _xlsx(inbox / "surveys/csat_post_contact.xlsx")
    assert frame.columns == [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "End Date",
        "Email Address",
        "How satisfied were you with how we handled your contact?",
        "What could we have done better?",
    ]
    second = frame.row(0)
    assert second[5:] == ("Response", "Open-Ended Response") and second[0] is None
    body = frame.slice(1)
    for value in body["End Date"].to_list()[:50]:
        datetime.strptime(value, "%m/%d/%Y %I:%M:%S %p")
    scores = [s for s in body["How satisfied were you with how we handled your contact?"].to_list()]
    assert set(scores) <= {"1", "2", "3", "4", "5"}
    assert body["Respondent ID"].is_sorted() and body["Respondent ID"].n_unique() == body.height


def test_crm_exports_are_monthly_with_quoted_multiline_fields(inbox):
    header = [
        "Case Number",
        "Date Opened",
        "Contact Email",
        "Contact Phone",
        "Product",
        "Category",
        "Subject",
        "Description",
        "Status",
        "Priority",
        "Channel",
    ]
    multiline = commas = 0
    for month in ("2026-09", "2026-10", "2026-11"):
        rows = _crm_rows(inbox / f"complaints/crm_cases_{month}.csv")
        assert rows[0] == header
        for row in rows[1:]:
            if len(row) != 11:
                continue  # the planted malformed line
            multiline += "\n" in row[7]
            commas += "," in row[7]
            if row[1] != "yesterday":
                opened = datetime.strptime(row[1], "%d/%m/%Y %H:%M")
                assert opened.strftime("%Y-%m") == month
    assert multiline >= 50 and commas >= 100


def test_webform_is_json_lines(inbox):
    lines = (inbox / "complaints/webform_complaints.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 100
    for line in lines:
        record = json.loads(line)
        assert set(record) == {"id", "submitted_at", "customer", "topic", "message"}
        assert set(record["customer"]) == {"email", "name"}
        assert re.fullmatch(r"2026-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["submitted_at"])


def test_legacy_billing_export_is_cp1252_with_semicolons(inbox):
    raw = (inbox / "complaints/legacy_billing_complaints.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "£" in text and "é" in text
    rows = _legacy_rows(inbox / "complaints/legacy_billing_complaints.csv")
    assert rows[0][0] == "Complaint Ref" and all(len(r) == 8 for r in rows)
    valid = 0
    for row in rows[1:]:
        try:
            valid += datetime.strptime(row[1], "%d/%m/%Y").year == 2026
        except ValueError:
            assert row[1] == "31/02/2026"
    assert valid == len(rows) - 2  # all but the planted 31 February


def test_mailboxes_hold_real_messages(inbox, manifest):
    paths = sorted((inbox / "emails").glob("support_inbox_*.mbox"))
    assert [p.name for p in paths] == [f"support_inbox_{w}.mbox" for w in WEEKS]
    seen = Counter()
    for path in paths:
        messages = _mbox_messages(path)
        outbound = [m for m in messages if SUPPORT_ADDRESS in str(m["From"])]
        assert 1 <= len(outbound) <= 2
        for message in messages:
            assert message["Message-ID"] and message["From"] and message["Subject"] is not None
            inbound = message not in outbound
            if inbound:
                assert SUPPORT_ADDRESS in str(message["To"])
            body = _body(message)
            seen["html_only"] += message.get_content_type() == "text/html"
            seen["reply"] += bool(
                re.search(
                    r"^On .+, Lumen Support <support@lumen-broadband\.example> wrote:$", body, re.M
                )
            ) and bool(re.search(r"^> ", body, re.M))
            seen["signature"] += "\n-- \n" in body
            seen["mobile"] += "Sent from my iPhone" in body
            for part in message.iter_attachments():
                assert part.get_content_type() == "application/pdf"
                assert part["Content-Transfer-Encoding"] == "base64"
                assert part.get_content().startswith(b"%PDF-1.4")
                seen["pdf"] += 1
    for kind in ("html_only", "reply", "signature", "mobile", "pdf"):
        assert seen[kind] >= 3, kind
    loose = sorted((inbox / "emails/loose").glob("*.eml"))
    assert [p.name for p in loose] == [f"complaint_escalation_{i:03d}.eml" for i in range(1, 6)]
    for path in loose:
        raw = path.read_bytes()
        assert b"\r\n" in raw
        message = email.message_from_bytes(raw, policy=policy.default)
        assert "formal complaint" in _body(message).lower()


def test_call_transcripts_in_four_formats(inbox):
    folders = sorted(p.name for p in (inbox / "calls").iterdir() if p.is_dir())
    assert folders == WEEKS
    files = [p for p in (inbox / "calls").rglob("*") if p.is_file() and p.suffix != ".md"]
    kinds = Counter(p.suffix for p in files)
    assert set(kinds) == {".vtt", ".srt", ".json", ".txt"} and min(kinds.values()) >= 50
    for path in files:
        data = path.read_text(encoding="utf-8")
        if not data:
            continue  # the planted empty file
        if path.suffix == ".vtt":
            assert data.startswith("WEBVTT\n\nNOTE call_id=C-")
            assert re.search(
                r"^NOTE call_id=C-\d+ started_at=\S+Z customer=\S+@example\.\w+ queue=\w+$",
                data,
                re.M,
            )
            assert "<v Customer>" in data and re.search(r"<v Agent [A-Z][a-z]+>", data)
            assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$", data, re.M)
        elif path.suffix == ".srt":
            assert re.fullmatch(r"2026-\d\d-\d\dT\d\d-\d\d_C-\d+\.srt", path.name)
            assert re.search(r"^\d\d:\d\d:\d\d,\d{3} --> ", data, re.M)
            assert "Caller: " in data and "Agent: Thanks" in data or "Agent: " in data
            assert "@" not in data  # identity is only a phone number said in the call
        elif path.suffix == ".json":
            doc = json.loads(data)
            assert {"call_id", "started_at", "customer", "queue", "agent", "turns"} <= set(doc)
            assert {t["speaker"] for t in doc["turns"]} <= {"agent", "customer"}
        else:
            assert re.fullmatch(r"call_2026-\d\d-\d\d_C-\d+\.txt", path.name)
            assert all(line.startswith(("Agent: ", "Customer: ")) for line in data.splitlines())
            assert data.startswith("Agent: ")


# --------------------------------------------------------------------------------------
# the answer key: accounting, bad records, PII
# --------------------------------------------------------------------------------------
def test_every_file_is_accounted_for(inbox, manifest):
    on_disk = {p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file()}
    assert on_disk == set(manifest.files)
    # the planted urgent contacts (#18) are contacts too, in files of their own
    per_file = Counter(c.file for c in manifest.contacts)
    per_file.update(p.file for p in manifest.urgent_contacts)
    for rel, count in manifest.files.items():
        assert (
            count.records
            == count.contacts + count.duplicates + count.quarantined + count.not_feedback
        )
        assert count.contacts == per_file.get(rel, 0), rel
    assert sum(f.contacts for f in manifest.files.values()) == len(manifest.contacts) + len(
        manifest.urgent_contacts
    )
    ids = Counter((c.channel, c.source_id) for c in manifest.contacts)
    assert max(ids.values()) == 1
    bad = Counter((b.file, b.expected) for b in manifest.bad_records)
    for rel, count in manifest.files.items():
        assert count.quarantined == bad[(rel, "quarantine")]
        assert count.not_feedback == bad[(rel, "not_feedback")]
        assert count.duplicates == bad[(rel, "duplicate")]


def test_tabular_rows_are_where_the_manifest_says(inbox, manifest):
    rows = {}
    for c in manifest.contacts:
        if c.row is None:
            continue
        if c.file not in rows:
            path = inbox / c.file
            if c.file.startswith("surveys/qualtrics"):
                rows[c.file] = [r[8] for r in _qualtrics_rows(path)[3:]]
            elif c.file.endswith(".xlsx"):
                rows[c.file] = [str(v) for v in _xlsx(path).slice(1)["Respondent ID"].to_list()]
            elif c.file.endswith(".jsonl"):
                rows[c.file] = [
                    json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()
                ]
            elif "legacy" in c.file:
                rows[c.file] = [r[0] for r in _legacy_rows(path)[1:]]
            else:
                rows[c.file] = [r[0] for r in _crm_rows(path)[1:]]
        assert rows[c.file][c.row - 1] == c.source_id


REQUIRED_BAD_KINDS = {
    "empty_verbatim",
    "na_verbatim",
    "unparseable_date",
    "nps_out_of_range",
    "malformed_csv_line",
    "binary_file",
    "unsupported_file",
    "oversized_text",
    "hostile_sql_text",
    "hostile_html_text",
    "control_characters",
    "empty_file",
    "no_customer_turns",
    "garbage_date_header",
    "exact_duplicate",
    "overlap_duplicate",
    "outbound_email",
}


def test_every_planted_bad_record_is_where_the_manifest_says(inbox, manifest):
    kinds = Counter(b.kind for b in manifest.bad_records)
    assert set(kinds) == REQUIRED_BAD_KINDS
    by_id = {c.contact_id: c for c in manifest.contacts}
    for bad in manifest.bad_records:
        path = inbox / bad.file
        assert path.exists(), bad
        if bad.expected in ("load", "truncate"):
            assert bad.contact_id in by_id and by_id[bad.contact_id].source_id == bad.ref
        else:
            assert bad.contact_id is None
        kind = bad.kind
        if bad.file.startswith("surveys/qualtrics"):
            row = _qualtrics_rows(path)[3:][bad.row - 1]
            assert row[8] == bad.ref
            if kind == "empty_verbatim":
                assert row[18] == ""
            elif kind == "na_verbatim":
                assert row[18] == "N/A"
            elif kind == "nps_out_of_range":
                assert row[17] in ("11", "-1")
            elif kind == "hostile_sql_text":
                assert HOSTILE_SQL in row[18]
            else:
                assert kind == "overlap_duplicate"
        elif bad.file.endswith(".xlsx"):
            row = _xlsx(path).slice(1).row(bad.row - 1)
            assert str(row[0]) == bad.ref
            assert (row[6] or "") == {"empty_verbatim": "", "na_verbatim": "N/A"}[kind]
        elif bad.file.startswith("complaints/crm_cases_2026"):
            rows = _crm_rows(path)[1:]
            row = rows[bad.row - 1]
            if kind == "malformed_csv_line":
                assert len(row) > 11 and row[0] == bad.ref
            elif kind == "unparseable_date":
                assert row[0] == bad.ref and row[1] == "yesterday"
            elif kind == "exact_duplicate":
                assert row[0] == bad.ref and rows.index(row) < bad.row - 1
            else:
                assert kind == "oversized_text" and row[0] == bad.ref and len(row[7]) == 200_000
        elif bad.file.endswith("webform_complaints.jsonl"):
            record = json.loads(path.read_text(encoding="utf-8").splitlines()[bad.row - 1])
            assert record["id"] == bad.ref
            if kind == "hostile_html_text":
                assert record["message"].startswith(HOSTILE_HTML)
            else:
                assert kind == "control_characters"
                assert all(ch in record["message"] for ch in ("\x00", "\x1b[31m", "\u202e"))
        elif "legacy" in bad.file:
            row = _legacy_rows(path)[1:][bad.row - 1]
            assert kind == "unparseable_date" and row[0] == bad.ref and row[1] == "31/02/2026"
        elif bad.file.endswith(".mbox"):
            matches = [m for m in _mbox_messages(path) if str(m["Message-ID"]) == bad.ref]
            assert len(matches) == 1
            if kind == "outbound_email":
                assert SUPPORT_ADDRESS in str(matches[0]["From"])
            else:
                assert kind == "garbage_date_header"
                assert b"\nDate: Thursday afternoon-ish\n" in path.read_bytes()
        elif kind == "binary_file":
            data = path.read_bytes()
            assert b"\x00" in data
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
        elif kind == "unsupported_file":
            assert path.suffix in (".docx", ".md")
        elif kind == "empty_file":
            assert path.stat().st_size == 0 and path.suffix == ".vtt"
        else:
            assert kind == "no_customer_turns"
            doc = json.loads(path.read_text(encoding="utf-8"))
            assert doc["turns"] and all(t["speaker"] == "agent" for t in doc["turns"])


def _luhn(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
    )
    return total % 10 == 0


def _iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def test_planted_pii_is_in_the_text_and_valid(manifest, texts):
    kinds = Counter(p.kind for p in manifest.pii)
    for kind in (
        "email",
        "phone",
        "card",
        "postcode",
        "sort_code",
        "bank_account",
        "iban",
        "address",
    ):
        assert kinds[kind] >= 3, kind
    for p in manifest.pii:
        assert p.value in texts[p.contact_id], p
        if p.kind == "card":
            assert _luhn(re.sub(r"\D", "", p.value))
        elif p.kind == "iban":
            assert _iban_ok(p.value)
        elif p.kind == "postcode":
            assert re.fullmatch(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}", p.value)
        elif p.kind == "sort_code":
            assert re.fullmatch(r"\d\d-\d\d-\d\d", p.value)
    assert {p.where for p in manifest.pii} == {"text", "signature"}
