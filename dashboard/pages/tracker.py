"""My department (the tracker): issues with status, priority, owner, due date, age and
an overdue flag; edited in place (every change lands in issue_events); each issue's
history, and for fixed issues the verification (contacts per 1,000 before and after)."""

from __future__ import annotations

from datetime import date, datetime, time

import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.auth import current_viewer
from dashboard.components import download_button, empty, flash, md, quote, save, table, when

viewer = current_viewer()
EDITABLE = ["status", "priority", "owner", "due_date", "root_cause", "action"]

if viewer.is_head:
    st.title(f"My department: {md(viewer.department)}")
    department = viewer.department
else:
    st.title("Issue tracker")
    choices = ["All departments", *data.filter_options(viewer).departments]
    picked = st.selectbox("Department", choices, key="tracker-department")
    department = None if picked == choices[0] else picked
flash()

issues = data.issues(viewer, department)
if not issues.height:
    empty(
        "No issues yet. The weekly review (`voc weekly`) opens one for each theme that "
        "needs a fix and routes it to its department."
    )
    st.stop()

open_issues = issues.filter(pl.col("status").is_in(data.OPEN_STATUSES))
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Open", open_issues.height, border=True)
m2.metric(
    "Overdue",
    int(open_issues["overdue"].sum()),
    help="Open and past the due date.",
    border=True,
)
m3.metric("Open P1", open_issues.filter(pl.col("priority") == "P1").height, border=True)
m4.metric(
    "Fixed, awaiting verification",
    issues.filter(pl.col("status") == "fixed").height,
    help="The weekly review verifies a fix once contacts have fallen for two weeks.",
    border=True,
)
m5.metric("Verified fixes", issues.filter(pl.col("status") == "verified").height, border=True)

# ------------------------------------------------------------------ the editable grid
st.subheader("Issues")
show_done = st.toggle("Show verified and closed issues", key="tracker-show-done", value=False)
shown = issues if show_done else open_issues
if not shown.height:
    st.success("No open issues.", icon=":material/check:")
grid = shown.select(
    "issue_id",
    "title",
    "status",
    "priority",
    "owner",
    "due_date",
    "overdue",
    "age_days",
    "root_cause",
    "action",
    "theme_label",
    "department",
)
version = st.session_state.setdefault("tracker-grid-version", 0)
grid_key = f"tracker-grid-{version}"
if grid.height:
    st.caption(
        "Edit status, priority, owner, due date, root cause or action in the table; each change is saved at once."
    )
    st.data_editor(
        grid,
        key=grid_key,
        hide_index=True,
        disabled=["issue_id", "title", "theme_label", "department", "age_days", "overdue"],
        column_config={
            "issue_id": st.column_config.NumberColumn("#", width="small"),
            "title": st.column_config.TextColumn("Issue", width="medium"),
            "theme_label": st.column_config.TextColumn("Theme"),
            "status": st.column_config.SelectboxColumn(
                "Status", options=list(data.STATUSES), required=True
            ),
            "priority": st.column_config.SelectboxColumn(
                "Priority", options=list(data.PRIORITIES), required=True, width="small"
            ),
            "owner": st.column_config.TextColumn("Owner"),
            "due_date": st.column_config.DateColumn("Due", format="YYYY-MM-DD"),
            "age_days": st.column_config.NumberColumn("Age (days)", width="small"),
            "department": st.column_config.TextColumn("Department"),
            "overdue": st.column_config.CheckboxColumn("Overdue", width="small"),
            "root_cause": st.column_config.TextColumn("Root cause", max_chars=data.MAX_TEXT),
            "action": st.column_config.TextColumn("Action", max_chars=data.MAX_TEXT),
        },
    )
    edits = (st.session_state.get(grid_key) or {}).get("edited_rows") or {}
    if edits:
        saved = 0
        for position, changes in edits.items():
            issue_id = int(grid["issue_id"][int(position)])
            fields = {k: v for k, v in changes.items() if k in EDITABLE}
            if "due_date" in fields and isinstance(fields["due_date"], str):
                fields["due_date"] = date.fromisoformat(fields["due_date"][:10])
            for name in ("owner", "root_cause", "action"):
                if name in fields and fields[name] is None:
                    fields[name] = ""  # an emptied cell clears the field
            if fields and save(
                lambda issue_id=issue_id, fields=fields: data.update_issue(
                    viewer, issue_id, **fields
                ),
                "Saved.",
            ):
                saved += 1
        st.session_state["tracker-grid-version"] = version + 1
        if saved == len(edits):
            st.session_state["voc-flash"] = (
                f"Saved {saved} change(s); each is in the issue's history."
            )
            st.rerun()
download_button(issues, key="tracker-issues", file_name="issues.csv")

# ------------------------------------------------------------------- one issue in full
st.subheader("Issue detail")
ids = shown["issue_id"].to_list() or issues["issue_id"].to_list()
titles = {
    row["issue_id"]: f"#{row['issue_id']} {row['title']} ({row['status'].replace('_', ' ')})"
    for row in issues.iter_rows(named=True)
}
wanted = st.session_state.pop("tracker_issue", None)
if wanted is not None and wanted in titles:
    if wanted not in ids:
        ids = [wanted, *ids]
    st.session_state["tracker-issue"] = wanted
if st.session_state.get("tracker-issue") not in ids:
    st.session_state["tracker-issue"] = ids[0]
issue_id = st.selectbox(
    "Issue", ids, format_func=lambda i: titles.get(i, f"#{i}"), key="tracker-issue"
)
detail = data.issue_detail(viewer, issue_id)
issue = detail.issue

left, right = st.columns([3, 2])
with left:
    st.markdown(f"**{md(issue['title'])}**")
    st.caption(
        " · ".join(
            md(x)
            for x in [
                f"theme #{issue['theme_id']} {issue['theme_label'] or ''}",
                issue["department"] or "no department",
                f"opened {when(issue['created_at'])[:10]}",
                f"{issue['age_days']} days old",
            ]
        )
    )
    if issue["opened_reason"]:
        st.caption("Why it was opened: " + md(issue["opened_reason"]))
    if issue["overdue"]:
        st.error(f"Overdue: it was due {when(issue['due_date'])}.", icon=":material/schedule:")
    allowed = sorted({issue["status"], *data.TRANSITIONS[issue["status"]]}, key=data.STATUSES.index)
    form_id = f"{issue_id}-{issue['version']}"
    with st.form(f"tracker-edit-{form_id}"):
        f1, f2, f3 = st.columns(3)
        status = f1.selectbox(
            "Status",
            allowed,
            index=allowed.index(issue["status"]),
            format_func=lambda s: s.replace("_", " "),
            key=f"tracker-form-status-{form_id}",
        )
        priority = f2.selectbox(
            "Priority",
            list(data.PRIORITIES),
            index=data.PRIORITIES.index(issue["priority"]),
            key=f"tracker-form-priority-{form_id}",
        )
        due = f3.date_input("Due date", value=issue["due_date"], key=f"tracker-form-due-{form_id}")
        owners = data.department_owners(viewer, issue["department"]) if issue["department"] else []
        owner = st.text_input(
            "Owner",
            value=issue["owner"] or "",
            key=f"tracker-form-owner-{form_id}",
            help=("People who can own it: " + md(", ".join(owners))) if owners else None,
        )
        department_choice = issue["department"]
        if not viewer.is_head:  # heads keep their issues; the insight team can reroute
            departments = data.filter_options(viewer).departments
            department_choice = st.selectbox(
                "Department",
                departments,
                index=departments.index(issue["department"])
                if issue["department"] in departments
                else None,
                placeholder="Needs a department",
                key=f"tracker-form-department-{form_id}",
            )
        root_cause = st.text_area(
            "Root cause", value=issue["root_cause"] or "", key=f"tracker-form-root-cause-{form_id}"
        )
        action = st.text_area(
            "Action", value=issue["action"] or "", key=f"tracker-form-action-{form_id}"
        )
        n1, n2 = st.columns([3, 1])
        note = n1.text_input("Note for the history (optional)", key=f"tracker-form-note-{form_id}")
        fixed_since = n2.date_input(
            "Fix live since",
            value=None,
            max_value=date.today(),
            help="When marking it fixed: the day the fix went live, if earlier than today. "
            "The weekly review measures contacts from then on.",
            key=f"tracker-form-fixed-on-{form_id}",
            disabled=issue["status"] == "fixed" or "fixed" not in allowed,
        )
        if st.form_submit_button("Save changes", type="primary") and save(
            lambda: data.update_issue(
                viewer,
                issue_id,
                status=status,
                priority=priority,
                due_date=due,
                owner=owner,
                root_cause=root_cause,
                action=action,
                note=note or None,
                department=department_choice if not viewer.is_head else None,
                fixed_on=datetime.combine(fixed_since, time()) if fixed_since else None,
            ),
            f"Issue #{issue_id} saved.",
        ):
            st.rerun()

with right:
    if issue["baseline_rate"] is not None and issue["after_rate"] is not None:
        st.markdown("**Did the fix work?**")
        v1, v2 = st.columns(2)
        v1.metric("Before the fix", f"{issue['baseline_rate']:.1f}", help="Contacts per 1,000.")
        v2.metric(
            "After the fix",
            f"{issue['after_rate']:.1f}",
            delta=f"{issue['after_rate'] - issue['baseline_rate']:+.1f} per 1,000",
            delta_color="inverse",
        )
        if issue["verification"]:
            st.caption(md(issue["verification"]))
    elif issue["status"] == "fixed":
        st.info(
            "Marked fixed: the weekly review checks whether contacts fall over the next weeks.",
            icon=":material/hourglass_top:",
        )
    if detail.theme_share.height:
        st.markdown("**Theme contacts per 1,000, week by week**")
        st.altair_chart(
            charts.verification(detail.theme_share, issue["resolved_at"]),
            key=f"tracker-verification-{issue_id}",
        )

if detail.evidence.height:
    st.markdown("**Evidence: the sub-themes of this issue's theme**")
    for row in detail.evidence.iter_rows(named=True):
        grew = " · growing" if row["is_growing"] else ""
        with st.expander(
            f"{md(row['label'])} · #{row['theme_id']} · {row['week_volume']:,} contacts{grew}"
        ):
            if row["growth_reason"]:
                st.caption(md(row["growth_reason"]))
            for text in row["examples"] or []:
                quote(text, f"sub-theme #{row['theme_id']}", limit=400)
if detail.folded.height:
    st.markdown("**Issues folded into this one**")
    st.caption("Their history stays under their own ids.")
    table(
        detail.folded,
        key="tracker-folded",
        file_name=f"issue-{issue_id}-folded.csv",
        columns=["issue_id", "theme_id", "theme_label", "title", "department", "created_at"],
    )

st.markdown("**History**")
if detail.history.height:
    table(detail.history, key="tracker-history", file_name=f"issue-{issue_id}-history.csv")
else:
    st.caption("No changes yet.")
