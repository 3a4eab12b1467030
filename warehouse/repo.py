"""Typed functions over the named queries. Callers pass a connection from
``Warehouse.write()`` or ``Warehouse.read()``; every value is a bound parameter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from warehouse.sql import q


@dataclass(frozen=True)
class FileRun:
    """What one ingest run did with one source file."""

    run_id: str
    source_file: str
    file_sha256: str | None
    channel: str | None
    size_bytes: int | None
    started_at: datetime
    status: str = "ok"
    message: str | None = None


@dataclass(frozen=True)
class LoadCounts:
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int

    def __post_init__(self) -> None:
        if self.rows_read != self.rows_loaded + self.rows_duplicate + self.rows_quarantined:
            raise AssertionError(f"accounting identity broken: {self}")


def fetch_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None
) -> pl.DataFrame:
    return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()


def quarantine_ids(file_sha256: str | None, frame: pl.DataFrame) -> pl.Series:
    """Stable per (file content, record, reason): re-running a bad file adds nothing."""
    base = hashlib.blake2b(digest_size=16, person=b"voc-quarantine")
    out = []
    for ref, code, reason in zip(
        frame["source_ref"].to_list(),
        frame["reason_code"].to_list(),
        frame["reason"].to_list(),
        strict=True,
    ):
        h = base.copy()
        h.update(f"{file_sha256 or ''}\x1f{ref}\x1f{code}\x1f{reason}".encode())
        out.append(h.hexdigest())
    return pl.Series("quarantine_id", out, pl.String)


def record_file(
    con: duckdb.DuckDBPyConnection,
    run: FileRun,
    *,
    feedback: pl.DataFrame,
    quarantine: pl.DataFrame,
    notes: pl.DataFrame,
    rows_read: int,
    duplicates_in_file: int,
    finished_at: datetime,
) -> LoadCounts:
    """Write one file's outcome: new feedback, notes, quarantine, the run row and the
    file's fingerprint. Must run inside one transaction (``Warehouse.write()``)."""
    con.register("staged_feedback", feedback)
    try:
        inserted = con.execute(
            q("insert_new_feedback"), {"run_id": run.run_id, "ingested_at": finished_at}
        ).fetchall()[0][0]
    finally:
        con.unregister("staged_feedback")
    loaded = int(inserted)

    if notes.height:
        loaded_ids = feedback["feedback_id"]
        staged_notes = notes.filter(pl.col("feedback_id").is_in(loaded_ids.implode()))
        con.register("staged_notes", staged_notes)
        try:
            con.execute(
                q("insert_ingest_notes"),
                {"run_id": run.run_id, "source_file": run.source_file, "noted_at": finished_at},
            )
        finally:
            con.unregister("staged_notes")

    if quarantine.height:
        staged_quarantine = quarantine.with_columns(quarantine_ids(run.file_sha256, quarantine))
        con.register("staged_quarantine", staged_quarantine)
        try:
            con.execute(
                q("insert_quarantine"),
                {
                    "run_id": run.run_id,
                    "source_file": run.source_file,
                    "quarantined_at": finished_at,
                },
            )
        finally:
            con.unregister("staged_quarantine")

    counts = LoadCounts(
        rows_read=rows_read,
        rows_loaded=loaded,
        rows_duplicate=duplicates_in_file + (feedback.height - loaded),
        rows_quarantined=quarantine.height,
    )
    status = run.status
    if (
        status == "ok"
        and counts.rows_quarantined
        and not counts.rows_loaded
        and not counts.rows_duplicate
    ):
        status = "rejected"
    elif status == "ok" and counts.rows_quarantined:
        status = "partial"
    con.execute(
        q("insert_ingest_run"),
        {
            "run_id": run.run_id,
            "source_file": run.source_file,
            "file_sha256": run.file_sha256,
            "channel": run.channel,
            "rows_read": counts.rows_read,
            "rows_loaded": counts.rows_loaded,
            "rows_duplicate": counts.rows_duplicate,
            "rows_quarantined": counts.rows_quarantined,
            "started_at": run.started_at,
            "finished_at": finished_at,
            "status": status,
            "message": run.message,
        },
    )
    if run.file_sha256:
        con.execute(
            q("remember_source_file"),
            {
                "file_sha256": run.file_sha256,
                "path": run.source_file,
                "channel": run.channel,
                "size_bytes": run.size_bytes,
                "run_id": run.run_id,
                "seen_at": finished_at,
            },
        )
    return counts


def known_file_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(q("known_file_hashes")).fetchall()}


def rows_per_channel_week(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, q("rows_per_channel_week"))


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> pl.DataFrame:
    return fetch_frame(con, q("recent_runs"), {"limit": limit})


def quarantine_by_reason(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, q("quarantine_by_reason"))


def feedback_count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(q("feedback_count")).fetchall()[0][0])
