"""``voc notify``: the weekly digests and alerts, by e-mail and webhook."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.options import DbOption, DepartmentsOption, cli_settings
from flows.cli.terminal import console, err, esc, friendly_errors, usable_warehouse


def notify(
    week: Annotated[
        str | None,
        typer.Option(help="ISO week of the digests, e.g. 2026-W47 (default: the last reviewed)"),
    ] = None,
    departments: DepartmentsOption = None,
    db: DbOption = None,
) -> None:
    """Send each department head their weekly digest, and alerts (emerging themes, urgent
    contacts), by e-mail (VOC_SMTP_URL), to each department's own webhook (`webhook:` in
    the departments file) and to the team's webhook (VOC_WEBHOOK_URL: counts and emerging
    themes only, never a department's digest). Every message is recorded: a re-run sends
    nothing twice; one that failed is tried again."""
    from flows.notify import run_notify

    settings = cli_settings(db, departments=departments)
    usable_warehouse(settings)
    if week:
        from models.review import parse_week

        try:
            parse_week(week, None)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--week") from None
    with friendly_errors():
        summary = run_notify(settings, week=week)
    for problem in summary.problems:
        err.print(f"[yellow]warning:[/yellow] {esc(problem)}")
    if not summary.transports:
        console.print(
            "Nothing sent: set VOC_SMTP_URL (smtp://user:password@host:port), "
            "VOC_WEBHOOK_URL and/or a department's `webhook:` in the departments file.",
            markup=False,
        )
        return
    console.print(
        f"{summary.week}: {summary.composed} message(s) by {', '.join(summary.transports)}; "
        f"{summary.sent} sent, {summary.already_sent} already sent, {summary.failed} failed",
        markup=False,
        highlight=False,
    )
    for failure in summary.failures:
        err.print(f"[yellow]not delivered:[/yellow] {esc(failure)}")
