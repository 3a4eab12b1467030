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
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def webhook():
    handler = type("Hook", (Receiver,), {"received": [], "status": 200})
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
            sum(1 for k in by_subject if "urgent contact" in k)
            + sum(1 for b in hook.received if "urgent contact" in b["subject"])
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
