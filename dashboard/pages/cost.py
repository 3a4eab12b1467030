"""Cost of failure demand: what avoidable contacts cost each department week by week,
and the self-service and proactive-notice opportunities with their estimated savings."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.auth import current_viewer
from dashboard.components import md, money, no_review_yet, pct, table, week_select

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
            [*options.departments, "Needs triage"],
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
cost_now = float(this["failure_cost"].sum())
cost_before = float(before["failure_cost"].sum()) if before.height else None
contacts_now = int(this["contacts"].sum())
failure_now = int(this["failure_contacts"].sum())

m1, m2, m3, m4 = st.columns(4)
m1.metric(
    "Failure-demand cost this week",
    money(cost_now),
    delta=None if cost_before is None else f"{cost_now - cost_before:+,.0f}",
    delta_color="inverse",
    border=True,
)
m2.metric("Failure contacts", f"{failure_now:,}", border=True)
m3.metric("Failure share", pct(failure_now / contacts_now if contacts_now else None), border=True)
m4.metric(
    "A year at this rate",
    money(52 * cost_now),
    help="This week's failure-demand cost × 52.",
    border=True,
)

st.subheader("Chargeback by department and week")
st.altair_chart(charts.chargeback(chargeback), key="cost-chargeback-chart")
pivot = (
    chargeback.pivot(on="week", index="department", values="failure_cost", aggregate_function="sum")
    .fill_null(0)
    .sort("department")
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
        ],
        column_config={
            "failure_cost": st.column_config.NumberColumn(format="£%.0f"),
            "value_cost": st.column_config.NumberColumn(format="£%.0f"),
            "total_cost": st.column_config.NumberColumn(format="£%.0f"),
            "failure_share": st.column_config.NumberColumn(format="percent"),
        },
    )

st.subheader("Opportunities")
opportunities = view.opportunities
if not opportunities.height:
    st.caption(f"No self-service or proactive-notice opportunities for {data.week_label(week)}.")
else:
    weekly = float(opportunities["est_weekly_saving"].sum())
    o1, o2, o3 = st.columns(3)
    o1.metric("Estimated saving per week", money(weekly), border=True)
    o2.metric("Per year", money(52 * weekly), border=True)
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
