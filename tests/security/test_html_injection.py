"""User text (theme labels, keywords, issue titles, owners, root causes, actions, notes,
demand reasons, verbatims, display names) is shown as literal text: on the dashboard no
markdown element turns it into markup, a link or HTML; in the terminal Rich does not read
it as markup.

Streamlit renders titles, headers, markdown, captions, alerts, metric labels *and values*,
and widget/tab/button labels as GitHub-flavoured markdown. For each such string that
carries a payload, the test renders it the same way (markdown-it, raw HTML off) and
requires the visible text to be the payload itself, and the source to be escaped."""

from __future__ import annotations

import re

import pytest
from security_checks import (
    HTML_PAYLOADS,
    PAGES,
    RICH_PAYLOADS,
    everything_rendered,
    markdown_strings,
    payload_id,
    rendered_text,
)
from typer.testing import CliRunner

from warehouse import Warehouse

# a payload plus Streamlit's own markdown extensions (colour directives, icons, LaTeX)
PAYLOADS = [*HTML_PAYLOADS, ":red[red] :material/lock: $x^2$ ![img](https://evil.example/p.png)"]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _plant(sample, viewers, payload: str) -> None:
    """Put ``payload`` in every user-controlled field the pages show."""
    from dashboard import data

    analyst = viewers["analyst"]
    issue = sample.issues["network_overdue"]
    for n, theme_id in enumerate((1, 4, 6)):  # Network's, the emerging one, the one in triage
        # no two live themes share a label: each carries the payload, told apart after it
        data.rename_theme(analyst, theme_id, payload if n == 0 else f"{payload} {n + 1}")
    data.set_theme_demand(analyst, 1, "failure", payload)
    data.update_issue(
        analyst, issue, owner=payload, root_cause=payload, action=payload, note=payload
    )
    with Warehouse(sample.path).write() as con:
        # titles come from theme labels at the weekly review; keywords and verbatims from
        # what customers wrote; display names from `voc users add --name`
        con.execute("UPDATE issues SET title = ? WHERE issue_id = ?", [payload, issue])
        con.execute("UPDATE themes SET keywords = [?, 'drops'] WHERE theme_id = 1", [payload])
        con.execute(
            "UPDATE feedback SET text = ? WHERE feedback_id IN (SELECT feedback_id FROM"
            " theme_examples WHERE theme_id IN (1, 4) AND rank = 1)",
            [payload],
        )
        con.execute("UPDATE users SET name = ? WHERE username = 'admin'", [payload])
    data.clear_caches()


def _literal_problems(at, payload: str, where: str) -> tuple[int, list[str]]:
    """``(how many markdown strings carry payload, what is wrong with them)``."""
    assert not at.exception, f"{where}: {at.exception}"
    carried = 0
    problems = []
    for what, source in markdown_strings(at):
        if payload not in source and payload not in _unescape(source):
            continue
        carried += 1
        rendered, visible = rendered_text(source)
        if payload not in visible:
            problems.append(f"{where}, {what}: {source!r} renders as {rendered.strip()!r}")
        elif payload in source:
            problems.append(f"{where}, {what}: {source!r} reaches markdown unescaped")
        elif re.search(r"<(a|img|script)\b", rendered):
            problems.append(f"{where}, {what}: {source!r} renders {rendered.strip()!r}")
    return carried, problems


def _assert_literal(at, payload: str, where: str) -> int:
    carried, problems = _literal_problems(at, payload, where)
    assert not problems, "user text rendered as markup:\n  " + "\n  ".join(problems)
    return carried


@pytest.mark.parametrize("payload", PAYLOADS, ids=payload_id)
def test_hostile_text_is_literal_on_every_page(dashboard, sample, viewers, payload):
    _plant(sample, viewers, payload)
    issue = sample.issues["network_overdue"]
    problems: list[str] = []

    at = dashboard("admin")  # This week: the emerging theme, its verbatims, the sidebar
    carried, found = _literal_problems(at, payload, "this week")
    problems += found
    assert carried >= 2 and payload in everything_rendered(at)

    at = dashboard("admin", "theme_explorer", query={"theme": "1"})
    assert at.header[0].value and payload in _unescape(at.header[0].value)
    carried, found = _literal_problems(at, payload, "theme explorer")
    problems += found
    assert carried >= 3  # header, keywords, verbatims, demand reason, issue title
    assert payload in [w.value for w in at.text_input]  # the rename box, as a value

    at = dashboard("admin")
    at.session_state["tracker_issue"] = issue
    at.switch_page(PAGES["tracker"]).run()
    assert at.selectbox(key="tracker-issue").value == issue
    carried, found = _literal_problems(at, payload, "tracker")
    problems += found
    assert carried >= 1  # the issue's title
    history = next(d.value for d in at.dataframe if "note" in d.value.columns)
    assert payload in history["note"].to_list()  # the note, as a table cell
    assert payload in [w.value for w in at.text_input]  # owner, as a value

    at = dashboard("analyst", "triage")
    carried, found = _literal_problems(at, payload, "triage")
    problems += found
    assert carried >= 1

    assert not problems, "user text rendered as markup:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("payload", PAYLOADS, ids=payload_id)
def test_the_triage_confirmation_shows_the_label_as_text(dashboard, sample, viewers, payload):
    """Assigning a theme in triage confirms it with its label: the label stays text."""
    from dashboard import data

    data.rename_theme(viewers["analyst"], 6, payload)
    at = dashboard("analyst", "triage")
    at.selectbox(key="triage-theme-6").set_value("Digital").run()
    at.button(key="triage-assign-6").click().run()
    assert not at.exception, at.exception
    assert at.success, "no confirmation shown"
    _assert_literal(at, payload, "triage confirmation")


def test_hostile_sign_in_values_are_shown_as_nothing_but_a_refusal(dashboard):
    at = dashboard(None)
    for payload in HTML_PAYLOADS:
        at.text_input[0].input(payload)
        at.text_input[1].input(payload)
        next(b for b in at.button if b.label == "Sign in").click().run()
        assert not at.exception, at.exception
        assert at.session_state["authentication_status"] is False
        assert any("do not match" in e.value for e in at.error)
        for what, source in markdown_strings(at):
            assert payload not in source, f"the sign-in page echoes the input in {what}"


# --------------------------------------------------------------------------- terminal
runner = CliRunner(env={"COLUMNS": "400"})


def _voc(*args: str):
    from flows.cli import app

    return runner.invoke(app, list(args))


@pytest.mark.parametrize("payload", RICH_PAYLOADS + HTML_PAYLOADS, ids=payload_id)
def test_the_cli_prints_hostile_values_as_text(sample, payload):
    db = str(sample.path)
    issue = str(sample.issues["network_overdue"])
    checks = []
    result = _voc("issues", "update", issue, f"--owner={payload}", "--db", db)
    checks.append(("issues update", result))
    result = _voc("themes", "rename", "1", payload, "--db", db)
    checks.append(("themes rename", result))
    checks.append(("themes", _voc("themes", "--db", db)))
    checks.append(("themes show", _voc("themes", "show", "1", "--db", db)))
    checks.append(("issues list", _voc("issues", "list", "--db", db)))
    checks.append(("issues history", _voc("issues", "history", issue, "--db", db)))
    problems = []
    for what, result in checks:
        if result.exit_code != 0:
            problems.append(f"{what}: exit {result.exit_code}: {result.exception!r}")
        elif payload not in result.output:
            problems.append(f"{what}: the value is not printed as typed")
    stored = Warehouse(sample.path)
    with stored.read() as con:
        owner, label = con.execute(
            "SELECT i.owner, t.label FROM issues AS i JOIN themes AS t ON t.theme_id = 1"
            " WHERE i.issue_id = ?",
            [int(issue)],
        ).fetchall()[0]
    assert (owner, label) == (payload, payload)
    assert not problems, "\n".join(problems)
