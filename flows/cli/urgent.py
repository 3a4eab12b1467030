"""``voc urgent``: contacts that cannot wait for the weekly review (flag, list, ack)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from flows.cli.options import DbOption, actor_name, cli_settings
from flows.cli.terminal import console, err, esc, friendly_errors, usable_warehouse

# --------------------------------------------------------------------------- urgent (#18)
app = typer.Typer(
    help="Urgent contacts: legal threats, regulators, vulnerable customers, safety, repeat "
    "failures and churn risks, flagged with their evidence for same-day handling.",
    no_args_is_help=True,
)


@app.command("flag")
def urgent_flag(db: DbOption = None) -> None:
    """Check contacts not yet checked (and count repeat failures); re-running adds nothing."""
    from flows.urgent import run_urgent

    settings = cli_settings(db)
    usable_warehouse(settings)
    with friendly_errors():
        summary = run_urgent(settings)
    added = ", ".join(f"{k} {n}" for k, n in sorted(summary.by_kind.items())) or "none"
    console.print(
        f"{summary.checked:,} contact(s) checked; new flags: {added}; "
        f"{summary.open_contacts:,} contact(s) waiting for a person",
        highlight=False,
        markup=False,
    )


@app.command("list")
def urgent_list(
    department: Annotated[
        str | None, typer.Option(help="Only contacts routed to this department")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="Only this kind (repeatable), e.g. --kind regulator")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Include contacts already acknowledged")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many contacts")] = 50,
    db: DbOption = None,
) -> None:
    """Flagged contacts waiting for a person, newest first, with the words that flagged them."""
    from models.urgent import load_urgent_cues
    from warehouse import Warehouse, urgent

    settings = cli_settings(db)
    known = load_urgent_cues(settings.urgent_cues).kind_names
    for k in kind or []:
        if k not in known:
            raise typer.BadParameter(f"kinds are: {', '.join(known)}", param_hint="--kind")
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).read() as con,
    ):
        rows = urgent.queue(
            con,
            departments=[department] if department else None,
            kinds=list(kind) if kind else None,
            include_acknowledged=all_,
            limit=max(1, limit),
        )
    table = Table(title=esc(f"Urgent contacts{' — ' + department if department else ''}"))
    for col in ("contact", "received", "channel", "department", "kinds", "evidence", "ack"):
        table.add_column(col, overflow="fold")
    for r in rows.iter_rows(named=True):
        ack = (
            f"{r['acknowledged_by']} {r['acknowledged_at']:%Y-%m-%d %H:%M}"
            if r["acknowledged"]
            else ""
        )
        table.add_row(
            esc(r["feedback_id"]),
            f"{r['received_at']:%Y-%m-%d %H:%M}",
            esc(r["channel"]),
            esc(r["department"] or "triage"),
            esc(r["kinds"]),
            esc(r["evidence"][:300]),
            esc(ack),
        )
    console.print(table)
    if not rows.height:
        console.print("No urgent contacts waiting." if not all_ else "No urgent contacts.")


@app.command("ack")
def urgent_ack(
    feedback_id: Annotated[str, typer.Argument(help="The contact (feedback_id) to acknowledge")],
    kind: Annotated[
        str | None, typer.Option(help="Only this flag of the contact (default: all its flags)")
    ] = None,
    note: Annotated[str | None, typer.Option(help="What was done, for the history")] = None,
    actor: Annotated[str | None, typer.Option(help="Who is acknowledging")] = None,
    db: DbOption = None,
) -> None:
    """Acknowledge an urgent contact: who and when are recorded (contact_flag_events)."""
    from warehouse import Warehouse, edit_rules, urgent
    from warehouse.clock import utc_now

    settings = cli_settings(db)
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            done = urgent.acknowledge(
                con, feedback_id, actor_name(actor), utc_now(), kind=kind, note=note
            )
        except edit_rules.InvalidEdit as exc:
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(1) from None
    if done:
        console.print(f"{feedback_id}: acknowledged {', '.join(done)}", markup=False)
    else:
        console.print(f"{feedback_id}: already acknowledged; nothing changed", markup=False)
