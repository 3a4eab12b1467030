"""Data quality: what each ingest run read, loaded, skipped as a duplicate or
quarantined (with the reasons, downloadable), rows per channel and week, and contacts per
language."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.auth import current_viewer
from dashboard.components import download_button, empty, table, when

viewer = current_viewer()
if not viewer.can_see_data_quality:  # the router does not offer it; data.py refuses it too
    st.error("Data quality is for the insight team and admins.", icon=":material/lock:")
    st.stop()
quality = data.data_quality(viewer)

st.title("Data quality")
runs = quality.runs
if not runs.height:
    empty("Nothing ingested yet: `voc ingest PATH` (or `voc demo`) loads the first files.")
    st.stop()

m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Files ingested", f"{runs.height:,}", border=True)
m2.metric("Rows read", f"{int(runs['rows_read'].sum()):,}", border=True)
m3.metric("Loaded", f"{int(runs['rows_loaded'].sum()):,}", border=True)
m4.metric("Duplicates skipped", f"{int(runs['rows_duplicate'].sum()):,}", border=True)
m5.metric(
    "Quarantined",
    f"{int(runs['rows_quarantined'].sum()):,}",
    help="Records that could not be loaded, each kept with its reason.",
    border=True,
)
st.caption(f"Last ingest finished {when(runs['finished_at'].max())} UTC.")

st.subheader("Rows per channel and week")
per_week = quality.rows_per_channel_week
if per_week.height:
    st.altair_chart(charts.rows_per_channel_week(per_week), key="quality-rows-chart")
    pivot = (
        per_week.pivot(on="channel", index="week", values="contacts", aggregate_function="sum")
        .fill_null(0)
        .sort("week", descending=True)
    )
    table(pivot, key="quality-rows", file_name="rows-per-channel-and-week.csv", height=280)

st.subheader("Contacts by language")
if quality.languages.height:
    table(
        quality.languages,
        key="quality-languages",
        file_name="contacts-by-language.csv",
        column_config={
            "language": st.column_config.TextColumn(
                "Language", help="ISO 639-1 code; 'und' where a text is too short to tell"
            ),
            "share_pct": st.column_config.NumberColumn("Share", format="%.1f%%"),
        },
        height=200,
    )

st.subheader("Quarantine")
if not quality.quarantine.height:
    st.success("Nothing quarantined.", icon=":material/check:")
else:
    left, right = st.columns([1, 2])
    with left:
        st.altair_chart(charts.quarantine_reasons(quality.reasons), key="quality-reasons-chart")
    with right:
        table(quality.reasons, key="quality-reasons", file_name="quarantine-by-reason.csv")
    codes = quality.reasons["reason_code"].to_list()
    picked = st.multiselect(
        "Reasons", codes, key="quality-reason-filter", placeholder="All reasons"
    )
    records = (
        quality.quarantine.filter(pl.col("reason_code").is_in(picked))
        if picked
        else quality.quarantine
    )
    table(
        records,
        key="quality-quarantine",
        file_name="quarantine.csv",
        column_config={
            "raw_excerpt": st.column_config.TextColumn("Excerpt (redacted)", width="large"),
            "reason": st.column_config.TextColumn("Reason", width="medium"),
        },
        height=320,
    )

st.subheader("Ingest runs")
table(
    runs,
    key="quality-runs",
    file_name="ingest-runs.csv",
    column_config={
        "seconds": st.column_config.NumberColumn(format="%.1f"),
        "message": st.column_config.TextColumn(width="medium"),
    },
    height=360,
)
download_button(
    quality.quarantine,
    key="quality-quarantine-all",
    file_name="quarantine-all.csv",
    label="Download every quarantined record (CSV)",
)
