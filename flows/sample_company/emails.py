"""E-mail: weekly support mailboxes (mbox) and formal complaints (.eml)."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from flows.sample_company.company import (
    DOMAIN,
    MONTHS,
    SUPPORT_ADDRESS,
    SUPPORT_FROM,
    WEEKS,
    Customer,
    _aware_london,
    _london,
    _utc_offset,
)
from flows.sample_company.manifest import InboxWriter
from flows.sample_company.plan import Contact
from flows.sample_company.writing import MOBILE_SIGS, SUPPORT_REPLIES


def _minimal_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF (a bill the customer attached)."""
    text = " ".join(f"({line.replace('(', '[').replace(')', ']')}) Tj T*" for line in lines)
    stream = f"BT /F1 11 Tf 14 TL 56 780 Td ({title}) Tj T* T* {text} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _message_id(rng: random.Random, c: Contact | None) -> str:
    token = "".join(rng.choice("0123456789abcdef") for _ in range(24))
    if c is None:
        return f"<{token}.{rng.randint(1000, 9999)}@mail.{DOMAIN}>"
    domain = c.customer.email.split("@")[1]
    style = rng.randrange(3)
    if style == 0:
        return f"<CA+{token[:18].upper()}{rng.randint(10, 99)}@mail.{domain}>"
    if style == 1:
        return f"<{token}@{domain}>"
    return f"<{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:]}@mx.{domain}>"


def _quote(text: str) -> str:
    return "\n".join(">" if not line else f"> {line}" for line in text.split("\n"))


def _html(text: str) -> str:
    from html import escape

    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<style>p{margin:0 0 12px 0;font-family:Calibri,sans-serif}</style></head>"
        f'<body><div dir="ltr">{paragraphs}</div></body></html>'
    )


def _office_hours(rng: random.Random, at: datetime) -> datetime:
    """When Lumen's reply to something received at ``at`` (UTC) goes out: 2-20 hours later,
    moved into 08:00-19:59 London time."""
    reply = at + timedelta(hours=rng.randint(2, 20), minutes=rng.randrange(60))
    local = _london(reply)
    if not 8 <= local.hour < 20:
        day = local.date() + timedelta(days=1 if local.hour >= 20 else 0)
        local = datetime(
            day.year, day.month, day.day, rng.randint(8, 10), rng.randrange(60), rng.randrange(60)
        )
        reply = local - _utc_offset(day)
    return reply


def _support_reply(rng: random.Random, c: Contact, first: str) -> str:
    ctx = c.extra["ctx"].but(first=first)
    return re.sub(r"\{(\w+)\}", lambda m: ctx[m.group(1)], rng.choice(SUPPORT_REPLIES))


def build_email(rng: random.Random, c: Contact, boundary: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = (
        f"{c.customer.name} <{c.customer.email}>" if rng.random() < 0.9 else c.customer.email
    )
    msg["To"] = rng.choice([SUPPORT_ADDRESS, SUPPORT_FROM])
    body = c.text
    subject = c.subject
    prev = c.repeat_of
    if prev is not None and (prev.form in ("mbox", "eml") or rng.random() < 0.4):
        # a reply to what Lumen sent after the previous contact, quoting it
        reply = _office_hours(rng, prev.at)
        if reply >= c.at:  # Lumen answered before the customer wrote again
            reply = prev.at + (c.at - prev.at) / 2
        replied_at = _aware_london(reply.replace(microsecond=0))
        when = f"{replied_at:%a}, {replied_at.day} {replied_at:%b %Y at %H:%M}"
        body += f"\n\nOn {when}, Lumen Support <{SUPPORT_ADDRESS}> wrote:\n" + _quote(
            _support_reply(rng, prev, c.customer.first)
        )
        base = (
            prev.subject
            if prev.form in ("mbox", "eml") and prev.subject
            else f"Your Lumen case {c.extra['ctx']['ref']}"
        )
        subject = "Re: " + re.sub(r"^(Re: )+", "", base)
        msg["In-Reply-To"] = (
            prev.source_id if prev.source_id.startswith("<") else f"<case-{prev.n}@{DOMAIN}>"
        )
        msg["References"] = msg["In-Reply-To"]
    if rng.random() < 0.12:
        phone = c.customer.phone
        body += f"\n\n-- \n{c.customer.name}\n{rng.choice(['', 'Mobile: ', 'Tel: ', 'M: '])}{phone}"
        c.pii.append(("phone", phone, "signature"))
    elif rng.random() < 0.18:
        body += "\n\n" + rng.choice(MOBILE_SIGS)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(_aware_london(c.at))
    msg["Message-ID"] = c.source_id
    attach = rng.random() < 0.025
    if attach:
        head, sep, tail = c.text.rpartition("\n\n")
        body = body.replace(
            c.text, f"{head}\n\nI've attached a copy of my latest bill.{sep}{tail}", 1
        )
    if rng.random() < 0.03 and not attach:
        msg.set_content(_html(body), subtype="html")
        c.extra["html_only"] = True
    else:
        msg.set_content(body)
    if attach:
        month = MONTHS[c.local.month - 2]
        pdf = _minimal_pdf(
            f"Lumen Broadband - bill for {month} 2026",
            [
                f"Account {c.customer.account}",
                f"Total due: {c.extra['ctx']['price_new']}",
                "Direct debit collected on the 1st",
            ],
        )
        msg.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=f"Lumen_bill_{month}.pdf"
        )
        msg.set_boundary(boundary)
        c.extra["attachment"] = True
    c.extra["email_text"] = body
    return msg


def _mbox_entry(
    sender: str, at: datetime | None, msg: EmailMessage, raw_date: str | None = None
) -> bytes:
    data = msg.as_bytes(policy=policy.default)
    if raw_date is not None:  # a header the email package would refuse to write
        data = re.sub(rb"(?m)^Date:.*$", b"Date: " + raw_date.encode(), data, count=1)
    body = re.sub(rb"(?m)^(>*From )", rb">\1", data)
    stamp = at.strftime("%a %b %d %H:%M:%S %Y") if at else "Thu Jan  1 00:00:00 1970"
    return f"From {sender} {stamp}\n".encode() + body.rstrip(b"\n") + b"\n\n"


def write_emails(
    rng: random.Random, inbox_writer: InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    # long: the mailboxes and .eml files written message by message, MIME part by part; the random
    # draws stay in this order (same seed, same bytes)
    mails = sorted((c for c in contacts if c.form in ("mbox", "eml")), key=lambda c: c.at)
    for c in mails:
        c.source_id = _message_id(rng, c)
    boundary_n = 0
    entries_by_week: dict[str, list[tuple[datetime, bytes, Contact | None, tuple | None]]] = {
        w: [] for w in WEEKS
    }
    loose = 0
    for c in mails:
        boundary_n += 1
        msg = build_email(rng, c, f"===============lumen{boundary_n:06d}==")
        if c.form == "eml":
            loose += 1
            rel = f"emails/loose/complaint_escalation_{loose:03d}.eml"
            msg["Cc"] = f"complaints@{DOMAIN}"
            c.file = rel
            inbox_writer.write(rel, msg.as_bytes(policy=policy.SMTP))
            inbox_writer.tally(rel, contacts=1)
            continue
        entries_by_week[c.week].append((c.at, _mbox_entry(c.customer.email, c.at, msg), c, None))
    for w, week in enumerate(WEEKS):
        week_mails = [e[2] for e in entries_by_week[week]]
        # Lumen's own replies, exported with the inbox: outbound, not feedback
        early = [c for c in week_mails if c.local.weekday() <= 3 and c.customer.language == "en"]
        for c in rng.sample(early, 1 + (w % 2)):
            reply = EmailMessage()
            reply["From"] = SUPPORT_FROM
            reply["To"] = f"{c.customer.name} <{c.customer.email}>"
            reply["Subject"] = "Re: " + (c.subject or "Your enquiry")
            at = _office_hours(rng, c.at)
            reply["Date"] = format_datetime(_aware_london(at))
            mid = _message_id(rng, None)
            reply["Message-ID"] = mid
            reply["In-Reply-To"] = c.source_id
            reply.set_content(
                _support_reply(rng, c, c.customer.first) + "\n\n" + _quote(c.extra["email_text"])
            )
            entries_by_week[week].append(
                (at, _mbox_entry(SUPPORT_ADDRESS, at, reply), None, ("outbound", mid))
            )
        if w == 2:  # a message whose Date header is garbage
            customer = rng.choice([p for p in people if p.language == "en"])
            bad = EmailMessage()
            bad["From"] = f"{customer.name} <{customer.email}>"
            bad["To"] = SUPPORT_ADDRESS
            bad["Subject"] = "No internet again"
            bad["Date"] = format_datetime(_aware_london(datetime(2026, 10, 15, 9, 0)))
            mid = _message_id(rng, None).replace(f"mail.{DOMAIN}", customer.email.split("@")[1])
            bad["Message-ID"] = mid
            bad.set_content(
                f"Hi,\n\nThe internet has gone off again this morning. Can someone call me?\n\nThanks\n{customer.first}"
            )
            at = datetime(2026, 10, 15, 9, 0)
            entries_by_week[week].append(
                (
                    at,
                    _mbox_entry(customer.email, None, bad, raw_date="Thursday afternoon-ish"),
                    None,
                    ("garbage_date", mid),
                )
            )
        rel = f"emails/support_inbox_{week}.mbox"
        entries = sorted(entries_by_week[week], key=lambda e: e[0])
        for _at, _data, c, bad in entries:
            if c is not None:
                c.file, c.row = rel, None
                inbox_writer.tally(rel, contacts=1)
            elif bad[0] == "outbound":
                inbox_writer.tally(rel, not_feedback=1)
                inbox_writer.plant(
                    "outbound_email",
                    rel,
                    bad[1],
                    None,
                    "not_feedback",
                    f"sent by {SUPPORT_ADDRESS}: the company's reply, not customer feedback",
                )
            else:
                inbox_writer.plant(
                    "garbage_date_header",
                    rel,
                    bad[1],
                    None,
                    "quarantine",
                    "unparseable Date header 'Thursday afternoon-ish' (and the mbox From_ line says 1970)",
                )
        inbox_writer.write(rel, b"".join(data for _, data, _, _ in entries))
