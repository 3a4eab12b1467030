"""What keeps running or shows the data: ``voc serve`` (the schedule), ``voc dashboard``
and ``voc demo`` (the sample company through the whole pipeline, then the dashboard)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

import flows.process_setup
from flows.cli.options import DbOption, cli_settings
from flows.cli.steps import cost_text, print_ingest_summary, print_weekly_summary
from flows.cli.terminal import console, esc, friendly_errors, progress_bar, usable_warehouse
from flows.cli.users import make_demo_users


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

    settings = cli_settings(db, inbox=inbox, timezone=timezone)
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


def dashboard(
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to bind (0.0.0.0 to share on your network)")
    ] = "127.0.0.1",
    db: DbOption = None,
) -> None:
    """Start the Streamlit dashboard on the warehouse."""
    import dashboard as dashboard_package

    settings = cli_settings(db)
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
    from flows.sample_company import generate_sample

    flows.process_setup.prestart_prefect_server()  # first: its start-up overlaps ours
    settings = cli_settings(db)
    usable_warehouse(settings)
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
    with friendly_errors(), progress_bar(True):
        from flows.ingest import run_ingest

        results = run_ingest([str(inbox)], settings=settings)
    print_ingest_summary(results, title="Sample inbox ingested")
    console.print(
        f"[bold]Finding themes[/bold] with {embedder} (first run embeds every contact; later runs only new ones)…"
    )
    with friendly_errors(), progress_bar(True):
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
    with friendly_errors(), progress_bar(True):
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
    make_demo_users(settings)
    if no_dashboard:
        console.print(f"Done. Start the dashboard with: voc dashboard --db {esc(settings.db)}")
        return
    dashboard(port=port, address="127.0.0.1", db=settings.db)


def _demo_urgent(settings) -> None:
    """Flag the sample's urgent contacts, as the hourly sweep would have (#18)."""
    from flows.urgent import run_urgent

    with friendly_errors():
        summary = run_urgent(settings)
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(summary.by_kind.items())) or "none new"
    console.print(
        f"[bold]Urgent contacts[/bold]: {summary.open_contacts:,} waiting ({esc(kinds)})",
        highlight=False,
    )
