"""SQL injection: classic payloads in every field a person controls are stored as text
(bound parameters throughout). After each, every table still exists with the expected
number of rows and the payload is stored verbatim where it belongs.

Fields: issue owner / root cause / action / note / actor (``voc issues update`` and
dashboard.data.update_issue), theme labels (``voc themes rename``, data.rename_theme),
demand reasons, department names (``voc themes assign``, ``voc issues list
--department``, the dashboard's filters), ``--map`` column names and roles, CSV headers,
cells and file names in an ingested folder, and usernames / passwords / names at sign-in
(warehouse.users)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest
import yaml
from security_checks import (
    SQL_PAYLOADS,
    assert_intact,
    fetch,
    payload_id,
    table_counts,
)
from typer.testing import CliRunner

from warehouse import Warehouse

runner = CliRunner(env={"COLUMNS": "400"})
# a NUL byte makes a CSV a binary file (quarantined whole, checked separately)
TEXT_PAYLOADS = [p for p in SQL_PAYLOADS if "\x00" not in p]


def voc(*args: str, code: int | None = 0):
    from flows.cli import app

    result = runner.invoke(app, list(args))
    if code is not None:
        assert result.exit_code == code, (result.output, result.exception)
    return result


def _schema_tables(tmp_path: Path) -> set[str]:
    wh = Warehouse(tmp_path / "empty" / "voc.duckdb")
    wh.ensure_schema()
    return set(table_counts(wh.path))


# ------------------------------------------------------------------------- the tracker
@pytest.mark.parametrize("payload", SQL_PAYLOADS, ids=payload_id)
def test_issue_fields_via_the_cli(sample, payload):
    issue = sample.issues["billing_new"]
    before = table_counts(sample.path)
    voc(
        "issues",
        "update",
        str(issue),
        "--db",
        str(sample.path),
        f"--owner={payload}",
        f"--root-cause={payload}",
        f"--action={payload}",
        f"--note={payload}",
        f"--actor={payload}",
    )
    assert_intact(sample.path, before, changed={"issue_events": 3})
    row = fetch(
        sample.path, "SELECT owner, root_cause, action FROM issues WHERE issue_id = ?", [issue]
    )
    assert row == [(payload, payload, payload)]
    events = fetch(
        sample.path,
        "SELECT actor, field, new_value, note FROM issue_events WHERE issue_id = ? AND actor = ?"
        " ORDER BY field",
        [issue, payload],
    )
    assert events == [(payload, f, payload, payload) for f in ("action", "owner", "root_cause")]
    history = voc("issues", "history", str(issue), "--db", str(sample.path)).output
    assert payload.replace("\x00", "") in history.replace("\x00", "")


def test_issue_ids_that_are_not_numbers_are_refused(sample):
    before = table_counts(sample.path)
    for payload in ("1 OR 1=1", "1; DROP TABLE issues", "$1", "?"):
        voc("issues", "update", payload, "--owner=x", "--db", str(sample.path), code=2)
        voc("issues", "history", payload, "--db", str(sample.path), code=2)
        voc("themes", "rename", payload, "label", "--db", str(sample.path), code=2)
    assert_intact(sample.path, before)


@pytest.mark.parametrize("payload", SQL_PAYLOADS, ids=payload_id)
def test_issue_fields_via_the_dashboard(sample, viewers, payload):
    from dashboard import data

    issue = sample.issues["network_overdue"]
    before = table_counts(sample.path)
    row = data.update_issue(
        viewers["analyst"],
        issue,
        owner=payload,
        root_cause=payload,
        action=payload,
        note=payload,
    )
    assert (row["owner"], row["root_cause"], row["action"]) == (payload, payload, payload)
    # a head edits their own issue the same way
    row = data.update_issue(viewers["network"], issue, note=payload, action=payload + " v2")
    assert row["action"] == payload + " v2"
    assert_intact(sample.path, before, changed={"issue_events": 4})
    notes = fetch(
        sample.path,
        "SELECT DISTINCT note FROM issue_events WHERE issue_id = ? AND note = ?",
        [issue, payload],
    )
    assert notes == [(payload,)]
    detail = data.issue_detail(viewers["network"], issue)
    assert payload in detail.history["note"].to_list()


@pytest.mark.parametrize("payload", SQL_PAYLOADS, ids=payload_id)
def test_department_filters_are_values(sample, viewers, payload):
    """A hostile department or channel name in a filter matches nothing and breaks
    nothing; the same name stored on an issue is listed as that issue's department."""
    from dashboard import data

    analyst = viewers["analyst"]
    before = table_counts(sample.path)
    week = data.filter_options(analyst).weeks[0]
    assert data.issues(analyst, payload).height == 0
    assert data.this_week(analyst, week, [payload], [payload]).themes.height == 0
    assert data.cost(analyst, week, [payload]).chargeback.height == 0
    assert data.department_owners(analyst, payload) == ["admin", "analyst"]
    result = voc("issues", "list", f"--department={payload}", "--db", str(sample.path))
    assert "Duplicate direct debits" not in result.output
    assert_intact(sample.path, before)
    # stored on an issue (the analyst reroutes it), it is one department like any other
    issue = sample.issues["billing_new"]
    data.update_issue(analyst, issue, department=payload)
    assert data.issues(analyst, payload)["issue_id"].to_list() == [issue]
    listed = voc("issues", "list", f"--department={payload}", "--db", str(sample.path)).output
    assert "Charged twice for the same month" in listed  # its theme's label
    assert "Evening drop-outs" not in listed and "Hold times" not in listed
    head = data.Viewer("head.x", "Head X", "head", payload)
    assert data.issues(head)["issue_id"].to_list() == [issue]
    with pytest.raises(PermissionError):
        data.issues(head, "Billing")


# -------------------------------------------------------------------------- themes
@pytest.mark.parametrize("payload", SQL_PAYLOADS, ids=payload_id)
def test_theme_labels_via_the_cli(sample, payload):
    before = table_counts(sample.path)
    voc("themes", "rename", "--db", str(sample.path), "--", "3", payload)
    assert_intact(sample.path, before, changed={"theme_events": 1})
    assert fetch(sample.path, "SELECT label FROM themes WHERE theme_id = 3") == [(payload,)]
    assert fetch(
        sample.path,
        "SELECT new_value FROM theme_events WHERE theme_id = 3 AND field = 'label'"
        ' ORDER BY "at" DESC LIMIT 1',
    ) == [(payload,)]


@pytest.mark.parametrize("payload", SQL_PAYLOADS, ids=payload_id)
def test_theme_labels_and_reasons_via_the_dashboard(sample, viewers, payload):
    from dashboard import data

    analyst = viewers["analyst"]
    before = table_counts(sample.path)
    data.rename_theme(analyst, 3, payload)
    data.set_theme_demand(analyst, 3, "value", payload)
    assert_intact(sample.path, before, changed={"theme_events": 2})
    label, reason = fetch(
        sample.path, "SELECT label, demand_reason FROM themes WHERE theme_id = 3"
    )[0]
    expected = " ".join(payload.split())  # the dashboard folds runs of whitespace
    assert (label, reason) == (expected, expected)
    assert data.theme_page(analyst, 3).detail["label"] == expected
    # as a department, a feedback id or a demand type, the same text is refused, not run
    for call in (
        lambda: data.assign_theme_department(analyst, 3, payload),
        lambda: data.route_item(analyst, "fb00001", payload),
        lambda: data.route_item(analyst, payload, "Network"),
        lambda: data.set_theme_demand(analyst, 3, payload),
    ):
        with pytest.raises(data.EditRejected):
            call()
    assert_intact(sample.path, before, changed={"theme_events": 2})


@pytest.mark.parametrize("payload", SQL_PAYLOADS, ids=payload_id)
def test_department_names_via_themes_assign(sample, tmp_path, payload):
    """Unknown to the departments file, the name is refused; listed in it, it is stored
    verbatim and routing learns from it."""
    db = str(sample.path)
    before = table_counts(sample.path)
    voc("themes", "assign", "--db", db, "--", "6", payload, code=1)
    assert_intact(sample.path, before)

    book = yaml.safe_load((Path(__file__).parents[2] / "flows" / "departments.yaml").read_text())
    book["departments"][0]["name"] = payload
    departments = tmp_path / "departments.yaml"
    departments.write_text(yaml.safe_dump(book, allow_unicode=True))
    stored = " ".join(payload.split())  # the departments file folds whitespace in names
    voc("themes", "assign", "--db", db, f"--departments={departments}", "--", "6", payload)
    assert fetch(sample.path, "SELECT department FROM themes WHERE theme_id = 6") == [(stored,)]
    after = table_counts(sample.path)
    assert set(after) == set(before)
    assert after["feedback"] == before["feedback"] and after["issues"] == before["issues"]
    assert after["theme_events"] == before["theme_events"] + 1
    routed = fetch(
        sample.path,
        "SELECT count(*) FROM feedback_departments AS d JOIN feedback_themes USING (feedback_id)"
        " WHERE theme_id = 6 AND d.department = ?",
        [stored],
    )[0][0]
    members = fetch(sample.path, "SELECT count(*) FROM feedback_themes WHERE theme_id = 6")
    assert routed == members[0][0]  # every contact of theme 6 followed it


# --------------------------------------------------------------------------- sign-in
@pytest.fixture
def fast_bcrypt(monkeypatch):
    """New hashes with bcrypt's lowest cost: the test is about values, not hash strength."""
    import bcrypt

    gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda *args, **kwargs: gensalt(4))


@pytest.mark.parametrize("payload", SQL_PAYLOADS, ids=payload_id)
def test_sign_in_values_are_data(sample, fast_bcrypt, payload):
    from warehouse import users

    wh = Warehouse(sample.path)
    before = table_counts(sample.path)
    assert users.verify_user(wh, payload, payload) is None
    assert users.verify_user(wh, "admin", payload) is None
    assert users.verify_user(wh, "admin' --", "x") is None
    assert users.get_viewer(wh, payload) is None
    with pytest.raises(ValueError, match="username"):
        users.create_user(wh, payload, payload, "analyst", payload + "-long-enough")
    assert_intact(sample.path, before)

    password = payload + "-long-enough"
    viewer = users.create_user(
        wh, "mallory", payload, "head", password, department=payload, email=payload
    )
    assert_intact(sample.path, before, changed={"users": 1})
    row = fetch(
        sample.path,
        "SELECT name, email, department, password_hash FROM users WHERE username = 'mallory'",
    )[0]
    assert row[:3] == (" ".join(payload.split()), payload, payload)
    assert row[3].startswith("$2") and password not in row[3]
    assert users.verify_user(wh, "mallory", password) == viewer
    assert users.verify_user(wh, "mallory", payload) is None
    users.set_password(wh, "mallory", password[::-1])
    assert users.verify_user(wh, "mallory", password[::-1]) == viewer
    with pytest.raises(ValueError):
        users.set_password(wh, payload, "long-enough-password")


def test_an_overlong_password_is_refused_not_raised(sample):
    """bcrypt 5 raises for passwords over 72 bytes: signing in with one must simply fail."""
    from warehouse import users

    wh = Warehouse(sample.path)
    assert users.verify_user(wh, "admin", "x" * 100) is None


@pytest.mark.parametrize("payload", SQL_PAYLOADS[:6], ids=payload_id)
def test_sign_in_form_with_hostile_values(dashboard, sample, payload):
    before = table_counts(sample.path)
    at = dashboard(None)
    at.text_input[0].input(payload)
    at.text_input[1].input(payload)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    assert at.session_state["authentication_status"] is False
    at.text_input[0].input("admin")
    at.text_input[1].input(payload)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    assert at.session_state["authentication_status"] is False
    assert_intact(sample.path, before)


@pytest.mark.parametrize("payload", SQL_PAYLOADS[:4], ids=payload_id)
def test_users_add_via_the_cli(tmp_path, fast_bcrypt, payload):
    db = tmp_path / "voc.duckdb"
    from flows.cli import app

    result = runner.invoke(
        app,
        [
            "users",
            "add",
            "mallory",
            "--role=head",
            f"--department={payload}",
            f"--name={payload}",
            "--password-stdin",
            "--db",
            str(db),
        ],
        input="correct horse battery staple\n",
    )
    assert result.exit_code == 0, result.output
    assert fetch(db, "SELECT department, name FROM users") == [(payload, payload)]
    bad = runner.invoke(
        app,
        ["users", "add", payload, "--role=analyst", "--password-stdin", "--db", str(db)],
        input="correct horse battery staple\n",
    )
    assert bad.exit_code == 1 and "username" in bad.output
    assert table_counts(db)["users"] == 1


# ---------------------------------------------------------------------------- ingest
def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _file_name(payload: str) -> str:
    return payload.replace("/", "_").replace("\x00", "_") + ".csv"


def _expected_text(text: str) -> str:
    from flows.intake.pii import clean_text, redact

    return redact(clean_text(pl.Series([text]))).to_list()[0]


def test_hostile_headers_cells_and_file_names_in_an_ingested_folder(prefect_server, tmp_path):
    """One folder: per payload a file named after it, with the payload as the id, the
    customer, part of the text and the name of an extra column."""
    surveys = tmp_path / "inbox" / "surveys"
    surveys.mkdir(parents=True)
    for i, payload in enumerate(SQL_PAYLOADS):
        (surveys / _file_name(payload)).write_bytes(
            _csv(
                ["ResponseId", "RecordedDate", "NPS", "Email", "Comment", payload],
                [
                    [
                        payload,
                        f"2026-10-{i + 1:02d} 09:00:00",
                        "3",
                        payload,
                        f"Comment {payload} end",
                        payload,
                    ]
                ],
            )
        )
    db = tmp_path / "voc.duckdb"
    voc("ingest", str(tmp_path / "inbox"), "--db", str(db))
    tables = table_counts(db)
    assert set(tables) == _schema_tables(tmp_path)
    problems = []
    for payload in SQL_PAYLOADS:
        source_file = f"inbox/surveys/{_file_name(payload)}"
        if "\x00" in payload:
            reasons = fetch(
                db, "SELECT reason FROM quarantine WHERE source_file = ?", [source_file]
            )
            assert len(reasons) == 1 and "NUL" in reasons[0][0], reasons
            continue
        source_file = f"inbox/surveys/{_file_name(payload)}"
        rows = fetch(
            db,
            "SELECT source_ref, text, customer_ref FROM feedback WHERE source_file = ?",
            [source_file],
        )
        if rows != [
            (payload, _expected_text(f"Comment {payload} end"), rows[0][2] if rows else None)
        ]:
            problems.append(f"{payload!r}: stored as {rows!r}")
        elif rows[0][2] in (None, payload) or len(rows[0][2]) < 16:
            problems.append(f"{payload!r}: customer_ref is {rows[0][2]!r}, not a keyed hash")
    assert not problems, "\n".join(problems)
    assert tables["feedback"] == len(TEXT_PAYLOADS)
    assert tables["quarantine"] == len(SQL_PAYLOADS) - len(TEXT_PAYLOADS)
    runs = fetch(db, "SELECT source_file FROM ingest_runs ORDER BY source_file")
    assert sorted(r[0] for r in runs) == sorted(
        f"inbox/surveys/{_file_name(p)}" for p in SQL_PAYLOADS
    )


@pytest.mark.parametrize("payload", TEXT_PAYLOADS, ids=payload_id)
def test_map_names_a_hostile_column(prefect_server, tmp_path, payload):
    """``--map text=<payload>`` picks the column whose header is exactly the payload."""
    complaints = tmp_path / "complaints"
    complaints.mkdir()
    (complaints / "export.csv").write_bytes(
        _csv(
            ["Complaint ID", "Date received", "Issue", payload],
            [["C1", "2026-10-01", "Other", "The engineer never came and nobody called back"]],
        )
    )
    db = tmp_path / "voc.duckdb"
    result = voc("ingest", str(complaints), f"--map=text={payload}", "--db", str(db))
    assert set(table_counts(db)) == _schema_tables(tmp_path)
    texts = fetch(db, "SELECT text FROM feedback")
    reasons = fetch(db, "SELECT reason FROM quarantine")
    assert texts == [("The engineer never came and nobody called back",)], (
        f"--map text={payload!r} did not pick the column named {payload!r}: "
        f"quarantine {reasons}; output {result.output[-600:]}"
    )


@pytest.mark.parametrize("payload", ["'); DROP TABLE feedback;--", "$1", "?", "text OR 1=1"])
def test_map_roles_that_are_not_roles_are_refused(tmp_path, payload):
    inbox = tmp_path / "surveys"
    inbox.mkdir()
    (inbox / "nps.csv").write_text("id,comment\n1,fine thanks for asking\n")
    db = tmp_path / "voc.duckdb"
    result = voc("ingest", str(inbox), f"--map={payload}=comment", "--db", str(db), code=2)
    assert "unknown" in result.output or "role=column" in result.output
    assert not db.exists() or table_counts(db).get("feedback", 0) == 0
