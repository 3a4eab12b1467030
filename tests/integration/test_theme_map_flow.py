"""The theme map through the real topics flow on a real DuckDB file: two levels found from
the data, kept from week to week, gained by an older warehouse without re-embedding, and
an analyst's move kept through a refit."""

from __future__ import annotations

import json

import polars as pl
import pytest

from flows.config import load_settings
from flows.ingest import run_ingest
from flows.topics import run_topics
from warehouse import Warehouse

pytestmark = pytest.mark.slow  # real fits (TF-IDF embedder), several runs


def _bitext(shared_data, n: int, offset: int = 0) -> pl.DataFrame:
    frame = pl.read_csv(
        shared_data("bitext_customer_support", "TrainingdatasetBitextsample.csv")
    ).sample(n=2 * n, seed=5)
    part = frame.slice(offset, n)
    return pl.DataFrame(
        {
            "id": list(range(offset + 1, offset + n + 1)),
            "date": ["2026-11-02" if offset == 0 else "2026-11-09"] * n,
            "text": part["utterance"],
            "label": part["intent"],
        }
    )


def _read(db, sql: str) -> pl.DataFrame:
    with Warehouse(db).read() as con:
        return con.sql(sql).pl()


def _tops(db) -> pl.DataFrame:
    return _read(
        db,
        "SELECT ft.feedback_id, ft.theme_id, tt.top_id FROM feedback_themes ft "
        "JOIN theme_top tt USING (theme_id)",
    )


def test_the_theme_map_is_found_kept_gained_and_obeys_the_analyst(tmp_path, shared_data):
    _bitext(shared_data, 900).write_csv(tmp_path / "week1.csv")
    _bitext(shared_data, 900, offset=900).write_csv(tmp_path / "week2.csv")
    settings = load_settings(db=tmp_path / "voc.duckdb")
    run_ingest([tmp_path / "week1.csv"], settings=settings, channel="complaint")
    first = run_topics(settings, embedder="tfidf")
    assert 0 < first.top_level < first.themes

    themes = _read(
        settings.db,
        "SELECT theme_id, kind, parent_id, label, status, size FROM themes WHERE status = 'active'",
    )
    groups = themes.filter(pl.col("kind") == "group")
    assert groups.height >= 1 and groups["parent_id"].null_count() == groups.height  # two levels
    fine = themes.filter(pl.col("kind") == "fine")
    assert set(fine["parent_id"].drop_nulls()) <= set(groups["theme_id"])
    for g in groups.iter_rows(named=True):  # a group's size is its sub-themes' contacts
        assert g["size"] == fine.filter(pl.col("parent_id") == g["theme_id"])["size"].sum()
    assignments = _tops(settings.db)
    assert not set(assignments["theme_id"]) & set(groups["theme_id"])  # contacts sit in fine themes
    labels = themes.filter(pl.col("theme_id") != 0)["label"].str.to_lowercase()
    assert labels.n_unique() == labels.len()  # no two live themes share a label

    # an older warehouse (themes, no map) gains its map on the next run, nothing re-embedded
    with Warehouse(settings.db).write() as con:
        con.execute("DELETE FROM themes WHERE kind = 'group'")
        con.execute("UPDATE themes SET parent_id = NULL")
        con.execute("UPDATE topic_runs SET params = json_object('mode', 'fit')")
    gained = run_topics(settings, embedder="tfidf")
    assert not gained.skipped and gained.embedded == 0
    after_gain = _tops(settings.db)
    same = assignments.filter(pl.col("theme_id") != 0).join(
        after_gain, on="feedback_id", suffix="_now"
    )
    assert (same["theme_id"] == same["theme_id_now"]).all()  # every fine theme id kept
    assert gained.top_level == first.top_level

    # a new week: contacts keep their top-level theme
    run_ingest([tmp_path / "week2.csv"], settings=settings, channel="complaint")
    run_topics(settings, embedder="tfidf")
    week2 = _tops(settings.db)
    joined = after_gain.join(week2, on="feedback_id", suffix="_now")
    kept = float((joined["top_id"] == joined["top_id_now"]).mean())
    assert kept >= 0.9, f"only {kept:.0%} kept their top-level theme"
    runs = _read(settings.db, "SELECT params FROM topic_runs ORDER BY started_at DESC LIMIT 1")
    assert json.loads(runs["params"][0])["map"]["rebuilt"] is False

    # the analyst moves a sub-theme under another group; a refit keeps it there
    active = _read(
        settings.db,
        "SELECT theme_id, kind, parent_id, size FROM themes "
        "WHERE status = 'active' AND theme_id <> 0 ORDER BY size DESC",
    )
    group_ids = active.filter(pl.col("kind") == "group")["theme_id"].to_list()
    moved = active.filter((pl.col("kind") == "fine") & (pl.col("parent_id") != group_ids[0]))
    theme = int(moved["theme_id"][0])
    with Warehouse(settings.db).write() as con:
        con.execute(
            "UPDATE themes SET parent_id = ?, parent_source = 'analyst' WHERE theme_id = ?",
            [group_ids[0], theme],
        )
    run_topics(settings, embedder="tfidf", refit=True)
    with Warehouse(settings.db).read() as con:
        row = con.execute(
            "SELECT parent_id, parent_source, status FROM themes WHERE theme_id = ?", [theme]
        ).fetchall()
    assert row == [(group_ids[0], "analyst", "active")]
    assert theme in set(_tops(settings.db)["theme_id"])  # the refit matched it: still in use
