"""Triage: themes and items no department owns yet, and routes made with low confidence.
Assigning one takes a click; routing learns from every assignment."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data
from dashboard.auth import current_viewer
from dashboard.components import download_button, flash, md, pct, save

viewer = current_viewer()
if not viewer.can_triage:  # the router does not offer it; data.py refuses it too
    st.error("Triage is for the insight team.", icon=":material/lock:")
    st.stop()
queue = data.triage_queue(viewer)
departments = data.filter_options(viewer).departments

st.title("Triage")
st.caption(
    "Every assignment here is kept by later runs and becomes an example routing learns "
    f"from. Routes below {data.LOW_CONFIDENCE:.0%} confidence are shown for you to confirm."
)
flash()

m1, m2, m3, m4 = st.columns(4)
m1.metric("Themes needing a department", queue.themes.height, border=True)
m2.metric("Low-confidence theme routes", queue.low_confidence_themes.height, border=True)
m3.metric("Contacts needing a department", f"{queue.needs_triage:,}", border=True)
m4.metric("Low-confidence contact routes", f"{queue.low_confidence:,}", border=True)
if not departments:
    st.warning(
        "No departments are loaded yet: the weekly review loads them from the departments file."
    )
    st.stop()

# ------------------------------------------------------------------ themes in triage
st.subheader("Themes without a department")
if not queue.themes.height:
    st.success("Every theme has a department.", icon=":material/check:")
for row in queue.themes.head(25).iter_rows(named=True):
    theme_id = row["theme_id"]
    with st.container(border=True):
        text, pick, go = st.columns([4, 2, 1], vertical_alignment="bottom")
        text.markdown(f"**{md(row['label'])}** · #{theme_id} · {row['size']:,} contacts")
        guess = row["suggested_department"]
        hint = (
            f"Best guess: {md(guess)} ({pct(row['confidence'], 0)})"
            if guess
            else "No confident guess"
        )
        keywords = ", ".join(md(k) for k in (row["keywords"] or [])[:8])
        text.caption(f"{hint} · {keywords}")
        department = pick.selectbox(
            "Department",
            departments,
            index=departments.index(guess) if guess in departments else None,
            key=f"triage-theme-{theme_id}",
            placeholder="Choose…",
            label_visibility="collapsed",
        )
        if go.button(
            "Assign", key=f"triage-assign-{theme_id}", type="primary", disabled=department is None
        ):
            if save(
                lambda theme_id=theme_id, department=department: data.assign_theme_department(
                    viewer, theme_id, department
                ),
                f"{row['label']} → {department}",
            ):
                st.rerun()
if queue.themes.height > 25:
    st.caption(f"…and {queue.themes.height - 25} more (in the CSV).")
download_button(queue.themes, key="triage-themes", file_name="triage-themes.csv")


def _editable_routes(frame: pl.DataFrame, *, key: str, id_column: str, columns: dict) -> dict:
    """A table whose "Route to" column assigns on change; returns {row id: department}."""
    version = st.session_state.setdefault(f"{key}-version", 0)
    editor_key = f"{key}-{version}"
    grid = frame.with_columns(route_to=pl.lit(None, dtype=pl.String))
    st.data_editor(
        grid.select(["route_to", *columns]),
        key=editor_key,
        hide_index=True,
        disabled=list(columns),
        column_config={
            **columns,
            "route_to": st.column_config.SelectboxColumn("Route to", options=departments),
        },
    )
    edits = (st.session_state.get(editor_key) or {}).get("edited_rows") or {}
    picked = {
        grid[id_column][int(position)]: change["route_to"]
        for position, change in edits.items()
        if change.get("route_to")
    }
    if picked:
        st.session_state[f"{key}-version"] = version + 1
    return picked


# --------------------------------------------------------------- low-confidence themes
st.subheader("Low-confidence theme routes")
if not queue.low_confidence_themes.height:
    st.caption("None: every routed theme is above the confidence threshold or confirmed.")
else:
    chosen = _editable_routes(
        queue.low_confidence_themes,
        key="triage-low-themes",
        id_column="theme_id",
        columns={
            "theme_id": st.column_config.NumberColumn("#", width="small"),
            "label": st.column_config.TextColumn("Theme", width="large"),
            "size": st.column_config.NumberColumn("Contacts"),
            "department": st.column_config.TextColumn("Routed to"),
            "confidence": st.column_config.ProgressColumn(
                "Confidence", min_value=0, max_value=1, format="percent"
            ),
        },
    )
    done = sum(
        save(
            lambda theme_id=theme_id, department=department: data.assign_theme_department(
                viewer, int(theme_id), department
            ),
            "Routed.",
        )
        for theme_id, department in chosen.items()
    )
    if chosen and done == len(chosen):
        st.session_state["voc-flash"] = f"Routed {done} theme(s)."
        st.rerun()
    download_button(
        queue.low_confidence_themes, key="triage-low-themes", file_name="low-confidence-themes.csv"
    )

# ----------------------------------------------------------------------------- items
st.subheader("Contacts to route")
if not queue.items.height:
    st.success("No contact is waiting for a department.", icon=":material/check:")
else:
    st.caption(
        f"The {queue.items.height:,} most uncertain of {queue.needs_triage + queue.low_confidence:,}: "
        "pick a department in “Route to” and it is saved."
    )
    chosen = _editable_routes(
        queue.items,
        key="triage-items",
        id_column="feedback_id",
        columns={
            "text": st.column_config.TextColumn("Contact", width="large"),
            "theme_label": st.column_config.TextColumn("Theme"),
            "channel": st.column_config.TextColumn("Channel", width="small"),
            "received_at": st.column_config.DatetimeColumn("Received", format="YYYY-MM-DD"),
            "department": st.column_config.TextColumn("Routed to"),
            "confidence": st.column_config.ProgressColumn(
                "Confidence", min_value=0, max_value=1, format="percent"
            ),
        },
    )
    done = sum(
        save(
            lambda feedback_id=feedback_id, department=department: data.route_item(
                viewer, feedback_id, department
            ),
            "Routed.",
        )
        for feedback_id, department in chosen.items()
    )
    if chosen and done == len(chosen):
        st.session_state["voc-flash"] = f"Routed {done} contact(s)."
        st.rerun()
    download_button(queue.items, key="triage-items", file_name="contacts-to-route.csv")
