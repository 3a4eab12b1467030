"""The weekly digest's HTML part renders in a real Chromium (screenshot to
artifacts/screenshots/notify_digest.png), with user text shown as text."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from models.notify import Digest, digest_message

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a real Chromium: the full run only


def test_the_digest_renders_in_chromium(browser, screenshot):
    issue = {
        "priority": "P1",
        "status": "in_progress",
        "owner": "Sam",
        "due_date": date(2026, 11, 20),
    }
    digest = Digest(
        department="Network",
        head="head.network@lumen.example",
        week="2026-W47",
        week_start=date(2026, 11, 16),
        open_issues=[
            {"issue_id": 3, "title": "Broadband drops in the evening <b>LS6</b>", **issue},
            {"issue_id": 7, "title": "Slow speeds after upgrade", **issue, "priority": "P3"},
        ],
        overdue=[{"issue_id": 3, "title": "Broadband drops in the evening <b>LS6</b>", **issue}],
        opened=[{"issue_id": 7, "title": "Slow speeds after upgrade", **issue, "priority": "P3"}],
        verified=[],
        urgent=[
            {
                "feedback_id": "f1",
                "kinds": "vulnerability",
                "evidence": "My dad's personal alarm runs over the broadband and it's been down since Tuesday.",
                "channel": "call",
                "received_at": datetime(2026, 11, 19, 10, 12),
            },
            {
                "feedback_id": "f2",
                "kinds": "repeat_failure, safety",
                "evidence": "3rd contact in 30 days on “Broadband outages” | the cable is hanging across the pavement",
                "channel": "email",
                "received_at": datetime(2026, 11, 18, 16, 40),
            },
        ],
    )
    message = digest_message(digest)
    page = browser.new_page(viewport={"width": 900, "height": 900})
    page.set_content(message.html)
    assert page.title() == message.subject
    body = page.inner_text("body")
    assert "Urgent contacts not yet acknowledged: 2" in body
    assert "personal alarm" in body
    assert "<b>LS6</b>" in body  # a title's markup is shown as typed, not rendered
    assert page.locator("h2").count() == 5
    path = screenshot(page, "notify_digest")
    assert path.stat().st_size > 10_000
    page.close()
