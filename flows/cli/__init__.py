"""``voc``: the command line, one module per command group. Heavy imports (Prefect, torch)
happen inside the commands that need them, so ``voc status`` answers at once.

- ``steps``: ingest, topics, weekly, run (the three in one go) and status;
- ``themes``, ``issues``, ``users``, ``urgent``: the command groups of those names;
- ``exports``: export; ``digests``: notify;
- ``services``: serve (the schedule), dashboard, demo;
- ``options``: the options defined once, their checks and the settings they make;
- ``terminal``: what is printed: consoles, progress bar, friendly errors."""

from __future__ import annotations

import os
import sys

import typer

import flows.process_setup
from flows.cli import issues, themes, urgent, users
from flows.cli.digests import notify
from flows.cli.exports import export
from flows.cli.services import dashboard, demo, serve
from flows.cli.steps import ingest, run, status, topics, weekly
from flows.cli.terminal import err, esc

app = typer.Typer(
    name="voc",
    help="Voice of the customer: ingest surveys, complaints, emails and calls into DuckDB, "
    "find the themes, route them to the department that can fix them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# in the order `voc --help` lists them: the commands, then the groups
for command in (ingest, status, topics, weekly, run, export, serve, dashboard, demo, notify):
    app.command()(command)
app.add_typer(themes.app, name="themes")
app.add_typer(issues.app, name="issues")
app.add_typer(users.app, name="users")
app.add_typer(urgent.app, name="urgent")


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
