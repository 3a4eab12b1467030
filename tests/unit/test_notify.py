"""Messages voc sends (digests, alerts): pure composition, escaping, the SMTP URL."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from models.notify import (
    Digest,
    NotifyConfigError,
    digest_message,
    emerging_alert,
    parse_smtp_url,
    urgent_alert,
    webhook_label,
)


def test_smtp_urls_carry_host_port_credentials_and_starttls_mode():
    t = parse_smtp_url("smtp://voc%40lumen:s3cr%2Ft@mail.example.com:587")
    assert (t.host, t.port, t.username, t.password, t.starttls) == (
        "mail.example.com",
        587,
        "voc@lumen",
        "s3cr/t",
        "auto",
    )
    assert "s3cr" not in repr(t)
    assert parse_smtp_url("smtp://localhost").port == 25
    assert parse_smtp_url("smtp://relay:2525?starttls=off").starttls == "off"
    for bad in ("smtps://x:465", "http://x", "smtp://", "smtp://x:port", "smtp://x?starttls=maybe"):
        with pytest.raises(NotifyConfigError):
            parse_smtp_url(bad)
    assert (
        webhook_label("https://hooks.slack.com/services/T0/B0/SECRET") == "webhook:hooks.slack.com"
    )


def issue(n, title, **extra):
    return {
        "issue_id": n,
        "title": title,
        "priority": "P2",
        "status": "new",
        "owner": None,
        "due_date": None,
        **extra,
    }


def test_a_digest_has_each_part_a_text_and_an_escaped_html_part():
    digest = Digest(
        department="Network",
        head="head.network@lumen.example",
        week="2026-W47",
        week_start=date(2026, 11, 16),
        open_issues=[issue(1, "Evening drops <script>alert(1)</script>"), issue(2, "Slow speeds")],
        overdue=[issue(2, "Slow speeds", due_date=date(2026, 11, 1))],
        opened=[issue(1, "Evening drops <script>alert(1)</script>")],
        verified=[],
        urgent=[
            {
                "feedback_id": "f1",
                "kinds": "safety, vulnerability",
                "evidence": "the hub is sparking | relies on a personal alarm",
                "channel": "call",
                "received_at": datetime(2026, 11, 18, 9, 30),
            }
        ],
    )
    m = digest_message(digest)
    assert m.key == "digest:2026-W47:Network" and m.kind == "digest"
    assert "1 urgent, 1 overdue, 2 open" in m.subject
    assert "Urgent contacts not yet acknowledged: 1" in m.text
    assert (
        "Safety, Vulnerable customer: “the hub is sparking | relies on a personal alarm”" in m.text
    )
    assert "Fixes verified this week: 0\n  none" in m.text
    assert "<script>" not in m.html and "&lt;script&gt;" in m.html
    assert m.webhook_payload()["text"].startswith(f"*{m.subject}*\n")


def test_alert_keys_are_stable_and_say_what_they_are_about():
    theme = {
        "theme_id": 12,
        "label": "App login loop",
        "volume": 24,
        "department": "Digital",
        "emerging_reason": "24 contacts against about 3 expected",
    }
    assert emerging_alert("2026-W47", theme).key == "alert:emerging:2026-W47:12"
    contacts = [
        {
            "feedback_id": f,
            "kinds": "regulator",
            "evidence": "Ofcom",
            "channel": "email",
            "received_at": datetime(2026, 11, 20, 10),
        }
        for f in ("b", "a")
    ]
    one = urgent_alert("Billing", contacts, datetime(2026, 11, 20))
    other = urgent_alert("Billing", list(reversed(contacts)), datetime(2026, 11, 21))
    assert one.key == other.key and one.key.startswith("alert:urgent:Billing:")
    assert "2 urgent contacts for Billing" in one.subject


def test_what_the_team_channel_gets_holds_counts_and_kinds_never_a_departments_words():
    from models.notify import team_overview_message, urgent_notice

    rows = [
        {"department": "Network", "urgent": 2, "overdue": 1, "opened": 0, "verified": 1, "open": 4},
        {
            "department": "Billing <b>",
            "urgent": 0,
            "overdue": 0,
            "opened": 1,
            "verified": 0,
            "open": 1,
        },
    ]
    overview = team_overview_message("2026-W47", date(2026, 11, 16), rows)
    assert overview.key == "digest:2026-W47:team-overview" and overview.department is None
    assert "2 urgent contacts" in overview.subject
    assert "- Network: 2 urgent, 1 overdue, 0 opened, 1 verified, 4 open" in overview.text
    assert "<b>" not in overview.html and "Billing &lt;b&gt;" in overview.html
    contacts = [
        {
            "feedback_id": f,
            "department": d,
            "kinds": k,
            "evidence": "my dad relies on a personal alarm",
            "channel": "call",
            "received_at": datetime(2026, 11, 20, 10),
        }
        for f, d, k in [("a", "Network", "vulnerability"), ("b", "Network", "regulator, safety"),
                        ("c", "Billing", "regulator")]
    ]  # fmt: skip
    notice = urgent_notice(contacts)
    assert notice.subject == "voc alert: 3 urgent contacts arrived"
    assert "- Network: 2 (Regulator / ombudsman 1, Safety 1, Vulnerable customer 1)" in notice.text
    assert "- Billing: 1 (Regulator / ombudsman 1)" in notice.text
    assert "personal alarm" not in notice.text + notice.html
    assert notice.key == urgent_notice(list(reversed(contacts))).key
    assert webhook_label("https://hooks.slack.com/services/T/B/S", "Billing") == (
        "webhook:hooks.slack.com (Billing)"
    )
