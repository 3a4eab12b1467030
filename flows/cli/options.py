"""The options every ``voc`` command shares, defined once (``voc run`` takes every option
of its three steps), their checks, and the settings they make."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
DEFAULT_SEED = 42
EmbedderOption = Annotated[
    str,
    typer.Option(
        "--embedder",
        help="minilm (all-MiniLM-L6-v2 from a wheel; int8 where OpenVINO runs, or what this warehouse was themed with), minilm-int8, minilm-fp32, minilm-adapted (MiniLM fitted once to this warehouse's texts by a stronger teacher: sharper themes; needs `bash scripts/setup.sh --teacher`), or tfidf (fast, no torch)",
    ),
]
MaxFitOption = Annotated[
    int,
    typer.Option(
        "--max-fit",
        help="Fit on a seeded sample of at most this many items; the rest join the nearest theme",
    ),
]
SeedOption = Annotated[
    int,
    typer.Option(
        "--seed",
        help="Seed of the fitting sample and the clustering; the same seed on the same items gives the same themes",
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


ActorOption = Annotated[str | None, typer.Option(help="Who is making the change")]


def ingest_arguments(
    channel: str | None, map_: list[str] | None, received_at: str | None
) -> dict[str, str]:
    """Refuse bad ingest options before anything starts; returns the column mapping."""
    from warehouse.contract import CHANNELS

    if channel and channel not in CHANNELS:
        raise typer.BadParameter(
            f"channel must be one of {', '.join(CHANNELS)}", param_hint="--channel"
        )
    mapping = parse_map(map_ or [])
    if received_at:
        from datetime import datetime

        try:
            datetime.fromisoformat(received_at)
        except ValueError:
            raise typer.BadParameter(
                "use an ISO date such as 2026-11-20", param_hint="--received-at"
            ) from None
    return mapping


def check_embedder(embedder: str) -> None:
    from models.embeddings import EMBEDDERS

    if embedder not in EMBEDDERS:
        raise typer.BadParameter(f"choose one of {', '.join(EMBEDDERS)}", param_hint="--embedder")


def cli_settings(db: Path | None, **extra):
    from flows.config import load_settings

    return load_settings(db=db, **extra)


def parse_map(pairs: list[str]) -> dict[str, str]:
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


def actor_name(actor: str | None) -> str:
    import getpass

    return actor or f"cli:{getpass.getuser()}"
