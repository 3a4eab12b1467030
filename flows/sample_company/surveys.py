"""Surveys: weekly Qualtrics NPS CSVs, a SurveyMonkey CSAT workbook, files nobody can read."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from datetime import datetime, timedelta

import polars as pl

from flows.sample_company.company import (
    CITIES,
    FIRST_DAY,
    N_WEEKS,
    QUALTRICS_LANG,
    SURVEY_PARTS,
    WEEKS,
    Customer,
    _london,
)
from flows.sample_company.manifest import BadRecord, InboxWriter, _cid
from flows.sample_company.plan import Contact

Q1 = "How likely are you to recommend Lumen Broadband to a friend or colleague?"
Q2 = "What is the main reason for your score?"
Q3 = "Which part of our service was this about?"
QUALTRICS_COLUMNS = [
    ("StartDate", "Start Date", {"ImportId": "startDate", "timeZone": "Europe/London"}),
    ("EndDate", "End Date", {"ImportId": "endDate", "timeZone": "Europe/London"}),
    ("Status", "Response Type", {"ImportId": "status"}),
    ("IPAddress", "IP Address", {"ImportId": "ipAddress"}),
    ("Progress", "Progress", {"ImportId": "progress"}),
    ("Duration (in seconds)", "Duration (in seconds)", {"ImportId": "duration"}),
    ("Finished", "Finished", {"ImportId": "finished"}),
    ("RecordedDate", "Recorded Date", {"ImportId": "recordedDate", "timeZone": "Europe/London"}),
    ("ResponseId", "Response ID", {"ImportId": "_recordId"}),
    ("RecipientLastName", "Recipient Last Name", {"ImportId": "recipientLastName"}),
    ("RecipientFirstName", "Recipient First Name", {"ImportId": "recipientFirstName"}),
    ("RecipientEmail", "Recipient Email", {"ImportId": "recipientEmail"}),
    ("ExternalReference", "External Data Reference", {"ImportId": "externalDataReference"}),
    ("LocationLatitude", "Location Latitude", {"ImportId": "locationLatitude"}),
    ("LocationLongitude", "Location Longitude", {"ImportId": "locationLongitude"}),
    ("DistributionChannel", "Distribution Channel", {"ImportId": "distributionChannel"}),
    ("UserLanguage", "User Language", {"ImportId": "userLanguage"}),
    ("Q1", Q1, {"ImportId": "QID1"}),
    ("Q2", Q2, {"ImportId": "QID2_TEXT"}),
    ("Q3", Q3, {"ImportId": "QID3"}),
]
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def _qualtrics_row(
    rng: random.Random,
    *,
    customer: Customer,
    at: datetime,
    score: str,
    text: str,
    part: str,
    response_id: str,
    language: str,
) -> list[str]:
    local = _london(at)
    duration = rng.randint(35, 540)
    lat, lon = CITIES[customer.city][3:5]
    ip = f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{rng.randint(1, 254)}"
    fmt = "%Y-%m-%d %H:%M:%S"
    return [
        (local - timedelta(seconds=duration)).strftime(fmt),
        local.strftime(fmt),
        "IP Address",
        ip,
        "100",
        str(duration),
        "True",
        (local + timedelta(seconds=rng.randint(0, 2))).strftime(fmt),
        response_id,
        customer.last,
        customer.first,
        customer.email,
        customer.account,
        f"{lat + rng.uniform(-0.05, 0.05):.4f}",
        f"{lon + rng.uniform(-0.05, 0.05):.4f}",
        "email",
        QUALTRICS_LANG[language],
        score,
        text,
        part,
    ]


def write_qualtrics(
    rng: random.Random, inbox_writer: InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    # long: the Qualtrics export written column by column, in its own layout; the random draws stay
    # in this order (same seed, same bytes)
    header = [
        [m for m, _, _ in QUALTRICS_COLUMNS],
        [q for _, q, _ in QUALTRICS_COLUMNS],
        [json.dumps(i, separators=(",", ":")) for _, _, i in QUALTRICS_COLUMNS],
    ]
    used: set[str] = set()

    def response_id() -> str:
        while True:
            rid = "R_" + "".join(rng.choice(_ALNUM) for _ in range(15))
            if rid not in used:
                used.add(rid)
                return rid

    nps = [c for c in contacts if c.form == "nps"]
    for c in nps:
        c.source_id = response_id()
        c.extra["part"] = c.theme.survey_part if rng.random() < 0.85 else rng.choice(SURVEY_PARTS)
    # planted: the hostile SQL verbatim, as one customer typed it
    hostile = next(
        c
        for c in nps
        if c.theme.key == "charged_twice" and c.week == WEEKS[3] and c.language == "en"
    )
    hostile.text = (
        "Robert'); DROP TABLE feedback;-- is what I'd like to do to your billing system "
        "after you charged me twice"
    )
    hostile.pii = []
    bad_rows = {  # week index: (kind, score, text, expected reason)
        1: [("empty_verbatim", "7", "", "no feedback text")],
        2: [("na_verbatim", "8", "N/A", "no feedback text (just N/A)")],
        3: [("empty_verbatim", "3", "", "no feedback text")],
        4: [
            (
                "nps_out_of_range",
                "11",
                "Excellent service, couldn't fault it",
                "score 11 is outside the NPS range 0-10",
            )
        ],
        5: [
            (
                "nps_out_of_range",
                "-1",
                "terrible, would give minus if I could",
                "score -1 is outside the NPS range 0-10",
            )
        ],
    }
    for w, week in enumerate(WEEKS):
        monday = FIRST_DAY + timedelta(days=7 * w)
        start = (
            monday - timedelta(days=1) if w == N_WEEKS - 1 else monday
        )  # W47 repeats W46's Sunday
        rows = sorted(
            (c for c in nps if start <= c.local.date() <= monday + timedelta(days=6)),
            key=lambda c: c.at,
        )
        entries: list[tuple[Contact | None, list[str], tuple | None]] = []
        for c in rows:
            if "qualtrics_row" not in c.extra:  # the overlap repeats the very same row
                c.extra["qualtrics_row"] = _qualtrics_row(
                    rng,
                    customer=c.customer,
                    at=c.at,
                    score=str(c.score),
                    text=c.text,
                    part=c.extra["part"],
                    response_id=c.source_id,
                    language=c.language,
                )
            entries.append(
                (
                    c,
                    c.extra["qualtrics_row"],
                    None,
                )
            )
        for bad in bad_rows.get(w, []):
            customer = rng.choice(people)
            at = datetime.combine(
                monday + timedelta(days=rng.randint(0, 4)), datetime.min.time()
            ) + timedelta(hours=rng.randint(9, 19))
            rid = response_id()
            row = _qualtrics_row(
                rng,
                customer=customer,
                at=at,
                score=bad[1],
                text=bad[2],
                part=rng.choice(SURVEY_PARTS),
                response_id=rid,
                language="en",
            )
            entries.insert(rng.randint(1, len(entries) - 1), (None, row, (bad, rid)))
        rel = f"surveys/qualtrics_nps_{week}.csv"
        for number, (c, _row, bad) in enumerate(entries, start=1):
            if c is not None:
                if c.week == week:
                    c.file, c.row = rel, number
                    inbox_writer.tally(rel, contacts=1)
                else:  # the overlap: already in last week's export
                    c.also_in.append(rel)
                    inbox_writer.tally(rel, duplicates=1)
                    inbox_writer.plant(
                        "overlap_duplicate",
                        rel,
                        c.source_id,
                        number,
                        "duplicate",
                        f"same ResponseId as in {c.file} (overlapping export)",
                    )
            else:
                (kind, _s, _t, reason), rid = bad
                inbox_writer.plant(kind, rel, rid, number, "quarantine", reason)
        inbox_writer.write(
            rel, b"\xef\xbb\xbf" + _csv_bytes(header + [row for _, row, _ in entries])
        )
    inbox_writer.bad.append(
        BadRecord(
            "hostile_sql_text",
            hostile.file,
            hostile.source_id,
            hostile.row,
            "load",
            "stored as inert text; parameterised SQL means nothing runs",
            _cid(hostile),
        )
    )


CSAT_COLUMNS = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "Email Address",
    "How satisfied were you with how we handled your contact?",
    "What could we have done better?",
]


def _us_date(at: datetime) -> str:
    return _london(at).strftime("%m/%d/%Y %I:%M:%S %p")


def write_csat(
    rng: random.Random, inbox_writer: InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    # long: the CSAT workbook written column by column, in its own layout; the random draws stay in
    # this order (same seed, same bytes)
    rel = "surveys/csat_post_contact.xlsx"
    rows = sorted((c for c in contacts if c.form == "csat"), key=lambda c: c.at)
    respondent = 118_204_551_000
    records: list[tuple[Contact | None, dict]] = []
    for c in rows:
        respondent += rng.randint(3, 400)
        c.source_id = str(respondent)
        started = c.at - timedelta(seconds=rng.randint(25, 240))
        records.append(
            (
                c,
                {
                    "id": respondent,
                    "collector": rng.choice([431_204_877, 431_204_877, 431_209_310]),
                    "start": _us_date(started),
                    "end": _us_date(c.at),
                    "email": c.customer.email,
                    "score": str(c.score),
                    "text": c.text,
                },
            )
        )
    for kind, text, reason in [
        ("na_verbatim", "N/A", "no feedback text (just N/A)"),
        ("empty_verbatim", "", "no feedback text"),
    ]:
        at_index = rng.randint(5, len(records) - 5)
        anchor = records[at_index][1]
        customer = rng.choice(people)
        rid = anchor["id"] + 1
        records.insert(
            at_index + 1,
            (
                None,
                {
                    "id": rid,
                    "collector": 431_204_877,
                    "start": anchor["start"],
                    "end": anchor["end"],
                    "email": customer.email,
                    "score": str(rng.randint(3, 5)),
                    "text": text,
                    "kind": kind,
                    "reason": reason,
                },
            ),
        )
    # ids step by 3 or more, so the planted rows' "anchor + 1" ids are free and in order
    for number, (c, rec) in enumerate(records, start=1):  # 1-based after both header rows
        if c is not None:
            c.source_id, c.file, c.row = str(rec["id"]), rel, number
            inbox_writer.tally(rel, contacts=1)
        else:
            inbox_writer.plant(
                rec["kind"], rel, str(rec["id"]), number, "quarantine", rec["reason"]
            )
    frame = pl.DataFrame(
        {
            CSAT_COLUMNS[0]: [None] + [r["id"] for _, r in records],
            CSAT_COLUMNS[1]: [None] + [r["collector"] for _, r in records],
            CSAT_COLUMNS[2]: [""] + [r["start"] for _, r in records],
            CSAT_COLUMNS[3]: [""] + [r["end"] for _, r in records],
            CSAT_COLUMNS[4]: [""] + [r["email"] for _, r in records],
            CSAT_COLUMNS[5]: ["Response"] + [r["score"] for _, r in records],
            CSAT_COLUMNS[6]: ["Open-Ended Response"] + [r["text"] for _, r in records],
        },
        schema={
            CSAT_COLUMNS[0]: pl.Int64,
            CSAT_COLUMNS[1]: pl.Int64,
            **{c: pl.String for c in CSAT_COLUMNS[2:]},
        },
    )
    from xlsxwriter import Workbook  # installed with polars' excel extra

    buf = io.BytesIO()
    workbook = Workbook(buf, {"in_memory": True})
    workbook.set_properties({"created": datetime(2026, 11, 23, 6, 0, 0), "author": "SurveyMonkey"})
    frame.write_excel(workbook, worksheet="Sheet1", autofit=True)
    workbook.close()
    inbox_writer.write(rel, buf.getvalue())


def write_unreadable(rng: random.Random, inbox_writer: InboxWriter) -> None:
    # a Word file someone saved next to the survey exports: no channel reads .docx
    rel = "surveys/survey_questions.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in [
            (
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            ),
            (
                "word/document.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{Q1} {Q2} {Q3}</w:t></w:r></w:p></w:body></w:document>',
            ),
        ]:
            info = zipfile.ZipInfo(name, date_time=(2026, 9, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    inbox_writer.write(rel, buf.getvalue())
    inbox_writer.plant(
        "unsupported_file",
        rel,
        "survey_questions.docx",
        None,
        "quarantine",
        "a .docx file is not a survey format voc reads",
    )
    # a CRM export that got mangled on the way: random bytes
    rel = "complaints/crm_cases_corrupt.csv"
    junk = bytearray(rng.randbytes(4096))
    for i in range(0, 4096, 97):
        junk[i] = 0
    inbox_writer.write(rel, bytes(junk))
    inbox_writer.plant(
        "binary_file",
        rel,
        "crm_cases_corrupt.csv",
        None,
        "quarantine",
        "undecodable: binary content (NUL bytes), not text",
    )
    rel = "calls/README.md"
    inbox_writer.write(
        rel,
        (
            b"# Call transcripts\n\nExported nightly from the contact-centre platform, one folder per ISO week.\n"
            b"Formats: WebVTT (.vtt), SubRip (.srt), JSON and plain text.\n"
        ),
    )
    inbox_writer.plant(
        "unsupported_file",
        rel,
        "README.md",
        None,
        "quarantine",
        "a .md file is not a call format voc reads",
    )
