"""The ingest flow: files in an inbox → validated, redacted, de-duplicated feedback.

Each file is a task (read with retries, parse, prepare): these run in parallel on the
configured task runner, a thread pool or a Dask cluster (on threads, the first files are
read ahead while Prefect starts: flows/intake/readahead.py). The results come back to the
flow, which writes them to DuckDB from this one process in short transactions, several
files at a time: a file's feedback, quarantine rows and its ``ingest_runs`` row always
land together or not at all.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.config import Settings, load_settings
from flows.intake import readahead
from flows.intake.discover import InboxFile, discover
from flows.intake.prepare import prepare
from flows.intake.readahead import FileJob, ParsedFile, file_job, read_and_prepare_file
from flows.intake.sources.base import whole_file_rejected
from flows.process_setup import (
    crash_point,
    make_task_runner,
    prefect_server_ready,
    progress,
    run_logger,
)
from warehouse import Warehouse, core_tables
from warehouse.clock import utc_now

# a write transaction takes this many rows at most, so readers never wait long
_WRITE_BATCH_ROWS = 200_000
_WRITE_BATCH_FILES = 200
# ... and at least this often, so a long batch keeps what it finished if it is stopped
_WRITE_EVERY_SECONDS = 3.0


@dataclass
class FileResult:
    """One file's line in the summary."""

    source_file: str
    channel: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    status: str = "ok"
    messages: list[str] = field(default_factory=list)


def _is_io_error(task, task_run, state) -> bool:
    """Retry only what a retry can fix: the file system, not a broken file."""
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=_is_io_error,
    cache_policy=NO_CACHE,
    task_run_name="read {file.source_file}",
)
def read_and_prepare(file: InboxFile, job: FileJob) -> ParsedFile:
    """Read one file, parse it with its channel's parser and prepare its records (or take
    what was read ahead while Prefect started)."""
    ahead = readahead.take(file, job)
    if ahead is not None:
        run_logger().debug("%s: read ahead", file.source_file)
        return ahead
    return read_and_prepare_file(file, job)


def write_parsed(
    warehouse: Warehouse, run_id: str, parsed_files: list[ParsedFile]
) -> list[FileResult]:
    """Write several prepared files in one transaction; each keeps its own accounting."""
    results: list[FileResult] = []
    with warehouse.write() as con:
        for item in parsed_files:
            batch = item.batch
            run = core_tables.FileRun(
                run_id=run_id,
                source_file=item.file.source_file,
                file_sha256=item.file_sha256,
                channel=item.file.channel,
                size_bytes=item.size_bytes,
                started_at=item.started_at,
                message="; ".join(batch.messages)[:2000] or None,
            )
            counts = core_tables.record_file(
                con,
                run,
                feedback=batch.feedback,
                quarantine=batch.quarantine,
                notes=batch.notes,
                rows_read=batch.rows_read,
                duplicates_in_file=batch.duplicates_in_file,
                finished_at=utc_now(),
                links=batch.links,
            )
            crash_point("ingest.writing")  # a file recorded, its transaction not committed
            status = (
                "ok"
                if not counts.rows_quarantined
                else (
                    "rejected" if not (counts.rows_loaded or counts.rows_duplicate) else "partial"
                )
            )
            results.append(
                FileResult(
                    item.file.source_file,
                    item.file.channel,
                    counts.rows_read,
                    counts.rows_loaded,
                    counts.rows_duplicate,
                    counts.rows_quarantined,
                    status,
                    batch.messages,
                )
            )
    return results


def _failed_file(file: InboxFile, error: BaseException) -> ParsedFile:
    """A task that failed for good (the file vanished, permissions): quarantine the file."""
    started = utc_now()
    parsed = whole_file_rejected(
        file.channel or "unknown",
        file.path.name,
        "unreadable_file",
        f"{file.source_file} could not be read: {type(error).__name__}: {error}",
    )
    batch = prepare(
        parsed, source_file=file.source_file, file_date=started, customer_key=b"\0" * 32
    )
    return ParsedFile(file, None, None, started, batch)


@flow(name="voc-ingest", log_prints=False, validate_parameters=False)
def ingest_flow(
    paths: list[str],
    channel: str | None = None,
    mapping: dict[str, str] | None = None,
    db: str | None = None,
    received_at: str | None = None,
    only_new: bool = False,
) -> list[FileResult]:
    """Ingest files and folders into the warehouse; returns one result per file."""
    logger = run_logger()
    settings = load_settings(db=Path(db) if db else None)
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    warehouse.ensure_schema()
    run_id = str(uuid.uuid4())
    files = discover(paths, channel)
    if only_new:
        files = _skip_known(warehouse, files)
    logger.info("ingest run %s: %d file(s) into %s", run_id, len(files), settings.db)
    job = file_job(settings, mapping, received_at)

    progress.start("files", len(files))
    futures = {read_and_prepare.submit(f, job): f for f in files}
    results: list[FileResult] = []
    pending: list[ParsedFile] = []
    pending_rows = 0
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal pending, pending_rows, last_flush
        last_flush = time.monotonic()
        if not pending:
            return
        written = write_parsed(warehouse, run_id, pending)
        crash_point("ingest.batch-written")
        for result in written:
            results.append(result)
            logger.info(
                "%s [%s]: read %d, loaded %d, duplicate %d, quarantined %d",
                result.source_file,
                result.channel or "?",
                result.rows_read,
                result.rows_loaded,
                result.rows_duplicate,
                result.rows_quarantined,
            )
            progress.advance("files", 1)
        pending, pending_rows = [], 0

    # Files are written in discovery (path) order, whatever order their tasks finish in:
    # when two exports overlap, the same file is credited with the shared records on every
    # runner (threads, Dask) and every re-run.
    for future, file in futures.items():
        try:
            parsed = future.result()
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            logger.warning("%s: %s", file.source_file, exc)
            parsed = _failed_file(file, exc)
        pending.append(parsed)
        pending_rows += parsed.batch.rows_read
        if (
            pending_rows >= _WRITE_BATCH_ROWS
            or len(pending) >= _WRITE_BATCH_FILES
            or time.monotonic() - last_flush >= _WRITE_EVERY_SECONDS
        ):
            flush()
    flush()
    progress.done("files")
    return results


def _skip_known(warehouse: Warehouse, files: list[InboxFile]) -> list[InboxFile]:
    """For the inbox sweep: leave out files whose exact content was ingested before."""
    with warehouse.read() as con:
        known = core_tables.known_file_hashes(con)
    fresh = []
    for f in files:
        digest = f.fingerprint()
        if digest is not None and digest in known:
            continue
        fresh.append(f)
    return fresh


def run_ingest(
    paths: list[str],
    *,
    settings: Settings | None = None,
    channel: str | None = None,
    mapping: dict[str, str] | None = None,
    received_at: str | None = None,
    only_new: bool = False,
) -> list[FileResult]:
    """Run the flow on the task runner the settings choose."""
    settings = settings or load_settings()
    runner = make_task_runner(settings.task_runner, settings.max_workers, settings.dask_address)
    paths = [str(p) for p in paths]
    readahead.begin(
        paths,
        settings,
        channel=channel,
        mapping=mapping,
        received_at=received_at,
        only_new=only_new,
    )
    try:
        prefect_server_ready()
        return ingest_flow.with_options(task_runner=runner)(
            paths=paths,
            channel=channel,
            mapping=mapping,
            db=str(settings.db),
            received_at=received_at,
            only_new=only_new,
        )
    finally:
        readahead.end()
