"""`voc notify` against a real local SMTP server (aiosmtpd, STARTTLS and AUTH) and a local
HTTP receiver: each head gets only their department's digest, every message is recorded
so a re-run sends nothing twice, and unreachable transports are retried then recorded
as failed without failing the flow."""

from __future__ import annotations

import email
import json
import shutil
import socket
import ssl
import subprocess
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from flows.notify import notify_flow
from warehouse import Warehouse, urgent
from warehouse.clock import utc_now

pytest.importorskip("aiosmtpd")

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"voc",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def smtp_server(tls_files):
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []
    paths: list[str] = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def webhook():
    handler = type("Hook", (Receiver,), {"received": [], "paths": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-token", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def reviewed(sample_template, tmp_path) -> Path:
    """The dashboard's sample warehouse (departments with heads, issues, an emerging theme)
    plus urgent flags on a Network and a Billing contact of the latest week."""
    db = tmp_path / "voc.duckdb"
    shutil.copy(sample_template.path, db)
    wh = Warehouse(db, lock_timeout=30)
    with wh.read() as con:
        latest = con.execute("SELECT max(week_start) FROM theme_weekly").fetchall()[0][0]
        rows = con.execute(
            "SELECT fd.department, min(f.feedback_id) FROM feedback f "
            "JOIN feedback_departments fd USING (feedback_id) "
            "WHERE fd.department IN ('Network', 'Billing') AND f.received_at >= $start "
            "GROUP BY fd.department",
            {"start": latest},
        ).fetchall()
    ids = dict(rows)
    flags = pl.DataFrame(
        {
            "feedback_id": [ids["Network"], ids["Billing"]],
            "kind": ["vulnerability", "regulator"],
            "evidence": ["relies on a personal alarm", "I will go to the Ombudsman"],
        }
    )
    with wh.write() as con:
        urgent.store_flags(con, flags, checked=[], rule_version="test", at=utc_now())
    return db


def test_digests_and_alerts_by_email_and_webhook_once(
    reviewed, smtp_server, webhook, tls_files, monkeypatch
):
    port, inbox = smtp_server
    url, hook = webhook
    monkeypatch.setenv("VOC_SMTP_URL", f"smtp://voc:s3cret@127.0.0.1:{port}")
    monkeypatch.setenv("VOC_SMTP_CA_FILE", str(tls_files[0]))
    monkeypatch.setenv("VOC_SMTP_FROM", "voc <voc@lumen.example>")
    monkeypatch.setenv("VOC_WEBHOOK_URL", url)

    summary = notify_flow(db=str(reviewed))
    assert summary.failed == 0, summary.failures
    assert summary.sent > 0 and summary.already_sent == 0

    by_subject = {
        m["Subject"]: (m, r) for m, r in zip(inbox.messages, inbox.recipients, strict=True)
    }
    digests = {s: v for s, v in by_subject.items() if "weekly digest" in s}
    network = next(v for s, v in digests.items() if "— Network:" in s)
    message, rcpt = network
    assert rcpt == ["head.network@lumen.example"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "relies on a personal alarm" in text and "relies on a personal alarm" in html
    assert "Ombudsman" not in text  # Billing's contact: never in Network's digest
    billing = next(v for s, v in digests.items() if "— Billing:" in s)
    assert "Ombudsman" in billing[0].get_body(("plain",)).get_content()
    assert any("is emerging" in s for s in by_subject)  # the sample's emerging theme
    assert any("urgent contact" in s for s in by_subject)  # the flags just made

    assert hook.received and all("text" in body for body in hook.received)
    # the team's channel gets no department's digest, issue or customer's words: the
    # overview and the urgent notice are counts; emerging themes are the team's own
    posted = {b["subject"]: b["text"] for b in hook.received}
    assert not any("weekly digest" in subject for subject in posted)
    assert not any("personal alarm" in t or "Ombudsman" in t for t in posted.values())
    overview = next(t for s, t in posted.items() if s.startswith("voc weekly overview"))
    assert "- Network: 1 urgent" in overview and "- Billing: 1 urgent" in overview
    notice = next(t for s, t in posted.items() if s == "voc alert: 2 urgent contacts arrived")
    assert "Billing: 1 (Regulator / ombudsman 1)" in notice
    assert any("is emerging" in subject for subject in posted)
    with Warehouse(reviewed).read() as con:
        log = con.execute(
            "SELECT transport, status, count(*) FROM notifications GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        recipients = {r[0] for r in con.execute("SELECT recipient FROM notifications").fetchall()}
    assert {(t, s) for t, s, _ in log} == {("email", "sent"), ("webhook", "sent")}
    assert "webhook:127.0.0.1" in recipients and not any("secret-token" in r for r in recipients)

    mails, posts = len(inbox.messages), len(hook.received)
    again = notify_flow(db=str(reviewed))
    assert (
        again.sent == 0
        and again.failed == 0
        and again.already_sent
        == summary.sent
        - (
            # the urgent alerts were for contacts now alerted: not composed again
            sum(1 for m in inbox.messages if m["X-Voc-Key"].startswith("alert:urgent"))
            + sum(1 for b in hook.received if b["key"].startswith("alert:urgent"))
        )
    )
    assert len(inbox.messages) == mails and len(hook.received) == posts


def test_unreachable_transports_are_retried_then_recorded_as_failed(reviewed, webhook, monkeypatch):
    url, hook = webhook
    hook.status = 500
    monkeypatch.setenv("VOC_SMTP_URL", f"smtp://voc:s3cret@127.0.0.1:{_free_port()}")
    monkeypatch.setenv("VOC_WEBHOOK_URL", url)
    monkeypatch.setenv("VOC_NOTIFY_ATTEMPTS", "2")
    monkeypatch.setenv("VOC_NOTIFY_TIMEOUT", "2")

    summary = notify_flow(db=str(reviewed), digests=True, emerging=False, urgent_since=None)
    assert summary.sent == 0 and summary.failed > 0  # and the flow itself completed
    with Warehouse(reviewed).read() as con:
        rows = con.execute(
            "SELECT transport, status, attempts, error FROM notifications"
        ).fetchall()
        alerted = con.execute("SELECT count(*) FROM alerted_contacts").fetchall()[0][0]
    assert {(t, s, a) for t, s, a, _ in rows} == {("email", "failed", 2), ("webhook", "failed", 2)}
    errors = {t: e for t, _, _, e in rows}
    assert "ConnectionRefusedError" in errors["email"] and "s3cret" not in errors["email"]
    assert errors["webhook"] == "webhook:127.0.0.1 answered 500"
    assert len(hook.received) == 2 * sum(1 for t, *_ in rows if t == "webhook")
    assert alerted == 0  # a failed alert is composed again next time


def test_each_department_hears_on_its_own_webhook_and_the_team_channel_gets_no_digest(
    reviewed, webhook, tmp_path, monkeypatch
):
    """Departments with a `webhook:` get their digest and urgent alerts there (a URL, or
    ${VARIABLE} for a secret kept out of the file); the team's VOC_WEBHOOK_URL gets counts
    and emerging themes; a department whose variable is unset is named, not posted to."""
    url, hook = webhook
    base = url.rsplit("/", 1)[0]
    departments = tmp_path / "departments.yaml"
    departments.write_text(
        "departments:\n"
        f"  - {{name: Network, description: Outages and speeds., webhook: '{base}/network-token'}}\n"
        "  - {name: Billing, description: Bills and refunds., webhook: '${VOC_TEST_BILLING_HOOK}'}\n"
        "  - {name: Digital, description: The app., webhook: '${VOC_TEST_UNSET_HOOK}'}\n"
        "  - {name: Field Operations, description: Engineer visits.}\n"
        "  - {name: Customer Service, description: Phone lines and chat.}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("VOC_WEBHOOK_URL", f"{base}/team-token")
    monkeypatch.setenv("VOC_TEST_BILLING_HOOK", f"{base}/billing-token")
    monkeypatch.delenv("VOC_TEST_UNSET_HOOK", raising=False)
    monkeypatch.delenv("VOC_SMTP_URL", raising=False)

    summary = notify_flow(db=str(reviewed), departments=str(departments))
    assert summary.failed == 0, summary.failures
    assert summary.transports == ["webhook"]
    assert any("Digital" in p and "VOC_TEST_UNSET_HOOK" in p for p in summary.problems)

    by_path: dict[str, list[dict]] = {}
    for path, body in zip(hook.paths, hook.received, strict=True):
        by_path.setdefault(path.rsplit("/", 1)[1], []).append(body)
    assert set(by_path) == {"team-token", "network-token", "billing-token"}
    network = " ".join(b["subject"] + b["text"] for b in by_path["network-token"])
    billing = " ".join(b["subject"] + b["text"] for b in by_path["billing-token"])
    team = " ".join(b["subject"] + b["text"] for b in by_path["team-token"])
    assert "weekly digest 2026" in network and "— Network:" in network
    assert "relies on a personal alarm" in network and "Ombudsman" not in network
    assert "— Billing:" in billing and "Ombudsman" in billing and "personal alarm" not in billing
    assert "1 urgent contact for Network" in network and "1 urgent contact for Billing" in billing
    assert "weekly digest" not in team and "personal alarm" not in team
    assert "Ombudsman" not in team and "voc weekly overview" in team
    # one digest per department that has a webhook; nothing for the others
    subjects = [b["subject"] for bodies in by_path.values() for b in bodies]
    assert sum("weekly digest" in s for s in subjects) == 2

    with Warehouse(reviewed).read() as con:
        recipients = {r[0] for r in con.execute("SELECT recipient FROM notifications").fetchall()}
    assert recipients == {
        "webhook:127.0.0.1",
        "webhook:127.0.0.1 (Network)",
        "webhook:127.0.0.1 (Billing)",
    }  # no token of any URL is recorded

    posts = len(hook.received)
    again = notify_flow(db=str(reviewed), departments=str(departments))
    assert again.sent == 0 and again.failed == 0 and len(hook.received) == posts


def test_voc_notify_from_the_cli_names_what_it_sent_and_what_it_could_not_use(
    reviewed, webhook, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from flows.cli import app

    url, hook = webhook
    departments = tmp_path / "departments.yaml"
    departments.write_text(
        "- {name: Network, description: Outages and speeds., webhook: '${VOC_TEST_NET_HOOK}'}\n"
        "- {name: Billing, description: Bills and refunds.}\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("VOC_SMTP_URL", raising=False)
    monkeypatch.delenv("VOC_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("VOC_TEST_NET_HOOK", raising=False)
    runner = CliRunner(env={"COLUMNS": "250"})
    args = ["notify", "--departments", str(departments), "--db", str(reviewed)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "Network: its webhook ${VOC_TEST_NET_HOOK} is not set" in out.output
    assert "Nothing sent" in out.output and not hook.received

    monkeypatch.setenv("VOC_TEST_NET_HOOK", url)
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "by webhook" in out.output and "0 failed" in out.output
    subjects = [b["subject"] for b in hook.received]
    assert any("— Network:" in s for s in subjects)
    assert not any("— Billing:" in s for s in subjects)  # Billing has no channel of its own
    assert "secret-token" not in out.output
