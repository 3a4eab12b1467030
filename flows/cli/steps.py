"""The pipeline's steps: ``voc ingest``, ``voc topics``, ``voc weekly``, ``voc run`` (the
three in one go, with every option of each) and ``voc status``."""

from __future__ import annotations

import typer
from rich.table import Table

import flows.process_setup
from flows.cli.options import (
    DEFAULT_EMBEDDER,
    DEFAULT_MAX_FIT,
    DEFAULT_SEED,
    ChannelOption,
    DbOption,
    DepartmentsOption,
    EmbedderOption,
    ForceOption,
    MapOption,
    MaxFitOption,
    OnlyNewOption,
    PathsArgument,
    ReceivedAtOption,
    RefitOption,
    SeedOption,
    VerboseOption,
    WeekOption,
    check_embedder,
    cli_settings,
    ingest_arguments,
)
from flows.cli.terminal import console, err, esc, friendly_errors, progress_bar, usable_warehouse
from flows.cli.themes import print_theme_tree


def print_ingest_summary(
    results, title: str = "Ingest summary", *, all_files: bool = False
) -> None:
    """Per file when there are few (or with --verbose); else per channel, plus every
    file that had something quarantined."""
    columns = [
        ("read", "right"),
        ("loaded", "right"),
        ("duplicate", "right"),
        ("quarantined", "right"),
    ]
    totals = [0, 0, 0, 0]
    for r in results:
        for i, v in enumerate((r.rows_read, r.rows_loaded, r.rows_duplicate, r.rows_quarantined)):
            totals[i] += v
    per_file = all_files or len(results) <= 30
    shown = results if per_file else [r for r in results if r.rows_quarantined]
    table = Table(title=title if per_file else f"{title}: files with quarantined records")
    table.add_column("file", overflow="fold", ratio=3)
    table.add_column("channel")
    for name, justify in columns:
        table.add_column(name, justify=justify)
    table.add_column("status")
    for r in shown:
        style = {"ok": "green", "partial": "yellow", "rejected": "red"}.get(r.status, "")
        status_cell = f"[{style}]{r.status}[/{style}]" if style else r.status
        table.add_row(
            esc(r.source_file),
            esc(r.channel or "-"),
            f"{r.rows_read:,}",
            f"{r.rows_loaded:,}",
            f"{r.rows_duplicate:,}",
            f"{r.rows_quarantined:,}",
            status_cell,
        )
    if not per_file:
        by_channel: dict[str, list[int]] = {}
        for r in results:
            row = by_channel.setdefault(r.channel or "(none)", [0, 0, 0, 0, 0])
            for i, v in enumerate(
                (1, r.rows_read, r.rows_loaded, r.rows_duplicate, r.rows_quarantined)
            ):
                row[i] += v
        table.add_section()
        for channel, (files, *nums) in sorted(by_channel.items()):
            table.add_row(f"{files:,} file(s)", channel, *[f"{v:,}" for v in nums], "")
    table.add_section()
    table.add_row(f"{len(results):,} file(s)", "", *[f"{v:,}" for v in totals], "")
    console.print(table)


def ingest(
    paths: PathsArgument,
    channel: ChannelOption = None,
    map_: MapOption = None,
    received_at: ReceivedAtOption = None,
    only_new: OnlyNewOption = False,
    verbose: VerboseOption = False,
    db: DbOption = None,
) -> None:
    """Load files into the warehouse: validated, PII-redacted, de-duplicated."""
    mapping = ingest_arguments(channel, map_, received_at)
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = cli_settings(db)
    usable_warehouse(settings)
    with friendly_errors(), progress_bar(not verbose):
        from flows.intake import readahead

        # before Prefect loads: its imports and server start are seconds of waiting
        readahead.begin(
            [str(p) for p in paths],
            settings,
            channel=channel,
            mapping=mapping,
            received_at=received_at,
            only_new=only_new,
        )
        from flows.ingest import run_ingest

        results = run_ingest(
            [str(p) for p in paths],
            settings=settings,
            channel=channel,
            mapping=mapping,
            received_at=received_at,
            only_new=only_new,
        )
    print_ingest_summary(results, all_files=verbose)
    if verbose:
        for r in results:
            for message in r.messages:
                console.print(f"  [dim]{esc(r.source_file)}: {esc(message)}[/dim]")
    if any(r.status == "rejected" for r in results):
        console.print(
            "[yellow]Some files were quarantined whole; `voc status` lists the reasons.[/yellow]"
        )


def status(db: DbOption = None) -> None:
    """Rows per channel and week, the last runs, and quarantine counts by reason."""
    from warehouse import Warehouse, core_tables

    settings = cli_settings(db)
    if not settings.db.exists():
        err.print(
            f"[yellow]No warehouse at {esc(settings.db)} yet: run `voc ingest PATH` or `voc demo`.[/yellow]"
        )
        raise typer.Exit(1)
    with friendly_errors():
        wh = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
        with wh.read() as con:
            per_week = core_tables.rows_per_channel_week(con)
            runs = core_tables.recent_runs(con, 5)
            reasons = core_tables.quarantine_by_reason(con)
            total = core_tables.feedback_count(con)
            last_topics = core_tables.last_topic_run(con)
            languages = core_tables.contacts_by_language(con)
            others = core_tables.other_language_counts(con, settings.team_language)
    console.print(f"[bold]{esc(settings.db)}[/bold]: {total:,} feedback rows")
    _print_network(settings, last_topics["embedder"] if last_topics else None)
    if languages.height:
        console.print(
            "Contacts by language: "
            + ", ".join(
                f"{esc(row['language'])} {row['contacts']:,} ({row['share_pct']}%)"
                for row in languages.iter_rows(named=True)
            )
        )
    if others.height:
        console.print(_renderings_line(others, settings.team_language))
    if per_week.height:
        console.print(_channel_week_table(per_week))
    if runs.height:
        console.print(_runs_table(runs))
    if reasons.height:
        console.print(_quarantine_table(reasons))


def _renderings_line(others, team: str) -> str:
    """How many contacts in each other language have a rendering in the team's language,
    and which have no offline engine here (models/rendering.py)."""
    from models.rendering import renderable

    engines = renderable(others["language"].to_list(), team)
    done = [
        f"{esc(r['language'])} {r['rendered']:,} of {r['contacts']:,}"
        + (f" ({esc(engines[r['language']].name)})" if r["language"] in engines else "")
        for r in others.iter_rows(named=True)
        if r["rendered"] or r["language"] in engines
    ]
    missing = [
        esc(r["language"]) for r in others.iter_rows(named=True) if r["language"] not in engines
    ]
    line = f"Rendered in '{esc(team)}': " + (", ".join(done) if done else "none")
    if missing:
        line += f"; no offline engine for {', '.join(missing)} (shown as written)"
    return line


def _channel_week_table(per_week) -> Table:
    pivot = (
        per_week.pivot(on="channel", index="week", values="contacts", aggregate_function="sum")
        .sort("week")
        .fill_null(0)
    )
    channels = [c for c in pivot.columns if c != "week"]
    table = Table(title="Contacts per ISO week and channel")
    table.add_column("week")
    for c in channels:
        table.add_column(c, justify="right")
    table.add_column("total", justify="right")
    for row in pivot.iter_rows(named=True):
        table.add_row(
            row["week"],
            *[f"{row[c]:,}" for c in channels],
            f"{sum(row[c] for c in channels):,}",
        )
    return table


def _runs_table(runs) -> Table:
    table = Table(title="Last ingest runs")
    for col in [
        "run_id",
        "started_at",
        "files",
        "rows_read",
        "rows_loaded",
        "rows_duplicate",
        "rows_quarantined",
        "status",
    ]:
        table.add_column(
            col, justify="right" if col.startswith("rows") or col == "files" else "left"
        )
    for row in runs.iter_rows(named=True):
        table.add_row(
            row["run_id"][:8],
            str(row["started_at"])[:19],
            str(row["files"]),
            f"{row['rows_read']:,}",
            f"{row['rows_loaded']:,}",
            f"{row['rows_duplicate']:,}",
            f"{row['rows_quarantined']:,}",
            row["status"],
        )
    return table


def _quarantine_table(reasons) -> Table:
    table = Table(title="Quarantine by reason")
    for col in ["reason_code", "records", "files", "example"]:
        table.add_column(
            col, justify="right" if col in ("records", "files") else "left", overflow="fold"
        )
    for row in reasons.iter_rows(named=True):
        table.add_row(
            esc(row["reason_code"]),
            f"{row['records']:,}",
            str(row["files"]),
            esc((row["example"] or "")[:100]),
        )
    return table


def _print_network(settings, themed_with: str | None) -> None:
    """Which vectors the themes stand on, and which MiniLM network this machine runs."""
    from models.embeddings import MiniLMEmbedder, describe_network

    if themed_with:
        console.print(f"Themes found on [bold]{esc(themed_with)}[/bold] vectors")
    if settings.embed_backend == "torch":
        here = "float MiniLM on torch (VOC_EMBED_BACKEND=torch)"
    else:
        here = describe_network(settings.resolved_model_cache)
    console.print(f"MiniLM on this machine: {esc(here)}")
    if themed_with and themed_with.startswith(MiniLMEmbedder.base_name + "-adapted"):
        from models.embedder_choice import make_embedder

        adapted = make_embedder(
            "minilm-adapted",
            db=settings.db,
            model_cache=settings.resolved_model_cache,
            backend=settings.embed_backend,
        )
        console.print(f"Adapted MiniLM on this machine: {esc(adapted.describe_here())}")


def topics(
    embedder: EmbedderOption = DEFAULT_EMBEDDER,
    max_fit: MaxFitOption = DEFAULT_MAX_FIT,
    seed: SeedOption = DEFAULT_SEED,
    force: ForceOption = False,
    refit: RefitOption = False,
    db: DbOption = None,
) -> None:
    """Embed new feedback (cached) and find themes whose ids stay stable run to run."""
    check_embedder(embedder)
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = cli_settings(db)
    usable_warehouse(settings)
    with friendly_errors(), progress_bar(True):
        from flows.topics import run_topics

        summary = run_topics(
            settings, embedder=embedder, max_fit=max_fit, seed=seed, force=force, refit=refit
        )
    if summary.network:
        console.print(f"[dim]Embeddings: {esc(summary.network)}[/dim]")
    if summary.skipped:
        console.print(
            f"Nothing new since the last run ({summary.items:,} items, {summary.embedded:,} embedded now): themes unchanged."
        )
        return
    console.print(
        f"{summary.items:,} items → {summary.themes} themes ({summary.new_themes} new, {summary.matched_themes} kept their id), "
        f"{summary.unclassified_share:.1%} unclassified; embedded {summary.embedded:,} new item(s) in {summary.seconds:.0f}s"
    )
    for event in summary.events:
        console.print(f"  [dim]{esc(event)}[/dim]")
    print_theme_tree(settings, limit=25)


def weekly(
    week: WeekOption = None,
    departments: DepartmentsOption = None,
    db: DbOption = None,
) -> None:
    """Route themes, find failure demand, cost it, flag emerging themes, open and verify issues."""
    from flows.process_setup import quiet_console

    quiet_console()
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = cli_settings(db, departments=departments)
    usable_warehouse(settings)
    with friendly_errors():
        from flows.weekly import run_weekly

        try:
            summary = run_weekly(settings, week=week)
        except ValueError as exc:
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(2) from None
    print_weekly_summary(summary)


def cost_text(value: float | None, uncosted: int = 0) -> str:
    """A cost as people should read it: unknown when nothing could be costed, and a
    partial total saying how many contacts it leaves out (never an unknown summed as 0)."""
    if value is None:
        return "unknown"
    if uncosted:
        return f"£{value:,.0f} (partial: {uncosted:,} contact(s) without a cost)"
    return f"£{value:,.0f}"


def print_weekly_summary(summary) -> None:
    if summary.week_cost is None or summary.week_uncosted:
        costs = (
            f"estimated handling cost {cost_text(summary.week_cost, summary.week_uncosted)}, "
            f"failure demand {cost_text(summary.failure_cost, summary.failure_uncosted)}"
            + (
                " (the departments file gives no cost per contact for them)"
                if summary.week_cost is None
                else ""
            )
        )
    else:
        costs = f"£{summary.failure_cost:,.0f} of £{summary.week_cost:,.0f} estimated handling cost"
    console.print(
        f"[bold]Weekly review {summary.week}[/bold]: {summary.themes} themes; failure demand {summary.failure_share:.0%} of contacts, "
        + costs
    )
    for line in summary.emerging:
        console.print(f"  [red]emerging[/red] {esc(line)}", highlight=False)
    if summary.triage:
        console.print(
            f"  [yellow]needs triage[/yellow] {esc(', '.join(summary.triage))}", highlight=False
        )
    console.print(
        f"  issues: {summary.issues_opened} opened, {summary.issues_refreshed} refreshed, "
        f"{len(summary.issues_verified)} verified, {len(summary.issues_reopened)} reopened"
    )
    for line in summary.issues_escalated:
        console.print(f"  [red]escalated[/red] {esc(line)}", highlight=False)
    for line in summary.issues_verified:
        console.print(f"  [green]verified[/green] {esc(line)}", highlight=False)
    for line in summary.issues_reopened:
        console.print(f"  [red]reopened[/red] {esc(line)}", highlight=False)
    for line in summary.issues_folded:
        console.print(f"  [magenta]one issue per theme[/magenta] {esc(line)}", highlight=False)
    for line in summary.opportunities:
        console.print(f"  [cyan]opportunity[/cyan] {esc(line)}", highlight=False)


def run(
    paths: PathsArgument,
    channel: ChannelOption = None,
    map_: MapOption = None,
    received_at: ReceivedAtOption = None,
    only_new: OnlyNewOption = False,
    verbose: VerboseOption = False,
    embedder: EmbedderOption = DEFAULT_EMBEDDER,
    max_fit: MaxFitOption = DEFAULT_MAX_FIT,
    seed: SeedOption = DEFAULT_SEED,
    force: ForceOption = False,
    refit: RefitOption = False,
    week: WeekOption = None,
    departments: DepartmentsOption = None,
    db: DbOption = None,
) -> None:
    """Ingest, find themes and review the week, in one go (every option of the three)."""
    mapping = ingest_arguments(channel, map_, received_at)
    check_embedder(embedder)
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = cli_settings(db, departments=departments)
    usable_warehouse(settings)
    with friendly_errors(), progress_bar(not verbose):
        from flows.pipeline import run_pipeline

        try:
            result = run_pipeline(
                [str(p) for p in paths],
                settings=settings,
                channel=channel,
                mapping=mapping,
                received_at=received_at,
                only_new=only_new,
                embedder=embedder,
                max_fit=max_fit,
                seed=seed,
                force=force,
                refit=refit,
                week=week,
            )
        except ValueError as exc:
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(2) from None
    print_ingest_summary(result.ingest, all_files=verbose)
    if verbose:
        for r in result.ingest:
            for message in r.messages:
                console.print(f"  [dim]{esc(r.source_file)}: {esc(message)}[/dim]")
    console.print(
        f"themes: {result.topics.themes} ({result.topics.new_themes} new)"
        if not result.topics.skipped
        else "themes: unchanged"
    )
    print_weekly_summary(result.weekly)
