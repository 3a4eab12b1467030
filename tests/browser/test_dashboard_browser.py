"""The dashboard in a real Chromium: a department head changes an issue's status and it is
still changed after a reload; an analyst sees the weekly charts. A screenshot of every
page is saved in artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from warehouse import Warehouse

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a real Chromium: the full run only

DEMO_PASSWORD = "lumen-demo-2026"  # documented in the README; dashboard.auth.DEMO_PASSWORD
TIMEOUT = 30_000  # ms: a cold Streamlit page on a busy 2-core CI runner


def _sign_in(browser, url: str, username: str):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(url)
    # the sign-in page re-runs once its cookie component reports; typing before that can
    # be wiped by the re-run (a person is never that fast), so settle and, if need be, retry
    page.locator('iframe[title*="CookieManager"]').first.wait_for(state="attached")
    for attempt in range(3):
        _settle(page)
        page.get_by_role("textbox", name="Username").fill(username)
        page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        try:
            page.get_by_role("heading", name="This week").wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    # the "stay signed in" cookie is written by a component just after sign-in
    for _ in range(100):
        if any(c["name"] == "voc_auth" for c in context.cookies()):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the sign-in cookie was never set")
    _settle(page)
    return context, page


def _settle(page) -> None:
    """Wait until Streamlit has finished running the script for this page."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    page.wait_for_load_state("networkidle")


def _choose(page, combobox, option: str) -> None:
    """Pick ``option`` in a Streamlit selectbox. A click that lands while Streamlit is
    re-rendering the widget is swallowed, so try again rather than wait forever."""
    for _ in range(5):
        combobox.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=3000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        if combobox.input_value() == option:
            return
    raise AssertionError(f"could not choose {option!r}")


def test_a_head_changes_an_issue_status_and_it_persists(dashboard, browser, screenshot):
    url, sample = dashboard
    issue_id = sample.issues["network_overdue"]
    context, page = _sign_in(browser, url, "head.network")
    try:
        page.get_by_role("link", name="My department").click()
        page.get_by_role("heading", name="My department: Network").wait_for()
        _settle(page)
        screenshot(page, "my-department")
        form = page.locator('[data-testid="stForm"]')
        _choose(page, form.get_by_role("combobox", name="Status"), "fixed")
        form.get_by_role("button", name="Save changes").click()
        page.get_by_text(f"Issue #{issue_id} saved.").wait_for()

        page.reload()  # a new session: signed in again by the cookie, on the same page
        page.get_by_role("heading", name="My department: Network").wait_for()
        _settle(page)
        issue = page.get_by_role("combobox", name="Issue")
        assert "(fixed)" in issue.input_value()
        status = page.locator('[data-testid="stForm"]').get_by_role("combobox", name="Status")
        assert status.input_value() == "fixed"
        screenshot(page, "my-department-after-edit")
    finally:
        context.close()
    with Warehouse(sample.path, lock_timeout=30).read() as con:
        assert con.execute(
            "SELECT status FROM issues WHERE issue_id = ?", [issue_id]
        ).fetchall() == [("fixed",)]
        assert con.execute(
            "SELECT actor, old_value, new_value FROM issue_events"
            " WHERE issue_id = ? AND field = 'status' ORDER BY \"at\" DESC LIMIT 1",
            [issue_id],
        ).fetchall() == [("head.network", "in_progress", "fixed")]


def test_a_head_is_not_offered_other_pages(dashboard, browser):
    url, _ = dashboard
    context, page = _sign_in(browser, url, "head.network")
    try:
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.get_by_role("link", name="My department").count() == 1
        assert nav.get_by_role("link", name="Triage").count() == 0
        assert nav.get_by_role("link", name="Data quality").count() == 0
        page.goto(f"{url}/triage-queue")  # typing the address does not open it either
        page.get_by_role("heading", name="This week").wait_for()
        assert page.get_by_role("heading", name="Triage").count() == 0
    finally:
        context.close()


def test_an_analyst_sees_the_weekly_chart_and_every_page(dashboard, browser, screenshot):
    url, _ = dashboard
    context, page = _sign_in(browser, url, "analyst")
    try:
        _settle(page)
        page.get_by_role("heading", name="Trend per theme").wait_for()
        charts = page.locator('[data-testid="stVegaLiteChart"]')
        assert charts.count() >= 3  # top by volume, top by cost, trend per theme
        charts.last.locator("canvas, svg").first.wait_for()
        assert page.get_by_text("App login loop after password reset").first.is_visible()
        screenshot(page, "this-week")
        for link, heading, name in [
            ("Theme explorer", "Theme explorer", "theme-explorer"),
            ("Triage", "Triage", "triage"),
            ("Issue tracker", "Issue tracker", "issue-tracker"),
            ("Cost of failure demand", "Cost of failure demand", "cost-of-failure-demand"),
            ("Data quality", "Data quality", "data-quality"),
        ]:
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link).click()
            page.get_by_role("heading", name=heading, exact=True).wait_for()
            _settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, name
            screenshot(page, name)
    finally:
        context.close()
