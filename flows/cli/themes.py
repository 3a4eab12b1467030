"""``voc themes``: the theme map and the analyst's edits of it (rename, merge, move,
split, assign, demand), through the same write functions as the dashboard."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.options import ActorOption, DbOption, actor_name, cli_settings
from flows.cli.terminal import console, err, esc, friendly_errors


def print_theme_tree(settings, limit: int | None = None, include_all: bool = False) -> None:
    """The theme map as a tree: each top-level theme, then its sub-themes indented beneath
    (``limit``: at most that many top-level themes)."""
    from warehouse import Warehouse, theme_edits

    with friendly_errors():
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


app = typer.Typer(
    help="The theme map (top-level themes over sub-themes) and its edits: rename, merge, "
    "move, split (kept across runs).",
    no_args_is_help=False,
)


@app.callback(invoke_without_command=True)
def themes_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include dormant and merged themes")] = False,
    db: DbOption = None,
) -> None:
    """The theme map: top-level themes with their sub-themes indented beneath (volume,
    label, keywords, department, demand; ✎ = label set by an analyst)."""
    if ctx.invoked_subcommand is None:
        print_theme_tree(cli_settings(db), include_all=all_)


@app.command("show")
def themes_show(theme_id: int, db: DbOption = None) -> None:
    """One theme: label, keywords, examples, history; a top-level theme's sub-themes, or
    a sub-theme's parent."""
    from warehouse import Warehouse, core_tables, theme_edits

    settings = cli_settings(db)
    with (
        friendly_errors(),
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


@app.command("rename")
def themes_rename(
    theme_id: int,
    label: str,
    actor: Annotated[str | None, typer.Option(help="Who is making the change")] = None,
    db: DbOption = None,
) -> None:
    """Give a theme a label of your own; later runs keep it."""
    from warehouse import Warehouse, core_tables, edit_rules
    from warehouse.clock import utc_now

    settings = cli_settings(db)
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            label = core_tables.rename_theme(con, theme_id, label, actor_name(actor), utc_now())
        except edit_rules.InvalidEdit as exc:  # the label as typed: a usage error
            raise typer.BadParameter(str(exc)) from None
        except KeyError as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(f"theme {theme_id} is now “{label}”", markup=False)


@app.command("merge")
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

    settings = cli_settings(db)
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            core_tables.merge_themes(con, keep, absorbed, actor_name(actor), utc_now())
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(f"theme {absorbed} merged into {keep}")


@contextmanager
def _theme_edit(db: Path | None):
    """One write transaction for an edit of the theme map; a refused edit is one red line
    (exit 1), a bad label a usage error (exit 2)."""
    from warehouse import Warehouse, edit_rules

    settings = cli_settings(db)
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            yield con
        except edit_rules.InvalidEdit as exc:
            raise typer.BadParameter(str(exc)) from None
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None


@app.command("move")
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
    who, at = actor_name(actor), utc_now()
    with _theme_edit(db) as con:
        if new_group is not None:
            group = theme_edits.create_group(con, new_group, theme_ids, who, at)
            where = f"under the new group {group}"
        else:
            for theme_id in theme_ids:
                theme_edits.move_theme(con, theme_id, to, who, at)
            where = "to the top level" if top else f"under group {to}"
    console.print(f"theme(s) {', '.join(map(str, theme_ids))} moved {where}", markup=False)


@app.command("split")
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

    who, at = actor_name(actor), utc_now()
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


@app.command("assign")
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

    settings = cli_settings(db, departments=departments)
    org = load_departments(settings.departments)
    name = org.canonical_name(department) if hasattr(org, "canonical_name") else department
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            name = core_tables.assign_theme_department(
                con,
                theme_id,
                name or department,
                actor_name(actor),
                utc_now(),
                departments=set(org.names),
            )
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(
        f"theme {theme_id} → {name} (routing will learn from this)",
        highlight=False,
        markup=False,
    )


@app.command("demand")
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

    settings = cli_settings(db)
    with (
        friendly_errors(),
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).write() as con,
    ):
        try:
            core_tables.set_theme_demand(
                con, theme_id, demand_type, actor_name(actor), utc_now(), reason=reason
            )
        except (KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {esc(exc.args[0])}")
            raise typer.Exit(1) from None
    console.print(f"theme {theme_id} is {demand_type} demand", markup=False)
