"""Typed reads and writes of the core tables (ingest runs and quarantine, feedback,
embeddings, themes and their events, routes, exports) over the named queries; the weekly
review's own tables are ``review_tables``, issues ``tracker``. Callers pass a connection from
``Warehouse.write()`` or ``Warehouse.read()``; every value is a bound parameter.

The analyst's edits (rename, merge, assign, demand, route an item) are written here and
only here: the CLI and the dashboard both call these functions, which check the values
(``edit_rules``) and record each change in ``theme_events``."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np
import polars as pl

from warehouse import edit_rules
from warehouse.sql import named_query


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
    links: pl.DataFrame | None = None,
) -> LoadCounts:
    """Write one file's outcome: new feedback, notes, quarantine, customer identity links
    (``ref_a, ref_b``), the run row and the file's fingerprint. Must run inside one
    transaction (``Warehouse.write()``)."""
    inserted = _with_staged(
        con,
        "staged_feedback",
        feedback,
        "insert_new_feedback",
        {"run_id": run.run_id, "ingested_at": finished_at},
    )[0][0]
    loaded = int(inserted)

    if notes.height:
        loaded_ids = feedback["feedback_id"]
        _with_staged(
            con,
            "staged_notes",
            notes.filter(pl.col("feedback_id").is_in(loaded_ids.implode())),
            "insert_ingest_notes",
            {"run_id": run.run_id, "source_file": run.source_file, "noted_at": finished_at},
        )

    if links is not None and links.height:
        _with_staged(
            con,
            "staged_links",
            links.select("ref_a", "ref_b"),
            "insert_customer_links",
            {"seen_at": finished_at, "run_id": run.run_id},
        )

    if quarantine.height:
        _with_staged(
            con,
            "staged_quarantine",
            quarantine.with_columns(quarantine_ids(run.file_sha256, quarantine)),
            "insert_quarantine",
            {"run_id": run.run_id, "source_file": run.source_file, "quarantined_at": finished_at},
        )

    counts = LoadCounts(
        rows_read=rows_read,
        rows_loaded=loaded,
        rows_duplicate=duplicates_in_file + (feedback.height - loaded),
        rows_quarantined=quarantine.height,
    )
    _record_run(con, run, counts, finished_at)
    return counts


def _with_staged(
    con: duckdb.DuckDBPyConnection, view: str, frame: pl.DataFrame, query: str, params: dict
) -> list[tuple]:
    """Run the named ``query`` with ``frame`` registered as ``view``; its result rows."""
    con.register(view, frame)
    try:
        return con.execute(named_query(query), params).fetchall()
    finally:
        con.unregister(view)


def _run_status(status: str, counts: LoadCounts) -> str:
    """An ok file that quarantined rows is partial, or rejected when nothing else came of it."""
    if (
        status == "ok"
        and counts.rows_quarantined
        and not counts.rows_loaded
        and not counts.rows_duplicate
    ):
        return "rejected"
    if status == "ok" and counts.rows_quarantined:
        return "partial"
    return status


def _record_run(
    con: duckdb.DuckDBPyConnection, run: FileRun, counts: LoadCounts, finished_at: datetime
) -> None:
    """The file's ingest run row, and its fingerprint so the same bytes are not read again."""
    con.execute(
        named_query("insert_ingest_run"),
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
            "status": _run_status(run.status, counts),
            "message": run.message,
        },
    )
    if run.file_sha256:
        con.execute(
            named_query("remember_source_file"),
            {
                "file_sha256": run.file_sha256,
                "path": run.source_file,
                "channel": run.channel,
                "size_bytes": run.size_bytes,
                "run_id": run.run_id,
                "seen_at": finished_at,
            },
        )


def known_file_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(named_query("known_file_hashes")).fetchall()}


def rows_per_channel_week(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, named_query("rows_per_channel_week"))


def contacts_by_language(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, named_query("contacts_by_language"))


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> pl.DataFrame:
    return fetch_frame(con, named_query("recent_runs"), {"limit": limit})


def quarantine_by_reason(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, named_query("quarantine_by_reason"))


def feedback_count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(named_query("feedback_count")).fetchall()[0][0])


# --------------------------------------------------------------------------------------
# themes
# --------------------------------------------------------------------------------------
def feedback_needing_embedding(con: duckdb.DuckDBPyConnection, model: str) -> pl.DataFrame:
    return fetch_frame(con, named_query("feedback_needing_embedding"), {"model": model})


def store_embeddings(
    con: duckdb.DuckDBPyConnection, model: str, ids: list[str], vectors, at: datetime
) -> None:
    frame = pl.DataFrame(
        {"feedback_id": ids, "vector": vectors},
        schema={"feedback_id": pl.String, "vector": pl.List(pl.Float32)},
    )
    with _registered(con, staged_embeddings=frame):
        con.execute(named_query("insert_embeddings"), {"model": model, "at": at})


def embedded_count(con: duckdb.DuckDBPyConnection, model: str) -> int:
    return int(fetch_frame(con, named_query("embedding_counts"), {"model": model})["embedded"][0])


def texts_to_fit(con: duckdb.DuckDBPyConnection, language: str | None) -> list[str]:
    """The texts a model fitted to this warehouse learns from: those in ``language`` (or in
    none found), or every text when ``language`` is None."""
    return fetch_frame(con, named_query("texts_to_fit"), {"language": language})["text"].to_list()


def corpus_for_topics(con: duckdb.DuckDBPyConnection, model: str) -> pl.DataFrame:
    """feedback_id, text, received_at, language, score, score_kind of every item with a
    vector (``corpus_vectors``)."""
    return fetch_frame(con, named_query("corpus_for_topics"), {"model": model})


def crosslingual_needed(
    con: duckdb.DuckDBPyConnection, model: str, team: str, sample: int, *, missing: bool
) -> pl.DataFrame:
    """feedback_id, text and ``model`` vector (null where none yet) of the items that
    placement by meaning needs (the ``crosslingual_needed`` query); only those without a
    vector when ``missing``."""
    return fetch_frame(
        con,
        named_query("crosslingual_needed"),
        {"model": model, "team": team, "sample": sample, "missing": missing},
    )


def renderings_needed(
    con: duckdb.DuckDBPyConnection, languages: list[str], team: str
) -> pl.DataFrame:
    """feedback_id, language, text of the items in ``languages`` not yet rendered in
    ``team`` (models/rendering.py)."""
    return fetch_frame(
        con, named_query("renderings_needed"), {"languages": languages, "team": team}
    )


def other_language_counts(con: duckdb.DuckDBPyConnection, team: str) -> pl.DataFrame:
    """language, contacts, rendered: each language other than ``team`` (not 'und')."""
    return fetch_frame(con, named_query("other_language_counts"), {"team": team})


def store_renderings(
    con: duckdb.DuckDBPyConnection, team: str, frame: pl.DataFrame, at: datetime
) -> None:
    """``frame``: feedback_id, text (the rendering), engine."""
    with _registered(con, staged_renderings=frame.select("feedback_id", "text", "engine")):
        con.execute(named_query("insert_renderings"), {"team": team, "at": at})


VECTOR_BATCH = 65_536


def corpus_vectors(con: duckdb.DuckDBPyConnection, model: str, rows: int) -> np.ndarray:
    """The vectors of ``corpus_for_topics`` (same rows, same order; ``rows`` of them, from
    the same read) as one float32 matrix, filled a batch at a time: a list column of a
    million vectors through a frame costs several times the matrix itself."""
    out: np.ndarray | None = None
    filled = 0
    reader = con.sql(named_query("corpus_vectors"), params={"model": model}).to_arrow_reader(
        VECTOR_BATCH
    )
    for batch in reader:
        if batch.num_rows == 0:
            continue
        pos = batch.column(0).to_numpy()
        lists = batch.column(1)
        flat = lists.flatten().to_numpy(zero_copy_only=False)
        width = len(flat) // batch.num_rows
        if out is None:
            out = np.empty((rows, width), dtype=np.float32)
        if len(flat) != batch.num_rows * width or width != out.shape[1]:
            raise ValueError(f"vectors of {model} do not all have {out.shape[1]} dimensions")
        out[pos] = flat.reshape(batch.num_rows, width)
        filled += batch.num_rows
    if filled != rows:
        raise RuntimeError(f"expected {rows} vector(s) of {model}, read {filled}")
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def current_assignments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, named_query("current_assignments"))


def known_themes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return fetch_frame(con, named_query("known_themes"))


def next_theme_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(named_query("next_theme_id")).fetchall()[0][0])


def last_topic_run(con: duckdb.DuckDBPyConnection) -> dict | None:
    rows = fetch_frame(con, named_query("last_topic_run")).to_dicts()
    return rows[0] if rows else None


def last_theme_edit(con: duckdb.DuckDBPyConnection) -> datetime | None:
    return con.execute(named_query("last_theme_edit")).fetchall()[0][0]


class _registered:
    """Register frames under fixed names for the duration of a block."""

    def __init__(self, con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> None:
        self.con, self.frames = con, frames

    def __enter__(self):
        for name, frame in self.frames.items():
            self.con.register(name, frame)
        return self.con

    def __exit__(self, *exc) -> None:
        for name in self.frames:
            self.con.unregister(name)


def write_topic_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run: dict,
    themes: pl.DataFrame,
    assignments: pl.DataFrame,
    examples: pl.DataFrame,
    lineage: pl.DataFrame,
    unclassified: int,
    model: str,
) -> None:
    """Everything one topic run decided, in the caller's one transaction."""
    at = run["finished_at"]
    with _registered(
        con,
        staged_themes=themes,
        staged_assignments=assignments,
        staged_examples=examples,
        staged_lineage=lineage,
    ):
        con.execute(
            named_query("upsert_themes"), {"model": model, "run_id": run["run_id"], "at": at}
        )
        con.execute(named_query("mark_dormant_themes"), {"at": at})
        con.execute(named_query("update_unclassified_size"), {"size": unclassified, "at": at})
        con.execute(named_query("clear_assignments"))
        con.execute(named_query("insert_assignments"), {"run_id": run["run_id"], "at": at})
        con.execute(named_query("clear_examples"))
        con.execute(named_query("insert_examples"))
        if lineage.height:
            con.execute(named_query("insert_lineage"), {"run_id": run["run_id"], "at": at})
    con.execute(named_query("insert_topic_run"), run)


def theme_list(con: duckdb.DuckDBPyConnection, include_all: bool = False) -> pl.DataFrame:
    return fetch_frame(con, named_query("theme_list"), {"include_all": include_all})


def theme_by_id(con: duckdb.DuckDBPyConnection, theme_id: int) -> dict | None:
    rows = fetch_frame(con, named_query("theme_by_id"), {"theme_id": theme_id}).to_dicts()
    return rows[0] if rows else None


def theme_example_texts(con: duckdb.DuckDBPyConnection, theme_id: int) -> list[str]:
    return [
        r["text"]
        for r in fetch_frame(
            con, named_query("theme_example_texts"), {"theme_id": theme_id}
        ).to_dicts()
    ]


def record_theme_event(
    con: duckdb.DuckDBPyConnection, theme_id: int, actor: str, field: str, old, new, at: datetime
) -> None:
    con.execute(
        named_query("record_theme_event"),
        {
            "theme_id": theme_id,
            "at": at,
            "actor": actor,
            "field": field,
            "old_value": None if old is None else str(old),
            "new_value": None if new is None else str(new),
        },
    )


def rename_theme(
    con: duckdb.DuckDBPyConnection, theme_id: int, label: str, actor: str, at: datetime
) -> str:
    """An analyst's label for a theme at either level (later runs keep it); no two live
    themes share a label. Returns the label as stored."""
    from warehouse.theme_edits import unique_label  # built on this module

    label = edit_rules.label(label)
    current = theme_by_id(con, theme_id)
    if current is None:
        raise KeyError(f"no theme {theme_id}")
    label = unique_label(con, label, theme_id)
    con.execute(named_query("rename_theme"), {"theme_id": theme_id, "label": label, "at": at})
    record_theme_event(con, theme_id, actor, "label", current["label"], label, at)
    return label


def merge_themes(
    con: duckdb.DuckDBPyConnection, keep: int, absorbed: int, actor: str, at: datetime
) -> None:
    """``absorbed`` becomes part of ``keep``, at either level of the theme map: two fine
    themes (``absorbed``'s contacts move, its group goes dormant if it is left empty) or
    two top-level groups (``absorbed``'s sub-themes move under ``keep``). A group and a
    fine theme do not merge: move the fine theme under the group instead. ``absorbed``'s
    id then points at ``keep``."""
    from warehouse import theme_edits  # built on this module

    if keep == absorbed:
        raise ValueError("a theme cannot be merged into itself")
    target, source = theme_edits.theme_level(con, keep), theme_edits.theme_level(con, absorbed)
    if target is None or source is None:
        raise KeyError(f"no theme {keep if target is None else absorbed}")
    if 0 in (keep, absorbed):
        raise ValueError("the Unclassified theme cannot be merged")
    if target["status"] == "merged":
        raise ValueError(
            f"theme {keep} was itself merged into {target['merged_into']}; merge into that one"
        )
    if source["status"] == "merged":
        raise ValueError(f"theme {absorbed} was already merged into {source['merged_into']}")
    if target["kind"] != source["kind"]:
        group, fine = (keep, absorbed) if target["kind"] == "group" else (absorbed, keep)
        raise ValueError(
            f"theme {group} is a top-level group and theme {fine} a fine theme: themes merge "
            f"only at the same level (to put {fine} under {group}: voc themes move {fine} "
            f"--to {group})"
        )
    if target["kind"] == "group":
        theme_edits.merge_groups(con, target, source, actor, at)
    else:
        con.execute(named_query("merge_theme_into"), {"theme_id": absorbed, "into": keep, "at": at})
        con.execute(named_query("move_assignments"), {"theme_id": absorbed, "into": keep})
        con.execute(named_query("refresh_theme_size"), {"theme_id": keep, "at": at})
        theme_edits.refresh_after_fine_merge(con, target, source, at)
    record_theme_event(con, absorbed, actor, "merged_into", None, keep, at)


def theme_history(con: duckdb.DuckDBPyConnection, theme_id: int) -> pl.DataFrame:
    return fetch_frame(con, named_query("theme_history"), {"theme_id": theme_id})


def theme_detail(con: duckdb.DuckDBPyConnection, theme_id: int) -> dict | None:
    rows = fetch_frame(con, named_query("theme_detail"), {"theme_id": theme_id}).to_dicts()
    return rows[0] if rows else None


def department_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every department the warehouse knows: the departments file's, plus any name a
    theme or an issue still carries."""
    return [row[0] for row in con.execute(named_query("department_names")).fetchall()]


def assign_theme_department(
    con: duckdb.DuckDBPyConnection,
    theme_id: int,
    department: str,
    actor: str,
    at: datetime,
    *,
    departments: Collection[str] | None = None,
) -> str:
    """An analyst's routing decision: kept across runs and learnt from. ``department``
    must be one of ``departments`` (default: the warehouse's ``department_names``, when
    it knows any); returns the name as stored."""
    current = theme_detail(con, theme_id)
    if current is None:
        raise KeyError(f"no theme {theme_id}")
    known = department_names(con) if departments is None else departments
    department = edit_rules.department(department, known)
    con.execute(
        named_query("assign_theme_department"),
        {"theme_id": theme_id, "department": department, "at": at},
    )
    con.execute(
        named_query("learn_routing_from_theme"),
        {
            "theme_id": theme_id,
            "label": current["label"],
            "department": department,
            "actor": actor,
            "at": at,
        },
    )
    con.execute(
        named_query("route_theme_items_to"), {"theme_id": theme_id, "department": department}
    )
    record_theme_event(con, theme_id, actor, "department", current["department"], department, at)
    return department


def route_item(
    con: duckdb.DuckDBPyConnection,
    feedback_id: str,
    department: str,
    actor: str,
    at: datetime,
    *,
    departments: Collection[str] | None = None,
) -> str:
    """Send one feedback item to ``department``: kept by later runs, and its text becomes
    an example routing learns from. Returns the name as stored."""
    known = department_names(con) if departments is None else departments
    department = edit_rules.department(department, known)
    if not con.execute(named_query("item_route"), {"feedback_id": feedback_id}).fetchall():
        raise KeyError(f"no routed item {feedback_id}")
    con.execute(named_query("route_item"), {"feedback_id": feedback_id, "department": department})
    con.execute(
        named_query("learn_routing_from_item"),
        {"feedback_id": feedback_id, "department": department, "actor": actor, "at": at},
    )
    return department


DEMAND_TYPES = ("failure", "value")


def set_theme_demand(
    con: duckdb.DuckDBPyConnection,
    theme_id: int,
    demand_type: str,
    actor: str,
    at: datetime,
    *,
    subtype: str | None = None,
    reason: str | None = None,
) -> None:
    """An analyst's override of failure vs value demand; later runs keep it."""
    current = theme_detail(con, theme_id)
    if current is None:
        raise KeyError(f"no theme {theme_id}")
    if demand_type not in DEMAND_TYPES:
        raise edit_rules.InvalidEdit(
            f"demand type must be one of {', '.join(DEMAND_TYPES)}", "demand_type"
        )
    reason = edit_rules.reason(reason)
    con.execute(
        named_query("set_theme_demand"),
        {
            "theme_id": theme_id,
            "demand_type": demand_type,
            "demand_subtype": subtype,
            "demand_reason": reason or f"set by {actor}",
            "at": at,
        },
    )
    record_theme_event(con, theme_id, actor, "demand_type", current["demand_type"], demand_type, at)


def week_subthemes(
    con: duckdb.DuckDBPyConnection,
    week: date,
    *,
    growing_only: bool = False,
    departments: list[str] | None = None,
) -> pl.DataFrame:
    """The sub-themes under each top-level theme in ``week`` (``subtheme_weekly``)."""
    return fetch_frame(
        con,
        named_query("week_subthemes"),
        {"week": week, "growing_only": growing_only, "departments": departments},
    )


def issue_subthemes(
    con: duckdb.DuckDBPyConnection, issue_id: int, *, week: date | None = None, per_theme: int = 3
) -> pl.DataFrame:
    """An issue's evidence: the sub-themes of its theme, their volume and examples."""
    return fetch_frame(
        con,
        named_query("issue_subthemes"),
        {"issue_id": issue_id, "week": week, "per_theme": per_theme},
    )


def issue_folds(con: duckdb.DuckDBPyConnection, issue_id: int) -> pl.DataFrame:
    """The issues folded into ``issue_id``."""
    return fetch_frame(con, named_query("issue_folds"), {"issue_id": issue_id})


def top_theme_counts_of_sources(
    con: duckdb.DuckDBPyConnection, source_refs: list[str]
) -> pl.DataFrame:
    """How many of these records (by source ref) each top-level theme holds, most first."""
    return fetch_frame(con, named_query("top_theme_counts_of_sources"), {"refs": source_refs})


def majority_theme_of_sources(con: duckdb.DuckDBPyConnection, source_refs: list[str]) -> int | None:
    frame = fetch_frame(con, named_query("majority_theme_of_sources"), {"refs": source_refs})
    return int(frame["theme_id"][0]) if frame.height else None


def export_frame(con: duckdb.DuckDBPyConnection, what: str) -> pl.DataFrame:
    """A whole table for ``voc export``; ``what`` picks one of the fixed export queries."""
    names = {"issues", "themes", "weekly", "subthemes", "chargeback", "opportunities", "quarantine"}
    if what not in names:
        raise ValueError(f"nothing to export called {what!r}")
    return fetch_frame(con, named_query(f"export_{what}"))
