"""Every read and write the dashboard makes, and who may make it.

Pages get data only from here. A read is one short ``Warehouse.read()`` block (one
connection for everything a page section needs) inside a function cached for
``CACHE_SECONDS`` and keyed by the warehouse path, the viewer's scope and the filters. A
write is one ``Warehouse.write()`` transaction through ``warehouse.tracker`` or
``warehouse.core_tables`` (the write functions the CLI calls too, which check every value) with
the signed-in user as the actor and the time from ``warehouse.clock``; it waits for a
flow that is writing (up to the warehouse's ``lock_timeout``) and then clears the caches
so the page shows the change.

Permissions are enforced here, not in the layout: a department head who asks for another
department's issues, themes or theme detail gets a ``PermissionError``, and only
analysts and admins may edit themes, triage, or read the data-quality tables.

Pages read only pre-aggregated tables (``theme_weekly``, ``theme_channel_weekly``,
``weekly_chargeback``, ``opportunities``, ``issues``) and look feedback up by primary key;
the data-quality page's rows per channel and week is the one count over ``feedback``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import streamlit as st

from flows.config import load_settings
from warehouse import (
    Warehouse,
    WarehouseBusy,
    WarehouseError,
    contract,
    core_tables,
    edit_rules,
    theme_edits,
    tracker,
    urgent,
)
from warehouse.clock import utc_now
from warehouse.sql import named_query
from warehouse.users import ROLES, Viewer

__all__ = [
    "ROLES",
    "STATUSES",
    "TRANSITIONS",
    "PRIORITIES",
    "DEMAND_TYPES",
    "LOW_CONFIDENCE",
    "Viewer",
    "EditRejected",
    "WarehouseBusy",
    "WarehouseError",
    "warehouse",
    "clear_caches",
    "week_label",
    "filter_options",
    "this_week",
    "theme_options",
    "theme_page",
    "triage_queue",
    "issues",
    "issue_detail",
    "department_owners",
    "cost",
    "data_quality",
    "update_issue",
    "rename_theme",
    "merge_themes",
    "assign_theme_department",
    "set_theme_demand",
    "route_item",
    "theme_tree",
    "sub_theme",
    "move_theme",
    "create_group",
    "split_theme",
    "split_group",
    "urgent_queue",
    "acknowledge_urgent",
]

_BARE_MODE_LOGGERS = (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.caching.cache_resource_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
)


def quiet_bare_mode() -> None:
    """Outside ``streamlit run`` (a script, the benchmark, a test) the caches work in
    memory and Streamlit's "no runtime" warnings are noise: silence just those."""
    if not st.runtime.exists():
        for name in _BARE_MODE_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)


quiet_bare_mode()

STATUSES = tracker.STATUSES
# how a page names the contacts and themes no department owns yet (the weekly tables' name)
TRIAGE = contract.TRIAGE
OPEN_STATUSES = tracker.OPEN_STATUSES
TRANSITIONS = tracker.TRANSITIONS
PRIORITIES = tracker.PRIORITIES
DEMAND_TYPES = core_tables.DEMAND_TYPES
# a route below this confidence is shown for an analyst to confirm (DESIGN.md §5). Routes
# below models.routing.TRIAGE_BELOW (0.6) go to triage outright; on bitext those from 0.6 to
# 0.8 were 76-95 % right and those above 0.8 99 %, so 0.6-0.8 is what is worth a look
LOW_CONFIDENCE = 0.8
CACHE_SECONDS = 30
MAX_LABEL = edit_rules.MAX_LABEL
MAX_TEXT = edit_rules.MAX_TEXT


# ---------------------------------------------------------------------------- who asks
class EditRejected(ValueError):
    """An edit that cannot be made as asked (bad value, bad transition); says why."""


def _scope(viewer: Viewer, departments: Iterable[str] | None = None) -> list[str] | None:
    """The departments ``viewer`` may read, narrowed by a filter; ``None`` means all."""
    wanted = sorted(set(departments)) if departments else None
    if viewer.is_head:
        if wanted and wanted != [viewer.department]:
            others = ", ".join(d for d in wanted if d != viewer.department)
            raise PermissionError(
                f"{viewer.username} is head of {viewer.department} and cannot see {others}"
            )
        return [str(viewer.department)]
    return wanted


def _require(allowed: bool, viewer: Viewer, what: str) -> None:
    if not allowed:
        raise PermissionError(f"{viewer.role_name} {viewer.username!r} may not {what}")


def _check_department(viewer: Viewer, department: str | None, what: str) -> None:
    if viewer.is_head and department != viewer.department:
        raise PermissionError(
            f"{what} belongs to {department or 'no department'}; "
            f"{viewer.username} is head of {viewer.department}"
        )


# -------------------------------------------------------------------------- plumbing
def warehouse() -> Warehouse:
    """The warehouse named by ``VOC_DB`` (``voc dashboard --db`` sets it)."""
    settings = load_settings()
    return _open_warehouse(str(settings.db.expanduser().resolve()), settings.lock_timeout)


@st.cache_resource(show_spinner=False)
def _open_warehouse(path: str, lock_timeout: float) -> Warehouse:
    return Warehouse(path, lock_timeout=lock_timeout)


def _warehouse_key(wh: Warehouse) -> str:
    return str(wh.path)


def _cached(func):
    """Cache a read for ``CACHE_SECONDS``, keyed by the warehouse path and the arguments."""
    return st.cache_data(
        ttl=CACHE_SECONDS, show_spinner=False, hash_funcs={Warehouse: _warehouse_key}
    )(func)


def clear_caches() -> None:
    """Forget every cached read, after an edit, so the next render shows it."""
    st.cache_data.clear()


def _frame(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pl.DataFrame:
    return con.sql(named_query(name), params=params).pl()


def _row(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> dict | None:
    rows = _frame(con, name, **params).to_dicts()
    return rows[0] if rows else None


def week_label(week_start: date) -> str:
    """``2026-W47`` for the Monday that starts ISO week 47 of 2026."""
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def _channels(channels: Iterable[str] | None) -> list[str] | None:
    return sorted(set(channels)) if channels else None


# ------------------------------------------------------------------------ filters
@dataclass(frozen=True)
class FilterOptions:
    weeks: list[date]  # newest first
    channels: list[str]
    departments: list[str]  # what this viewer may pick
    last_run: dict | None  # the latest weekly review run


def filter_options(viewer: Viewer) -> FilterOptions:
    """Weeks with a weekly review, channels, and the departments ``viewer`` may pick."""
    options = _filter_options(warehouse())
    if viewer.is_head:
        return FilterOptions(
            options.weeks, options.channels, [str(viewer.department)], options.last_run
        )
    return options


@_cached
def _filter_options(wh: Warehouse) -> FilterOptions:
    with wh.read() as con:
        weeks = _frame(con, "dash_review_weeks")["week_start"].to_list()
        channels = _frame(con, "dash_channels")["channel"].to_list()
        departments = core_tables.department_names(con)
        last_run = _row(con, "dash_last_weekly_run")
    return FilterOptions(weeks, channels, departments, last_run)


# ------------------------------------------------------------------------ this week
@dataclass(frozen=True)
class ThisWeek:
    week: date
    previous_week: date
    headline: pl.DataFrame  # one row per week (12 up to ``week``) with derived ratios
    themes: pl.DataFrame  # one row per theme: volume, cost, change vs the week before
    emerging: pl.DataFrame  # emerging or new themes with their evidence
    examples: pl.DataFrame  # up to 3 verbatims per emerging theme
    trend: pl.DataFrame  # (week, theme) volume and cost for every theme in ``themes``
    # the sub-themes beneath each top-level theme this week (growing ones first), for
    # "what is growing inside it"; not split by channel (subtheme_weekly is per week)
    sub_themes: pl.DataFrame = field(default_factory=pl.DataFrame)

    def figures(self, week: date) -> dict | None:
        """The headline figures of one week, or None when it has no contacts."""
        rows = self.headline.filter(pl.col("week_start") == week).to_dicts()
        return rows[0] if rows else None


def this_week(
    viewer: Viewer,
    week: date,
    channels: Sequence[str] | None = None,
    departments: Sequence[str] | None = None,
) -> ThisWeek:
    """Headline figures with last week's, emerging themes with evidence, every theme's
    volume and cost this week and last, and their weekly trend."""
    return _this_week(warehouse(), week, _channels(channels), _scope(viewer, departments))


@_cached
def _this_week(
    wh: Warehouse, week: date, channels: list[str] | None, departments: list[str] | None
) -> ThisWeek:
    previous = week - timedelta(days=7)
    scope = {"channels": channels, "departments": departments}
    with wh.read() as con:
        headline = _frame(con, "dash_headline", week=week, **scope)
        themes = _frame(con, "dash_theme_week", week=week, previous_week=previous, **scope)
        emerging = _frame(con, "dash_emerging", week=week, **scope)
        trend = _frame(
            con,
            "dash_theme_trend",
            week=week,
            theme_ids=themes["theme_id"].to_list() or [-1],
            **scope,
        )
        examples = _frame(
            con,
            "dash_theme_examples",
            theme_ids=emerging["theme_id"].to_list() or [-1],
            per_theme=3,
        )
        sub_themes = core_tables.week_subthemes(con, week, departments=departments)
    headline = headline.with_columns(
        failure_share=pl.when(pl.col("contacts") > 0).then(
            pl.col("failure_contacts") / pl.col("contacts")
        ),
        nps=pl.when(pl.col("nps_responses") > 0).then(
            100.0 * (pl.col("promoters") - pl.col("detractors")) / pl.col("nps_responses")
        ),
        week=pl.col("week_start").map_elements(week_label, return_dtype=pl.String),
    )
    themes = themes.with_columns(
        change=pl.col("volume") - pl.col("previous_volume"),
        change_pct=pl.when(pl.col("previous_volume") > 0).then(
            pl.col("volume") / pl.col("previous_volume") - 1
        ),
        cost_change=pl.col("est_cost") - pl.col("previous_cost"),
    )
    return ThisWeek(week, previous, headline, themes, emerging, examples, trend, sub_themes)


# --------------------------------------------------------------------- theme explorer
def theme_options(viewer: Viewer, include_inactive: bool = False) -> pl.DataFrame:
    """Themes ``viewer`` may open (heads: their department's), biggest first."""
    return _theme_options(warehouse(), include_inactive, _scope(viewer))


@_cached
def _theme_options(
    wh: Warehouse, include_inactive: bool, departments: list[str] | None
) -> pl.DataFrame:
    with wh.read() as con:
        return _frame(
            con, "dash_theme_options", include_inactive=include_inactive, departments=departments
        )


OTHER_LANGUAGES_SHOWN = 20  # contacts in other languages the explorer lists per theme


@dataclass(frozen=True)
class ThemePage:
    detail: dict
    weekly: pl.DataFrame  # the theme's own weekly review rows
    trend: pl.DataFrame  # weekly volume and cost, merged themes included
    channel_mix: pl.DataFrame  # over the 8 weeks up to the latest review
    examples: pl.DataFrame  # representative verbatims (redacted at ingest)
    issues: pl.DataFrame  # every issue opened for it, open first
    history: pl.DataFrame  # analyst edits, newest first
    latest: dict | None = field(default=None)  # the latest weekly row, if any
    # its contacts in other languages than the team's, placed in it by meaning
    other_languages: pl.DataFrame = field(default_factory=pl.DataFrame)


def theme_page(viewer: Viewer, theme_id: int) -> ThemePage:
    """Everything the theme explorer shows about one theme. Raises ``KeyError`` for an
    unknown theme and ``PermissionError`` for a head asking about another department's."""
    page = _theme_page(warehouse(), int(theme_id))
    if page is None:
        raise KeyError(f"no theme {theme_id}")
    _check_department(viewer, page.detail["department"], f"theme {theme_id}")
    if viewer.is_head:
        # rerouting a theme leaves its open issue with the department that had it: a
        # head sees the theme, and only the issues their own department holds
        own = page.issues.filter(pl.col("department") == viewer.department)
        page = dataclasses.replace(page, issues=own)
    return page


@_cached
def _theme_page(wh: Warehouse, theme_id: int) -> ThemePage | None:
    with wh.read() as con:
        detail = _row(con, "dash_theme_detail", theme_id=theme_id)
        if detail is None:
            return None
        weekly = _frame(con, "dash_theme_weekly_stats", theme_id=theme_id)
        weeks = _frame(con, "dash_review_weeks")["week_start"]
        week = weeks[0] if len(weeks) else date.today()
        trend = _frame(
            con,
            "dash_theme_trend",
            week=week,
            theme_ids=[theme_id],
            channels=None,
            departments=None,
        )
        mix = _frame(con, "dash_theme_channel_mix", theme_id=theme_id, week=week, weeks=8)
        # a group holds no contact itself: its verbatims are its sub-themes' best
        members = theme_edits.group_members(con, theme_id).filter(pl.col("status") == "active")
        examples = _frame(
            con,
            "dash_theme_examples",
            theme_ids=[theme_id, *members["theme_id"].to_list()],
            per_theme=3 if members.height else 10,
        )
        issues_ = _frame(con, "dash_theme_issues", theme_id=theme_id)
        history = _frame(con, "dash_theme_history", theme_id=theme_id)
        other_languages = _frame(
            con,
            "dash_theme_other_languages",
            theme_ids=[theme_id, *members["theme_id"].to_list()],
            team=load_settings().team_language,
            limit=OTHER_LANGUAGES_SHOWN,
        )
    mix = mix.with_columns(
        share=pl.col("volume") / pl.col("volume").sum(),
        nps=pl.when(pl.col("nps_responses") > 0).then(
            100.0 * (pl.col("promoters") - pl.col("detractors")) / pl.col("nps_responses")
        ),
    )
    latest = weekly.tail(1).to_dicts()[0] if weekly.height else None
    return ThemePage(
        detail, weekly, trend, mix, examples, issues_, history, latest, other_languages
    )


# ------------------------------------------------------------------------ theme map
def theme_tree(viewer: Viewer, include_inactive: bool = False) -> pl.DataFrame:
    """The theme map ``viewer`` may open: every top-level theme (``depth`` 0) followed by
    its sub-themes (``depth`` 1), biggest first; ``department`` and ``demand_type`` are
    the top-level theme's. Heads get their department's top-level themes."""
    tree = _theme_tree(warehouse(), include_inactive)
    if viewer.is_head:
        tree = tree.filter((pl.col("department") == viewer.department) & (pl.col("top_id") != 0))
    return tree


@_cached
def _theme_tree(wh: Warehouse, include_inactive: bool) -> pl.DataFrame:
    with wh.read() as con:
        return theme_edits.theme_tree(con, include_inactive)


@dataclass(frozen=True)
class SubTheme:
    detail: dict  # the theme with its place in the map (kind, parent_id, sources)
    examples: pl.DataFrame  # representative verbatims (redacted at ingest)
    history: pl.DataFrame  # analyst edits, newest first


def sub_theme(viewer: Viewer, theme_id: int) -> SubTheme:
    """One sub-theme (or any theme) as the explorer shows it beneath its top-level theme:
    keywords, examples, history. A head may open only their department's (the department
    of its top-level theme)."""
    found = _sub_theme(warehouse(), int(theme_id))
    if found is None:
        raise KeyError(f"no theme {theme_id}")
    page, department = found
    _check_department(viewer, department, f"theme {theme_id}")
    return page


@_cached
def _sub_theme(wh: Warehouse, theme_id: int) -> tuple[SubTheme, str | None] | None:
    with wh.read() as con:
        detail = theme_edits.theme_level(con, theme_id)
        if detail is None:
            return None
        top = theme_edits.theme_level(con, detail["parent_id"] or theme_id) or detail
        examples = _frame(con, "dash_theme_examples", theme_ids=[theme_id], per_theme=10)
        history = _frame(con, "dash_theme_history", theme_id=theme_id)
    detail = {k: v for k, v in detail.items() if k != "centroid"}
    department = None if top["department_source"] == "triage" else top["department"]
    return SubTheme(detail, examples, history), department


# ---------------------------------------------------------------------------- triage
@dataclass(frozen=True)
class TriageQueue:
    themes: pl.DataFrame  # themes with no department yet
    low_confidence_themes: pl.DataFrame  # routed, but below LOW_CONFIDENCE
    items: pl.DataFrame  # items waiting (or low confidence), at most ``limit``
    needs_triage: int  # items with no department
    low_confidence: int  # items routed below LOW_CONFIDENCE


def triage_queue(viewer: Viewer, limit: int = 200) -> TriageQueue:
    """The "needs triage" queue and low-confidence routes (analysts and admins only)."""
    _require(viewer.can_triage, viewer, "triage")
    return _triage_queue(warehouse(), int(limit))


@_cached
def _triage_queue(wh: Warehouse, limit: int) -> TriageQueue:
    with wh.read() as con:
        themes = _frame(con, "dash_triage_themes")
        low = _frame(con, "dash_low_confidence_themes", threshold=LOW_CONFIDENCE)
        items = _frame(con, "dash_triage_items", threshold=LOW_CONFIDENCE, limit=limit)
        counts = _row(con, "dash_triage_counts", threshold=LOW_CONFIDENCE) or {}
    return TriageQueue(
        themes,
        low,
        items,
        int(counts.get("needs_triage") or 0),
        int(counts.get("low_confidence") or 0),
    )


# --------------------------------------------------------------------------- tracker
def issues(viewer: Viewer, department: str | None = None) -> pl.DataFrame:
    """Issues of ``department`` (all departments when None; a head always gets their
    own), with age in days and an overdue flag (open and past its due date)."""
    scope = _scope(viewer, [department] if department else None)
    return _issues(warehouse(), scope, date.today())


@_cached
def _issues(wh: Warehouse, departments: list[str] | None, today: date) -> pl.DataFrame:
    with wh.read() as con:
        return _frame(con, "dash_issues", departments=departments, issue_id=None, today=today)


@dataclass(frozen=True)
class IssueDetail:
    issue: dict
    history: pl.DataFrame  # issue_events, newest first
    theme_share: pl.DataFrame  # the theme's weekly contacts per 1,000, for verification
    # the evidence: the sub-themes of the issue's (top-level) theme, with their volume and
    # examples; and the issues folded into this one (their history under their own ids)
    evidence: pl.DataFrame = field(default_factory=pl.DataFrame)
    folded: pl.DataFrame = field(default_factory=pl.DataFrame)


def issue_detail(viewer: Viewer, issue_id: int) -> IssueDetail:
    """One issue with its history and its theme's weekly rate (did the fix work?)."""
    detail = _issue_detail(warehouse(), int(issue_id), date.today())
    if detail is None:
        raise KeyError(f"no issue {issue_id}")
    _check_department(viewer, detail.issue["department"], f"issue {issue_id}")
    return detail


@_cached
def _issue_detail(wh: Warehouse, issue_id: int, today: date) -> IssueDetail | None:
    with wh.read() as con:
        issue = _row(con, "dash_issues", departments=None, issue_id=issue_id, today=today)
        if issue is None:
            return None
        history = _frame(con, "dash_issue_history", issue_id=issue_id)
        share = _frame(con, "dash_issue_theme_share", theme_id=issue["theme_id"])
        evidence = core_tables.issue_subthemes(con, issue_id)
        folded = core_tables.issue_folds(con, issue_id)
    return IssueDetail(issue, history, share, evidence, folded)


def department_owners(viewer: Viewer, department: str) -> list[str]:
    """Usernames who can own an issue of ``department`` (its head, analysts, admins)."""
    _scope(viewer, [department])
    return _department_owners(warehouse(), department)


@_cached
def _department_owners(wh: Warehouse, department: str) -> list[str]:
    with wh.read() as con:
        return _frame(con, "dash_department_owners", department=department)["username"].to_list()


# ------------------------------------------------------------------------------ cost
@dataclass(frozen=True)
class CostView:
    chargeback: pl.DataFrame  # (week, department) up to ``week``
    opportunities: pl.DataFrame  # ``week``'s self-service / proactive-notice savings


def cost(viewer: Viewer, week: date, departments: Sequence[str] | None = None) -> CostView:
    """The failure-demand chargeback by department and week, and the opportunities."""
    return _cost(warehouse(), week, _scope(viewer, departments))


@_cached
def _cost(wh: Warehouse, week: date, departments: list[str] | None) -> CostView:
    with wh.read() as con:
        chargeback = _frame(con, "dash_chargeback", week=week, departments=departments)
        opportunities = _frame(con, "dash_opportunities", week=week, departments=departments)
    chargeback = chargeback.with_columns(
        week=pl.col("week_start").map_elements(week_label, return_dtype=pl.String)
    )
    return CostView(chargeback, opportunities)


# ---------------------------------------------------------------------- data quality
@dataclass(frozen=True)
class DataQuality:
    runs: pl.DataFrame  # (ingest run, file), newest first
    quarantine: pl.DataFrame  # quarantined records with reasons, newest first
    reasons: pl.DataFrame  # quarantine counts by reason
    rows_per_channel_week: pl.DataFrame  # (week, channel) contacts loaded
    languages: pl.DataFrame  # contacts per language (ISO 639-1 code or 'und')


def data_quality(viewer: Viewer, limit: int = 50_000) -> DataQuality:
    """Ingest runs, quarantine and rows per channel and week (analysts and admins)."""
    _require(viewer.can_see_data_quality, viewer, "see data quality")
    return _data_quality(warehouse(), int(limit))


@_cached
def _data_quality(wh: Warehouse, limit: int) -> DataQuality:
    with wh.read() as con:
        runs = _frame(con, "dash_ingest_runs", limit=limit)
        quarantine = _frame(con, "dash_quarantine", limit=limit)
        reasons = _frame(con, "dash_quarantine_reasons")
        per_week = _frame(con, "dash_rows_per_channel_week")
        languages = _frame(con, "contacts_by_language")
    per_week = per_week.with_columns(
        week=pl.col("week_start").map_elements(week_label, return_dtype=pl.String)
    )
    return DataQuality(runs, quarantine, reasons, per_week, languages)


# ---------------------------------------------------------------------------- writes
def _write(action):
    """Run ``action(con)`` in one write transaction; the caches are cleared after it.

    Waits while a flow holds the warehouse (``WarehouseBusy`` when that takes longer than
    the lock timeout; nothing is written then). Validation errors become
    ``EditRejected``; ``PermissionError`` passes through."""
    try:
        with warehouse().write() as con:
            result = action(con)
    except (ValueError, KeyError) as exc:  # edit_rules.InvalidEdit, tracker.IssueError too
        if isinstance(exc, EditRejected):
            raise
        message = exc.args[0] if exc.args else str(exc)
        raise EditRejected(str(message)) from exc
    clear_caches()
    return result


def update_issue(
    viewer: Viewer,
    issue_id: int,
    *,
    status: str | None = None,
    owner: str | None = None,
    priority: str | None = None,
    due_date: date | str | None = None,
    root_cause: str | None = None,
    action: str | None = None,
    department: str | None = None,
    note: str | None = None,
    fixed_on: datetime | None = None,
) -> dict:
    """Change an issue through the tracker's one write path; each changed field lands in
    ``issue_events`` with ``viewer`` as the actor; ``fixed_on`` (with ``status="fixed"``)
    records that the fix went live earlier than now. Heads may change only their own
    department's issues and may not hand them to another department."""
    if viewer.is_head and department is not None and department != viewer.department:
        raise PermissionError("only analysts can move an issue to another department")
    change = tracker.IssueChange(
        status=status,
        owner=owner,
        priority=priority,
        due_date=due_date,
        root_cause=root_cause,
        action=action,
        department=department,
        note=note,
        fixed_on=fixed_on,
    )
    allowed = viewer.department if viewer.is_head else None
    return _write(
        lambda con: tracker.update_issue(
            con, int(issue_id), change, viewer.username, utc_now(), allowed_department=allowed
        )
    )


def rename_theme(viewer: Viewer, theme_id: int, label: str) -> None:
    """Give a theme a label of the analyst's own; later topic runs keep it."""
    _require(viewer.can_edit_themes, viewer, "rename themes")
    _write(
        lambda con: core_tables.rename_theme(con, int(theme_id), label, viewer.username, utc_now())
    )


def merge_themes(viewer: Viewer, keep: int, absorbed: int) -> None:
    """Merge theme ``absorbed`` into ``keep``; recorded, and kept by later runs."""
    _require(viewer.can_edit_themes, viewer, "merge themes")
    _write(
        lambda con: core_tables.merge_themes(
            con, int(keep), int(absorbed), viewer.username, utc_now()
        )
    )


def move_theme(viewer: Viewer, theme_id: int, parent_id: int | None) -> None:
    """Put a sub-theme under the group ``parent_id`` (None: out to the top level);
    later runs keep it."""
    _require(viewer.can_edit_themes, viewer, "move themes")
    parent = None if parent_id is None else int(parent_id)
    _write(
        lambda con: theme_edits.move_theme(con, int(theme_id), parent, viewer.username, utc_now())
    )


def create_group(viewer: Viewer, label: str, members: Sequence[int]) -> int:
    """A new top-level group named ``label`` over the fine themes ``members``; returns
    its id."""
    _require(viewer.can_edit_themes, viewer, "make groups")
    ids = [int(m) for m in members]
    return _write(lambda con: theme_edits.create_group(con, label, ids, viewer.username, utc_now()))


def split_theme(
    viewer: Viewer,
    theme_id: int,
    keyword: str | None = None,
    labels: Sequence[str] | None = None,
) -> theme_edits.SplitResult:
    """Divide a fine theme's contacts into two new fine themes, by meaning or by
    ``keyword``; later runs keep the split."""
    _require(viewer.can_edit_themes, viewer, "split themes")
    return _write(
        lambda con: theme_edits.split_theme(
            con,
            int(theme_id),
            viewer.username,
            utc_now(),
            keyword=keyword or None,
            labels=list(labels) if labels else None,
        )
    )


def split_group(
    viewer: Viewer, group_id: int, label: str, going: Sequence[int] | None = None
) -> theme_edits.SplitResult:
    """Move some of a group's sub-themes (``going``, else those set apart by their
    centres) under a new group named ``label``."""
    _require(viewer.can_edit_themes, viewer, "split groups")
    ids = [int(t) for t in going] if going else None
    return _write(
        lambda con: theme_edits.split_group(
            con, int(group_id), label, viewer.username, utc_now(), going=ids
        )
    )


def assign_theme_department(viewer: Viewer, theme_id: int, department: str) -> None:
    """Route a theme (and the items that follow it) to ``department``; routing learns
    from it and later runs keep it."""
    _require(viewer.can_triage, viewer, "reassign themes")
    _write(
        lambda con: core_tables.assign_theme_department(
            con, int(theme_id), department, viewer.username, utc_now()
        )
    )


def set_theme_demand(
    viewer: Viewer, theme_id: int, demand_type: str, reason: str | None = None
) -> None:
    """Override failure vs value demand for a theme; later runs keep it."""
    _require(viewer.can_edit_themes, viewer, "change demand types")
    _write(
        lambda con: core_tables.set_theme_demand(
            con, int(theme_id), demand_type, viewer.username, utc_now(), reason=reason
        )
    )


def route_item(viewer: Viewer, feedback_id: str, department: str) -> None:
    """Send one feedback item to ``department``: kept by later runs, and its text becomes
    an example routing learns from."""
    _require(viewer.can_triage, viewer, "route items")
    _write(
        lambda con: core_tables.route_item(con, feedback_id, department, viewer.username, utc_now())
    )


# ------------------------------------------------------------------ urgent contacts (#18)
@dataclass(frozen=True)
class UrgentQueue:
    contacts: pl.DataFrame  # one row per flagged contact: kinds, evidence, acknowledgement
    counts: pl.DataFrame  # per kind: flagged, open (not acknowledged)
    departments: list[str] | None  # the scope shown (None: every department)


def urgent_queue(
    viewer: Viewer,
    *,
    kinds: Sequence[str] | None = None,
    include_acknowledged: bool = False,
    limit: int = 300,
) -> UrgentQueue:
    """Urgent contacts waiting for a person: every flagged contact for the insight team,
    those routed to their department for a head."""
    scope = _scope(viewer)
    return _urgent_queue(
        warehouse(), scope, sorted(kinds) if kinds else None, include_acknowledged, int(limit)
    )


@_cached
def _urgent_queue(
    wh: Warehouse,
    departments: list[str] | None,
    kinds: list[str] | None,
    include_acknowledged: bool,
    limit: int,
) -> UrgentQueue:
    with wh.read() as con:
        contacts = urgent.queue(
            con,
            departments=departments,
            kinds=kinds,
            include_acknowledged=include_acknowledged,
            limit=limit,
        )
        counts = urgent.counts(con, departments)
    return UrgentQueue(contacts, counts, departments)


def acknowledge_urgent(viewer: Viewer, feedback_id: str, note: str | None = None) -> list[str]:
    """Acknowledge a flagged contact through the one write path (``warehouse.urgent``):
    who and when land in ``contact_flag_events``. A head may acknowledge only contacts
    routed to their department."""
    allowed = viewer.department if viewer.is_head else None
    return _write(
        lambda con: urgent.acknowledge(
            con, feedback_id, viewer.username, utc_now(), note=note, allowed_department=allowed
        )
    )
