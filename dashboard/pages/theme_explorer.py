"""Theme explorer: the theme map. Pick a top-level theme to see its label, keywords,
verbatims, trend, channel mix, score effect, repeat contacts, owner, demand type and
issue, and its sub-themes beneath it (each with its keywords and examples). Analysts edit
the map at both levels here: rename, merge, move a sub-theme, split, reassign and
override the demand type (every edit recorded and kept across runs)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.auth import current_viewer
from dashboard.components import (
    cost_figure,
    cost_note,
    empty,
    flash,
    md,
    pct,
    quote,
    save,
    table,
    when,
)

viewer = current_viewer()
st.title("Theme explorer")
flash()

show_all = st.toggle("Include merged and dormant themes", key="explorer-show-all", value=False)
tree = data.theme_tree(viewer, include_inactive=show_all)
options = tree.filter(pl.col("depth") == 0)
if not options.height:
    if viewer.is_head:
        empty(f"No themes are routed to {md(viewer.department)} yet.")
    else:
        empty("No themes yet: run `voc topics` (or `voc demo`) to find them.")
    st.stop()


def _name(row: dict) -> str:
    subs = row["sub_themes"] if row["kind"] == "group" else 0
    return (
        f"{row['label']} · #{row['theme_id']}"
        + (f" · {subs} sub-theme{'' if subs == 1 else 's'}" if subs else "")
        + ("" if row["status"] == "active" else f" ({row['status']})")
    )


ids = options["theme_id"].to_list()
names = {row["theme_id"]: _name(row) for row in tree.iter_rows(named=True)}
top_of = dict(zip(tree["theme_id"].to_list(), tree["top_id"].to_list(), strict=True))
wanted = st.session_state.pop("explorer_theme", None)
if wanted is None and "explorer-theme" not in st.session_state and "theme" in st.query_params:
    # a shared link (?theme=12) opens that theme (a sub-theme: under its top-level theme);
    # later the selectbox decides
    try:
        wanted = int(st.query_params["theme"])
    except ValueError:
        wanted = None
if wanted is not None:
    if wanted in top_of:
        if top_of[wanted] != wanted:
            st.session_state[f"explorer-sub-{top_of[wanted]}"] = wanted
        st.session_state["explorer-theme"] = top_of[wanted]
    else:
        st.warning(f"Theme #{wanted} is not one you can open here.")
if st.session_state.get("explorer-theme") not in ids:
    st.session_state["explorer-theme"] = ids[0]
theme_id = st.selectbox(
    "Theme", ids, format_func=lambda t: names.get(t, str(t)), key="explorer-theme"
)
st.query_params["theme"] = str(theme_id)
subs = tree.filter((pl.col("top_id") == theme_id) & (pl.col("depth") == 1))

page = data.theme_page(viewer, theme_id)
detail = page.detail
latest = page.latest or {}

st.header(md(detail["label"]), anchor=False)
facts = [
    f"#{detail['theme_id']}",
    detail["department"] or "needs triage",
    f"{detail['demand_type'] or 'unset'} demand",
    detail["status"],
]
if detail["label_source"] == "analyst":
    facts.append("label set by an analyst")
st.caption(" · ".join(md(f) for f in facts))
if detail["merged_into"] is not None:
    st.info(
        f"Merged into #{detail['merged_into']} {md(detail['merged_into_label'] or '')}; its "
        "contacts now count there.",
        icon=":material/merge:",
    )
if detail["keywords"]:
    st.markdown("**Keywords:** " + ", ".join(md(k) for k in detail["keywords"]))

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(
    "Contacts, latest week",
    f"{latest.get('volume', 0):,}",
    help=f"Week of {when(latest.get('week_start'))}; {detail['size']:,} contacts in all.",
    border=True,
)
c2.metric("Share of contacts", pct(latest.get("share")), border=True)
c3.metric(
    "Repeat-contact rate",
    pct(latest.get("repeat_rate")),
    help="Same customer, same theme, within 14 days.",
    border=True,
)
effect = latest.get("nps_effect")
c4.metric(
    "NPS effect",
    "–" if effect is None else f"{effect:+.1f} pts",
    help="Overall NPS minus NPS without this theme's responses: negative means the "
    "theme costs NPS points.",
    border=True,
)
c5.metric(
    "Estimated cost, latest week",
    cost_figure(latest.get("est_cost"), latest.get("uncosted_contacts")),
    help=cost_note(latest.get("uncosted_contacts")) or None,
    border=True,
)

overview, sub_tab, verbatims, issue_tab, history_tab, edit_tab = st.tabs(
    ["Overview", f"Sub-themes ({subs.height})", "Verbatims", "Issue", "History", "Edit"]
)

with overview:
    left, right = st.columns([2, 1])
    with left:
        st.markdown("**Contacts per week**")
        if page.trend.height:
            st.altair_chart(charts.theme_trend(page.trend, page.weekly), key="explorer-trend")
        else:
            st.caption("No weekly figures for this theme yet.")
    with right:
        st.markdown("**Channel mix, last 8 weeks**")
        if page.channel_mix.height:
            st.altair_chart(charts.channel_mix(page.channel_mix), key="explorer-mix")
        else:
            st.caption("No contacts in the last 8 weeks.")
    if page.weekly.height:
        st.markdown("**Share of all contacts, with its 95% interval**")
        st.altair_chart(charts.share_band(page.weekly), key="explorer-share")
        table(
            page.weekly,
            key="explorer-weekly",
            file_name=f"theme-{theme_id}-weekly.csv",
            columns=[
                "week_start",
                "volume",
                "share",
                "rate_ratio",
                "is_emerging",
                "avg_score",
                "nps",
                "nps_effect",
                "repeat_rate",
                "est_cost",
            ],
            column_config={
                "share": st.column_config.NumberColumn(format="percent"),
                "repeat_rate": st.column_config.NumberColumn(format="percent"),
                "rate_ratio": st.column_config.NumberColumn("× usual", format="%.2f"),
                "est_cost": st.column_config.NumberColumn("est. cost", format="£%.0f"),
                "avg_score": st.column_config.NumberColumn("avg score", format="%.1f"),
                "nps": st.column_config.NumberColumn("NPS", format="%.0f"),
                "nps_effect": st.column_config.NumberColumn("NPS effect", format="%+.1f"),
                "is_emerging": st.column_config.CheckboxColumn("emerging"),
            },
            height=240,
        )
    if page.channel_mix.height:
        table(
            page.channel_mix,
            key="explorer-mix",
            file_name=f"theme-{theme_id}-channels.csv",
            columns=["channel", "volume", "share", "est_cost", "scored", "nps"],
            column_config={
                "share": st.column_config.NumberColumn(format="percent"),
                "est_cost": st.column_config.NumberColumn("est. cost", format="£%.0f"),
                "nps": st.column_config.NumberColumn("NPS", format="%.0f"),
            },
        )

with sub_tab:
    if not subs.height:
        st.caption(
            "A theme on its own: no sub-themes beneath it. Analysts can put it under a "
            "group with related themes (Edit → Move)."
        )
    else:
        st.caption(
            "The fine themes this top-level theme is made of, biggest first; pick one to "
            "read its keywords and contacts."
        )
        shares = subs.with_columns(
            share=pl.col("volume") / pl.max_horizontal(pl.col("volume").sum(), pl.lit(1))
        )
        table(
            shares,
            key="explorer-subs",
            file_name=f"theme-{theme_id}-sub-themes.csv",
            columns=["theme_id", "label", "volume", "share", "status", "keywords"],
            column_config={
                "theme_id": st.column_config.NumberColumn("id", format="%d"),
                "share": st.column_config.NumberColumn("share of the theme", format="percent"),
            },
        )
        sub_id = st.selectbox(
            "Sub-theme",
            subs["theme_id"].to_list(),
            index=None,
            format_func=lambda t: names.get(t, str(t)),
            placeholder="Pick a sub-theme to read it",
            key=f"explorer-sub-{theme_id}",
        )
        if sub_id is not None:
            sub = data.sub_theme(viewer, sub_id)
            st.subheader(md(sub.detail["label"]), anchor=False)
            facts = [f"#{sub_id}", f"{sub.detail['size']:,} contacts", sub.detail["status"]]
            if sub.detail["origin"] == "analyst":
                facts.append("made by an analyst")
            if sub.detail["parent_source"] == "analyst":
                facts.append("placed here by an analyst")
            st.caption(" · ".join(md(f) for f in facts))
            if sub.detail["keywords"]:
                st.markdown("**Keywords:** " + ", ".join(md(k) for k in sub.detail["keywords"]))
            for row in sub.examples.iter_rows(named=True):
                quote(row["text"], f"{row['channel']}, {when(row['received_at'])[:10]}", 600)
            if not sub.examples.height:
                st.caption("No examples stored for this sub-theme.")
            if sub.history.height:
                table(
                    sub.history,
                    key="explorer-sub-history",
                    file_name=f"theme-{sub_id}-history.csv",
                )

with verbatims:
    st.caption("Representative contacts, closest to the theme's centre. Text is PII-redacted.")
    if not page.examples.height:
        st.caption("No examples stored for this theme.")
    for row in page.examples.iter_rows(named=True):
        score = (
            "" if row["score"] is None else f" · {row['score_kind'] or 'score'} {row['score']:g}"
        )
        quote(row["text"], f"{row['channel']}, {when(row['received_at'])[:10]}{score}", limit=800)
    if page.examples.height:
        table(
            page.examples,
            key="explorer-examples",
            file_name=f"theme-{theme_id}-verbatims.csv",
            columns=["rank", "channel", "received_at", "score", "text"],
            height=200,
        )
    if page.other_languages.height:
        st.markdown("**In other languages**")
        st.caption(
            "Contacts written in another language than the team's, placed in this theme by "
            "what they say (their nearest contacts in the team's language, compared by a "
            "multilingual model). Shown as written, with a machine rendering where voc "
            "has an offline engine for the language (Spanish, by Apertium, where it is "
            "installed). Most clearly placed first."
        )
        for row in page.other_languages.iter_rows(named=True):
            st.badge(row["language"].upper(), icon=":material/translate:", color="blue")
            quote(
                row["text"],
                f"{row['channel']}, {when(row['received_at'])[:10]}"
                f" · placed with similarity {row['placed_with']:.2f}",
                limit=600,
            )
            if row["rendering"]:
                st.caption(f"Machine rendering ({md(row['rendered_by'])}): {md(row['rendering'])}")
        table(
            page.other_languages,
            key="explorer-other-languages",
            file_name=f"theme-{theme_id}-other-languages.csv",
            columns=["language", "channel", "received_at", "placed_with", "text", "rendering"],
            height=200,
        )

with issue_tab:
    if not page.issues.height:
        whose = f"{md(viewer.department)} issue" if viewer.is_head else "issue"
        st.caption(f"No {whose} has been opened for this theme.")
    else:
        issue = page.issues.row(0, named=True)
        st.markdown(f"**#{issue['issue_id']} {md(issue['title'])}**")
        i1, i2, i3, i4 = st.columns(4)
        i1.metric("Status", md(issue["status"].replace("_", " ")))
        i2.metric("Priority", md(issue["priority"]))
        i3.metric("Owner", md(issue["owner"] or "–"))  # metric values are markdown too
        i4.metric("Due", when(issue["due_date"]))
        if issue["baseline_rate"] is not None and issue["after_rate"] is not None:
            st.metric(
                "Contacts per 1,000 after the fix",
                f"{issue['after_rate']:.1f}",
                delta=f"{issue['after_rate'] - issue['baseline_rate']:+.1f} vs {issue['baseline_rate']:.1f} before",
                delta_color="inverse",
            )
        if issue["verification"]:
            st.caption(md(issue["verification"]))
        if st.button(
            "Open in the tracker", key="explorer-open-issue", icon=":material/assignment:"
        ):
            st.session_state["tracker_issue"] = int(issue["issue_id"])
            st.switch_page("pages/tracker.py")
        table(
            page.issues,
            key="explorer-issues",
            file_name=f"theme-{theme_id}-issues.csv",
        )

with history_tab:
    if page.history.height:
        table(page.history, key="explorer-history", file_name=f"theme-{theme_id}-history.csv")
    else:
        st.caption("No one has edited this theme yet.")

with edit_tab:
    if not viewer.can_edit_themes:
        st.info(
            "Themes are edited by the insight team. Ask them to rename, merge or reroute a "
            "theme; your issues are in the tracker.",
            icon=":material/lock:",
        )
    elif detail["status"] == "merged":
        st.caption("A merged theme cannot be edited; open the theme it was merged into.")
    else:
        live_subs = subs.filter(pl.col("status") == "active")["theme_id"].to_list()
        target_id = st.selectbox(
            "Theme to edit",
            [theme_id, *live_subs],
            format_func=lambda t: (
                ("Top-level: " if t == theme_id else "Sub-theme: ") + names.get(t, str(t))
            ),
            key=f"explorer-edit-target-{theme_id}",
        )
        target = data.sub_theme(viewer, target_id).detail
        is_top = target_id == theme_id
        is_group = target["kind"] == "group"
        rename_col, merge_col = st.columns(2)
        with rename_col, st.form("explorer-rename"):
            st.markdown("**Rename**")
            label = st.text_input("Label", value=target["label"], max_chars=data.MAX_LABEL)
            if st.form_submit_button("Save label") and save(
                lambda: data.rename_theme(viewer, target_id, label), "Label saved."
            ):
                st.rerun()
        with merge_col, st.form("explorer-merge"):
            st.markdown(
                "**Merge into another group**" if is_group else "**Merge into another theme**"
            )
            same_level = tree.filter(
                (pl.col("theme_id") != target_id)
                & (pl.col("theme_id") != 0)
                & (pl.col("status") == "active")
                & (pl.col("kind") == target["kind"])
            )
            keep = st.selectbox(
                "Keep",
                same_level["theme_id"].to_list(),
                index=None,
                format_func=lambda t: names.get(t, str(t)),
                placeholder="Group that keeps the sub-themes"
                if is_group
                else "Theme that keeps the contacts",
            )
            sure = st.checkbox(
                "Its sub-themes move there; its id will point at it"
                if is_group
                else "This theme's contacts move there; its id will point at it"
            )
            if st.form_submit_button("Merge") and keep is not None:
                if not sure:
                    st.warning("Tick the box to confirm the merge.")
                elif save(
                    lambda: data.merge_themes(viewer, keep=keep, absorbed=target_id),
                    f"Merged into #{keep}.",
                ):
                    st.session_state["explorer_theme"] = int(keep)
                    st.rerun()

        if not is_group:
            move_col, split_col = st.columns(2)
            with move_col, st.form("explorer-move"):
                st.markdown("**Move**")
                groups = tree.filter(
                    (pl.col("kind") == "group")
                    & (pl.col("status") == "active")
                    & (pl.col("theme_id") != (target["parent_id"] or -1))
                )["theme_id"].to_list()
                choices = (["top"] if target["parent_id"] is not None else []) + ["new", *groups]
                where = st.selectbox(
                    "Move under",
                    choices,
                    index=None,
                    format_func=lambda c: {
                        "top": "The top level, on its own",
                        "new": "A new group (name it below)",
                    }.get(c, names.get(c, str(c))),
                    placeholder="Choose a top-level group",
                )
                group_name = st.text_input("New group's name", max_chars=data.MAX_LABEL)
                moved: dict = {}
                if st.form_submit_button("Move") and where is not None:
                    if where == "new":
                        action = lambda: moved.update(  # noqa: E731
                            to=data.create_group(viewer, group_name, [target_id])
                        )
                    else:
                        parent = None if where == "top" else int(where)
                        moved["to"] = parent or target_id
                        action = lambda: data.move_theme(viewer, target_id, parent)  # noqa: E731
                    if save(action, "Moved; later runs keep it there."):
                        st.session_state["explorer_theme"] = int(moved.get("to") or target_id)
                        st.rerun()
            with split_col, st.form("explorer-split"):
                st.markdown("**Split in two**")
                how = st.radio(
                    "Divide its contacts",
                    ["meaning", "keyword"],
                    format_func=lambda h: {
                        "meaning": "By meaning (two clusters of their vectors)",
                        "keyword": "By a keyword: those that say it, and the rest",
                    }[h],
                )
                keyword = st.text_input("Keyword")
                first = st.text_input(
                    "Label of the first part (optional)", max_chars=data.MAX_LABEL
                )
                second = st.text_input(
                    "Label of the second part (optional)", max_chars=data.MAX_LABEL
                )
                if st.form_submit_button("Split"):
                    labels = [first, second] if first.strip() or second.strip() else None
                    if how == "keyword" and not keyword.strip():
                        st.warning("Type the keyword to split by.")
                    elif save(
                        lambda: data.split_theme(
                            viewer,
                            target_id,
                            keyword=keyword if how == "keyword" else None,
                            labels=labels,
                        ),
                        "Split in two; later runs keep both parts.",
                    ):
                        st.session_state["explorer_theme"] = int(
                            target_id if target["parent_id"] is None else target["parent_id"]
                        )
                        st.rerun()
        elif live_subs:
            with st.form("explorer-split-group"):
                st.markdown("**Split the group in two**")
                going = st.multiselect(
                    "Sub-themes that go to a new group",
                    live_subs,
                    format_func=lambda t: names.get(t, str(t)),
                    placeholder="None named: divide them by their centres",
                )
                new_name = st.text_input("The new group's name", max_chars=data.MAX_LABEL)
                made: dict = {}
                if st.form_submit_button("Split group") and save(
                    lambda: made.update(
                        result=data.split_group(viewer, target_id, new_name, going or None)
                    ),
                    "Group split; later runs keep it.",
                ):
                    st.rerun()

        if is_top:
            departments = data.filter_options(viewer).departments
            route_col, demand_col = st.columns(2)
            with route_col, st.form("explorer-route"):
                st.markdown("**Owning department**")
                current = detail["department"] or detail["suggested_department"]
                department = st.selectbox(
                    "Department",
                    departments,
                    index=departments.index(current) if current in departments else None,
                    placeholder="Choose a department",
                )
                if (
                    st.form_submit_button("Reassign")
                    and department
                    and save(
                        lambda: data.assign_theme_department(viewer, theme_id, department),
                        f"Routed to {department}; routing learns from it.",
                    )
                ):
                    st.rerun()
            with demand_col, st.form("explorer-demand"):
                st.markdown("**Demand type**")
                choices = list(data.DEMAND_TYPES)
                demand = st.radio(
                    "Demand",
                    choices,
                    index=choices.index(detail["demand_type"])
                    if detail["demand_type"] in choices
                    else None,
                    format_func=lambda d: {
                        "failure": "Failure demand (something went wrong)",
                        "value": "Value demand (what we exist to serve)",
                    }[d],
                    horizontal=False,
                )
                reason = st.text_input("Why (optional)", value="")
                if detail["demand_reason"]:
                    st.caption(f"Now: {md(detail['demand_reason'])}")
                if (
                    st.form_submit_button("Save demand type")
                    and demand
                    and save(
                        lambda: data.set_theme_demand(viewer, theme_id, demand, reason or None),
                        "Demand type saved.",
                    )
                ):
                    st.rerun()
        else:
            st.caption(
                "The department and demand type that count are the top-level theme's: "
                "choose “Top-level” above to change them."
            )
