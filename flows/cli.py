"""``voc``: the command line. Heavy imports (Prefect, torch) happen inside the commands
that need them, so ``voc status`` answers at once."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import flows.process_setup

app = typer.Typer(
    name="voc",
    help="Voice of the customer: ingest surveys, complaints, emails and calls into DuckDB, "
    "find the themes, route them to the department that can fix them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def esc(value: object) -> str:
    """User-controlled text (labels, names, notes, file names) printed as typed: Rich would
    read ``[red]`` or ``[link=...]`` in it as markup, and ``[/]`` would crash the print."""
    return escape(str(value))


DbOption = Annotated[
    Path | None,
    typer.Option("--db", envvar="VOC_DB", help="DuckDB warehouse file [default: data/voc.duckdb]"),
]


# The options of the three steps, defined once: `voc ingest`, `voc topics` and `voc weekly`
# use them, and `voc run` takes every one of them (tests/unit/test_cli_options.py checks
# that no step has an option run lacks).
PathsArgument = Annotated[
    list[Path], typer.Argument(help="Files or folders to ingest (walked recursively)")
]
ChannelOption = Annotated[
    str | None,
    typer.Option(
        "--channel",
        help="survey | complaint | email | call (default: from the folder name or extension)",
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help='Name a column: role=column, e.g. text="Consumer complaint narrative". Roles: text id date score score_kind customer language subject',
    ),
]
ReceivedAtOption = Annotated[
    str | None,
    typer.Option(
        "--received-at",
        help="Date for records whose source has none (default: the file's modification time)",
    ),
]
OnlyNewOption = Annotated[
    bool, typer.Option("--only-new", help="Skip files whose exact content was ingested before")
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Prefect's run log instead of a progress bar, and per-file notes",
    ),
]
DEFAULT_EMBEDDER = "minilm"
DEFAULT_MAX_FIT = 20_000
EmbedderOption = Annotated[
    str,
    typer.Option(
        "--embedder",
        help="minilm (all-MiniLM-L6-v2 from a wheel; int8 where OpenVINO runs, or what this warehouse was themed with), minilm-int8, minilm-fp32, or tfidf (fast, no torch)",
    ),
]
MaxFitOption = Annotated[
    int,
    typer.Option(
        "--max-fit",
        help="Fit on a seeded sample of at most this many items; the rest join the nearest theme",
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force/--no-force", help="Find themes even if nothing is new")
]
RefitOption = Annotated[
    bool,
    typer.Option(
        "--refit/--no-refit",
        help="Cluster everything afresh; the registry keeps the ids it can and records splits and merges",
    ),
]
WeekOption = Annotated[
    str | None,
    typer.Option(
        "--week", help="ISO week to review, e.g. 2026-W47 [default: the latest with data]"
    ),
]
DepartmentsOption = Annotated[
    Path | None,
    typer.Option(
        "--departments",
        help="Departments YAML [default: the shipped one]",
        envvar="VOC_DEPARTMENTS",
    ),
]


def _ingest_arguments(
    channel: str | None, map_: list[str] | None, received_at: str | None
) -> dict[str, str]:
    """Refuse bad ingest options before anything starts; returns the column mapping."""
    from warehouse.contract import CHANNELS

    if channel and channel not in CHANNELS:
        raise typer.BadParameter(
            f"channel must be one of {', '.join(CHANNELS)}", param_hint="--channel"
        )
    mapping = _parse_map(map_ or [])
    if received_at:
        from datetime import datetime

        try:
            datetime.fromisoformat(received_at)
        except ValueError:
            raise typer.BadParameter(
                "use an ISO date such as 2026-11-20", param_hint="--received-at"
            ) from None
    return mapping


def _check_embedder(embedder: str) -> None:
    from models.embeddings import EMBEDDERS

    if embedder not in EMBEDDERS:
        raise typer.BadParameter(f"choose one of {', '.join(EMBEDDERS)}", param_hint="--embedder")


def _settings(db: Path | None, **extra):
    from flows.config import load_settings

    return load_settings(db=db, **extra)


def _usable_warehouse(settings) -> None:
    """Open (and if need be create or upgrade) the warehouse before any flow starts, so a
    bad path, a read-only folder or a full disk is one clear line, not a failed run."""
    from warehouse import Warehouse

    with _friendly_errors():
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).ensure_schema()


@contextmanager
def _friendly_errors():
    """Problems a person can fix are one red line, not a traceback."""
    from warehouse import WarehouseError

    try:
        yield
    except WarehouseError as exc:
        err.print(f"[red]error:[/red] {esc(exc)}")
        raise typer.Exit(2) from None
    except PermissionError as exc:
        err.print(f"[red]error:[/red] permission denied: {esc(exc.filename or exc)}")
        raise typer.Exit(2) from None
    except OSError as exc:
        if exc.errno == 28:
            err.print(f"[red]error:[/red] the disk is full ({esc(exc)})")
            raise typer.Exit(2) from None
        raise


@contextmanager
def _progress_bar(enabled: bool):
    """Draw the flows' progress on the terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows.process_setup import progress, quiet_console

    if not enabled:
        yield
        return
    quiet_console()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, int] = {}
    saved = (progress.start, progress.advance, progress.done)
    progress.start = lambda label, total: tasks.__setitem__(label, bar.add_task(label, total=total))
    progress.advance = lambda label, step=1: (
        bar.advance(tasks[label], step) if label in tasks else None
    )
    progress.done = lambda label: (
        bar.update(tasks[label], completed=bar.tasks[tasks[label]].total)
        if label in tasks
        else None
    )
    with bar:
        try:
            yield
        finally:
            progress.start, progress.advance, progress.done = saved


def _parse_map(pairs: list[str]) -> dict[str, str]:
    from flows.intake.sources.tabular import ROLES

    mapping: dict[str, str] = {}
    for pair in pairs:
        role, sep, column = pair.partition("=")
        # the column is taken as typed: the shell has already removed its quoting, and a
        # header may itself start or end with a quote
        role, column = role.strip().lower(), column.strip()
        if not sep or not role or not column:
            raise typer.BadParameter(
                f'--map takes role=column, e.g. text="Consumer complaint narrative"; got {pair!r}'
            )
        if role not in ROLES:
            raise typer.BadParameter(
                f"--map role {role!r} is unknown; roles are {', '.join(ROLES)}"
            )
        mapping[role] = column
    return mapping


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


@app.command()
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
    mapping = _ingest_arguments(channel, map_, received_at)
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = _settings(db)
    _usable_warehouse(settings)
    with _friendly_errors(), _progress_bar(not verbose):
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


@app.command()
def status(db: DbOption = None) -> None:
    """Rows per channel and week, the last runs, and quarantine counts by reason."""
    from warehouse import Warehouse, core_tables

    settings = _settings(db)
    if not settings.db.exists():
        err.print(
            f"[yellow]No warehouse at {esc(settings.db)} yet: run `voc ingest PATH` or `voc demo`.[/yellow]"
        )
        raise typer.Exit(1)
    with _friendly_errors():
        wh = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
        with wh.read() as con:
            per_week = core_tables.rows_per_channel_week(con)
            runs = core_tables.recent_runs(con, 5)
            reasons = core_tables.quarantine_by_reason(con)
            total = core_tables.feedback_count(con)
            last_topics = core_tables.last_topic_run(con)
            languages = core_tables.contacts_by_language(con)
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
    if per_week.height:
        console.print(_channel_week_table(per_week))
    if runs.height:
        console.print(_runs_table(runs))
    if reasons.height:
        console.print(_quarantine_table(reasons))


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
    from models.embeddings import describe_network

    if themed_with:
        console.print(f"Themes found on [bold]{esc(themed_with)}[/bold] vectors")
    if settings.embed_backend == "torch":
        here = "float MiniLM on torch (VOC_EMBED_BACKEND=torch)"
    else:
        here = describe_network(settings.resolved_model_cache)
    console.print(f"MiniLM on this machine: {esc(here)}")


def _actor(actor: str | None) -> str:
    import getpass

    return actor or f"cli:{getpass.getuser()}"


@app.command()
def topics(
    embedder: EmbedderOption = DEFAULT_EMBEDDER,
    max_fit: MaxFitOption = DEFAULT_MAX_FIT,
    force: ForceOption = False,
    refit: RefitOption = False,
    db: DbOption = None,
) -> None:
    """Embed new feedback (cached) and find themes whose ids stay stable run to run."""
    _check_embedder(embedder)
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = _settings(db)
    _usable_warehouse(settings)
    with _friendly_errors(), _progress_bar(True):
        from flows.topics import run_topics

        summary = run_topics(settings, embedder=embedder, max_fit=max_fit, force=force, refit=refit)
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
    _print_themes(settings, limit=25)


def _print_themes(settings, limit: int | None = None, include_all: bool = False) -> None:
    """The theme map as a tree: each top-level theme, then its sub-themes indented beneath
    (``limit``: at most that many top-level themes)."""
    from warehouse import Warehouse, theme_edits

    with _friendly_errors():
        with Warehouse(settings.db, lock_timeout=settings.lock_timeout).read() as con:
            tree = theme_edits.theme_tree(con, include_all)
    table = Table(title="Themes (top-level themes, sub-themes indented beneath)")
    for col, justify in [
        ("id", "right"),
        ("volume", "right"),
        ("label", "left"),
        ("keywords", "left"),
        ("department", "left"),
        ("demand", "left"),
        ("status", "left"),
    ]:
        table.add_column(col, justify=justify, overflow="fold")
    tops = tree.filter(tree["depth"] == 0)["theme_id"].to_list()
    shown = set(tops[:limit] if limit else tops)
    for r in tree.iter_rows(named=True):
        if r["top_id"] not in shown:
            continue
        label = r["label"] + (" ✎" if r["label_source"] == "analyst" else "")
        if r["depth"]:
            label = "  └ " + label
        elif r["kind"] == "group":
            n = r["sub_themes"]
            label = f"{label} ({n} sub-theme{'' if n == 1 else 's'})"
        status = r["status"] + (f" → {r['merged_into']}" if r["merged_into"] is not None else "")
        table.add_row(
            str(r["theme_id"]),
            f"{r['volume']:,}",
            esc(label),
            esc(", ".join((r["keywords"] or [])[:6])),
            esc(r["department"] or ""),
            esc(r["demand_type"] or ""),
            esc(status),
            style="dim" if r["depth"] else None,
        )
    console.print(table)
    if limit and len(tops) > limit:
        console.print(f"[dim]… {len(tops) - limit} more top-level themes: `voc themes`[/dim]")


themes_app = typer.Typer(
    help="The theme map (top-level themes over sub-themes) and its edits: rename, merge, "
    "move, split (kept across runs).",
    no_args_is_help=False,
)
app.add_typer(themes_app, name="themes")


@themes_app.callback(invoke_without_command=True)
def themes_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include dormant and merged themes")] = False,
    db: DbOption = None,
) -> None:
    """The theme map: top-level themes with their sub-themes indented beneath (volume,
    label, keywords, department, demand; ✎ = label set by an analyst)."""
    if ctx.invoked_subcommand is None:
        _print_themes(_settings(db), include_all=all_)


@themes_app.command("show")
def themes_show(theme_id: int, db: DbOption = None) -> None:
    """One theme: label, keywords, examples, history; a top-level theme's sub-themes, or
    a sub-theme's parent."""
    from warehouse import Warehouse, core_tables, theme_edits

    settings = _settings(db)
    with (
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).read() as con,
    ):
        theme = theme_edits.theme_level(con, theme_id)
        if theme is None:
            err.print(f"[red]error:[/red] no theme {theme_id}")
            raise typer.Exit(1)
        parent = theme_edits.theme_parent(con, theme_id)
        members = theme_edits.group_members(con, theme_id) if theme["kind"] == "group" else None
        examples = core_tables.theme_example_texts(con, theme_id)
        if members is not None and not examples:
            for member in members.filter(members["status"] == "active")["theme_id"][:5]:
                examples += core_tables.theme_example_texts(con, int(member))[:1]
        history = core_tables.theme_history(con, theme_id)
    level = "top-level group" if theme["kind"] == "group" else "sub-theme" if parent else "theme"
    size = int(members["size"].sum()) if members is not None else theme["size"]
    console.print(
        f"[bold]{theme_id}: {esc(theme['label'])}[/bold] ({level}, {size:,} items, {esc(theme['status'])})"
    )
    if theme["keywords"]:
        console.print(f"  keywords: {esc(', '.join(theme['keywords'][:8]))}")
    if parent:
        console.print(f"  under {parent['theme_id']}: {esc(parent['label'])}")
    if members is not None:
        console.print(f"  {members.height} sub-theme(s):")
        for m in members.iter_rows(named=True):
            state = "" if m["status"] == "active" else f" ({esc(m['status'])})"
            console.print(f"    {m['theme_id']:>5}  {m['size']:>7,}  {esc(m['label'])}{state}")
    for text in examples:
        console.print(f"  • {text[:300]}", markup=False)
    for row in history.iter_rows(named=True):
        console.print(
            f"  [dim]{row['at']:%Y-%m-%d %H:%M} {esc(row['actor'])}: {esc(row['field'])} {esc(repr(row['old_value']))} → {esc(repr(row['new_value']))}[/dim]"
        )


@themes_app.command("rename")
def themes_rename(
    theme_id: int,
    label: str,
    actor: Annotated[str | None, typer.Option(help="Who is making the change")] = None,
    db: DbOption = None,
) -> None:
    """Give a theme a label of your own; later runs keep it."""
    from warehouse import Warehouse, core_tables, edit_rules
    from warehouse.clock import utc_now

    settings = _settings(db)
    with (
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            label = core_tables.rename_theme(con, theme_id, label, _actor(actor), utc_now())
        except edit_rules.InvalidEdit as exc:  # the label as typed: a usage error
            raise typer.BadParameter(str(exc)) from None
        except KeyError as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(f"theme {theme_id} is now “{label}”", markup=False)


@themes_app.command("merge")
def themes_merge(
    keep: int,
    absorbed: int,
    actor: Annotated[str | None, typer.Option(help="Who is making the change")] = None,
    db: DbOption = None,
) -> None:
    """Merge theme ABSORBED into theme KEEP, at either level: two fine themes (the
    contacts move) or two top-level groups (the sub-themes move); later runs keep it."""
    from warehouse import Warehouse, core_tables
    from warehouse.clock import utc_now

    settings = _settings(db)
    with (
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            core_tables.merge_themes(con, keep, absorbed, _actor(actor), utc_now())
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(f"theme {absorbed} merged into {keep}")


ActorOption = Annotated[str | None, typer.Option(help="Who is making the change")]


@contextmanager
def _theme_edit(db: Path | None):
    """One write transaction for an edit of the theme map; a refused edit is one red line
    (exit 1), a bad label a usage error (exit 2)."""
    from warehouse import Warehouse, edit_rules

    settings = _settings(db)
    with (
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            yield con
        except edit_rules.InvalidEdit as exc:
            raise typer.BadParameter(str(exc)) from None
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None


@themes_app.command("move")
def themes_move(
    theme_ids: Annotated[list[int], typer.Argument(help="Fine theme(s) to move")],
    to: Annotated[
        int | None, typer.Option("--to", help="The top-level group to put them under")
    ] = None,
    top: Annotated[
        bool, typer.Option("--top", help="Out to the top level, each on its own")
    ] = False,
    new_group: Annotated[
        str | None, typer.Option("--new-group", help="Under a new top-level group with this name")
    ] = None,
    actor: ActorOption = None,
    db: DbOption = None,
) -> None:
    """Move sub-themes under another top-level group (--to), out to the top level
    (--top) or under a new group you name (--new-group); later runs keep it."""
    from warehouse import theme_edits
    from warehouse.clock import utc_now

    if sum([to is not None, top, new_group is not None]) != 1:
        raise typer.BadParameter("say where to: one of --to GROUP, --top or --new-group NAME")
    who, at = _actor(actor), utc_now()
    with _theme_edit(db) as con:
        if new_group is not None:
            group = theme_edits.create_group(con, new_group, theme_ids, who, at)
            where = f"under the new group {group}"
        else:
            for theme_id in theme_ids:
                theme_edits.move_theme(con, theme_id, to, who, at)
            where = "to the top level" if top else f"under group {to}"
    console.print(f"theme(s) {', '.join(map(str, theme_ids))} moved {where}", markup=False)


@themes_app.command("split")
def themes_split(
    theme_id: int,
    keyword: Annotated[
        str | None,
        typer.Option(help="A fine theme: the contacts that say this word (or phrase) go apart"),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            help="A fine theme: two labels, one per part (the keyword's side first); "
            "a group: the new group's label (required)"
        ),
    ] = None,
    going: Annotated[
        list[int] | None,
        typer.Option(help="A group: a sub-theme that goes to the new group (repeat)"),
    ] = None,
    actor: ActorOption = None,
    db: DbOption = None,
) -> None:
    """Split a theme in two. A fine theme: its contacts are divided by meaning (k-means,
    k=2, on their vectors) or by --keyword into two new fine themes. A group: the
    sub-themes named with --going (else those k-means on their centres sets apart) move
    under a new group called --label. Later runs keep the split."""
    from warehouse import theme_edits
    from warehouse.clock import utc_now

    who, at = _actor(actor), utc_now()
    with _theme_edit(db) as con:
        theme = theme_edits.theme_level(con, theme_id)
        if theme is not None and theme["kind"] == "group":
            if keyword:
                raise typer.BadParameter(
                    "a group is split by its sub-themes (--going), not a keyword"
                )
            if not label or len(label) != 1:
                raise typer.BadParameter("name the new group: --label NAME")
            result = theme_edits.split_group(con, theme_id, label[0], who, at, going=going)
            console.print(
                f"group {theme_id} split ({result.by}): {result.sizes[0]:,} contacts stay, "
                f"{result.sizes[1]:,} now under the new group {result.part_ids[1]}",
                markup=False,
            )
            return
        if going:
            raise typer.BadParameter(
                f"--going names a group's sub-themes; theme {theme_id} is not a group"
            )
        result = theme_edits.split_theme(con, theme_id, who, at, keyword=keyword, labels=label)
    a, b = result.part_ids
    console.print(
        f"theme {theme_id} split by {result.by}: {a} ({result.sizes[0]:,} contacts) and "
        f"{b} ({result.sizes[1]:,})"
        + (f"; {theme_id} is now the group over them" if result.kept_id else ""),
        markup=False,
    )


@app.command()
def weekly(
    week: WeekOption = None,
    departments: DepartmentsOption = None,
    db: DbOption = None,
) -> None:
    """Route themes, find failure demand, cost it, flag emerging themes, open and verify issues."""
    from flows.process_setup import quiet_console

    quiet_console()
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = _settings(db, departments=departments)
    _usable_warehouse(settings)
    with _friendly_errors():
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
    for line in summary.issues_verified:
        console.print(f"  [green]verified[/green] {esc(line)}", highlight=False)
    for line in summary.issues_reopened:
        console.print(f"  [red]reopened[/red] {esc(line)}", highlight=False)
    for line in summary.issues_folded:
        console.print(f"  [magenta]one issue per theme[/magenta] {esc(line)}", highlight=False)
    for line in summary.opportunities:
        console.print(f"  [cyan]opportunity[/cyan] {esc(line)}", highlight=False)


@app.command()
def run(
    paths: PathsArgument,
    channel: ChannelOption = None,
    map_: MapOption = None,
    received_at: ReceivedAtOption = None,
    only_new: OnlyNewOption = False,
    verbose: VerboseOption = False,
    embedder: EmbedderOption = DEFAULT_EMBEDDER,
    max_fit: MaxFitOption = DEFAULT_MAX_FIT,
    force: ForceOption = False,
    refit: RefitOption = False,
    week: WeekOption = None,
    departments: DepartmentsOption = None,
    db: DbOption = None,
) -> None:
    """Ingest, find themes and review the week, in one go (every option of the three)."""
    mapping = _ingest_arguments(channel, map_, received_at)
    _check_embedder(embedder)
    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = _settings(db, departments=departments)
    _usable_warehouse(settings)
    with _friendly_errors(), _progress_bar(not verbose):
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


@themes_app.command("assign")
def themes_assign(
    theme_id: int,
    department: str,
    actor: Annotated[str | None, typer.Option(help="Who is making the change")] = None,
    departments: Annotated[
        Path | None, typer.Option(help="Departments YAML", envvar="VOC_DEPARTMENTS")
    ] = None,
    db: DbOption = None,
) -> None:
    """Route a theme to a department; kept across runs and used to teach routing."""
    from models.departments import load_departments
    from warehouse import Warehouse, core_tables
    from warehouse.clock import utc_now

    settings = _settings(db, departments=departments)
    book = load_departments(settings.departments)
    name = book.canonical_name(department) if hasattr(book, "canonical_name") else department
    with (
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            name = core_tables.assign_theme_department(
                con,
                theme_id,
                name or department,
                _actor(actor),
                utc_now(),
                departments=set(book.names),
            )
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(
        f"theme {theme_id} → {name} (routing will learn from this)",
        highlight=False,
        markup=False,
    )


@themes_app.command("demand")
def themes_demand(
    theme_id: int,
    demand_type: Annotated[str, typer.Argument(help="failure or value")],
    reason: Annotated[str | None, typer.Option(help="Why")] = None,
    actor: Annotated[str | None, typer.Option(help="Who is making the change")] = None,
    db: DbOption = None,
) -> None:
    """Override whether a theme is failure or value demand; later runs keep it."""
    from warehouse import Warehouse, core_tables
    from warehouse.clock import utc_now

    settings = _settings(db)
    with (
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            core_tables.set_theme_demand(
                con, theme_id, demand_type, _actor(actor), utc_now(), reason=reason
            )
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(f"theme {theme_id} is {demand_type} demand", markup=False)


issues_app = typer.Typer(
    help="The issue tracker: list and update issues (the same write path as the dashboard).",
    no_args_is_help=True,
)
app.add_typer(issues_app, name="issues")


@issues_app.command("list")
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

    settings = _settings(db)
    if status and status not in tracker.STATUSES:
        raise typer.BadParameter(
            f"status must be one of {', '.join(tracker.STATUSES)}", param_hint="--status"
        )
    with (
        _friendly_errors(),
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


@issues_app.command("update")
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

    settings = _settings(db)
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
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            row = tracker.update_issue(con, issue_id, change, _actor(actor), utc_now())
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


@issues_app.command("history")
def issues_history(issue_id: int, db: DbOption = None) -> None:
    """Every change to an issue: who, when, what."""
    from warehouse import Warehouse, tracker

    settings = _settings(db)
    with (
        _friendly_errors(),
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


EXPORTS = ("issues", "themes", "weekly", "subthemes", "chargeback", "opportunities", "quarantine")


@app.command()
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
    settings = _settings(db)
    target = out or Path(f"{what}.{format_}")
    with (
        _friendly_errors(),
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


@app.command()
def serve(
    inbox: Annotated[
        Path | None,
        typer.Option(help="Folder swept for new files [default: VOC_INBOX or data/inbox]"),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Time zone of the schedules [default: VOC_TIMEZONE or UTC]")
    ] = None,
    port: Annotated[
        int, typer.Option(help="Port of the Prefect server started when PREFECT_API_URL is not set")
    ] = 4200,
    sweep_cron: Annotated[str, typer.Option(help="When the inbox is swept")] = "0 * * * *",
    weekly_cron: Annotated[str, typer.Option(help="When the weekly review runs")] = "0 6 * * 1",
    embedder: Annotated[
        str, typer.Option(help="minilm, minilm-int8, minilm-fp32 or tfidf")
    ] = "minilm",
    db: DbOption = None,
) -> None:
    """Run on a schedule: an hourly inbox sweep and the weekly review every Monday 06:00."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    settings = _settings(db, inbox=inbox, timezone=timezone)
    try:
        ZoneInfo(settings.timezone)
    except ZoneInfoNotFoundError:
        raise typer.BadParameter(
            f"unknown time zone {settings.timezone!r} (use e.g. Europe/London)",
            param_hint="--timezone",
        ) from None
    from flows.serve import serve_forever, start_server, stop_server

    server = None
    api = settings.prefect_api_url
    if not api:
        console.print(f"Starting a Prefect server on port {port} …")
        server, api = start_server(port)
        os.environ["PREFECT_API_URL"] = api  # the served flows, their runs and processes
    console.print(
        f"Prefect UI: {api.removesuffix('/api')}  (deployments voc-inbox-sweep/inbox-sweep and voc-weekly-schedule/weekly-review)"
    )
    console.print(
        f"Sweeping {esc(settings.inbox.resolve())} on '{sweep_cron}', reviewing on '{weekly_cron}' ({settings.timezone}); Ctrl+C stops."
    )
    try:
        serve_forever(
            str(settings.inbox.resolve()),
            str(settings.db.resolve()),
            str(settings.departments.resolve()),
            timezone=settings.timezone,
            sweep_cron=sweep_cron,
            weekly_cron=weekly_cron,
            embedder=embedder,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            stop_server(server)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to bind (0.0.0.0 to share on your network)")
    ] = "127.0.0.1",
    db: DbOption = None,
) -> None:
    """Start the Streamlit dashboard on the warehouse."""
    import dashboard as dashboard_package

    settings = _settings(db)
    app_path = Path(dashboard_package.__file__).resolve().parent / "app.py"
    # the pipeline's temporary Prefect server (voc demo) would outlive the exec below, and
    # the dashboard must not be pointed at it
    flows.process_setup.stop_temporary_prefect_server()
    env = {**os.environ, "VOC_DB": str(settings.db.resolve())}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    console.print(
        f"Dashboard on http://{address}:{port} (warehouse {esc(settings.db)}); Ctrl+C stops it."
    )
    sys.stdout.flush()
    # become Streamlit: Ctrl+C and SIGTERM reach it directly and nothing is left running
    os.execvpe(command[0], command, env)


@app.command()
def demo(
    no_dashboard: Annotated[
        bool,
        typer.Option("--no-dashboard", help="Stop after the pipeline; do not start the dashboard"),
    ] = False,
    inbox: Annotated[Path, typer.Option(help="Where the sample inbox is written")] = Path(
        "data/demo/inbox"
    ),
    embedder: Annotated[
        str, typer.Option(help="minilm (default) or tfidf (faster, no torch)")
    ] = "minilm",
    port: Annotated[int, typer.Option(help="Dashboard port")] = 8501,
    db: DbOption = None,
) -> None:
    """Make the sample company's inbox, run the whole pipeline on it, open the dashboard."""
    from flows.sample import generate_sample

    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = _settings(db)
    _usable_warehouse(settings)
    # the sample company's exports are in UK local time and its replies come from its own domain
    if "source_timezone" not in settings.model_fields_set:  # not set in the environment
        settings = settings.model_copy(update={"source_timezone": "Europe/London"})
    if "company_email_domains" not in settings.model_fields_set:
        settings = settings.model_copy(
            update={"company_email_domains": ["lumen-broadband.example"]}
        )
    console.print(
        f"[bold]Writing the sample inbox[/bold] to {esc(inbox)} (8 weeks of Lumen Broadband contacts)…"
    )
    manifest = generate_sample(inbox)
    console.print(
        f"  {len(manifest.contacts):,} contacts in {sum(1 for p in inbox.rglob('*') if p.is_file())} files"
    )
    with _friendly_errors(), _progress_bar(True):
        from flows.ingest import run_ingest

        results = run_ingest([str(inbox)], settings=settings)
    print_ingest_summary(results, title="Sample inbox ingested")
    console.print(
        f"[bold]Finding themes[/bold] with {embedder} (first run embeds every contact; later runs only new ones)…"
    )
    with _friendly_errors(), _progress_bar(True):
        from flows.topics import run_topics

        summary = run_topics(settings, embedder=embedder)
    if summary.network:
        console.print(f"  [dim]Embeddings: {esc(summary.network)}[/dim]")
    if not summary.skipped:
        console.print(
            f"  {summary.items:,} contacts → {summary.themes} themes, {summary.unclassified_share:.1%} unclassified"
        )
    console.print(
        "[bold]Replaying the weekly reviews[/bold] W40–W47, with the tracker updates Lumen's people made…"
    )
    with _friendly_errors(), _progress_bar(True):
        from flows.pipeline import run_demo_replay
        from flows.process_setup import quiet_console

        quiet_console()
        reviews = run_demo_replay(settings, manifest)
    for review in reviews:
        emerging = (
            f"; emerging: {esc('; '.join(e.split(':')[0] for e in review.emerging))}"
            if review.emerging
            else ""
        )
        verified = f"; verified: {len(review.issues_verified)}" if review.issues_verified else ""
        console.print(
            f"  {review.week}: failure demand {review.failure_share:.0%}, {cost_text(review.week_cost, review.week_uncosted)}, {review.issues_opened} issue(s) opened{emerging}{verified}",
            highlight=False,
        )
    print_weekly_summary(reviews[-1])
    _demo_urgent(settings)
    _ensure_demo_users(settings)
    if no_dashboard:
        console.print(f"Done. Start the dashboard with: voc dashboard --db {esc(settings.db)}")
        return
    dashboard(port=port, address="127.0.0.1", db=settings.db)


def _demo_urgent(settings) -> None:
    """Flag the sample's urgent contacts, as the hourly sweep would have (#18)."""
    from flows.urgent import run_urgent

    with _friendly_errors():
        summary = run_urgent(settings)
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(summary.by_kind.items())) or "none new"
    console.print(
        f"[bold]Urgent contacts[/bold]: {summary.open_contacts:,} waiting ({esc(kinds)})",
        highlight=False,
    )


def _ensure_demo_users(settings) -> None:
    try:
        from warehouse.users import DEMO_PASSWORD, ensure_demo_users
    except ImportError:  # bcrypt missing: the dashboard is optional for the pipeline
        return
    from warehouse import Warehouse

    users = ensure_demo_users(Warehouse(settings.db, lock_timeout=settings.lock_timeout))
    if users:
        console.print(
            f"Demo sign-ins (password [bold]{DEMO_PASSWORD}[/bold]): " + ", ".join(users),
            highlight=False,
        )


users_app = typer.Typer(
    help="Dashboard users: passwords are stored as bcrypt hashes only.", no_args_is_help=True
)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="admin | analyst | head")],
    department: Annotated[
        str | None, typer.Option(help="For a head: the department they own")
    ] = None,
    name: Annotated[str, typer.Option(help="Shown in the dashboard")] = "",
    email: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a user; asks for the password (never pass it on the command line)."""
    from warehouse import Warehouse
    from warehouse.users import create_user

    settings = _settings(db)
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("password", hide_input=True, confirmation_prompt=True)
    )
    with _friendly_errors():
        try:
            create_user(
                Warehouse(settings.db, lock_timeout=settings.lock_timeout),
                username,
                name or username,
                role,
                password,
                department=department,
                email=email,
            )
        except ValueError as exc:
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(1) from None
    console.print(
        f"added {username} ({role}{', ' + department if department else ''})", markup=False
    )


@users_app.command("passwd")
def users_passwd(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    db: DbOption = None,
) -> None:
    """Set a user's password."""
    from warehouse import Warehouse
    from warehouse.users import set_password

    settings = _settings(db)
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    )
    with _friendly_errors():
        try:
            set_password(
                Warehouse(settings.db, lock_timeout=settings.lock_timeout), username, password
            )
        except ValueError as exc:
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(1) from None
    console.print(f"password changed for {username}", markup=False)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Who can sign in, with their role and department."""
    from warehouse import Warehouse
    from warehouse.users import list_users

    settings = _settings(db)
    with _friendly_errors():
        users = list_users(Warehouse(settings.db, lock_timeout=settings.lock_timeout))
    table = Table(title="Dashboard users")
    for col in ("username", "name", "role", "department"):
        table.add_column(col)
    for row in users.iter_rows(named=True):
        table.add_row(
            *(esc(v or "") for v in (row["username"], row["name"], row["role"], row["department"]))
        )
    console.print(table)


@users_app.command("demo")
def users_demo(db: DbOption = None) -> None:
    """Create the sample company's demo users (admin, analyst, one head per department)."""
    _ensure_demo_users(_settings(db))


# --------------------------------------------------------------------------- urgent (#18)
urgent_app = typer.Typer(
    help="Urgent contacts: legal threats, regulators, vulnerable customers, safety, repeat "
    "failures and churn risks, flagged with their evidence for same-day handling.",
    no_args_is_help=True,
)
app.add_typer(urgent_app, name="urgent")


@urgent_app.command("flag")
def urgent_flag(db: DbOption = None) -> None:
    """Check contacts not yet checked (and count repeat failures); re-running adds nothing."""
    from flows.urgent import run_urgent

    settings = _settings(db)
    _usable_warehouse(settings)
    with _friendly_errors():
        summary = run_urgent(settings)
    added = ", ".join(f"{k} {n}" for k, n in sorted(summary.by_kind.items())) or "none"
    console.print(
        f"{summary.checked:,} contact(s) checked; new flags: {added}; "
        f"{summary.open_contacts:,} contact(s) waiting for a person",
        highlight=False,
        markup=False,
    )


@urgent_app.command("list")
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
    from models.urgent import load_cue_book
    from warehouse import Warehouse, urgent

    settings = _settings(db)
    known = load_cue_book(settings.urgent_cues).kind_names
    for k in kind or []:
        if k not in known:
            raise typer.BadParameter(f"kinds are: {', '.join(known)}", param_hint="--kind")
    with (
        _friendly_errors(),
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


@urgent_app.command("ack")
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

    settings = _settings(db)
    with (
        _friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            done = urgent.acknowledge(
                con, feedback_id, _actor(actor), utc_now(), kind=kind, note=note
            )
        except edit_rules.InvalidEdit as exc:
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(1) from None
    if done:
        console.print(f"{feedback_id}: acknowledged {', '.join(done)}", markup=False)
    else:
        console.print(f"{feedback_id}: already acknowledged; nothing changed", markup=False)


@app.command()
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

    settings = _settings(db, departments=departments)
    _usable_warehouse(settings)
    if week:
        from models.review import parse_week

        try:
            parse_week(week, None)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--week") from None
    with _friendly_errors():
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


def main() -> None:
    """The ``voc`` command. It ends without the interpreter's teardown: once Prefect is
    loaded, freeing every module's objects takes 0.3-0.7 s after the work is done, and
    after a failed flow it prints nanobind's leak report for the DuckDB objects Prefect's
    state still holds. Exit hooks (Prefect's log drain, stopping the temporary server,
    logging) still run."""
    flows.process_setup.quiet_environment()  # before any library that reads it loads
    try:
        app()
        code = 0
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        code = 130
    except SystemExit as exc:
        if isinstance(exc.code, str):
            err.print(esc(exc.code))
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    _exit(code)


def _exit(code: int) -> None:
    import atexit

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()  # noqa: SLF001 - what a normal exit runs first, then no teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
