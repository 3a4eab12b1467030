"""Analysts edit the theme map at both levels from the CLI (the same write functions the
dashboard calls): `voc themes` shows the tree; move, merge, split and rename are checked,
written, recorded in theme_events and refused with a reason when they make no sense.

The warehouse is made by hand: fine themes with contacts and their vectors, two groups."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from flows.cli import app
from warehouse import Warehouse

runner = CliRunner(env={"COLUMNS": "240"})
MODEL = "test-vectors"
AT = datetime(2026, 11, 2, 9)

# theme id → (label, parent, texts in two kinds, kinds' directions); each theme has two
# kinds of contact along a second axis, so a split by vectors has one right answer
FINE = {
    1: ("Refunds and double charges", 10, ("Where is my refund?", "Charged twice this month")),
    2: ("Price went up", 10, ("My price went up", "Bill increased again")),
    3: ("Engineer no-show", None, ("The engineer never came", "Missed the appointment")),
    4: ("Router will not connect", 11, ("Router light is red", "Router keeps rebooting")),
    5: ("Slow speeds", 11, ("Speeds are slow at night", "Only getting 2 mbps")),
}
GROUPS = {10: "Billing", 11: "Network"}
PER_KIND = {1: (6, 4), 2: (5, 5), 3: (4, 3), 4: (3, 3), 5: (2, 2)}


def _vector(theme: int, kind: int, jitter: float) -> list[float]:
    v = np.zeros(8, dtype=np.float32)
    v[theme - 1] = 1.0
    v[5 + kind] = 0.6
    v[7] = jitter
    return (v / np.linalg.norm(v)).tolist()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "voc.duckdb"
    wh = Warehouse(path)
    n = 0
    with wh.write() as con:
        for theme, (label, parent, texts) in FINE.items():
            vectors = []
            for kind, count in enumerate(PER_KIND[theme]):
                for i in range(count):
                    n += 1
                    fid = f"fb{n:03d}"
                    con.execute(
                        "INSERT INTO feedback (feedback_id, channel, source_file, source_ref,"
                        " received_at, text, run_id, ingested_at) VALUES (?, 'survey', 's.csv',"
                        " ?, ?, ?, 'r1', ?)",
                        [fid, str(n), AT + timedelta(hours=n), texts[kind], AT],
                    )
                    vector = _vector(theme, kind, 0.01 * i)
                    vectors.append(vector)
                    con.execute(
                        "INSERT INTO embeddings VALUES (?, ?, ?, ?)", [fid, MODEL, vector, AT]
                    )
                    con.execute(
                        "INSERT INTO feedback_themes VALUES (?, ?, 0.9, 'run-1', ?)",
                        [fid, theme, AT],
                    )
                    if i < 2:
                        con.execute(
                            "INSERT INTO theme_examples VALUES (?, ?, ?)",
                            [theme, kind * 2 + i + 1, fid],
                        )
            centre = np.mean(vectors, axis=0)
            con.execute(
                "INSERT INTO themes (theme_id, label, keywords, department, department_source,"
                " demand_type, status, centroid, centroid_model, size, first_seen, last_seen,"
                " created_at, updated_at, parent_id, kind) VALUES (?, ?, ?, ?, 'model',"
                " 'failure', 'active', ?, ?, ?, ?, ?, ?, ?, ?, 'fine')",
                [
                    theme,
                    label,
                    [label.split()[0].lower()],
                    "Billing" if theme < 3 else "Field Operations" if theme == 3 else "Network",
                    (centre / np.linalg.norm(centre)).tolist(),
                    MODEL,
                    sum(PER_KIND[theme]),
                    AT,
                    AT,
                    AT,
                    AT,
                    parent,
                ],
            )
        for group, label in GROUPS.items():
            members = [t for t, f in FINE.items() if f[1] == group]
            con.execute(
                "INSERT INTO themes (theme_id, label, department, department_source,"
                " demand_type, status, centroid, centroid_model, size, created_at, updated_at,"
                " kind) SELECT ?, ?, ?, 'model', 'failure', 'active', ?, ?, ?, ?, ?, 'group'",
                [
                    group,
                    label,
                    label,
                    _vector(members[0], 0, 0),
                    MODEL,
                    sum(sum(PER_KIND[t]) for t in members),
                    AT,
                    AT,
                ],
            )
    return path


def voc(db, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == code, result.output
    return result.output


def edit(db, *args: str, code: int = 0) -> str:
    return voc(db, *args, "--actor", "ana", code=code)


def rows(db, sql: str, params: list | None = None) -> list[tuple]:
    with Warehouse(db).read() as con:
        return con.execute(sql, params or []).fetchall()


def theme(db, theme_id: int) -> dict:
    with Warehouse(db).read() as con:
        cur = con.execute(
            "SELECT theme_id, label, kind, status, parent_id, parent_source, origin, size,"
            " merged_into, label_source FROM themes WHERE theme_id = ?",
            [theme_id],
        )
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def contacts(db, theme_id: int) -> set[str]:
    return {
        r[0]
        for r in rows(db, "SELECT feedback_id FROM feedback_themes WHERE theme_id = ?", [theme_id])
    }


def events(db, theme_id: int) -> list[tuple]:
    return rows(
        db,
        "SELECT actor, field, old_value, new_value FROM theme_events WHERE theme_id = ?"
        ' ORDER BY "at", field',
        [theme_id],
    )


def test_voc_themes_shows_top_level_themes_with_their_sub_themes_beneath(db):
    out = voc(db, "themes")
    lines = [line for line in out.splitlines() if "│" in line]
    order = [line.split("│")[1].strip() for line in lines]
    # top-level themes by volume (Billing 20, Network 10, the lone theme 3 7, Unclassified
    # 0), each followed by its sub-themes
    assert order == ["10", "1", "2", "11", "4", "5", "3", "0"]
    billing = next(line for line in lines if line.split("│")[1].strip() == "10")
    assert "Billing (2 sub-themes)" in billing and "20" in billing
    sub = next(line for line in lines if line.split("│")[1].strip() == "1")
    assert "└ Refunds and double charges" in sub and "Billing" in sub  # the top's department

    shown = voc(db, "themes", "show", "10")
    assert "top-level group" in shown and "Refunds and double charges" in shown
    assert "Price went up" in shown and "2 sub-theme(s)" in shown
    assert "under 10: Billing" in voc(db, "themes", "show", "2")
    assert "sub-theme" not in voc(db, "themes", "show", "3").split("\n")[0]


def test_moving_a_sub_theme_under_another_group_out_to_the_top_and_under_a_new_group(db):
    assert "moved under group 11" in edit(db, "themes", "move", "3", "--to", "11")
    assert theme(db, 3)["parent_id"] == 11 and theme(db, 3)["parent_source"] == "analyst"
    assert theme(db, 11)["size"] == 17  # 6 + 4 + 7
    assert events(db, 3) == [("ana", "parent_id", None, "11")]

    edit(db, "themes", "move", "2", "--top")
    assert theme(db, 2)["parent_id"] is None and theme(db, 2)["parent_source"] == "analyst"
    assert theme(db, 10)["status"] == "active" and theme(db, 10)["size"] == 10

    out = edit(db, "themes", "move", "1", "4", "--new-group", "Money and kit")
    new = int(out.split("new group ")[1].split()[0])
    group = theme(db, new)
    assert group["kind"] == "group" and group["origin"] == "analyst"
    assert group["label"] == "Money and kit" and group["size"] == 16
    assert theme(db, 1)["parent_id"] == new and theme(db, 4)["parent_id"] == new
    assert theme(db, 10)["status"] == "dormant"  # a group left with no members
    assert events(db, new) == [("ana", "created", None, "group: Money and kit")]
    assert ("ana", "parent_id", "10", str(new)) in events(db, 1)
    assert "10" not in [
        line.split("│")[1].strip() for line in voc(db, "themes").splitlines() if "│" in line
    ]
    assert "dormant" in voc(db, "themes", "--all")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("move", "10", "--to", "11"), "groups do not move"),
        (("move", "1", "--to", "3"), "only a top-level group holds"),
        (("move", "1", "--to", "10"), "already under group 10"),
        (("move", "3", "--top"), "already at the top level"),
        (("move", "0", "--top"), "Unclassified"),
        (("move", "99", "--top"), "no theme 99"),
        (("merge", "10", "1"), "themes merge only at the same level"),
        (("merge", "3", "11"), "voc themes move 3 --to 11"),
        (("split", "1", "--label", "Only one"), "two labels"),
        (("split", "10", "--going", "4", "--label", "X"), "not live sub-themes of group 10"),
        (("split", "10", "--going", "1", "--going", "2", "--label", "X"), "at least one must stay"),
        (("split", "1", "--keyword", "broadband"), "no contact of this theme says"),
    ],
)
def test_edits_that_make_no_sense_are_refused_with_a_reason(db, args, message):
    before = rows(db, "SELECT * FROM themes ORDER BY theme_id")
    out = edit(db, "themes", *args, code=1)
    assert message in " ".join(out.split()), out
    assert rows(db, "SELECT * FROM themes ORDER BY theme_id") == before
    assert rows(db, "SELECT count(*) FROM theme_events") == [(0,)]


@pytest.mark.parametrize(
    "args",
    [
        ("move", "1", "--new-group", "Network"),  # a live group's label
        ("move", "1", "--new-group", "   "),
        ("split", "10", "--label", "Slow speeds"),
        ("split", "10", "--going", "1"),  # a group split needs the new group's name
        ("move", "1"),  # move where?
        ("rename", "1", "price went UP"),  # another live theme's label, any case
    ],
)
def test_bad_labels_and_missing_choices_are_usage_errors(db, args):
    out = edit(db, "themes", *args, code=2)
    assert "Traceback" not in out
    assert rows(db, "SELECT count(*) FROM theme_events") == [(0,)]


def test_merging_two_groups_moves_the_absorbed_groups_sub_themes(db):
    edit(db, "themes", "merge", "10", "11")
    assert theme(db, 11)["status"] == "merged" and theme(db, 11)["merged_into"] == 10
    assert theme(db, 4)["parent_id"] == 10 and theme(db, 5)["parent_id"] == 10
    assert theme(db, 4)["parent_source"] == "analyst"
    assert theme(db, 10)["size"] == 30
    assert contacts(db, 4) and contacts(db, 5)  # contacts stay in their fine themes
    assert events(db, 11) == [("ana", "merged_into", None, "10")]
    assert ("ana", "parent_id", "11", "10") in events(db, 4)


def test_merging_fine_themes_moves_contacts_and_an_emptied_group_goes_dormant(db):
    moving = contacts(db, 4)
    edit(db, "themes", "merge", "3", "4")  # a sub-theme into a lone theme
    assert moving <= contacts(db, 3) and not contacts(db, 4)
    assert theme(db, 4)["status"] == "merged" and theme(db, 11)["size"] == 4
    edit(db, "themes", "merge", "1", "5")  # across groups: 11 is left empty
    assert theme(db, 11)["status"] == "dormant" and theme(db, 11)["size"] == 0
    assert theme(db, 10)["size"] == 24
    edit(db, "themes", "merge", "3", "5", code=1)  # already merged


def test_splitting_a_sub_theme_by_its_vectors(db):
    refunds = {f"fb{i:03d}" for i in range(1, 7)}
    twice = {f"fb{i:03d}" for i in range(7, 11)}
    out = edit(db, "themes", "split", "1")
    assert "split by vectors" in out
    (a,), (b,) = rows(db, "SELECT theme_id FROM themes WHERE origin = 'analyst' ORDER BY 1")
    assert contacts(db, a) == twice and contacts(db, b) == refunds  # the smaller part first
    for part in (a, b):
        row = theme(db, part)
        assert row["kind"] == "fine" and row["parent_id"] == 10 and row["status"] == "active"
        assert row["origin"] == "analyst"
    assert theme(db, 1)["status"] == "dormant" and not contacts(db, 1)
    assert theme(db, 10)["size"] == 20
    assert events(db, 1) == [("ana", "split", None, f"{a}, {b} (split by vectors)")]
    assert rows(
        db, "SELECT event, theme_id, related_theme_id FROM theme_lineage ORDER BY theme_id"
    ) == [("split", a, 1), ("split", b, 1)]
    assert rows(db, "SELECT count(*) FROM theme_examples WHERE theme_id = 1") == [(0,)]
    assert rows(db, "SELECT count(*) FROM theme_examples WHERE theme_id IN (?, ?)", [a, b]) == [
        (6,)
    ]
    assert "Charged twice" in voc(db, "themes", "show", str(a))


def test_splitting_a_lone_theme_by_keyword_makes_it_the_group_over_its_parts(db):
    out = edit(
        db,
        "themes",
        "split",
        "3",
        "--keyword",
        "engineer",
        "--label",
        "Engineer never came",
        "--label",
        "Appointment missed",
    )
    assert "3 is now the group over them" in out
    assert theme(db, 3)["kind"] == "group" and theme(db, 3)["status"] == "active"
    assert theme(db, 3)["size"] == 7 and not contacts(db, 3)
    never, missed = (
        rows(db, "SELECT theme_id FROM themes WHERE label = ?", [label])[0][0]
        for label in ("Engineer never came", "Appointment missed")
    )
    assert len(contacts(db, never)) == 4 and len(contacts(db, missed)) == 3
    for part in (never, missed):
        row = theme(db, part)
        assert row["parent_id"] == 3 and row["parent_source"] == "analyst"
        assert row["label_source"] == "analyst"


def test_splitting_a_group_by_named_sub_themes_and_by_their_centres(db):
    out = edit(db, "themes", "split", "10", "--going", "2", "--label", "Prices")
    new = int(out.split("new group ")[1].split()[0])
    assert theme(db, 2)["parent_id"] == new and theme(db, 1)["parent_id"] == 10
    assert theme(db, 1)["parent_source"] == "analyst"  # the analyst said it stays
    assert theme(db, new)["origin"] == "analyst" and theme(db, new)["size"] == 10
    assert theme(db, 10)["size"] == 10
    assert ("ana", "split", None, f"{new} (named: 2)") in events(db, 10)

    out = edit(db, "themes", "split", "11", "--label", "Speeds")  # by centres
    speeds = int(out.split("new group ")[1].split()[0])
    assert theme(db, 4)["parent_id"] == 11  # the biggest stays
    assert theme(db, 5)["parent_id"] == speeds


def test_renaming_a_group_is_kept_and_recorded(db):
    edit(db, "themes", "rename", "11", "Network faults")
    assert theme(db, 11)["label"] == "Network faults"
    assert theme(db, 11)["label_source"] == "analyst"
    assert events(db, 11) == [("ana", "label", "Network", "Network faults")]
