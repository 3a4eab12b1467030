"""Urgent contacts end to end: real ingest, the real flagging flow on a real DuckDB file,
`voc urgent` as a person types it, and the hourly sweep flagging what arrives."""

from __future__ import annotations

from datetime import datetime

from typer.testing import CliRunner

from flows.cli import app
from flows.serve import inbox_sweep_flow
from warehouse import Warehouse

runner = CliRunner(env={"COLUMNS": "250"})


def voc(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


COMPLAINTS = [
    # id, date, email, text
    (
        "C1",
        "2026-11-02 09:00:00",
        "ann@example.com",
        "Broadband down since this morning, no internet.",
    ),
    (
        "C2",
        "2026-11-06 09:00:00",
        "ann@example.com",
        "Still no internet, the broadband is down again.",
    ),
    (
        "C3",
        "2026-11-10 09:00:00",
        "ann@example.com",
        "Broadband outage again, nobody has fixed it.",
    ),
    (
        "C4",
        "2026-11-10 10:00:00",
        "bob@example.com",
        "I am not going to complain to the ombudsman, but sort my bill out.",
    ),
    (
        "C5",
        "2026-11-10 11:00:00",
        "cat@example.com",
        "My dad relies on a personal alarm that needs the internet.",
    ),
    (
        "C6",
        "2026-11-10 12:00:00",
        "dan@example.com",
        "There is no safety issue, the engineer was careful, it is just slow.",
    ),
    ("C7", "2026-11-10 13:00:00", "eve@example.com", "The hub is sparking and smells of burning."),
]


def write_complaints(folder, rows) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,created_at,email,message"] + [f'{i},{d},{e},"{t}"' for i, d, e, t in rows]
    (folder / "cases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def themes_and_routes(db) -> dict[str, str]:
    """What the topics flow and the weekly review would leave: C1 and C3 under one fine
    theme, C2 under a sibling fine theme of the same top-level group; every contact routed."""
    wh = Warehouse(db)
    now = datetime(2026, 11, 11)
    with wh.write() as con:
        ids = dict(con.execute("SELECT source_ref, feedback_id FROM feedback").fetchall())
        con.execute(
            "INSERT INTO themes (theme_id, parent_id, kind, label, status, created_at, updated_at) VALUES "
            "(10, NULL, 'group', 'Broadband outages', 'active', $now, $now),"
            "(11, 10, 'fine', 'No internet since morning', 'active', $now, $now),"
            "(12, 10, 'fine', 'Broadband down again', 'active', $now, $now),"
            "(13, NULL, 'fine', 'Bills', 'active', $now, $now)",
            {"now": now},
        )
        theme = {"C1": 11, "C2": 12, "C3": 11, "C4": 13, "C5": 11, "C6": 13, "C7": 11}
        for ref, fid in ids.items():
            con.execute(
                "INSERT INTO feedback_themes VALUES ($fid, $theme, 0.9, 'test', $now)",
                {"fid": fid, "theme": theme[ref], "now": now},
            )
            department = "Billing" if ref in ("C4", "C6") else "Network"
            con.execute(
                "INSERT INTO feedback_departments VALUES ($fid, $d, 0.9, 'item')",
                {"fid": fid, "d": department},
            )
    return ids


def flags(db) -> set[tuple[str, str, str | None]]:
    with Warehouse(db).read() as con:
        rows = con.execute(
            "SELECT f.source_ref, cf.kind, cf.acknowledged_by FROM contact_flags cf "
            "JOIN feedback f USING (feedback_id)"
        ).fetchall()
    return set(rows)


def test_flags_with_evidence_idempotent_and_acknowledged_from_the_cli(tmp_path):
    db = str(tmp_path / "voc.duckdb")
    write_complaints(tmp_path / "inbox" / "complaints", COMPLAINTS)
    voc("ingest", str(tmp_path / "inbox"), "--db", db)
    ids = themes_and_routes(db)

    out = voc("urgent", "flag", "--db", db).output
    assert "7 contact(s) checked" in out
    assert flags(db) == {
        ("C3", "repeat_failure", None),  # third on the top-level theme, across fine themes
        ("C4", "regulator", None),  # a denied threat still flags
        ("C5", "vulnerability", None),
        ("C7", "safety", None),
    }  # C6 ("no safety issue") does not flag
    with Warehouse(db).read() as con:
        evidence = dict(
            con.execute(
                "SELECT kind, evidence FROM contact_flags WHERE kind IN ('repeat_failure', 'vulnerability')"
            ).fetchall()
        )
    assert evidence["vulnerability"] == "My dad relies on a personal alarm that needs the internet."
    assert evidence["repeat_failure"].startswith("3rd contact in 30 days on “Broadband outages”")

    listing = voc("urgent", "list", "--department", "Network", "--db", db).output
    assert "personal alarm" in listing and "ombudsman" not in listing
    out = voc(
        "urgent", "ack", ids["C5"], "--actor", "head.network", "--note", "called back", "--db", db
    ).output
    assert "acknowledged vulnerability" in out
    again = voc("urgent", "ack", ids["C5"], "--actor", "someone.else", "--db", db).output
    assert "already acknowledged" in again  # the first acknowledgement stands
    assert "has no urgent flags" in voc("urgent", "ack", "nope", "--db", db, code=1).output

    # re-running changes nothing and keeps the acknowledgement
    before = flags(db)
    out = voc("urgent", "flag", "--db", db).output
    assert "0 contact(s) checked; new flags: none" in out
    assert flags(db) == before
    assert ("C5", "vulnerability", "head.network") in before
    with Warehouse(db).read() as con:
        events = con.execute(
            'SELECT actor, field, note FROM contact_flag_events ORDER BY "at"'
        ).fetchall()
    assert events == [("head.network", "acknowledged", "called back")]
    open_list = voc("urgent", "list", "--db", db).output
    assert "personal alarm" not in open_list
    assert "head.network" in voc("urgent", "list", "--all", "--db", db).output
    assert voc("urgent", "list", "--kind", "nonsense", "--db", db, code=2)


def test_the_hourly_sweep_flags_new_contacts_as_they_arrive(tmp_path, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posted: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("VOC_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/t")
    monkeypatch.delenv("VOC_SMTP_URL", raising=False)
    try:
        _sweep_flags_and_alerts(tmp_path, posted)
    finally:
        server.shutdown()
        server.server_close()


def _sweep_flags_and_alerts(tmp_path, posted: list[dict]) -> None:
    inbox = tmp_path / "inbox"
    db = str(tmp_path / "voc.duckdb")
    write_complaints(inbox / "complaints", COMPLAINTS[5:6])  # "no safety issue"
    assert inbox_sweep_flow(inbox=str(inbox), db=db) == 1
    assert flags(db) == set()
    write_complaints(
        inbox / "complaints" / "later",
        [
            (
                "C9",
                "2026-11-12 08:00:00",
                "fay@example.com",
                "I have spoken to my solicitor about this.",
            )
        ],
    )
    assert inbox_sweep_flow(inbox=str(inbox), db=db) == 1
    assert flags(db) == {("C9", "legal_threat", None)}
    # the same sweep alerted: nobody owns the contact yet (no weekly review has routed
    # it), so the insight team's channel gets it for triage, once
    (alert,) = posted
    assert alert["subject"] == "voc alert: 1 urgent contact for Needs triage"
    assert "solicitor" in alert["text"]


def test_a_call_known_by_a_phone_is_the_same_customer_as_their_e_mails(tmp_path):
    """Gus writes a complaint (the CRM keeps his e-mail address and phone), e-mails, then
    rings; the call's file names nobody, and Gus gives his number when the agent asks. The
    call is his third contact on the problem: a repeat failure across channels."""
    inbox = tmp_path / "inbox"
    (inbox / "complaints").mkdir(parents=True)
    (inbox / "complaints" / "crm.csv").write_text(
        "Case Number,Date Opened,Contact Email,Contact Phone,Description\n"
        "G1,2026-11-02 09:00:00,gus@example.com,07700 900555,Broadband down since this morning.\n"
        "H1,2026-11-02 10:00:00,hal@example.com,07700 900666,My bill is wrong.\n",
        encoding="utf-8",
    )
    (inbox / "emails").mkdir()
    (inbox / "emails" / "g2.eml").write_text(
        "From: Gus <gus@example.com>\nTo: support@lumen.example\nSubject: Still down\n"
        "Date: Thu, 05 Nov 2026 09:00:00 +0000\nMessage-ID: <g2@example.com>\n\n"
        "The broadband is still down, no internet at all.\n",
        encoding="utf-8",
    )
    (inbox / "calls").mkdir()
    (inbox / "calls" / "2026-11-09T10-00_C-9.srt").write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nAgent: What's the phone number on the account?\n\n"
        "2\n00:00:03,500 --> 00:00:05,000\nCaller: +44 7700 900555, that's the one.\n\n"
        "3\n00:00:05,500 --> 00:00:08,000\nCaller: The broadband is down again, third week now.\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "voc.duckdb")
    voc("ingest", str(inbox), "--db", db)
    wh = Warehouse(db)
    now = datetime(2026, 11, 11)
    with wh.write() as con:
        rows = con.execute(
            "SELECT feedback_id, channel, customer_ref, text FROM feedback ORDER BY received_at"
        ).fetchall()
        con.execute(
            "INSERT INTO themes (theme_id, parent_id, kind, label, status, created_at, updated_at)"
            " VALUES (10, NULL, 'fine', 'Broadband outages', 'active', $now, $now)",
            {"now": now},
        )
        for fid, *_ in rows:
            con.execute(
                "INSERT INTO feedback_themes VALUES ($fid, 10, 0.9, 'test', $now)",
                {"fid": fid, "now": now},
            )
        links = con.execute("SELECT count(*) FROM customer_links").fetchall()[0][0]
    call = next(r for r in rows if r[1] == "call")
    assert "<PHONE>" in call[3] and "7700" not in call[3]  # the number is redacted all the same
    assert call[2] is not None and call[2] not in {r[2] for r in rows if r[1] != "call"}
    assert links == 2  # gus's and hal's e-mail ↔ phone; only keyed hashes

    voc("urgent", "flag", "--db", db)
    with wh.read() as con:
        (evidence,) = con.execute(
            "SELECT evidence FROM contact_flags WHERE kind = 'repeat_failure' "
            "AND feedback_id = $fid",
            {"fid": call[0]},
        ).fetchall()[0]
        others = con.execute(
            "SELECT count(*) FROM contact_flags WHERE feedback_id <> $fid", {"fid": call[0]}
        ).fetchall()[0][0]
    assert evidence.startswith("3rd contact in 30 days on “Broadband outages”")
    assert "2026-11-02 complaint" in evidence and "2026-11-05 email" in evidence
    assert others == 0  # hal's single contact, and gus's first two, are not repeats
