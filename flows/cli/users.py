"""``voc users``: the dashboard's users, in the one user store (warehouse/users.py);
nothing here imports Streamlit."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.options import DbOption, cli_settings
from flows.cli.terminal import console, err, esc, friendly_errors


def make_demo_users(settings) -> None:
    """The sample company's sign-ins (``voc demo``, ``voc users demo``), printed once made."""
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


app = typer.Typer(
    help="Dashboard users: passwords are stored as bcrypt hashes only.", no_args_is_help=True
)


@app.command("add")
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

    settings = cli_settings(db)
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("password", hide_input=True, confirmation_prompt=True)
    )
    with friendly_errors():
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


@app.command("passwd")
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

    settings = cli_settings(db)
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    )
    with friendly_errors():
        try:
            set_password(
                Warehouse(settings.db, lock_timeout=settings.lock_timeout), username, password
            )
        except ValueError as exc:
            err.print(f"[red]error:[/red] {esc(exc)}")
            raise typer.Exit(1) from None
    console.print(f"password changed for {username}", markup=False)


@app.command("list")
def users_list(db: DbOption = None) -> None:
    """Who can sign in, with their role and department."""
    from warehouse import Warehouse
    from warehouse.users import list_users

    settings = cli_settings(db)
    with friendly_errors():
        users = list_users(Warehouse(settings.db, lock_timeout=settings.lock_timeout))
    table = Table(title="Dashboard users")
    for col in ("username", "name", "role", "department"):
        table.add_column(col)
    for row in users.iter_rows(named=True):
        table.add_row(
            *(esc(v or "") for v in (row["username"], row["name"], row["role"], row["department"]))
        )
    console.print(table)


@app.command("demo")
def users_demo(db: DbOption = None) -> None:
    """Create the sample company's demo users (admin, analyst, one head per department)."""
    make_demo_users(cli_settings(db))
