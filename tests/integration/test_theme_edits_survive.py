"""Every kind of analyst edit of the theme map survives the next `voc topics` run (with a
new week of contacts) and a `voc topics --refit`: moves (parent_source='analyst'), new
groups and split parts (origin='analyst'), labels (label_source='analyst') and merges.

The edits are made with the CLI on themes `voc topics --embedder tfidf` found in a slice
of Banking77; the checks read the warehouse after each run."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from warehouse import Warehouse

pytestmark = pytest.mark.slow  # topic runs: fit, a later run and a refit

runner = CliRunner(env={"COLUMNS": "240"})


def voc(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _frame(db: Path, sql: str, params: list | None = None) -> pl.DataFrame:
    with Warehouse(db).read() as con:
        return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()


@dataclass
class Edited:
    """The warehouse after the edits, and what each edit should still look like."""

    db: Path
    week2: Path  # a new week of contacts, not yet ingested
    parents: dict[int, int | None] = field(default_factory=dict)  # analyst placements
    labels: dict[int, str] = field(default_factory=dict)  # analyst labels
    merged: dict[int, int] = field(default_factory=dict)  # absorbed → kept
    groups: list[int] = field(default_factory=list)  # groups analysts made
    parts: dict[int, set[str]] = field(default_factory=dict)  # split part → its contacts
    retired: list[int] = field(default_factory=list)  # fine themes split away


def _banking(shared_data, n: int, seed: int = 11) -> list[dict]:
    train = pl.read_csv(shared_data("banking77", "train.csv"))
    order = list(range(train.height))
    random.Random(seed).shuffle(order)
    picked = train[order[:n]]
    return [{"id": i + 1, "text": t} for i, t in enumerate(picked["text"])]


def _new_id(output: str) -> int:
    return int(output.split("new group ")[1].split()[0].rstrip(",;"))


@pytest.fixture(scope="module")
def edited_template(tmp_path_factory, shared_data) -> Edited:
    root = tmp_path_factory.mktemp("edited")
    rows = _banking(shared_data, 900)
    for r in rows[:600]:
        r["date"] = "2026-11-02"
    for r in rows[600:]:
        r["date"] = "2026-11-09"
    pl.DataFrame(rows[:600]).write_csv(root / "week1.csv")
    pl.DataFrame(rows[600:]).write_csv(root / "week2.csv")
    db = root / "wh" / "voc.duckdb"
    db.parent.mkdir()
    d = ["--db", str(db)]
    voc("ingest", str(root / "week1.csv"), "--channel", "complaint", *d)
    voc("topics", "--embedder", "tfidf", *d)

    fine = _frame(
        db,
        "SELECT theme_id, keywords FROM themes WHERE coalesce(kind, 'fine') = 'fine'"
        " AND status = 'active' AND theme_id <> 0 AND size >= 6 ORDER BY size DESC, theme_id",
    )
    t = [int(x) for x in fine["theme_id"]]
    assert len(t) >= 14, f"too few themes to edit: {len(t)}"
    ed = Edited(db, root / "week2.csv")
    a = "--actor", "ana"

    # groups to edit (a warehouse the topics flow gave no groups gets them here)
    g_a = _new_id(voc("themes", "move", str(t[0]), str(t[1]), "--new-group", "Group A", *a, *d))
    g_b = _new_id(
        voc("themes", "move", str(t[2]), str(t[3]), str(t[4]), "--new-group", "Group B", *a, *d)
    )
    g_c = _new_id(voc("themes", "move", str(t[5]), str(t[6]), "--new-group", "Group C", *a, *d))
    ed.groups += [g_a, g_b]
    # move under a group, out to the top
    voc("themes", "move", str(t[7]), "--to", str(g_a), *a, *d)
    voc("themes", "move", str(t[1]), "--top", *a, *d)
    ed.parents.update({t[0]: g_a, t[7]: g_a, t[1]: None})
    # rename at both levels
    voc("themes", "rename", str(t[8]), "A fine theme an analyst named", *a, *d)
    voc("themes", "rename", str(g_b), "A group an analyst named", *a, *d)
    ed.labels.update({t[8]: "A fine theme an analyst named", g_b: "A group an analyst named"})
    # merge fine themes, merge groups (C's sub-themes move under B)
    voc("themes", "merge", str(t[9]), str(t[10]), *a, *d)
    voc("themes", "merge", str(g_b), str(g_c), *a, *d)
    ed.merged.update({t[10]: t[9], g_c: g_b})
    # split a group by the sub-themes named: t[2] goes to a new group
    g_b2 = _new_id(
        voc("themes", "split", str(g_b), "--going", str(t[2]), "--label", "Group B2", *a, *d)
    )
    ed.groups.append(g_b2)
    ed.parents.update({t[2]: g_b2, t[3]: g_b, t[4]: g_b, t[5]: g_b, t[6]: g_b})
    # split a sub-theme by vectors, a lone theme by a keyword (it becomes their group)
    voc("themes", "split", str(t[0]), *a, *d)
    ed.retired.append(t[0])
    lone = t[11]  # made lone first, whatever group the map gave it
    voc("themes", "move", str(lone), "--top", *a, *d)
    texts = _frame(
        db,
        "SELECT lower(f.text) AS text FROM feedback_themes JOIN feedback AS f USING"
        " (feedback_id) WHERE theme_id = ?",
        [lone],
    )["text"].to_list()
    words = sorted(
        {w for text in texts for w in text.split() if w.isalpha() and len(w) > 3},
        key=lambda w: (abs(sum(w in x.split() for x in texts) / len(texts) - 0.5), w),
    )
    voc("themes", "split", str(lone), "--keyword", words[0], *a, *d)
    ed.groups.append(lone)
    made = _frame(
        db,
        "SELECT theme_id, parent_id FROM themes WHERE origin = 'analyst'"
        " AND coalesce(kind, 'fine') = 'fine'",
    )
    for part, parent in made.iter_rows():
        ed.parts[part] = set(
            _frame(db, "SELECT feedback_id FROM feedback_themes WHERE theme_id = ?", [part])[
                "feedback_id"
            ]
        )
        ed.parents[part] = parent
    assert len(ed.parts) == 4
    return ed


def _copy(template: Edited, where: Path) -> Edited:
    shutil.copytree(template.db.parent, where / "wh")
    return Edited(**{**template.__dict__, "db": where / "wh" / "voc.duckdb"})


@pytest.fixture(scope="module")
def after_next_run(edited_template: Edited, tmp_path_factory) -> Edited:
    """The edited warehouse after a new week is ingested and `voc topics` runs."""
    ed = _copy(edited_template, tmp_path_factory.mktemp("next-run"))
    d = ["--db", str(ed.db)]
    voc("ingest", str(ed.week2), "--channel", "complaint", *d)
    out = voc("topics", "--embedder", "tfidf", *d)
    assert "Nothing new" not in out  # the run did run
    return ed


@pytest.fixture(scope="module")
def after_refit(edited_template: Edited, tmp_path_factory) -> Edited:
    """The edited warehouse after `voc topics --refit` (clustering afresh)."""
    ed = _copy(edited_template, tmp_path_factory.mktemp("refit"))
    out = voc("topics", "--embedder", "tfidf", "--refit", "--force", "--db", str(ed.db))
    assert "Nothing new" not in out
    return ed


def _broken(ed: Edited, kind: str) -> list[str]:
    """What no longer holds of the edits of one ``kind`` (moved, renamed, merged, group,
    split), one line each."""
    themes = {
        r["theme_id"]: r
        for r in _frame(
            ed.db,
            "SELECT theme_id, label, label_source, coalesce(kind, 'fine') AS kind, status,"
            " merged_into, parent_id, parent_source, origin FROM themes",
        ).iter_rows(named=True)
    }
    held = _frame(ed.db, "SELECT feedback_id, theme_id FROM feedback_themes")
    by_theme: dict[int, set[str]] = {}
    for fid, tid in held.iter_rows():
        by_theme.setdefault(tid, set()).add(fid)
    out = []
    for theme, parent in ed.parents.items():
        row = themes[theme]
        if row["parent_id"] != parent or row["parent_source"] != "analyst":
            out.append(
                f"moved: theme {theme} is under {row['parent_id']} ({row['parent_source']}), "
                f"the analyst put it under {parent}"
            )
    for theme, label in ed.labels.items():
        if themes[theme]["label"] != label or themes[theme]["label_source"] != "analyst":
            out.append(f"renamed: theme {theme} is {themes[theme]['label']!r}, not {label!r}")
    for absorbed, keep in ed.merged.items():
        row = themes[absorbed]
        if row["status"] != "merged" or row["merged_into"] != keep:
            out.append(f"merged: theme {absorbed} is {row['status']} → {row['merged_into']}")
        if by_theme.get(absorbed):
            out.append(f"merged: theme {absorbed} holds contacts again")
        live_members = [
            t for t, r in themes.items() if r["parent_id"] == absorbed and r["status"] == "active"
        ]
        if live_members:
            out.append(f"merged: group {absorbed} has live sub-themes {live_members}")
    for group in ed.groups:
        row = themes[group]
        if row["kind"] != "group" or row["status"] != "active":
            out.append(f"group {group} is a {row['kind']} theme, {row['status']}")
        if by_theme.get(group):
            out.append(f"group {group} holds {len(by_theme[group])} contacts directly")
    for part, contacts in ed.parts.items():
        row = themes[part]
        if row["origin"] != "analyst" or row["status"] != "active" or row["kind"] != "fine":
            out.append(f"split: part {part} is {row['origin']} {row['kind']} {row['status']}")
        lost = contacts - by_theme.get(part, set())
        if lost:
            out.append(f"split: part {part} lost {len(lost)} of its {len(contacts)} contacts")
    for theme in ed.retired:
        if by_theme.get(theme) or themes[theme]["status"] == "active":
            out.append(f"split: theme {theme} (split away) is back with contacts")
    groups = {t for t, r in themes.items() if r["kind"] == "group"}
    direct = sorted(groups & set(by_theme))
    if direct:
        out.append(f"group(s) {direct} hold contacts directly")
    return [line for line in out if line.startswith(kind)]


KINDS = ["moved", "renamed", "merged", "group", "split"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_edits_hold_right_after_they_are_made(edited_template, kind):
    broken = _broken(edited_template, kind)
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("kind", KINDS)
def test_every_edit_survives_the_next_run_with_a_new_week(after_next_run, kind):
    broken = _broken(after_next_run, kind)
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("kind", KINDS)
def test_every_edit_survives_a_refit(after_refit, kind):
    broken = _broken(after_refit, kind)
    assert not broken, "\n".join(broken)


def test_a_split_made_while_a_topic_run_computes_is_not_lost(edited_template, tmp_path):
    """DESIGN.md §4: a dashboard edit made while a flow runs is never lost."""
    import uuid

    from flows.config import load_settings
    from flows.topics import find_themes, make_embedder, write_themes
    from warehouse.clock import utc_now

    ed = _copy(edited_template, tmp_path)
    settings = load_settings(db=ed.db)
    name = make_embedder("tfidf", settings).name
    started = utc_now()
    result = find_themes.fn(str(ed.db), "tfidf", name, 20_000, 42, str(uuid.uuid4()), True)
    # meanwhile an analyst splits a sub-theme
    sub = _frame(
        ed.db,
        "SELECT theme_id FROM themes WHERE parent_id IS NOT NULL AND status = 'active'"
        " AND kind = 'fine' AND origin = 'model' AND size >= 6 ORDER BY size DESC LIMIT 1",
    )["theme_id"][0]
    voc("themes", "split", str(sub), "--actor", "ana", "--db", str(ed.db))
    parts = _frame(
        ed.db,
        "SELECT theme_id FROM theme_lineage WHERE related_theme_id = ? AND event = 'split'",
        [int(sub)],
    )["theme_id"].to_list()
    split = _frame(
        ed.db,
        "SELECT feedback_id, theme_id FROM feedback_themes WHERE list_contains(?, theme_id)",
        [parts],
    )
    write_themes.fn(str(ed.db), result, name, started, 0)
    after = _frame(ed.db, "SELECT feedback_id, theme_id AS now FROM feedback_themes")
    moved = split.join(after, on="feedback_id").filter(pl.col("theme_id") != pl.col("now"))
    assert moved.height == 0, (
        f"{moved.height} of the {split.height} contacts of the split parts {parts} of theme "
        f"{sub} were moved by a run that read the map before the split: "
        f"{moved.group_by('now').len().sort('len', descending=True).head(3).to_dicts()}"
    )
    kinds = _frame(ed.db, "SELECT origin FROM themes WHERE list_contains(?, theme_id)", [parts])
    assert kinds["origin"].to_list() == ["analyst", "analyst"]
