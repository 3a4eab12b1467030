"""``voc issues``: the issue tracker (list, update, history), through the tracker's one
write path."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from flows.cli.options import DbOption, actor_name, cli_settings
from flows.cli.terminal import console, err, esc, friendly_errors

app = typer.Typer(
    help="The issue tracker: list and update issues (the same write path as the dashboard).",
    no_args_is_help=True,
)


@app.command("list")
def issues_list(
    department: Annotated[str | None, typer.Option(help="Only this department's issues")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="new | acknowledged | in_progress | fixed | verified | reopened | closed"
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Issues, most urgent first."""
    from datetime import date

    from warehouse import Warehouse, tracker

    settings = cli_settings(db)
    if status and status not in tracker.STATUSES:
        raise typer.BadParameter(
            f"status must be one of {', '.join(tracker.STATUSES)}", param_hint="--status"
        )
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).read() as con,
    ):
        issues = tracker.list_issues(con, department=department, status=status)
    table = Table(title=esc(f"Issues{' — ' + department if department else ''}"))
    for col, justify in [
        ("id", "right"),
        ("theme", "left"),
        ("department", "left"),
        ("status", "left"),
        ("prio", "left"),
        ("owner", "left"),
        ("due", "left"),
        ("£/week", "right"),
        ("why", "left"),
    ]:
        table.add_column(col, justify=justify, overflow="fold")
    today = date.today()
    for r in issues.iter_rows(named=True):
        overdue = (
            r["due_date"] is not None
            and r["due_date"] < today
            and r["status"] in tracker.OPEN_STATUSES
        )
        due = f"[red]{r['due_date']} overdue[/red]" if overdue else str(r["due_date"] or "")
        table.add_row(
            str(r["issue_id"]),
            esc(r["theme_label"] or r["title"]),
            esc(r["department"] or "triage"),
            esc(r["status"]),
            esc(r["priority"]),
            esc(r["owner"] or ""),
            due,
            "unknown" if r["weekly_cost"] is None else f"{r['weekly_cost']:,.0f}",
            esc((r["verification"] or r["opened_reason"] or "")[:160]),
        )
    console.print(table)


@app.command("update")
def issues_update(
    issue_id: int,
    status: Annotated[
        str | None,
        typer.Option(help="new | acknowledged | in_progress | fixed | reopened | closed"),
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Who is on it")] = None,
    priority: Annotated[str | None, typer.Option(help="P1 .. P4")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, e.g. 2026-12-01")] = None,
    root_cause: Annotated[
        str | None, typer.Option("--root-cause", help="What caused the contacts")
    ] = None,
    action: Annotated[str | None, typer.Option(help="What is being done")] = None,
    note: Annotated[str | None, typer.Option(help="A note for the issue's history")] = None,
    fixed_on: Annotated[
        str | None,
        typer.Option("--fixed-on", help="When the fix went live, if not now (with --status fixed)"),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who is making the change")] = None,
    db: DbOption = None,
) -> None:
    """Change an issue; every change lands in its history (issue_events)."""
    from datetime import datetime

    from warehouse import Warehouse, edit_rules, tracker
    from warehouse.clock import utc_now

    settings = cli_settings(db)
    try:
        fixed_at = datetime.fromisoformat(fixed_on) if fixed_on else None
    except ValueError as exc:
        raise typer.BadParameter(f"use ISO dates such as 2026-12-01 ({exc})") from None
    if fixed_on and status != "fixed":
        raise typer.BadParameter("--fixed-on goes with --status fixed")
    change = tracker.IssueChange(
        status=status,
        owner=owner,
        priority=priority,
        due_date=due,  # checked by the tracker (edit_rules.due_date)
        root_cause=root_cause,
        action=action,
        note=note,
        fixed_on=fixed_at,
    )
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            row = tracker.update_issue(con, issue_id, change, actor_name(actor), utc_now())
        except edit_rules.InvalidEdit as exc:
            if exc.field == "due_date":  # the date as typed: a usage error
                raise typer.BadParameter(str(exc), param_hint="--due") from None
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(1) from None
    console.print(
        f"issue {issue_id}: {row['status']}, {row['priority']}, owner {row['owner'] or '-'}, due {row['due_date'] or '-'}",
        highlight=False,
        markup=False,
    )


@app.command("history")
def issues_history(issue_id: int, db: DbOption = None) -> None:
    """Every change to an issue: who, when, what."""
    from warehouse import Warehouse, tracker

    settings = cli_settings(db)
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).read() as con,
    ):
        history = tracker.issue_history(con, issue_id)
    for r in history.iter_rows(named=True):
        console.print(
            f"{r['at']:%Y-%m-%d %H:%M}  {r['actor']}: {r['field']} {r['old_value'] or ''} → {r['new_value'] or ''}"
            + (f"  “{r['note']}”" if r["note"] else ""),
            highlight=False,
            markup=False,
        )
