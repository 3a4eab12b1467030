"""What ``voc`` prints: the consoles, user text escaped, a progress bar for the flows, and
problems a person can fix as one red line instead of a traceback."""

from __future__ import annotations

from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err = Console(stderr=True)


def esc(value: object) -> str:
    """User-controlled text (labels, names, notes, file names) printed as typed: Rich would
    read ``[red]`` or ``[link=...]`` in it as markup, and ``[/]`` would crash the print."""
    return escape(str(value))


def usable_warehouse(settings) -> None:
    """Open (and if need be create or upgrade) the warehouse before any flow starts, so a
    bad path, a read-only folder or a full disk is one clear line, not a failed run."""
    from warehouse import Warehouse

    with friendly_errors():
        Warehouse(settings.db, lock_timeout=settings.lock_timeout).ensure_schema()


@contextmanager
def friendly_errors():
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
def progress_bar(enabled: bool):
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
