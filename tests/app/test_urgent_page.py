"""The Urgent page: the insight team sees every flagged contact, a department head those
routed to their department; acknowledging records who and when (contact_flag_events)."""

from __future__ import annotations

import polars as pl
import pytest

from warehouse import Warehouse, urgent
from warehouse.clock import utc_now

URGENT_PAGE = "pages/urgent.py"


@pytest.fixture
def flagged(sample) -> dict[str, str]:
    """Flag one Network and one Billing contact of the sample warehouse; returns
    {department: feedback_id}."""
    wh = Warehouse(sample.path, lock_timeout=30)
    with wh.read() as con:
        routed = con.sql(
            "SELECT department, min(feedback_id) AS feedback_id FROM feedback_departments "
            "WHERE department IN ('Network', 'Billing') GROUP BY department"
        ).pl()
    ids = dict(routed.iter_rows())
    flags = pl.DataFrame(
        {
            "feedback_id": [ids["Network"], ids["Network"], ids["Billing"]],
            "kind": ["vulnerability", "safety", "regulator"],
            "evidence": [
                "relies on a personal alarm that needs the internet",
                "the hub is sparking",
                "I will go to the Ombudsman",
            ],
        }
    )
    with wh.write() as con:
        urgent.store_flags(con, flags, checked=[], rule_version="test", at=utc_now())
    return ids


def open_urgent(app, user):
    at = app(user)
    assert not at.exception, at.exception
    at.switch_page(URGENT_PAGE).run()
    assert not at.exception, at.exception
    return at


def test_the_insight_team_sees_every_flagged_contact_with_its_evidence(app, flagged, page_text):
    at = open_urgent(app, "analyst")
    assert at.title[0].value == "Urgent contacts"
    text = page_text(at)
    assert "personal alarm" in text and "sparking" in text and "Ombudsman" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vulnerable customer"] == "1"
    assert metrics["Regulator / ombudsman"] == "1"
    assert len([b for b in at.button if b.label == "Acknowledge"]) == 2


def test_a_head_sees_only_their_department_and_acknowledging_records_who_and_when(
    app, flagged, page_text, sample
):
    at = open_urgent(app, "head.network")
    text = page_text(at)
    assert "personal alarm" in text
    assert "Ombudsman" not in text  # Billing's contact
    fid = flagged["Network"]
    at.text_input(key=f"urgent-note-{fid}").input("rang the customer back")
    at.button(key=f"urgent-ack-{fid}").click().run()
    assert not at.exception, at.exception
    assert "Nothing is waiting" in page_text(at)
    with Warehouse(sample.path).read() as con:
        rows = urgent.flags_of(con, fid).to_dicts()
        history = urgent.history(con, fid).to_dicts()
    assert {r["acknowledged_by"] for r in rows} == {"head.network"}
    assert all(r["acknowledged_at"] is not None for r in rows)
    assert {(h["kind"], h["actor"], h["field"], h["note"]) for h in history} == {
        ("safety", "head.network", "acknowledged", "rang the customer back"),
        ("vulnerability", "head.network", "acknowledged", "rang the customer back"),
    }


def test_a_head_cannot_acknowledge_another_departments_contact(sample, flagged):
    from dashboard import data
    from warehouse.users import Viewer

    head = Viewer("head.network", "Head of Network", "head", "Network")
    with pytest.raises(PermissionError, match="routed to Billing"):
        data.acknowledge_urgent(head, flagged["Billing"])
    queue = data.urgent_queue(head, include_acknowledged=True)
    assert set(queue.contacts["feedback_id"]) == {flagged["Network"]}
