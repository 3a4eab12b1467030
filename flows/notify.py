"""`voc notify`: weekly digests for department heads, and alerts (a theme turns emerging,
urgent contacts arrive), by e-mail (SMTP with STARTTLS and auth) and a JSON webhook.

1. read what each message needs (one short read);
2. compose the messages (``models.notify``, pure);
3. for every (message, transport, recipient) not sent yet: send, trying up to
   ``notify_attempts`` times, and record it as sent or failed with the reason. A failure
   never fails the flow; a failed message is tried again by the next run, a sent one is
   never sent again.

The settings (``VOC_SMTP_URL``, ``VOC_SMTP_FROM``, ``VOC_SMTP_CA_FILE``,
``VOC_WEBHOOK_URL``) come from ``flows.config.Settings``, the departments' own webhooks
from the departments file (``webhook:``); with no transport set the flow composes nothing
and says so.

Who gets what (nothing of a department's reaches another department or the team's
channel): a department's digest and urgent alerts → its head(s) by e-mail and its own
webhook; emerging themes → the insight team's e-mail, the team's webhook, and the theme's
department; urgent contacts nobody owns yet → the insight team and the team's webhook; the
team's webhook also gets a weekly overview and a notice when urgent contacts arrive, both
counts only.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import flow

from flows.config import Settings, environment_value, load_settings
from flows.process_setup import prefect_server_ready, run_logger
from models.departments import DepartmentsFileError, load_departments
from models.notify import (
    Digest,
    Message,
    SmtpTarget,
    digest_message,
    emerging_alert,
    parse_smtp_url,
    team_overview_message,
    urgent_alert,
    urgent_notice,
    webhook_label,
)
from warehouse import Warehouse
from warehouse import notify as store
from warehouse.clock import utc_now

if TYPE_CHECKING:
    import duckdb
    import polars as pl


class DeliveryError(RuntimeError):
    """A message could not be delivered; the message says why (never a password)."""


@dataclass
class NotifySummary:
    week: str
    composed: int = 0
    sent: int = 0
    already_sent: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    failed_keys: set[str] = field(default_factory=set)
    transports: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # configuration that could not be used


# ------------------------------------------------------------------------- transports
def send_email(
    target: SmtpTarget,
    sender: str,
    to: str,
    message: Message,
    *,
    timeout: float,
    ca_file: Path | None = None,
) -> None:
    """One message with a plain-text and an HTML part. STARTTLS when the server offers it
    (or demanded); credentials only ever go over TLS unless ``starttls=off`` says the
    relay is local."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="voc.local")
    mail["X-Voc-Key"] = message.key
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    try:
        with smtplib.SMTP(target.host, target.port, timeout=timeout) as smtp:
            smtp.ehlo()
            secure = False
            if target.starttls != "off":
                if smtp.has_extn("starttls"):
                    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
                    smtp.starttls(context=context)
                    smtp.ehlo()
                    secure = True
                elif target.starttls == "required":
                    raise DeliveryError(f"{target.host} does not offer STARTTLS")
            if target.username:
                if not secure and target.starttls != "off":
                    raise DeliveryError(
                        f"{target.host} offers no STARTTLS: refusing to send the password in "
                        "clear (add ?starttls=off for a trusted local relay)"
                    )
                smtp.login(target.username, target.password or "")
            smtp.send_message(mail)
    except DeliveryError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{target.host} refused the login ({exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"{target.host}:{target.port}: {type(exc).__name__}: {exc}") from None


def post_webhook(url: str, message: Message, *, timeout: float) -> None:
    body = json.dumps(message.webhook_payload()).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the configured URL
            if response.status >= 300:
                raise DeliveryError(f"{webhook_label(url)} answered {response.status}")
    except DeliveryError:
        raise
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{webhook_label(url)} answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{webhook_label(url)}: {reason}") from None


# --------------------------------------------------------------------------- compose
def week_bounds(week: str) -> tuple[date, date]:
    year, number = week.upper().split("-W")
    start = date.fromisocalendar(int(year), int(number), 1)
    return start, start + timedelta(days=7)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Outgoing:
    """One message and who gets it: e-mail addresses, and webhooks as (label, URL)."""

    message: Message
    emails: list[str] = field(default_factory=list)
    webhooks: list[tuple[str, str]] = field(default_factory=list)
    covers: list[str] = field(default_factory=list)  # urgent contacts it alerts about


@dataclass(frozen=True)
class Webhooks:
    """The team's webhook (VOC_WEBHOOK_URL) and each department's own (its ``webhook:`` in
    the departments file), as (label for the record, URL)."""

    team: tuple[str, str] | None = None
    departments: dict[str, tuple[str, str]] = field(default_factory=dict)

    def of(self, department: str | None) -> list[tuple[str, str]]:
        hook = self.departments.get(department) if department else None
        return [hook] if hook else []

    def team_and(self, department: str | None) -> list[tuple[str, str]]:
        hooks = ([self.team] if self.team else []) + self.of(department)
        return list({url: (label, url) for label, url in hooks}.values())  # one post per URL


def webhooks_of(settings: Settings, departments: Path | None, problems: list[str]) -> Webhooks:
    """The team's webhook and the departments' own. A department whose ``${VARIABLE}`` is
    not set gets no webhook message (and the run says so); its head's e-mail still goes."""
    team_url = settings.webhook_url.get_secret_value() if settings.webhook_url else None
    team = (webhook_label(team_url), team_url) if team_url else None
    own: dict[str, tuple[str, str]] = {}
    path = departments or settings.departments
    try:
        org = load_departments(path)
    except DepartmentsFileError as exc:
        problems.append(f"departments file: {exc}; no department webhooks this run")
        return Webhooks(team, own)
    for department in org:
        if not department.webhook:
            continue
        variable = department.webhook_variable
        url = environment_value(variable) if variable else department.webhook
        if not url:
            problems.append(
                f"{department.name}: its webhook ${{{variable}}} is not set; only its head's "
                "e-mail gets its messages"
            )
            continue
        own[department.name] = (webhook_label(url, department.name), url)
    return Webhooks(team, own)


def _digests(
    con: duckdb.DuckDBPyConnection,
    week: str,
    start: date,
    end: date,
    today: date,
    heads: dict[str, list[str]],
    hooks: Webhooks,
) -> list[Outgoing]:
    """Each department's weekly digest to its head(s) and webhook, then the team's overview
    (counts only) when the team has a webhook."""
    out: list[Outgoing] = []
    overview = []
    for department, head in store.departments(con).items():
        rows = store.issues(con, department, start, end, today)
        urgent = store.urgent_of_week(con, department, start, end)
        digest = Digest(
            department=department,
            head=head,
            week=week,
            week_start=start,
            open_issues=rows.filter(rows["is_open"]).to_dicts(),
            overdue=rows.filter(rows["is_overdue"].fill_null(False)).to_dicts(),
            opened=rows.filter(rows["opened_this_week"].fill_null(False)).to_dicts(),
            verified=rows.filter(rows["verified_this_week"].fill_null(False)).to_dicts(),
            urgent=urgent.to_dicts(),
        )
        out.append(
            Outgoing(digest_message(digest), heads.get(department, []), hooks.of(department))
        )
        overview.append(
            {
                "department": department,
                "urgent": len(digest.urgent),
                "overdue": len(digest.overdue),
                "opened": len(digest.opened),
                "verified": len(digest.verified),
                "open": len(digest.open_issues),
            }
        )
    if hooks.team:
        out.append(Outgoing(team_overview_message(week, start, overview), [], [hooks.team]))
    return out


def _urgent_alerts(
    new: pl.DataFrame, heads: dict[str, list[str]], team: list[str], hooks: Webhooks
) -> list[Outgoing]:
    """An alert per department for its new urgent contacts (the unowned ones to the team,
    to triage), and the team's notice that owned ones came in (no content)."""
    out: list[Outgoing] = []
    owned = new.filter(new["department"].is_not_null())
    for department in dict.fromkeys(new["department"].to_list()):
        part = new.filter(
            new["department"].is_null() if department is None else new["department"] == department
        ).to_dicts()
        ids = [c["feedback_id"] for c in part]
        message = urgent_alert(department, part, utc_now())
        if department is None:  # nobody owns them yet: the team triages them
            out.append(Outgoing(message, team, [hooks.team] if hooks.team else [], ids))
        else:
            out.append(Outgoing(message, heads.get(department, []), hooks.of(department), ids))
    if hooks.team and owned.height:
        notice = urgent_notice(owned.to_dicts())
        out.append(Outgoing(notice, [], [hooks.team], owned["feedback_id"].to_list()))
    return out


def compose(
    warehouse: Warehouse,
    week: str,
    *,
    digests: bool,
    emerging: bool,
    since: datetime | None,
    hooks: Webhooks = Webhooks(),
) -> list[Outgoing]:
    """Every message of the run and who gets it. A department's digest and its urgent
    alerts go to its head(s) and its own webhook; the team's webhook gets only what holds no
    department's content (see ``models.notify``)."""
    start, end = week_bounds(week)
    today = utc_now().date()
    out: list[Outgoing] = []
    with warehouse.read() as con:
        heads = store.recipients(con)
        team = store.insight_team(con)
        if digests:
            out += _digests(con, week, start, end, today, heads, hooks)
        if emerging:
            for theme in store.emerging(con, start).to_dicts():
                message = emerging_alert(week, theme)
                out.append(
                    Outgoing(
                        message,
                        sorted(set(team) | set(heads.get(theme["department"], []))),
                        hooks.team_and(theme["department"]),
                    )
                )
        if since is not None:
            out += _urgent_alerts(store.new_urgent(con, since), heads, team, hooks)
    return out


# ------------------------------------------------------------------------------ send
def deliver(
    warehouse: Warehouse,
    settings: Settings,
    messages: list[Outgoing],
    summary: NotifySummary,
    *,
    sleep=time.sleep,
) -> None:
    smtp = parse_smtp_url(settings.smtp_url.get_secret_value()) if settings.smtp_url else None
    attempts = max(1, settings.notify_attempts)
    for item in messages:
        message = item.message
        jobs: list[tuple[str, str, str | None]] = []  # (transport, recipient, webhook URL)
        if smtp is not None:
            jobs += [("email", address, None) for address in item.emails]
        jobs += [("webhook", label, url) for label, url in item.webhooks]
        for transport, recipient, url in jobs:
            with warehouse.read() as con:
                if store.status(con, message.key, transport, recipient) == "sent":
                    summary.already_sent += 1
                    continue
            error = None
            tries = 0
            for tries in range(1, attempts + 1):
                try:
                    if transport == "email":
                        assert smtp is not None
                        send_email(
                            smtp,
                            settings.smtp_from,
                            recipient,
                            message,
                            timeout=settings.notify_timeout,
                            ca_file=settings.smtp_ca_file,
                        )
                    else:
                        assert url is not None
                        post_webhook(url, message, timeout=settings.notify_timeout)
                    error = None
                    break
                except DeliveryError as exc:
                    error = str(exc)
                    if tries < attempts:
                        sleep(min(0.5 * tries, 5.0))
            with warehouse.write() as con:
                store.record(
                    con,
                    message_key=message.key,
                    kind=message.kind,
                    department=message.department,
                    transport=transport,
                    recipient=recipient,
                    subject=message.subject,
                    status="failed" if error else "sent",
                    attempts=tries,
                    error=error,
                    at=utc_now(),
                )
            if error:
                summary.failed += 1
                summary.failures.append(f"{message.key} → {recipient}: {error}")
                summary.failed_keys.add(message.key)
            else:
                summary.sent += 1


@flow(name="voc-notify", log_prints=False, validate_parameters=False)
def notify_flow(
    db: str,
    week: str | None = None,
    digests: bool = True,
    emerging: bool = True,
    urgent_since: str | None = None,
    departments: str | None = None,
) -> NotifySummary:
    """Digests and emerging-theme alerts of ``week`` (default: the last reviewed week),
    and alerts for urgent contacts flagged since ``urgent_since`` (ISO; default: a day ago).
    ``departments`` is the departments file the departments' own webhooks are read from
    (default: VOC_DEPARTMENTS)."""
    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    if week is None:
        with warehouse.read() as con:
            latest = store.latest_week(con)
        week = iso_week(latest) if latest else iso_week(utc_now().date() - timedelta(days=7))
    summary = NotifySummary(week=week)
    hooks = webhooks_of(settings, Path(departments) if departments else None, summary.problems)
    summary.transports = [
        name
        for name, on in (
            ("email", settings.smtp_url is not None),
            ("webhook", hooks.team is not None or bool(hooks.departments)),
        )
        if on
    ]
    for problem in summary.problems:
        logger.warning("notify: %s", problem)
    if not summary.transports:
        logger.info(
            "notify: no VOC_SMTP_URL, VOC_WEBHOOK_URL or department webhook set; nothing to send"
        )
        return summary
    since = datetime.fromisoformat(urgent_since) if urgent_since else utc_now() - timedelta(days=1)
    messages = compose(
        warehouse, week, digests=digests, emerging=emerging, since=since, hooks=hooks
    )
    summary.composed = len(messages)
    deliver(warehouse, settings, messages, summary)
    # a contact is alerted once every message about it went; after a failure the alerts
    # are composed again, and the ones that did go are not sent twice (same keys)
    blocked = {
        fid for item in messages if item.message.key in summary.failed_keys for fid in item.covers
    }
    alerted = [item for item in messages if item.covers]
    if alerted:
        with warehouse.write() as con:
            for item in alerted:
                ids = [fid for fid in item.covers if fid not in blocked]
                if ids:
                    store.mark_alerted(con, ids, item.message.key, utc_now())
    logger.info(
        "notify %s: %d message(s), %d sent, %d already sent, %d failed",
        week,
        summary.composed,
        summary.sent,
        summary.already_sent,
        summary.failed,
    )
    for failure in summary.failures:
        logger.warning("notify: %s", failure)
    return summary


def run_notify(settings: Settings, *, week: str | None = None) -> NotifySummary:
    prefect_server_ready()
    return notify_flow(db=str(settings.db), week=week, departments=str(settings.departments))


__all__ = [
    "NotifySummary",
    "Outgoing",
    "Webhooks",
    "compose",
    "notify_flow",
    "post_webhook",
    "run_notify",
    "send_email",
]
