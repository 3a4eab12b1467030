"""Urgent: contacts that need a person today (legal threats, regulators, vulnerable
customers, safety, repeat failures, churn risks), with the words that flagged them.
The insight team sees every one; a department head sees those routed to their
department. Acknowledging records who and when."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.auth import current_viewer
from dashboard.components import download_button, empty, flash, md, quote, save, when
from models.urgent import KIND_NAMES


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("_", " ").capitalize())


viewer = current_viewer()
st.title("Urgent contacts")
st.caption(
    "Contacts that should not wait for the weekly review. "
    + (
        f"Those routed to {md(viewer.department)}."
        if viewer.is_head
        else "Every flagged contact, whichever department it is routed to."
    )
)
flash()

everything = data.urgent_queue(viewer, include_acknowledged=True, limit=1)
counts = {r["kind"]: r for r in everything.counts.iter_rows(named=True)}
kinds = list(KIND_NAMES) + sorted(k for k in counts if k not in KIND_NAMES)
columns = st.columns(len(KIND_NAMES))
for column, kind in zip(columns, KIND_NAMES, strict=True):
    row = counts.get(kind)
    column.metric(
        kind_name(kind),
        int(row["open"]) if row else 0,
        help=f"waiting for a person; {int(row['flagged']) if row else 0} flagged in all",
        border=True,
    )

left, right = st.columns([3, 1], vertical_alignment="bottom")
chosen = left.multiselect(
    "Kinds", kinds, format_func=kind_name, placeholder="All kinds", key="urgent-kinds"
)
show_done = right.toggle("Show acknowledged", key="urgent-show-done")
SHOWN = 100  # a queue is worked from the top; the CSV below has them all up to 1,000
queue = data.urgent_queue(viewer, kinds=chosen or None, include_acknowledged=show_done, limit=1000)
contacts = queue.contacts
if not contacts.height:
    empty(
        "Nothing is waiting: no flagged contact needs acknowledging."
        if not show_done
        else "No contact has been flagged yet."
    )
    st.stop()

st.subheader(f"{contacts.height:,} contact{'s' if contacts.height != 1 else ''}")
if contacts.height > SHOWN:
    st.caption(f"Showing the first {SHOWN}, open ones first and newest first; all are in the CSV.")
for row in contacts.head(SHOWN).iter_rows(named=True):
    fid = row["feedback_id"]
    with st.container(border=True):
        head, action = st.columns([5, 2], vertical_alignment="top")
        badges = " · ".join(f"**{md(kind_name(k))}**" for k in row["kinds"].split(", "))
        head.markdown(badges)
        head.caption(
            f"{when(row['received_at'])} · {md(row['channel'])} · "
            f"{md(row['department'] or data.TRIAGE)} · {md(row['theme'] or 'no theme yet')} · "
            f"{md(row['source_file'])} {md(row['source_ref'])}"
        )
        for part in row["evidence"].split(" | "):
            kind, _, evidence = part.partition(": ")
            head.markdown(f"{md(kind_name(kind))}: “{md(evidence)}”")
        with head.expander("What the customer said"):
            quote(row["text"] or "", f"{row['channel']}, {when(row['received_at'])}")
        if row["acknowledged"]:
            action.success(
                f"Acknowledged by {md(row['acknowledged_by'])}, {when(row['acknowledged_at'])}",
                icon=":material/check:",
            )
            continue
        note = action.text_input(
            "Note", key=f"urgent-note-{fid}", placeholder="What was done (optional)"
        )
        if action.button("Acknowledge", key=f"urgent-ack-{fid}", type="primary"):
            if save(
                lambda fid=fid, note=note: data.acknowledge_urgent(viewer, fid, note or None),
                f"Acknowledged {row['kinds']} ({row['channel']}, {when(row['received_at'])})",
            ):
                st.rerun()

download_button(contacts.drop("text"), key="urgent-download", file_name="urgent-contacts.csv")
