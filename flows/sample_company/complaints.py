"""Complaints: the CRM case export, the web form's JSONL and the cp1252 legacy CSV."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta

from flows.sample_company.company import Customer, _iso_z
from flows.sample_company.manifest import BadRecord, InboxWriter, _cid
from flows.sample_company.plan import Contact
from flows.sample_company.surveys import _csv_bytes

CRM_COLUMNS = [
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
_EXPORTED_AT = datetime(2026, 11, 23, 6, 0, 0)


def _phone_as_written(rng: random.Random, phone: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return "+44 " + phone[1:]
    if style == 1:
        return phone.replace(" ", "")
    return phone


def _pasted_log(rng: random.Random, length: int) -> str:
    events = [
        "[WAN] PPPoE link down (LCP echo timeout)",
        "[WAN] PPPoE session up, IPv4 acquired",
        "[DSL] Showtime: DS 38.2 Mbps US 7.9 Mbps",
        "[DSL] Loss of signal",
        "[WIFI] 5GHz channel change 36 -> 100 (DFS)",
        "[SYS] Watchdog reset",
        "[DHCP] lease renewed for 192.168.1.64",
        "[WAN] DNS resolver unreachable",
    ]
    lines: list[str] = []
    at = datetime(2026, 11, 1, 0, 0, 0)
    size = 0
    while size < length:
        at += timedelta(seconds=rng.randint(3, 400))
        line = f"{at:%Y-%m-%d %H:%M:%S} lumen-hub kernel: {rng.choice(events)}"
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def write_crm(
    rng: random.Random, inbox_writer: InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    # long: the CRM case export written field by field, in its column order; the random draws stay
    # in this order (same seed, same bytes)
    cases = sorted((c for c in contacts if c.form == "crm"), key=lambda c: c.at)
    number = 418_230
    for c in cases:
        number += rng.randint(1, 9)
        c.source_id = f"{number:08d}"

    def row_of(c: Contact) -> list[str]:
        age = (_EXPORTED_AT - c.at).days
        if age > 12:
            status = rng.choices(["Closed", "Resolved", "Open"], [60, 30, 10])[0]
        else:
            status = rng.choices(
                ["Open", "In Progress", "Pending Customer", "Escalated", "Resolved"],
                [35, 30, 10, 10, 15],
            )[0]
        urgent = c.theme.key in ("outage", "engineer_no_show") or c.nth >= 3
        priority = rng.choices(["High", "Medium", "Low"], [50, 40, 10] if urgent else [15, 55, 30])[
            0
        ]
        email = c.customer.email
        if rng.random() < 0.05:  # typed by hand into the CRM
            local, domain = email.split("@")
            email = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
        category = (
            c.theme.crm_category
            if rng.random() < 0.9
            else rng.choice(["General Enquiry", "Other", "Complaint"])
        )
        return [
            c.source_id,
            c.local.strftime("%d/%m/%Y %H:%M"),
            email,
            _phone_as_written(rng, c.customer.phone),
            c.theme.product,
            category,
            c.subject,
            c.text,
            status,
            priority,
            c.extra.get("crm_channel", "Web"),
        ]

    # planted: a customer pasted 200,000 characters of router log into the description
    longest = next(
        c
        for c in cases
        if c.theme.key == "outage"
        and c.local.month == 11
        and c.extra.get("crm_channel") != "Phone"
        and c.language == "en"
        and not c.pii
    )
    head = longest.text + "\n\nHere is the log from my router, you can see it dropping:\n"
    longest.text = head + _pasted_log(rng, 200_000 - len(head))
    longest.text = longest.text[:200_000]
    for month, name in [(9, "2026-09"), (10, "2026-10"), (11, "2026-11")]:
        rel = f"complaints/crm_cases_{name}.csv"
        month_cases = [c for c in cases if c.local.month == month]
        lines: list[tuple[str, Contact | None, tuple | None]] = []  # (csv text, contact, bad)
        for c in month_cases:
            lines.append((_csv_bytes([row_of(c)]).decode(), c, None))
        if month == 9:  # the same case exported twice
            j = rng.randint(3, len(lines) - 6)
            lines.insert(j + 4, (lines[j][0], None, ("exact_duplicate", lines[j][1])))
        if month == 10:
            customer = rng.choice(people)
            number += 3
            malformed = (
                f"{number:08d},14/10/2026 10:02,{customer.email},{customer.phone},Broadband,Billing,"
                "Bill wrong again,Hi, my bill is wrong again, I was charged for TV, which I don't have, "
                "and nobody answers the phone,Open,Medium,Web\r\n"
            )
            lines.insert(
                rng.randint(20, len(lines) - 20),
                (malformed, None, ("malformed_csv_line", f"{number:08d}")),
            )
            customer = rng.choice(people)
            number += 2
            row = [
                f"{number:08d}",
                "yesterday",
                customer.email,
                customer.phone,
                "Broadband",
                "Technical - Fault",
                "No internet",
                "Internet has been off since the weekend, please help, I work from home.",
                "Open",
                "High",
                "Phone",
            ]
            lines.insert(
                rng.randint(20, len(lines) - 20),
                (_csv_bytes([row]).decode(), None, ("unparseable_date", f"{number:08d}")),
            )
        body = "".join(text for text, _, _ in lines)
        inbox_writer.write(rel, (_csv_bytes([CRM_COLUMNS]).decode() + body).encode("utf-8"))
        for n, (_text, c, bad) in enumerate(lines, start=1):
            if c is not None:
                c.file, c.row = rel, n
                inbox_writer.tally(rel, contacts=1)
            elif bad[0] == "exact_duplicate":
                inbox_writer.tally(rel, duplicates=1)
                inbox_writer.plant(
                    "exact_duplicate",
                    rel,
                    bad[1].source_id,
                    n,
                    "duplicate",
                    f"the same case (Case Number {bad[1].source_id}) twice in one export",
                )
            elif bad[0] == "malformed_csv_line":
                inbox_writer.plant(
                    "malformed_csv_line",
                    rel,
                    bad[1],
                    n,
                    "quarantine",
                    "malformed line: more fields than the header (unquoted commas)",
                )
            else:
                inbox_writer.plant(
                    "unparseable_date", rel, bad[1], n, "quarantine", "unparseable date 'yesterday'"
                )
    inbox_writer.bad.append(
        BadRecord(
            "oversized_text",
            longest.file,
            longest.source_id,
            longest.row,
            "truncate",
            f"a {len(longest.text):,}-character description (a pasted router log); loaded, cut to the text limit",
            _cid(longest),
        )
    )


def write_webform(rng: random.Random, inbox_writer: InboxWriter, contacts: list[Contact]) -> None:
    rel = "complaints/webform_complaints.jsonl"
    forms = sorted((c for c in contacts if c.form == "webform"), key=lambda c: c.at)
    number = 208_311
    for c in forms:
        number += rng.randint(1, 6)
        c.source_id = f"WF-{number}"
    script = next(
        c for c in forms if c.theme.key in ("price_rise", "charged_twice") and c.language == "en"
    )
    script.text = (
        "<script>alert('x')</script> my bill is wrong, " + script.text[0].lower() + script.text[1:]
    )
    control = next(
        c for c in forms if c.theme.key == "outage" and c.language == "en" and c.n > script.n
    )
    control.text = (
        "My router keeps dropping\x00\x1b[31m every single evening \u202eand the light goes red\u202c. "
        + control.text
    )
    lines = []
    for n, c in enumerate(forms, start=1):
        c.file, c.row = rel, n
        record = {
            "id": c.source_id,
            "submitted_at": _iso_z(c.at, rng.randrange(1000)),
            "customer": {"email": c.customer.email, "name": c.customer.name},
            "topic": c.theme.webform_topic,
            "message": c.text,
        }
        lines.append(json.dumps(record, ensure_ascii=False))
        inbox_writer.tally(rel, contacts=1)
    inbox_writer.write(rel, ("\n".join(lines) + "\n").encode("utf-8"))
    inbox_writer.bad.append(
        BadRecord(
            "hostile_html_text",
            rel,
            script.source_id,
            script.row,
            "load",
            "stored as text, shown escaped; never executed",
            _cid(script),
        )
    )
    inbox_writer.bad.append(
        BadRecord(
            "control_characters",
            rel,
            control.source_id,
            control.row,
            "load",
            "NUL, ANSI escape and right-to-left override characters removed",
            _cid(control),
        )
    )


LEGACY_COLUMNS = [
    "Complaint Ref",
    "Date Logged",
    "Account No",
    "Customer Name",
    "Email",
    "Amount (£)",
    "Complaint Details",
    "Handler",
]


def write_legacy(
    rng: random.Random, inbox_writer: InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    rel = "complaints/legacy_billing_complaints.csv"
    rows = sorted((c for c in contacts if c.form == "legacy"), key=lambda c: c.at)
    handlers = ["Renée B.", "José M.", "Sam K.", "Anaïs P.", "Dave H."]
    entries: list[tuple[Contact | None, list[str]]] = []
    for n, c in enumerate(rows, start=1):
        c.source_id = f"BC-2026-{400 + n * 3:04d}"
        c.at = datetime.combine(
            c.local.date(), datetime.min.time()
        )  # the old system keeps dates only
        amount = re.search(r"£(\d+(?:\.\d\d)?)", c.text)
        entries.append(
            (
                c,
                [
                    c.source_id,
                    c.at.strftime("%d/%m/%Y"),
                    c.customer.account,
                    c.customer.name,
                    c.customer.email,
                    amount.group(1) if amount else "",
                    c.text,
                    rng.choice(handlers),
                ],
            )
        )
    customer = rng.choice([p for p in people if p.language == "en"])
    bad_ref = f"BC-2026-{400 + (len(rows) + 1) * 3:04d}"
    entries.insert(
        rng.randint(5, len(entries) - 5),
        (
            None,
            [
                bad_ref,
                "31/02/2026",
                customer.account,
                customer.name,
                customer.email,
                "42.00",
                "Charged £42.00 for a café package I never ordered, please refund.",
                "Renée B.",
            ],
        ),
    )
    for n, (c, _row) in enumerate(entries, start=1):
        if c is not None:
            c.file, c.row = rel, n
            inbox_writer.tally(rel, contacts=1)
        else:
            inbox_writer.plant(
                "unparseable_date", rel, bad_ref, n, "quarantine", "unparseable date '31/02/2026'"
            )
    inbox_writer.write(
        rel,
        _csv_bytes(
            [LEGACY_COLUMNS] + [row for _, row in entries], delimiter=";", encoding="cp1252"
        ),
    )
