"""The one door to DuckDB.

DuckDB lets one process hold a database file read-write, and no other process may open
it while it does. The dashboard and the flows are different processes that both write, so
every connection here is short-lived (open, one transaction, close) and a cross-process
readers-writer lock beside the file serialises them:

* writers take ``<db>.lock`` exclusively; readers take it shared, so many readers run at once;
* everyone passes through ``<db>.gate`` first and a waiting writer holds the gate, so a
  stream of dashboard reads cannot starve a flow's write (or a dashboard edit);
* a writer's work is one transaction: killed mid-way, the file is as it was before.

Heavy work (parsing, embedding, fitting) happens before ``write()`` is entered.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import portalocker

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
_LOCK_POLL_SECONDS = 0.02


class WarehouseError(RuntimeError):
    """A problem with the warehouse file that a person must fix (permissions, disk, version)."""


class WarehouseBusy(WarehouseError):
    """Another process held the warehouse for longer than the configured wait."""


def _explain(path: Path, exc: BaseException) -> WarehouseError:
    text = str(exc)
    low = text.lower()
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "no space left" in low:
        return WarehouseError(f"the disk holding {path} is full; free space and run again ({text})")
    if (
        isinstance(exc, PermissionError)
        or "permission denied" in low
        or "read-only file system" in low
        or (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES))
    ):
        return WarehouseError(
            f"cannot write the warehouse at {path}: the file or its folder is read-only "
            f"for this user ({text})"
        )
    if "lock" in low and "conflict" in low or "could not set lock" in low:
        return WarehouseBusy(f"another program holds {path} open ({text})")
    return WarehouseError(f"warehouse {path}: {text}")


class Warehouse:
    """A DuckDB file plus the discipline for sharing it between processes."""

    _migrated: set[Path] = set()
    _migrate_guard = threading.Lock()

    def __init__(self, path: str | Path, *, lock_timeout: float = 120.0) -> None:
        self.path = Path(path).expanduser().resolve()
        self.lock_timeout = lock_timeout
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._gate_path = self.path.with_name(self.path.name + ".gate")

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    # -- locking -----------------------------------------------------------------------
    def _acquire(self, lock_path: Path, flags: portalocker.LockFlags, deadline: float):
        handle = open(lock_path, "a")  # noqa: SIM115 - closed by _release
        while True:
            try:
                portalocker.lock(handle, flags | portalocker.LockFlags.NON_BLOCKING)
                return handle
            except portalocker.exceptions.LockException:
                if time.monotonic() > deadline:
                    handle.close()
                    raise WarehouseBusy(
                        f"waited {self.lock_timeout:.0f}s for {self.path.name}: another voc "
                        "process is still writing; try again when it finishes"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)

    @staticmethod
    def _release(handle) -> None:
        try:
            portalocker.unlock(handle)
        finally:
            handle.close()

    @contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            deadline = time.monotonic() + self.lock_timeout
            gate = self._acquire(self._gate_path, portalocker.LockFlags.EXCLUSIVE, deadline)
            try:
                mode = (
                    portalocker.LockFlags.EXCLUSIVE if exclusive else portalocker.LockFlags.SHARED
                )
                held = self._acquire(self._lock_path, mode, deadline)
            finally:
                self._release(gate)
        except OSError as exc:
            raise _explain(self.path, exc) from exc
        try:
            yield
        finally:
            self._release(held)

    # -- connections ---------------------------------------------------------------------
    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except (duckdb.Error, OSError) as exc:
                error = _explain(self.path, exc)
                # a process outside voc (a DuckDB shell, say) may hold the file: wait for it
                if isinstance(error, WarehouseBusy) and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise error from exc

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One read-write transaction; commits on success, rolls back on any exception."""
        self.ensure_schema()
        with self._locked(exclusive=True):
            con = self._connect(read_only=False)
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                try:
                    con.execute("COMMIT")
                except (duckdb.Error, OSError) as exc:
                    raise _explain(self.path, exc) from exc
            finally:
                con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection that sees only committed transactions."""
        self.ensure_schema()
        with self._locked(exclusive=False):
            con = self._connect(read_only=True)
            try:
                yield con
            finally:
                con.close()

    # -- schema ------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Apply, once per process, every schema file this file has not seen yet."""
        if self.path in Warehouse._migrated:
            return
        with Warehouse._migrate_guard:
            if self.path in Warehouse._migrated:
                return
            self.migrate()
            Warehouse._migrated.add(self.path)

    def migrate(self) -> list[str]:
        """Apply pending ``schema/NNN_*.sql`` files in order, one transaction each."""
        applied: list[str] = []
        with self._locked(exclusive=True):
            con = self._connect(read_only=False)
            try:
                con.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                    " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
                )
                done = {
                    row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()
                }
                for version, name, sql in schema_files():
                    if version in done:
                        continue
                    con.execute("BEGIN TRANSACTION")
                    try:
                        con.execute(sql)
                        con.execute(
                            "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                            [version, name],
                        )
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                    applied.append(name)
            except (duckdb.Error, OSError) as exc:
                raise _explain(self.path, exc) from exc
            finally:
                con.close()
        return applied

    def schema_version(self) -> int:
        with self.read() as con:
            row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
        return int(row[0][0])


def sha256_hex(values: pl.Series, width: int = 32) -> pl.Series:
    """SHA-256 of each string (UTF-8), as the first ``width`` hex digits, computed by
    DuckDB in native code: a Python loop over a million rows costs seconds. Plain SHA-256,
    so the same value can be reproduced with ``hashlib.sha256`` anywhere. An in-memory
    connection; no warehouse file is opened."""
    # Arrow's string views, as polars holds them: the default (large strings) copies every
    # value first, a quarter of the time at a million rows
    frame = values.rename("v").to_frame().to_arrow(compat_level=pl.CompatLevel.newest())  # noqa: F841
    con = duckdb.connect(":memory:")
    try:
        out = con.sql("SELECT left(sha256(v), $w) AS h FROM frame", params={"w": width}).pl()
    finally:
        con.close()
    return out["h"].rename(values.name)


def schema_files(directory: Path = SCHEMA_DIR) -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for each ``NNN_name.sql``, ordered by version."""
    files = []
    for path in sorted(directory.glob("[0-9][0-9][0-9]_*.sql")):
        files.append((int(path.name[:3]), path.stem, path.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in files]
    if len(versions) != len(set(versions)):
        raise WarehouseError(f"two schema files share a version number in {directory}")
    return files
