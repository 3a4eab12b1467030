"""Altair charts the pages show. Each takes a frame from ``dashboard.data`` and returns a
chart; pages place it with ``st.altair_chart(chart, key=...)``."""

from __future__ import annotations

from datetime import date, datetime

import altair as alt
import polars as pl

DEMAND_COLOURS = alt.Scale(
    domain=["failure", "value", "unknown"], range=["#d62728", "#2ca02c", "#9e9e9e"]
)
CHANNEL_ORDER = ["call", "complaint", "email", "survey"]


def _weeks(frame: pl.DataFrame) -> pl.DataFrame:
    """``week_start`` as a date plus ``week_of`` ("16 Nov"), the label bar charts use."""
    return frame.with_columns(pl.col("week_start").cast(pl.Date)).with_columns(
        week_of=pl.col("week_start").dt.strftime("%d %b")
    )


def _week_bars(title: str = "week") -> alt.X:
    # bars on an ordinal axis: one full-width bar per week, labelled "16 Nov"
    return alt.X(
        "week_of:O",
        title=title,
        sort=alt.EncodingSortField(field="week_start", op="min"),
        axis=alt.Axis(labelAngle=0),
    )


def _week_line(title: str | None = "week") -> alt.X:
    return alt.X("week_start:T", title=title, axis=alt.Axis(format="%d %b", labelAngle=0))


def theme_small_multiples(
    trend: pl.DataFrame, labels: dict[int, str], columns: int = 3
) -> alt.Chart:
    """One small line chart per theme: weekly contacts over the weeks. A week in which a
    theme had no contacts is drawn as 0, not bridged by a line; a theme seen in one week
    only still shows its point."""
    weeks = trend.select("week_start").unique()
    themes = pl.DataFrame({"theme_id": list(labels)}, schema={"theme_id": trend["theme_id"].dtype})
    frame = (
        themes.join(weeks, how="cross")
        .join(trend, on=["theme_id", "week_start"], how="left")
        .with_columns(
            # a week without contacts cost 0; one whose contacts have no cost stays unknown
            pl.when(pl.col("volume").is_null()).then(0.0).otherwise("est_cost").alias("est_cost"),
            pl.col("volume").fill_null(0),
        )
    )
    frame = _weeks(frame).with_columns(
        theme=pl.col("theme_id").replace_strict(labels, default="", return_dtype=pl.String)
    )
    order = list(dict.fromkeys(labels.values()))
    return (
        alt.Chart(frame)
        .mark_area(line=True, point=alt.OverlayMarkDef(filled=True, size=18), opacity=0.25)
        .encode(
            x=_week_line(None),
            y=alt.Y("volume:Q", title="contacts"),
            tooltip=[
                alt.Tooltip("theme:N"),
                alt.Tooltip("week_start:T", title="week of", format="%d %b %Y"),
                alt.Tooltip("volume:Q", title="contacts", format=","),
                alt.Tooltip("est_cost:Q", title="est. cost", format=",.0f"),
            ],
        )
        .properties(width=260, height=110)
        .facet(facet=alt.Facet("theme:N", title=None, sort=order), columns=columns)
        .resolve_scale(y="independent")
    )


def theme_lines(trend: pl.DataFrame, labels: dict[int, str]) -> alt.Chart:
    """All chosen themes on one chart, for comparing their trajectories."""
    frame = _weeks(trend).with_columns(
        theme=pl.col("theme_id").replace_strict(labels, default="", return_dtype=pl.String)
    )
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=_week_line(),
            y=alt.Y("volume:Q", title="contacts"),
            color=alt.Color("theme:N", title=None, legend=alt.Legend(orient="bottom", columns=2)),
            tooltip=["theme:N", alt.Tooltip("week_start:T", format="%d %b %Y"), "volume:Q"],
        )
        .properties(height=320)
    )


def ranked_bars(
    frame: pl.DataFrame, value: str, title: str, fmt: str = ",", colour_by_demand: bool = True
) -> alt.Chart:
    """Horizontal bars of ``value`` per theme label, biggest on top."""
    frame = frame.with_columns(demand=pl.col("demand_type").fill_null("unknown"))
    colour = (
        alt.Color("demand:N", title="demand", scale=DEMAND_COLOURS)
        if colour_by_demand
        else alt.value("#1f77b4")
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=title),
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            color=colour,
            tooltip=[
                "label:N",
                alt.Tooltip(f"{value}:Q", format=fmt, title=title),
                "department:N",
                "demand:N",
            ],
        )
        .properties(height=alt.Step(24))
    )


def theme_trend(trend: pl.DataFrame, weekly: pl.DataFrame) -> alt.LayerChart | alt.Chart:
    """Weekly contacts as bars; emerging weeks highlighted when the review flagged them."""
    frame = _weeks(trend)
    if weekly.height:
        flags = _weeks(weekly).select("week_start", "is_emerging")
        frame = frame.join(flags, on="week_start", how="left")
    else:
        frame = frame.with_columns(is_emerging=pl.lit(False))
    frame = frame.with_columns(
        flag=pl.when(pl.col("is_emerging")).then(pl.lit("emerging")).otherwise(pl.lit("usual"))
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=_week_bars(),
            y=alt.Y("volume:Q", title="contacts"),
            color=alt.Color(
                "flag:N",
                title=None,
                scale=alt.Scale(domain=["usual", "emerging"], range=["#4c78a8", "#f58518"]),
            ),
            tooltip=[
                alt.Tooltip("week_start:T", title="week of", format="%d %b %Y"),
                alt.Tooltip("volume:Q", title="contacts", format=","),
                alt.Tooltip("est_cost:Q", title="est. cost", format=",.0f"),
            ],
        )
        .properties(height=260)
    )


def share_band(weekly: pl.DataFrame) -> alt.LayerChart:
    """The theme's share of all contacts with its 95% interval."""
    frame = _weeks(weekly).with_columns(
        share_pct=100 * pl.col("share"),
        low=100 * pl.col("share_ci_low"),
        high=100 * pl.col("share_ci_high"),
    )
    base = alt.Chart(frame).encode(x=_week_line())
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title="% of contacts"), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="share_pct:Q",
        tooltip=[
            alt.Tooltip("week_start:T", format="%d %b %Y"),
            alt.Tooltip("share_pct:Q", format=".2f", title="% of contacts"),
        ],
    )
    return (band + line).properties(height=220)


def channel_mix(mix: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(mix)
        .mark_arc(innerRadius=50)
        .encode(
            theta=alt.Theta("volume:Q"),
            color=alt.Color("channel:N", sort=CHANNEL_ORDER),
            tooltip=[
                "channel:N",
                alt.Tooltip("volume:Q", format=","),
                alt.Tooltip("share:Q", format=".0%"),
            ],
        )
        .properties(height=220)
    )


def chargeback(frame: pl.DataFrame, value: str = "failure_cost") -> alt.Chart:
    """Stacked weekly bars: what failure demand cost each department."""
    return (
        alt.Chart(_weeks(frame))
        .mark_bar()
        .encode(
            x=_week_bars(),
            y=alt.Y(f"{value}:Q", title="failure-demand cost", stack="zero"),
            color=alt.Color("department:N", legend=alt.Legend(orient="bottom", columns=3)),
            tooltip=[
                "department:N",
                alt.Tooltip("week_start:T", title="week of", format="%d %b %Y"),
                alt.Tooltip("failure_contacts:Q", format=",", title="failure contacts"),
                alt.Tooltip("failure_cost:Q", format=",.0f", title="failure cost"),
                alt.Tooltip("failure_share:Q", format=".0%", title="failure share"),
            ],
        )
        .properties(height=320)
    )


def savings(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("est_weekly_saving:Q", title="estimated saving per week"),
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("kind:N", title=None),
            tooltip=[
                "label:N",
                "kind:N",
                "department:N",
                alt.Tooltip("est_weekly_saving:Q", format=",.0f"),
                "weekly_contacts:Q",
            ],
        )
        .properties(height=alt.Step(24))
    )


def rows_per_channel_week(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(_weeks(frame))
        .mark_bar()
        .encode(
            x=_week_bars(),
            y=alt.Y("contacts:Q", title="rows loaded", stack="zero"),
            color=alt.Color("channel:N", sort=CHANNEL_ORDER),
            tooltip=[
                alt.Tooltip("week_start:T", format="%d %b %Y"),
                "channel:N",
                alt.Tooltip("contacts:Q", format=","),
            ],
        )
        .properties(height=280)
    )


def quarantine_reasons(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar(color="#e45756")
        .encode(
            x=alt.X("records:Q", title="records quarantined"),
            y=alt.Y("reason_code:N", sort="-x", title=None),
            tooltip=["reason_code:N", "records:Q", "files:Q", "example_reason:N"],
        )
        .properties(height=alt.Step(24))
    )


def verification(
    share: pl.DataFrame, fixed_at: datetime | date | None
) -> alt.LayerChart | alt.Chart:
    """The theme's contacts per 1,000 each week, with the day the fix was marked."""
    base = alt.Chart(_weeks(share)).encode(x=_week_line())
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("per_1000_low:Q", title="contacts per 1,000"), y2="per_1000_high:Q"
    )
    line = base.mark_line(point=True).encode(
        y="per_1000:Q",
        tooltip=[
            alt.Tooltip("week_start:T", format="%d %b %Y", title="week of"),
            alt.Tooltip("per_1000:Q", format=".1f", title="per 1,000"),
            alt.Tooltip("volume:Q", format=","),
        ],
    )
    chart = band + line
    if fixed_at is not None:
        day = fixed_at.date() if isinstance(fixed_at, datetime) else fixed_at
        rule = (
            alt.Chart(pl.DataFrame({"fixed": [day]}))
            .mark_rule(color="#2ca02c", strokeDash=[6, 3], size=2)
            .encode(x="fixed:T", tooltip=[alt.Tooltip("fixed:T", title="marked fixed")])
        )
        chart = chart + rule
    return chart.properties(height=220)
