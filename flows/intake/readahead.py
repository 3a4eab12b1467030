"""A file's work, and reading ahead: the first files are read, parsed and prepared while
the command is still loading Prefect and waiting for its server.

Starting a flow costs seconds before its first task runs (Prefect's imports, and on a
first command its temporary server). ``begin`` uses them: one background thread works
through the files in discovery order with the very function the ingest task runs, until
the flow's tasks start (or a byte budget is spent). The task for a file then takes the
result that was read ahead, waits for it if it is under way, or does the work itself. The
task stays the unit of work: it logs, retries on I/O and fails as before; a read-ahead
that failed, or a file that changed since it was read, is simply done again by the task.

Only the thread task runner reads ahead: on Dask the tasks run in other processes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.intake.discover import InboxFile, discover
from flows.intake.prepare import PreparedBatch, prepare
from flows.intake.sources import ParseOptions, parse_source
from flows.intake.sources.base import whole_file_rejected
from warehouse.clock import utc_now

# stop reading ahead once this much input waits to be taken (a 1M-row survey is 150 MB)
BUDGET_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class FileJob:
    """Everything besides the file that its prepared records depend on."""

    options: ParseOptions
    customer_key: bytes
    max_text_chars: int
    default_date: datetime | None = None


@dataclass
class ParsedFile:
    """A file read and prepared, ready to be written (picklable for Dask)."""

    file: InboxFile
    file_sha256: str | None
    size_bytes: int | None
    started_at: datetime
    batch: PreparedBatch


def parse_options(settings, mapping: dict[str, str] | None) -> ParseOptions:
    return ParseOptions(
        mapping=tuple(sorted((mapping or {}).items())),
        date_order=settings.date_order,
        company_email_domains=tuple(settings.company_email_domains),
        source_timezone=settings.source_timezone,
    )


def file_job(settings, mapping: dict[str, str] | None, received_at: str | None) -> FileJob:
    return FileJob(
        parse_options(settings, mapping),
        settings.customer_key(),
        settings.max_text_chars,
        datetime.fromisoformat(received_at) if received_at else None,
    )


def read_and_prepare_file(file: InboxFile, job: FileJob) -> ParsedFile:
    """Read one file, parse it with its channel's parser and prepare its records."""
    started = utc_now()
    if file.problem or file.channel is None:
        parsed = whole_file_rejected(
            file.channel or "unknown",
            file.path.name,
            "unknown_file",
            file.problem or "no channel",
            None,
        )
        batch = prepare(
            parsed, source_file=file.source_file, file_date=started, customer_key=job.customer_key
        )
        size = (
            None
            if file.link_target is not None or not file.path.is_file()
            else file.path.stat().st_size
        )
        return ParsedFile(file, file.fingerprint(), size, started, batch)
    with open(file.path, "rb") as handle:
        data = handle.read()
    file_date = job.default_date or datetime.fromtimestamp(file.path.stat().st_mtime, UTC).replace(
        tzinfo=None
    )
    parsed = parse_source(file.channel, file.path.name, data, job.options)
    batch = prepare(
        parsed,
        source_file=file.source_file,
        file_date=file_date,
        customer_key=job.customer_key,
        max_text_chars=job.max_text_chars,
    )
    return ParsedFile(file, hashlib.sha256(data).hexdigest(), len(data), started, batch)


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a file's content changed without reading it."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class ReadAhead:
    """Files read ahead for one ingest; ``take`` hands each result over once."""

    def __init__(self, files: list[InboxFile], job: FileJob, budget: int = BUDGET_BYTES):
        self.job = job
        self.budget = budget
        self._lock = threading.Lock()
        self._queue = list(files)
        self._work: dict[InboxFile, tuple[Future, tuple | None]] = {}
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="voc-read-ahead", daemon=True)

    def start(self) -> ReadAhead:
        self._thread.start()
        return self

    def _run(self) -> None:
        spent = 0
        while True:
            with self._lock:
                if self._stopped or not self._queue or spent >= self.budget:
                    return
                file = self._queue.pop(0)
                future: Future = Future()
                future.set_running_or_notify_cancel()
                before = _identity(file.path)
                self._work[file] = (future, before)
            spent += before[0] if before else 0
            try:
                future.set_result(read_and_prepare_file(file, self.job))
            except BaseException as exc:  # noqa: BLE001 - the task will do it again and report
                future.set_exception(exc)
            if _identity(file.path) != before:  # changed while read: not to be trusted
                with self._lock:
                    self._work.pop(file, None)

    def take(self, file: InboxFile, job: FileJob) -> ParsedFile | None:
        """The file's result if it was read ahead (waiting if it is under way), else None.
        The first call also ends reading ahead: from then on the tasks do the work."""
        with self._lock:
            self._stopped = True
            entry = self._work.pop(file, None) if job == self.job else None
        if entry is None:
            return None
        future, before = entry
        try:
            result = future.result()
        except BaseException:  # noqa: BLE001 - done again by the task, with its retries
            return None
        return result if before is not None and _identity(file.path) == before else None

    def close(self) -> None:
        with self._lock:
            self._stopped = True
            self._work.clear()
            self._queue.clear()


_current: ReadAhead | None = None
_current_lock = threading.Lock()


def begin(
    paths: list[str],
    settings,
    *,
    channel: str | None = None,
    mapping: dict[str, str] | None = None,
    received_at: str | None = None,
    only_new: bool = False,
) -> None:
    """Start reading ahead for an ingest about to run, where that helps; a read-ahead
    already begun for it (the CLI begins before it loads Prefect) is kept."""
    global _current
    if settings.task_runner != "thread" or only_new:
        return
    with _current_lock:
        if _current is not None:
            return
        _current = ReadAhead(discover(paths, channel), file_job(settings, mapping, received_at))
        _current.start()


def take(file: InboxFile, job: FileJob) -> ParsedFile | None:
    with _current_lock:
        current = _current
    return current.take(file, job) if current is not None else None


def end() -> None:
    """Drop whatever was read ahead and not taken."""
    global _current
    with _current_lock:
        if _current is not None:
            _current.close()
        _current = None
