"""`voc topics` on real customer texts: embeddings cached, themes found and kept stable."""

from __future__ import annotations

import random
import shutil

import duckdb
import polars as pl
import pytest

from flows.config import load_settings
from flows.ingest import run_ingest
from flows.topics import run_topics
from models.quality import score_clusters
from warehouse import Warehouse, core_tables, theme_edits


def _write_slice(shared_data, path, rows: list[dict]) -> None:
    pl.DataFrame(rows).write_csv(path)


def _banking(shared_data, n: int, seed: int = 3) -> list[dict]:
    train = pl.read_csv(shared_data("banking77", "train.csv"))
    order = list(range(train.height))
    random.Random(seed).shuffle(order)
    picked = train[order[:n]]
    return [
        {"id": i + 1, "text": t, "label": c}
        for i, (t, c) in enumerate(zip(picked["text"], picked["category"], strict=True))
    ]


def themes_with_labels(db) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(
            "SELECT f.feedback_id, json_extract_string(f.attributes, '$.label') AS label, ft.theme_id "
            "FROM feedback f JOIN feedback_themes ft USING (feedback_id)"
        ).pl()
    finally:
        con.close()


@pytest.mark.slow  # a real fit on 1,600 items, twice
def test_topics_with_tfidf_on_a_real_slice_caches_and_keeps_ids(tmp_path, shared_data):
    rows = _banking(shared_data, 1600)
    first, second = rows[:800], rows[800:]
    for r in first:
        r["date"] = "2026-11-02"
    for r in second:
        r["date"] = "2026-11-09"
    _write_slice(shared_data, tmp_path / "week1.csv", first)
    _write_slice(shared_data, tmp_path / "week2.csv", second)
    settings = load_settings(db=tmp_path / "voc.duckdb")

    run_ingest([tmp_path / "week1.csv"], settings=settings, channel="complaint")
    one = run_topics(settings, embedder="tfidf")
    assert one.embedded == 800 and one.themes >= 10
    assert one.unclassified_share < 0.05
    before = themes_with_labels(settings.db)
    assert before.height == 800 and (before["theme_id"] != 0).mean() > 0.95

    again = run_topics(settings, embedder="tfidf")
    assert again.skipped and again.embedded == 0  # nothing new: nothing embedded, nothing refit

    run_ingest([tmp_path / "week2.csv"], settings=settings, channel="complaint")
    two = run_topics(settings, embedder="tfidf")
    assert two.embedded == 800  # only the new week
    after = themes_with_labels(settings.db)
    joined = before.join(
        after.select("feedback_id", pl.col("theme_id").alias("after")), on="feedback_id"
    )
    kept = float((joined["theme_id"] == joined["after"]).mean())
    assert kept >= 0.95, f"only {kept:.0%} of the first week's items kept their theme id"
    scores = score_clusters(after["label"].to_numpy(), after["theme_id"].to_numpy())
    assert scores.nmi > 0.55  # TF-IDF's published anchor on Banking77 is 0.551

    wh = Warehouse(settings.db)
    with wh.read() as con:
        themes = core_tables.theme_list(con)
        lineage = con.sql("SELECT event, count(*) FROM theme_lineage GROUP BY 1").fetchall()
        examples = con.sql("SELECT theme_id, count(*) FROM theme_examples GROUP BY 1").fetchall()
    labels = themes.filter(pl.col("theme_id") != 0)["label"].to_list()
    assert all(label and "_" not in label for label in labels)  # readable, not 3_card_card_my
    assert len(set(labels)) == len(labels)
    assert dict(lineage).get("created", 0) >= one.themes  # every theme's birth is on record
    assert set(before["theme_id"].unique()) - {0} <= set(
        after["theme_id"].unique()
    )  # no id vanished
    assert all(n <= 3 for _, n in examples)


@pytest.mark.slow  # fits, then refits
def test_analyst_rename_and_merge_survive_a_refit(tmp_path, shared_data):
    rows = _banking(shared_data, 600, seed=5)
    _write_slice(shared_data, tmp_path / "slice.csv", rows)
    settings = load_settings(db=tmp_path / "voc.duckdb")
    run_ingest([tmp_path / "slice.csv"], settings=settings, channel="complaint")
    run_topics(settings, embedder="tfidf")
    wh = Warehouse(settings.db)
    with wh.read() as con:  # fine themes: a group merges only with a group
        themes = (
            theme_edits.theme_tree(con)
            .filter((pl.col("theme_id") != 0) & (pl.col("kind") == "fine"))
            .sort("volume", descending=True)
        )
    keep, absorbed, renamed = (int(t) for t in themes["theme_id"][:3])
    from datetime import datetime

    with wh.write() as con:
        core_tables.rename_theme(
            con, renamed, "Card not arrived <b>yet</b>", "alice", datetime.now()
        )
        core_tables.merge_themes(con, keep, absorbed, "alice", datetime.now())
    run_topics(settings, embedder="tfidf", refit=True)  # even clustering afresh keeps them
    with wh.read() as con:
        renamed_row = core_tables.theme_by_id(con, renamed)
        absorbed_row = core_tables.theme_by_id(con, absorbed)
        history = core_tables.theme_history(con, absorbed)
        still_there = con.sql(
            "SELECT count(*) FROM feedback_themes WHERE theme_id = ?", params=[absorbed]
        ).fetchall()[0][0]
    assert renamed_row["label"] == "Card not arrived <b>yet</b>"  # the analyst's label, as text
    assert absorbed_row["status"] == "merged" and absorbed_row["merged_into"] == keep
    assert still_there == 0  # nothing lands in a merged theme again
    assert history["field"].to_list() == ["merged_into"] and history["actor"][0] == "alice"


@pytest.mark.slow
def test_minilm_themes_on_banking77_meet_the_bar(tmp_path, shared_data):
    settings = load_settings(db=tmp_path / "voc.duckdb")
    run_ingest([shared_data("banking77", "test.csv")], settings=settings, channel="complaint")
    summary = run_topics(settings, embedder="minilm")
    got = themes_with_labels(settings.db).with_columns(
        pl.col("label").fill_null(""),
    )
    con = duckdb.connect(str(settings.db), read_only=True)
    got = con.sql(
        "SELECT json_extract_string(f.attributes, '$.category') AS label, ft.theme_id FROM feedback f JOIN feedback_themes ft USING (feedback_id)"
    ).pl()
    con.close()
    scores = score_clusters(got["label"].to_numpy(), got["theme_id"].to_numpy())
    assert scores.nmi >= 0.80 and scores.acc >= 0.60, scores.line()
    assert 40 <= summary.themes <= 200  # found from the data, in a sensible range
    assert summary.unclassified_share < 0.05


@pytest.mark.slow  # three fits on 700 items
def test_voc_topics_seed_gives_the_same_themes_again_and_moves_the_fit(tmp_path, shared_data):
    """`voc topics --seed S` picks the fitting sample and seeds the clustering: the same seed
    on copies of one warehouse gives the same themes, contact for contact; another seed
    fits another sample (bench/themes_quality.py --seeds reads a fit's spread this way)."""
    from typer.testing import CliRunner

    from flows.cli import app

    _write_slice(shared_data, tmp_path / "week.csv", _banking(shared_data, 700, seed=9))
    ingested = tmp_path / "ingested.duckdb"
    run_ingest([tmp_path / "week.csv"], settings=load_settings(db=ingested), channel="complaint")
    runner = CliRunner()
    assigned = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        db = tmp_path / f"{name}.duckdb"
        shutil.copyfile(ingested, db)
        args = ["topics", "--embedder", "tfidf", "--max-fit", "400", "--seed", str(seed)]
        result = runner.invoke(app, [*args, "--db", str(db)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        frame = themes_with_labels(db).sort("feedback_id")
        assigned[name] = frame["theme_id"].to_list()
    assert len(set(assigned["a"])) >= 10
    assert assigned["a"] == assigned["b"]
    assert assigned["a"] != assigned["c"]


@pytest.mark.slow  # fits a student once, then themes two weeks with it
def test_topics_with_the_adapted_embedder_fit_it_once_and_reuse_it(
    tmp_path, shared_data, stand_in_teacher, monkeypatch
):
    monkeypatch.setenv("VOC_TEACHER_DIR", str(stand_in_teacher))
    rows = _banking(shared_data, 800, seed=11)
    for r in rows:
        r["date"] = "2026-11-02" if r["id"] <= 400 else "2026-11-09"
    _write_slice(shared_data, tmp_path / "week1.csv", rows[:400])
    _write_slice(shared_data, tmp_path / "week2.csv", rows[400:])
    settings = load_settings(db=tmp_path / "voc.duckdb")
    run_ingest([tmp_path / "week1.csv"], settings=settings, channel="complaint")

    one = run_topics(settings, embedder="minilm-adapted")
    assert one.embedded == 400 and one.themes >= 5
    assert one.network.startswith("MiniLM adapted to this warehouse (all-MiniLM-L6-v2-adapted-")
    students = list((tmp_path / "models").glob("minilm-adapted-*"))
    assert len(students) == 1
    pointer = tmp_path / "models" / "minilm_adapted.json"
    fitted_at = pointer.stat().st_mtime_ns
    wh = Warehouse(settings.db)
    with wh.read() as con:
        ((name, width, count),) = con.sql(
            "SELECT model, len(vector), count(*) FROM embeddings GROUP BY ALL"
        ).fetchall()
    # named by its key, and "-int8" where this machine's check chose the int8 network
    key = students[0].name.rpartition("-")[2]
    assert name.removesuffix("-int8") == "all-MiniLM-L6-v2-adapted-" + key
    assert (width, count) == (768, 400)  # the teacher's width, not MiniLM's 384

    # a new week: the student embeds it as it is; no teacher is needed, nothing is refitted
    monkeypatch.setenv("VOC_TEACHER_DIR", str(tmp_path / "no-teacher-here"))
    run_ingest([tmp_path / "week2.csv"], settings=settings, channel="complaint")
    two = run_topics(settings, embedder="minilm-adapted")
    assert two.embedded == 400
    assert pointer.stat().st_mtime_ns == fitted_at
    assert list((tmp_path / "models").glob("minilm-adapted-*")) == students
    labelled = themes_with_labels(settings.db)
    assert labelled.height == 800 and (labelled["theme_id"] != 0).mean() > 0.9

    # `voc status` says which of the student's networks runs here, and why
    from typer.testing import CliRunner

    from flows.cli import app

    shown = CliRunner().invoke(app, ["status", "--db", str(settings.db)])
    assert shown.exit_code == 0, shown.output
    assert "Adapted MiniLM on this machine: all-MiniLM-L6-v2-adapted-" + key in shown.output
    assert "measured 20" in shown.output


def test_the_adapted_embedder_without_a_teacher_says_how_to_get_one(tmp_path, monkeypatch):
    from models.embedder_choice import make_embedder

    monkeypatch.delenv("VOC_TEACHER_DIR", raising=False)
    embedder = make_embedder(
        "minilm-adapted", db=tmp_path / "voc.duckdb", model_cache=tmp_path / "cache"
    )
    assert not embedder.fitted
    with pytest.raises(RuntimeError, match=r"scripts/setup.sh --teacher"):
        embedder.fit(["my card has not arrived", "I was charged twice"])
