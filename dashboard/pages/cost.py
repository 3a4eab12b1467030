"""Cost of failure demand: what avoidable contacts cost each department week by week,
and the self-service and proactive-notice opportunities with their estimated savings."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.auth import current_viewer
from dashboard.components import (
    cost_figure,
    cost_note,
    known_total,
    md,
    no_review_yet,
    pct,
    table,
    week_select,
)

viewer = current_viewer()
options = data.filter_options(viewer)

st.title("Cost of failure demand")
st.caption(
    "Failure demand is a contact caused by something going wrong or a customer unable to "
    "help themselves: every one is a cost the organisation chose not to prevent."
)
if not options.weeks:
    no_review_yet()
    st.stop()

left, right = st.columns([1, 2])
with left:
    week = week_select(options.weeks, key="cost-week")
with right:
    if viewer.is_head:
        departments = None
        st.caption(f"Showing {md(viewer.department)} only.")
    else:
        departments = st.multiselect(
            "Departments",
            [*options.departments, data.TRIAGE],
            key="cost-departments",
            placeholder="All departments",
        )
view = data.cost(viewer, week, departments or None)
chargeback = view.chargeback
if not chargeback.height:
    st.info("No chargeback for these departments yet.")
    st.stop()

this = chargeback.filter(pl.col("week_start") == week)
before = chargeback.filter(pl.col("week_start") == week - timedelta(days=7))

cost_now = known_total(this, "failure_cost")
cost_before = known_total(before, "failure_cost") if before.height else None
uncosted_now = int(this["failure_uncosted_contacts"].sum() or 0)
contacts_now = int(this["contacts"].sum())
failure_now = int(this["failure_contacts"].sum())

m1, m2, m3, m4 = st.columns(4)
m1.metric(
    "Failure-demand cost this week",
    cost_figure(cost_now, uncosted_now),
    delta=None if cost_now is None or cost_before is None else f"{cost_now - cost_before:+,.0f}",
    delta_color="inverse",
    help=cost_note(uncosted_now, "failure contacts") or None,
    border=True,
)
m2.metric("Failure contacts", f"{failure_now:,}", border=True)
m3.metric("Failure share", pct(failure_now / contacts_now if contacts_now else None), border=True)
m4.metric(
    "A year at this rate",
    cost_figure(None if cost_now is None else 52 * cost_now, uncosted_now),
    help="This week's failure-demand cost × 52.",
    border=True,
)
if uncosted_now:
    st.caption(md(cost_note(uncosted_now, "failure contacts this week")))

st.subheader("Chargeback by department and week")
st.altair_chart(charts.chargeback(chargeback), key="cost-chargeback-chart")
# a department without contacts in a week cost 0 there; one whose contacts have no cost
# per contact stays blank (unknown), not 0
pivot = chargeback.pivot(
    on="week", index="department", values="failure_cost", aggregate_function="first"
).sort("department")
present = chargeback.pivot(
    on="week", index="department", values="contacts", aggregate_function="first"
).sort("department")
pivot = pivot.with_columns(
    pl.when(present[c].is_null()).then(0.0).otherwise(pivot[c]).alias(c) for c in pivot.columns[1:]
)
table(
    pivot,
    key="cost-pivot",
    file_name="failure-cost-by-department-and-week.csv",
    column_config={c: st.column_config.NumberColumn(format="£%.0f") for c in pivot.columns[1:]},
)
with st.expander("Every department and week, with value demand"):
    table(
        chargeback,
        key="cost-chargeback",
        file_name="chargeback.csv",
        columns=[
            "week",
            "department",
            "contacts",
            "failure_contacts",
            "failure_cost",
            "value_contacts",
            "value_cost",
            "total_cost",
            "failure_share",
            "uncosted_contacts",
            "failure_uncosted_contacts",
        ],
        column_config={
            "failure_cost": st.column_config.NumberColumn(format="£%.0f"),
            "value_cost": st.column_config.NumberColumn(format="£%.0f"),
            "total_cost": st.column_config.NumberColumn(format="£%.0f"),
            "failure_share": st.column_config.NumberColumn(format="percent"),
            "uncosted_contacts": st.column_config.NumberColumn(
                "without a cost", help="Contacts whose cost is unknown: the costs are partial"
            ),
            "failure_uncosted_contacts": st.column_config.NumberColumn("failure without a cost"),
        },
    )

st.subheader("Opportunities")
opportunities = view.opportunities
if not opportunities.height:
    st.caption(f"No self-service or proactive-notice opportunities for {data.week_label(week)}.")
else:
    unknown = int(opportunities["est_weekly_saving"].null_count())
    weekly = known_total(opportunities, "est_weekly_saving")
    o1, o2, o3 = st.columns(3)
    o1.metric(
        "Estimated saving per week",
        cost_figure(weekly, unknown),
        help=f"{unknown} opportunity(ies) have no cost, so no saving" if unknown else None,
        border=True,
    )
    o2.metric(
        "Per year", cost_figure(None if weekly is None else 52 * weekly, unknown), border=True
    )
    o3.metric(
        "Contacts they would prevent (weekly)",
        f"{int(opportunities['weekly_contacts'].sum()):,}",
        border=True,
    )
    st.altair_chart(charts.savings(opportunities.head(15)), key="cost-savings-chart")
    table(
        opportunities,
        key="cost-opportunities",
        file_name=f"opportunities-{data.week_label(week)}.csv",
        columns=[
            "kind",
            "theme_id",
            "label",
            "department",
            "weekly_contacts",
            "est_weekly_saving",
            "est_yearly_saving",
            "rationale",
        ],
        column_config={
            "kind": st.column_config.TextColumn("Opportunity"),
            "est_weekly_saving": st.column_config.NumberColumn("Saving / week", format="£%.0f"),
            "est_yearly_saving": st.column_config.NumberColumn("Saving / year", format="£%.0f"),
            "rationale": st.column_config.TextColumn("Why", width="large"),
        },
    )
