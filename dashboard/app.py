"""voc dashboard: sign in, then the pages this person's role may open.

    voc dashboard [--port 8501] [--db data/voc.duckdb]

Pages only lay out; they get data from ``dashboard.data`` (which also refuses what a
role may not see) and sign-in lives in ``dashboard.auth``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data
from dashboard.components import md
from dashboard.data import Viewer

st.set_page_config(
    page_title="voc — voice of the customer",
    page_icon=":material/forum:",
    layout="wide",
    initial_sidebar_state="expanded",
)
# a product, not a development server: no "Deploy" button in the toolbar
st.set_option("client.toolbarMode", "viewer")


def pages_for(viewer: Viewer | None) -> dict[str, list]:
    """The navigation a viewer gets (``None``: every page, registered but not shown, so
    a link such as ``/issues`` survives the sign-in form).

    URL paths differ from the file names on purpose: with a ``pages/`` folder beside
    app.py, Streamlit's first run in a new server process resolves a URL against the
    files, and would run e.g. pages/tracker.py without this router in front of it."""
    this_week = st.Page(
        "pages/this_week.py",
        title="This week",
        icon=":material/insights:",
        url_path="this-week",
        default=True,
    )
    explorer = st.Page(
        "pages/theme_explorer.py",
        title="Theme explorer",
        icon=":material/topic:",
        url_path="themes",
    )
    cost = st.Page(
        "pages/cost.py",
        title="Cost of failure demand",
        icon=":material/payments:",
        url_path="failure-cost",
    )
    tracker = st.Page(
        "pages/tracker.py",
        title="My department" if viewer and viewer.is_head else "Issue tracker",
        icon=":material/assignment:",
        url_path="issues",
    )
    triage = st.Page(
        "pages/triage.py", title="Triage", icon=":material/alt_route:", url_path="triage-queue"
    )
    quality = st.Page(
        "pages/data_quality.py",
        title="Data quality",
        icon=":material/fact_check:",
        url_path="data-quality",
    )
    urgent = st.Page(
        "pages/urgent.py",
        title="Urgent",
        icon=":material/notification_important:",
        url_path="urgent",
    )
    sections: dict[str, list] = {"Insight": [this_week, explorer, cost], "Action": [tracker]}
    if viewer is None or viewer.can_triage:
        sections["Action"] = [triage, tracker]
    sections["Action"].insert(0, urgent)  # everyone: a head sees their department's
    if viewer is None or viewer.can_see_data_quality:
        sections["Pipeline"] = [quality]
    return sections


try:
    viewer = auth.sign_in(data.warehouse())
except data.WarehouseBusy:
    st.warning("The pipeline is writing to the warehouse; refresh this page in a moment.")
    st.stop()
except data.WarehouseError as exc:
    st.error(f"The warehouse cannot be opened: {md(exc)}")
    st.stop()
if viewer is None:
    st.navigation(pages_for(None), position="hidden")  # not run: sign in first
    st.stop()

page = st.navigation(pages_for(viewer), position="sidebar", expanded=True)
try:
    page.run()
except PermissionError as exc:
    st.error(f"Not available to you: {md(exc)}", icon=":material/lock:")
except data.WarehouseBusy:
    st.warning(
        "The pipeline is writing to the warehouse and has held it for a while; this page "
        "loads as soon as it finishes. Refresh in a moment.",
        icon=":material/hourglass_top:",
    )
except data.WarehouseError as exc:
    st.error(f"The warehouse cannot be read: {md(exc)}", icon=":material/error:")
