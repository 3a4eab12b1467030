"""What voc tells people, as messages: the weekly digest for a department head, and the
alerts (a theme turns emerging, urgent contacts arrive). Pure: no warehouse, no network.

A ``Message`` has a stable ``key`` (what it is about, e.g. ``digest:2026-W47:Network``)
so the notify flow can record it and never send the same message twice, a subject, a
plain-text part and an HTML part (every value escaped), and the JSON a webhook gets
(``{"text": ...}``, which Slack and Teams incoming webhooks accept).

Who may read what: a department's digest and its urgent alerts quote its issues and its
customers' words, so they go to its head and its own webhook only. The team's webhook (one
channel, whoever is in it) gets what holds no department's content: the weekly overview
(counts per department), a notice that urgent contacts arrived (counts and kinds, no
words), emerging themes, and the contacts nobody owns yet (for triage).

    target = parse_smtp_url("smtp://voc:secret@mail.example.com:587")
    message = digest_message(digest)
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from models.urgent import KIND_NAMES
from warehouse.contract import TRIAGE

MAX_ROWS = 25  # per digest section; the rest is counted, not listed
MAX_QUOTE = 240


class NotifyConfigError(ValueError):
    """A transport setting that cannot work (bad URL); says which and why."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: Literal["auto", "required", "off"]

    def __repr__(self) -> str:  # never the password
        return (
            f"SmtpTarget({self.host}:{self.port}, user={self.username!r}, starttls={self.starttls})"
        )


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:password@]host[:port][?starttls=auto|required|off]``; port 25 by
    default. STARTTLS is used when the server offers it (``auto``), demanded
    (``required``), or not tried (``off``, for a local relay)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "smtp":
        raise NotifyConfigError("VOC_SMTP_URL must start with smtp:// (STARTTLS is negotiated)")
    if not parts.hostname:
        raise NotifyConfigError("VOC_SMTP_URL names no host")
    try:
        port = parts.port or 25
    except ValueError:
        raise NotifyConfigError("VOC_SMTP_URL has a port that is not a number") from None
    mode = (parse_qs(parts.query).get("starttls") or ["auto"])[0].lower()
    if mode not in ("auto", "required", "off"):
        raise NotifyConfigError("starttls= must be auto, required or off")
    return SmtpTarget(
        parts.hostname,
        port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        mode,  # type: ignore[arg-type]
    )


def webhook_label(url: str, department: str | None = None) -> str:
    """Where a webhook goes, for the record, without its secret path: the team's
    (``webhook:hooks.slack.com``) or a department's (``webhook:hooks.slack.com (Billing)``)."""
    parts = urlsplit(url)
    where = f"webhook:{parts.hostname or '?'}"
    return f"{where} ({department})" if department else where


@dataclass(frozen=True)
class Message:
    key: str  # stable: the same message has the same key on every run
    kind: Literal["digest", "alert"]
    department: str | None  # None: for the insight team
    subject: str
    text: str
    html: str

    def webhook_payload(self) -> dict:
        return {"text": f"*{self.subject}*\n{self.text}", "subject": self.subject, "key": self.key}


# ----------------------------------------------------------------------------- digest
@dataclass(frozen=True)
class Digest:
    """A department head's week: only their department's issues and contacts."""

    department: str
    head: str | None
    week: str  # 2026-W47
    week_start: date
    open_issues: list[dict] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)
    opened: list[dict] = field(default_factory=list)
    verified: list[dict] = field(default_factory=list)
    urgent: list[dict] = field(default_factory=list)  # unacknowledged, received that week


def _issue_line(row: dict) -> str:
    due = f", due {row['due_date']}" if row.get("due_date") else ""
    owner = f", {row['owner']}" if row.get("owner") else ""
    return f"#{row['issue_id']} {row['title']} ({row['priority']}, {row['status']}{owner}{due})"


def _urgent_line(row: dict) -> str:
    kinds = ", ".join(KIND_NAMES.get(k, k) for k in str(row["kinds"]).split(", "))
    return f"{kinds}: “{_cut(row['evidence'])}” ({row['channel']}, {row['received_at']:%Y-%m-%d %H:%M})"


def _cut(text: object, limit: int = MAX_QUOTE) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sections(d: Digest) -> list[tuple[str, list[str], int]]:
    """(title, lines, total) for each part of the digest."""
    parts = [
        (
            "Urgent contacts not yet acknowledged",
            [_urgent_line(r) for r in d.urgent],
            len(d.urgent),
        ),
        ("Overdue issues", [_issue_line(r) for r in d.overdue], len(d.overdue)),
        ("Opened this week", [_issue_line(r) for r in d.opened], len(d.opened)),
        ("Fixes verified this week", [_issue_line(r) for r in d.verified], len(d.verified)),
        ("All open issues", [_issue_line(r) for r in d.open_issues], len(d.open_issues)),
    ]
    return [(t, lines[:MAX_ROWS], n) for t, lines, n in parts]


def digest_message(d: Digest) -> Message:
    subject = (
        f"voc weekly digest {d.week} — {d.department}: {len(d.urgent)} urgent, "
        f"{len(d.overdue)} overdue, {len(d.open_issues)} open"
    )
    text_parts = [f"{d.department}, week {d.week} (from {d.week_start:%d %b %Y})", ""]
    html_parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(subject)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:760px;margin:24px auto;"
        "color:#1f2933}h1{font-size:20px}h2{font-size:16px;margin-top:24px;border-bottom:"
        "1px solid #d9e2ec;padding-bottom:4px}li{margin:4px 0}.urgent li{color:#9b1c1c}"
        ".muted{color:#616e7c;font-size:13px}</style></head><body>",
        f"<h1>{html.escape(d.department)} — week {html.escape(d.week)}</h1>",
        f"<p class='muted'>Your weekly voc digest{', ' + html.escape(d.head) if d.head else ''}:"
        " only your department's issues and contacts.</p>",
    ]
    for title, lines, total in _sections(d):
        more = f" (showing {len(lines)} of {total})" if total > len(lines) else ""
        text_parts.append(f"{title}: {total}{more}")
        text_parts += [f"  - {line}" for line in lines] or ["  none"]
        text_parts.append("")
        css = " class='urgent'" if title.startswith("Urgent") else ""
        html_parts.append(f"<h2>{html.escape(title)}: {total}{html.escape(more)}</h2>")
        if lines:
            html_parts.append(
                f"<ul{css}>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
            )
        else:
            html_parts.append("<p class='muted'>none</p>")
    html_parts.append(
        "<p class='muted'>Sent by voc. Acknowledge urgent contacts on the dashboard's Urgent page or with <code>voc urgent ack</code>.</p></body></html>"
    )
    return Message(
        key=f"digest:{d.week}:{d.department}",
        kind="digest",
        department=d.department,
        subject=subject,
        text="\n".join(text_parts).rstrip() + "\n",
        html="".join(html_parts),
    )


# ----------------------------------------------------------------------------- alerts
def emerging_alert(week: str, theme: dict) -> Message:
    """A theme turned emerging in ``week``: for the insight team (and its department)."""
    label = str(theme["label"])
    reason = _cut(theme.get("emerging_reason") or "", 400)
    subject = f"voc alert: “{_cut(label, 80)}” is emerging ({week})"
    text = (
        f"The theme “{label}” turned emerging in {week}: {theme['volume']} contacts"
        f"{', ' + reason if reason else ''}. Department: {theme.get('department') or 'needs triage'}.\n"
    )
    body = (
        f"<p>The theme <b>{html.escape(label)}</b> turned emerging in {html.escape(week)}: "
        f"{int(theme['volume'])} contacts{', ' + html.escape(reason) if reason else ''}.</p>"
        f"<p>Department: {html.escape(str(theme.get('department') or 'needs triage'))}</p>"
    )
    return Message(
        key=f"alert:emerging:{week}:{theme['theme_id']}",
        kind="alert",
        department=theme.get("department"),
        subject=subject,
        text=text,
        html=f"<!doctype html><html><body>{body}</body></html>",
    )


def urgent_alert(department: str | None, contacts: list[dict], at: datetime) -> Message:
    """Urgent contacts that arrived: one message per department per sweep."""
    ids = sorted(str(c["feedback_id"]) for c in contacts)
    lines = [_urgent_line(c) for c in contacts[:MAX_ROWS]]
    more = len(contacts) - len(lines)
    who = department or TRIAGE
    subject = (
        f"voc alert: {len(contacts)} urgent contact{'s' if len(contacts) != 1 else ''} for {who}"
    )
    text = "\n".join(f"- {line}" for line in lines) + (f"\n…and {more} more" if more else "") + "\n"
    body = "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
    if more:
        body += f"<p>…and {more} more</p>"
    batch = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    return Message(
        key=f"alert:urgent:{who}:{batch}",
        kind="alert",
        department=department,
        subject=subject,
        text=text,
        html=f"<!doctype html><html><body><h2>{html.escape(subject)}</h2>{body}</body></html>",
    )


# ------------------------------------------------------------------------ for the team
def team_overview_message(week: str, week_start: date, rows: list[dict]) -> Message:
    """The week across departments, for the team's channel: counts only (``department,
    urgent, overdue, opened, verified, open``), never an issue's title or a customer's
    words, which stay in each department's own digest."""
    subject = f"voc weekly overview {week}: {sum(int(r['urgent']) for r in rows)} urgent contacts"
    header = ("department", "urgent", "overdue", "opened", "verified", "open")
    lines = [
        f"{r['department']}: {r['urgent']} urgent, {r['overdue']} overdue, "
        f"{r['opened']} opened, {r['verified']} verified, {r['open']} open"
        for r in rows
    ]
    text = (
        f"Week {week} (from {week_start:%d %b %Y}), per department. Each head has their "
        "own digest; the details are on the dashboard.\n"
        + "".join(f"- {line}\n" for line in lines or ["no departments"])
    )
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r[h]))}</td>" for h in header) + "</tr>"
        for r in rows
    )
    body = (
        f"<h2>{html.escape(subject)}</h2><table><tr>"
        + "".join(f"<th>{h}</th>" for h in header)
        + f"</tr>{cells}</table>"
    )
    return Message(
        key=f"digest:{week}:team-overview",
        kind="digest",
        department=None,
        subject=subject,
        text=text,
        html=f"<!doctype html><html><body>{body}</body></html>",
    )


def urgent_notice(contacts: list[dict]) -> Message:
    """Urgent contacts arrived for departments, for the team's channel: how many, of which
    kinds, for which department; their words go only to each department."""
    ids = sorted(str(c["feedback_id"]) for c in contacts)
    per: dict[str, dict[str, int]] = {}
    for c in contacts:
        kinds = per.setdefault(str(c["department"]), {})
        for kind in str(c["kinds"]).split(", "):
            kinds[kind] = kinds.get(kind, 0) + 1
    lines = [
        f"{department}: {sum(1 for c in contacts if str(c['department']) == department)} "
        f"({', '.join(f'{KIND_NAMES.get(k, k)} {n}' for k, n in sorted(kinds.items()))})"
        for department, kinds in sorted(per.items())
    ]
    n = len(contacts)
    subject = f"voc alert: {n} urgent contact{'s' if n != 1 else ''} arrived"
    text = (
        "\n".join(f"- {line}" for line in lines)
        + "\nEach department's head has been told; open the Urgent page for the contacts.\n"
    )
    body = "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
    batch = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    return Message(
        key=f"alert:urgent-notice:{batch}",
        kind="alert",
        department=None,
        subject=subject,
        text=text,
        html=f"<!doctype html><html><body><h2>{html.escape(subject)}</h2>{body}</body></html>",
    )
