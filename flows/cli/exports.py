"""``voc export``: a table written out as CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.options import DbOption, cli_settings
from flows.cli.terminal import console, esc, friendly_errors

EXPORTS = ("issues", "themes", "weekly", "subthemes", "chargeback", "opportunities", "quarantine")


def export(
    what: Annotated[str, typer.Argument(help=" | ".join(EXPORTS))],
    format_: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file [default: <what>.<format>]")] = None,
    db: DbOption = None,
) -> None:
    """Write a table out for a spreadsheet or another tool."""
    from warehouse import Warehouse, core_tables

    if what not in EXPORTS:
        raise typer.BadParameter(f"choose one of {', '.join(EXPORTS)}")
    if format_ not in ("csv", "parquet"):
        raise typer.BadParameter("choose csv or parquet", param_hint="--format")
    settings = cli_settings(db)
    target = out or Path(f"{what}.{format_}")
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).read() as con,
    ):
        frame = core_tables.export_frame(con, what)
    if format_ == "csv":
        import polars as pl

        # CSV has no lists: keywords and the like become "a; b; c"
        lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
        frame = frame.with_columns(
            pl.col(c).list.eval(pl.element().cast(pl.String)).list.join("; ") for c in lists
        )
        frame.write_csv(target)
    else:
        frame.write_parquet(target)
    console.print(f"{frame.height:,} rows → {esc(target)}")
