"""This week: headline figures against last week, emerging top-level themes with their
evidence and the sub-themes growing inside them, the top themes by volume and by cost,
and each theme's trend over the weeks."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.auth import current_viewer
from dashboard.components import (
    cost_figure,
    cost_note,
    md,
    no_review_yet,
    pct,
    quote,
    table,
    week_select,
    when,
)

viewer = current_viewer()
options = data.filter_options(viewer)

st.title("This week")
if not options.weeks:
    no_review_yet()
    st.stop()

left, middle, right = st.columns([1.3, 2, 2])
with left:
    week = week_select(options.weeks, key="week-week")
with middle:
    channels = st.multiselect(
        "Channels", options.channels, key="week-channels", placeholder="All channels"
    )
with right:
    if viewer.is_head:
        departments = None
        st.multiselect(
            "Department",
            [viewer.department],
            default=[viewer.department],
            disabled=True,
            key="week-department-fixed",
        )
    else:
        departments = st.multiselect(
            "Departments",
            options.departments,
            key="week-departments",
            placeholder="All departments",
        )

view = data.this_week(viewer, week, channels or None, departments or None)
run = options.last_run
if run:
    st.caption(
        f"Weekly review {data.week_label(run['week_start'])}, {md(run['status'])}, "
        f"finished {when(run['finished_at'])} UTC · figures for {data.week_label(week)} "
        f"compared with {data.week_label(view.previous_week)}"
    )

# ------------------------------------------------------------------ headline figures
now = view.figures(week)
before = view.figures(view.previous_week)
if now is None:
    st.info("No contacts match these filters in this week.")
    st.stop()
series = view.headline


def _delta(key: str, scale: float = 1.0) -> float | None:
    if before is None or now[key] is None or before[key] is None:
        return None
    return round((now[key] - before[key]) * scale, 1)


m1, m2, m3, m4 = st.columns(4)
m1.metric(
    "Contacts",
    f"{now['contacts']:,}",
    delta=None if before is None else f"{now['contacts'] - before['contacts']:+,}",
    delta_color="inverse",
    help="Every contact is a cost; fewer is better. Change against the week before.",
    border=True,
    chart_data=series["contacts"].to_list(),
)
m2.metric(
    "Failure demand",
    pct(now["failure_share"]),
    delta=None if _delta("failure_share", 100) is None else f"{_delta('failure_share', 100):+} pts",
    delta_color="inverse",
    help="Share of contacts caused by something going wrong (chasing, errors, repeat "
    "contacts, 'how do I'), as opposed to value demand.",
    border=True,
    chart_data=series["failure_share"].fill_null(0).to_list(),
)
cost_known = before is not None and None not in (now["est_cost"], before["est_cost"])
m3.metric(
    "Estimated cost",
    cost_figure(now["est_cost"], now["uncosted_contacts"]),
    delta=f"{now['est_cost'] - before['est_cost']:+,.0f}" if cost_known else None,
    delta_color="inverse",
    help="Handling cost of all contacts; failure demand alone: "
    f"{cost_figure(now['failure_cost'], now['failure_uncosted_contacts'])}. "
    + cost_note(now["uncosted_contacts"]),
    border=True,
    chart_data=series["est_cost"].drop_nulls().to_list(),
)
m4.metric(
    "NPS",
    "–" if now["nps"] is None else f"{now['nps']:.0f}",
    delta=None if _delta("nps") is None else f"{_delta('nps'):+} pts",
    help=f"% promoters − % detractors over {now['nps_responses'] or 0:,} scored responses.",
    border=True,
    chart_data=series["nps"].fill_null(0).to_list(),
)

# ------------------------------------------------------------------------- emerging
st.subheader("Emerging and new themes")
emerging = view.emerging.filter(pl.col("is_emerging"))
new_only = view.emerging.filter(~pl.col("is_emerging"))
if not emerging.height:
    st.success("Nothing is growing unusually this week.", icon=":material/check:")
for row in emerging.iter_rows(named=True):
    with st.container(border=True):
        head, stats, action = st.columns([3, 3, 1])
        badge = "New" if row["is_new"] else "Growing"
        head.markdown(f"**{md(row['label'])}**  \n:orange-badge[{badge}]")
        head.caption(
            f"{md(row['department'] or data.TRIAGE)} · {md(row['demand_type'] or 'demand not set')} demand"
        )
        ratio = row["rate_ratio"]
        interval = (
            f" (95% CI {row['ratio_ci_low']:.1f}–{row['ratio_ci_high']:.1f})"
            if row["ratio_ci_low"] is not None and row["ratio_ci_high"] is not None
            else ""
        )
        stats.markdown(
            f"**{row['volume']:,}** contacts, {pct(row['share'])} of the week  \n"
            + (f"**{ratio:.1f}×** its usual rate{interval}  \n" if ratio is not None else "")
            + (f"q = {row['q_value']:.3g}" if row["q_value"] is not None else "")
        )
        if row["emerging_reason"]:
            st.caption(md(row["emerging_reason"]))
        quotes = view.examples.filter(pl.col("theme_id") == row["theme_id"])
        for example in quotes.iter_rows(named=True):
            quote(
                example["text"],
                f"{example['channel']}, {when(example['received_at'])[:10]}",
                limit=400,
            )
        growing = view.sub_themes.filter(
            (pl.col("parent_id") == row["theme_id"]) & pl.col("is_growing")
        )
        if growing.height:
            st.markdown(
                "**Growing inside it:**  \n"
                + "  \n".join(
                    f"{md(g['label'])}: {g['volume']:,} contacts"
                    + (f", {md(g['growth_reason'])}" if g["growth_reason"] else "")
                    for g in growing.iter_rows(named=True)
                )
            )
        if action.button(
            "Open theme", key=f"week-open-{row['theme_id']}", icon=":material/arrow_forward:"
        ):
            st.session_state["explorer_theme"] = int(row["theme_id"])
            st.switch_page("pages/theme_explorer.py")
if new_only.height:
    with st.expander(f"Also new this week, not yet significant ({new_only.height})"):
        table(
            new_only,
            key="week-new",
            file_name=f"new-themes-{data.week_label(week)}.csv",
            columns=["theme_id", "label", "department", "volume", "share", "emerging_reason"],
            column_config={"share": st.column_config.NumberColumn(format="percent")},
        )

# ------------------------------------------------------------------------ top themes
themes = view.themes.filter(pl.col("volume") > 0)
st.subheader("Top themes")
by_volume, by_cost = st.columns(2)
with by_volume:
    st.markdown("**By volume**")
    top = themes.sort("volume", descending=True).head(10)
    st.altair_chart(charts.ranked_bars(top, "volume", "contacts"), key="week-top-volume-chart")
with by_cost:
    st.markdown("**By estimated cost**")
    top_cost = themes.filter(pl.col("est_cost").is_not_null())
    top_cost = top_cost.sort("est_cost", descending=True).head(10)
    uncosted = int(themes["uncosted_contacts"].sum() or 0)
    if uncosted:
        st.caption(md(cost_note(uncosted)))
    st.altair_chart(
        charts.ranked_bars(top_cost, "est_cost", "estimated cost", fmt=",.0f"),
        key="week-top-cost-chart",
    )
with st.expander(f"All {themes.height} themes this week", expanded=False):
    table(
        themes,
        key="week-themes",
        file_name=f"themes-{data.week_label(week)}.csv",
        columns=[
            "theme_id",
            "label",
            "department",
            "demand_type",
            "volume",
            "previous_volume",
            "change",
            "change_pct",
            "est_cost",
            "uncosted_contacts",
            "share",
            "repeat_rate",
            "nps_effect",
            "is_emerging",
        ],
        column_config={
            "theme_id": st.column_config.NumberColumn("id"),
            "previous_volume": st.column_config.NumberColumn("last week"),
            "change_pct": st.column_config.NumberColumn("change", format="percent"),
            "change": st.column_config.NumberColumn("± contacts"),
            "est_cost": st.column_config.NumberColumn(
                "est. cost", format="£%.0f", help="Blank: unknown (no cost per contact)"
            ),
            "uncosted_contacts": st.column_config.NumberColumn(
                "without a cost", help="Contacts whose cost is unknown: the cost is partial"
            ),
            "share": st.column_config.NumberColumn(format="percent"),
            "repeat_rate": st.column_config.NumberColumn("repeat rate", format="percent"),
            "nps_effect": st.column_config.NumberColumn("NPS effect", format="%.1f"),
            "is_emerging": st.column_config.CheckboxColumn("emerging"),
        },
    )

# ------------------------------------------------------------- growing sub-themes
growing = (
    view.sub_themes.filter(pl.col("is_growing")) if view.sub_themes.height else view.sub_themes
)
if growing.height:
    st.subheader("Growing sub-themes")
    st.caption(
        "Sub-themes growing against their own usual share, under their top-level theme "
        "(all channels)."
    )
    table(
        growing,
        key="week-growing-subs",
        file_name=f"growing-sub-themes-{data.week_label(week)}.csv",
        columns=[
            "parent_id",
            "parent_label",
            "theme_id",
            "label",
            "department",
            "volume",
            "share_of_parent",
            "rate_ratio",
            "growth_reason",
        ],
        column_config={
            "parent_id": st.column_config.NumberColumn("top-level id", format="%d"),
            "parent_label": st.column_config.TextColumn("top-level theme"),
            "theme_id": st.column_config.NumberColumn("id", format="%d"),
            "label": st.column_config.TextColumn("sub-theme"),
            "share_of_parent": st.column_config.NumberColumn(
                "share of its theme", format="percent"
            ),
            "rate_ratio": st.column_config.NumberColumn("× usual", format="%.2f"),
        },
    )

# ----------------------------------------------------------------------------- trend
st.subheader("Trend per theme")
labels = dict(zip(themes["theme_id"].to_list(), themes["label"].to_list(), strict=True))
default = (
    emerging["theme_id"].to_list()
    + [t for t in themes["theme_id"].to_list() if t not in set(emerging["theme_id"].to_list())]
)[:6]
chosen = st.multiselect(
    "Themes",
    list(labels),
    default=default,
    format_func=lambda theme_id: labels.get(theme_id, str(theme_id)),
    key="week-trend-themes",
)
trend = view.trend.filter(pl.col("theme_id").is_in(chosen))
if chosen and trend.height:
    chosen_labels = {t: labels[t] for t in chosen}
    st.altair_chart(charts.theme_small_multiples(trend, chosen_labels), key="week-trend-chart")
    table(
        trend.with_columns(
            label=pl.col("theme_id").replace_strict(chosen_labels, return_dtype=pl.String)
        ),
        key="week-trend",
        file_name=f"theme-trend-to-{data.week_label(week)}.csv",
        columns=["week_start", "theme_id", "label", "volume", "est_cost"],
        height=240,
    )
else:
    st.caption("Pick themes to see their weekly contacts.")
