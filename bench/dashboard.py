"""Dashboard benchmark: every page's reads on a 1,000,000-row warehouse, cold.

    .venv/bin/python bench/dashboard.py [--rows 1000000] [--themes 150] [--weeks 60]
                                        [--db PATH] [--keep] [--repeat 3]

Builds a synthetic warehouse with DuckDB SQL (generate_series): feedback, theme
assignments and routes at ``--rows``, and the weekly review's tables at realistic sizes
(themes × weeks × channels), issues with their history, ingest runs and quarantine. Then,
for each page, clears every cache and times the ``dashboard.data`` calls that page makes
on its first render (as an analyst, and the tracker also as a department head), best of
``--repeat``. Prints per-page seconds and the ratio to ``SELECT count(*) FROM feedback``
through the same ``Warehouse.read()`` in the same run. Bar: every page under 1 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard import data  # noqa: E402
from dashboard.data import Viewer  # noqa: E402
from warehouse import Warehouse  # noqa: E402
from warehouse.sql import named_query  # noqa: E402

BAR_SECONDS = 1.0
DEPARTMENTS = [
    "Field Operations", "Network", "Billing", "Digital", "Digital Self-Service",
    "Logistics", "Customer Service", "TV Product", "Sales", "Sales (Home Moves)",
    "Retention", "Customer Experience",
]  # fmt: skip
COSTS = {"survey": 0.40, "complaint": 12.00, "email": 3.20, "call": 4.80}


def build(path: Path, rows: int, themes: int, weeks: int) -> dict[str, float]:
    """Write the synthetic warehouse; returns seconds per step."""
    wh = Warehouse(path, lock_timeout=600)
    first = date(2025, 1, 6)  # a Monday
    span = weeks * 7 * 86400
    at = datetime(2026, 3, 2, 6, 0)
    steps: dict[str, float] = {}

    def step(name: str, sql: str, params: dict | None = None) -> None:
        start = time.perf_counter()
        con.execute(sql, params or {})
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - start

    with wh.write() as con:
        con.execute(
            "CREATE TEMP TABLE dept AS SELECT unnest($names) AS name, "
            "generate_subscripts($names, 1) AS i",
            {"names": DEPARTMENTS},
        )
        step(
            "departments",
            "INSERT INTO departments SELECT name, name || ' owns what its name says.', [],"
            " 'head.' || lower(replace(name, ' ', '')) || '@example.com', $costs, $at FROM dept",
            {"costs": json.dumps(COSTS), "at": at},
        )
        # one generated row per contact; theme skewed towards low ids, 4% unclassified
        step(
            "generate contacts",
            """
            CREATE TEMP TABLE gen AS
            SELECT i,
                   'fb' || lpad(CAST(i AS VARCHAR), 8, '0') AS feedback_id,
                   ['survey', 'email', 'call', 'complaint'][1 + CAST(hash(i) % 4 AS INTEGER)] AS channel,
                   $first::TIMESTAMP + to_seconds(CAST(i * $span // $rows AS BIGINT)) AS received_at,
                   CASE WHEN hash(i * 7) % 25 = 0 THEN 0
                        ELSE 1 + CAST(floor($themes * pow((hash(i * 11) % 1000003) / 1000003.0, 2)) AS INTEGER)
                   END AS theme_id,
                   'c' || CAST(hash(i * 13) % ($rows // 4) AS VARCHAR) AS customer_ref,
                   CAST(hash(i * 17) % 11 AS DOUBLE) AS raw_score,
                   (hash(i * 19) % 1000) / 1000.0 AS u
            FROM generate_series(1, $rows) AS s(i)
            """,
            {"first": first, "span": span, "rows": rows, "themes": themes},
        )
        step(
            "feedback",
            """
            INSERT INTO feedback (feedback_id, channel, source_file, source_ref, customer_ref,
                                  received_at, text, score, score_kind, language, run_id,
                                  ingested_at)
            SELECT feedback_id, channel, channel || 's-' || strftime(received_at, '%G-W%V') || '.csv',
                   CAST(i AS VARCHAR), customer_ref, received_at,
                   'synthetic contact ' || i || ' about theme ' || theme_id
                   || ': the service let me down again and I had to get in touch',
                   CASE WHEN channel = 'survey' THEN raw_score END,
                   CASE WHEN channel = 'survey' THEN 'nps' END, 'en',
                   'run-' || strftime(received_at, '%G-W%V'), $at
            FROM gen
            """,
            {"at": at},
        )
        step(
            "themes",
            """
            INSERT INTO themes (theme_id, label, label_source, keywords, department,
                                department_confidence, department_source, demand_type,
                                demand_source, status, size, first_seen, last_seen,
                                created_at, updated_at)
            SELECT t, 'Theme ' || t || ': customers chasing something that went wrong', 'model',
                   ['word' || t, 'phrase ' || t, 'term' || (t % 7)],
                   CASE WHEN t % 25 = 0 THEN NULL
                        ELSE (SELECT name FROM dept WHERE i = 1 + t % 12) END,
                   CASE WHEN t % 25 = 0 THEN NULL WHEN t % 9 = 0 THEN 0.4 ELSE 0.85 END,
                   CASE WHEN t % 25 = 0 THEN 'triage' ELSE 'model' END,
                   CASE WHEN t % 4 = 0 THEN 'value' ELSE 'failure' END, 'model', 'active',
                   0, $first::TIMESTAMP, $first::TIMESTAMP + to_seconds($span), $at, $at
            FROM generate_series(1, $themes) AS s(t)
            """,
            {"themes": themes, "first": first, "span": span, "at": at},
        )
        step(
            "theme sizes",
            "UPDATE themes SET size = c.n FROM (SELECT theme_id, count(*) AS n FROM gen GROUP BY 1) AS c"
            " WHERE themes.theme_id = c.theme_id",
        )
        step(
            "feedback_themes",
            "INSERT INTO feedback_themes SELECT feedback_id, theme_id, 0.5 + u / 2, 'bench', $at FROM gen",
            {"at": at},
        )
        step(
            "feedback_departments",
            """
            INSERT INTO feedback_departments
            SELECT g.feedback_id,
                   CASE WHEN t.department_source = 'triage' OR g.theme_id = 0 THEN NULL
                        ELSE t.department END,
                   CASE WHEN g.u < 0.03 THEN 0.3 ELSE t.department_confidence END,
                   CASE WHEN t.department_source = 'triage' OR g.theme_id = 0 THEN 'triage'
                        WHEN g.u < 0.03 THEN 'item' ELSE 'theme' END
            FROM gen AS g JOIN themes AS t USING (theme_id)
            """,
        )
        step(
            "theme_examples",
            """
            INSERT INTO theme_examples
            SELECT theme_id, rank, feedback_id FROM (
                SELECT theme_id, feedback_id,
                       row_number() OVER (PARTITION BY theme_id ORDER BY u DESC, i) AS rank
                FROM gen) WHERE rank <= 10
            """,
        )
        step(
            "contact facts",
            """
            CREATE TEMP TABLE contact AS
            SELECT g.feedback_id, g.channel, g.customer_ref,
                   CASE WHEN g.channel = 'survey' THEN g.raw_score END AS score,
                   CAST(date_trunc('week', g.received_at) AS DATE) AS week_start,
                   g.theme_id, t.department, t.department_source, t.demand_type,
                   CASE g.channel WHEN 'survey' THEN 0.4 WHEN 'email' THEN 3.2
                                  WHEN 'call' THEN 4.8 ELSE 12.0 END AS cost
            FROM gen AS g JOIN themes AS t USING (theme_id)
            """,
        )
        step(
            "theme_channel_weekly",
            """
            INSERT INTO theme_channel_weekly (week_start, theme_id, channel, volume, est_cost,
                scored, score_sum, promoters, detractors, nps_responses)
            SELECT week_start, theme_id, channel, count(*), sum(cost), count(score), sum(score),
                   count(*) FILTER (WHERE score >= 9), count(*) FILTER (WHERE score <= 6),
                   count(score)
            FROM contact GROUP BY ALL
            """,
        )
        step(
            "theme_weekly",
            """
            INSERT INTO theme_weekly BY NAME
            WITH w AS (
                SELECT week_start, theme_id, count(*) AS volume, sum(cost) AS est_cost,
                       count(score) AS scored, avg(score) AS avg_score,
                       any_value(department) AS department, any_value(demand_type) AS demand_type
                FROM contact GROUP BY ALL),
            tot AS (SELECT week_start, count(*) AS total FROM contact GROUP BY ALL),
            s AS (SELECT w.*, w.volume / tot.total AS share FROM w JOIN tot USING (week_start)),
            tr AS (SELECT s.*, avg(share) OVER (PARTITION BY theme_id ORDER BY week_start
                                ROWS BETWEEN 8 PRECEDING AND 1 PRECEDING) AS trailing_share
                   FROM s)
            SELECT week_start, theme_id, volume, share, 0.9 * share AS share_ci_low,
                   1.1 * share AS share_ci_high, trailing_share, 8 AS trailing_weeks,
                   share / nullif(trailing_share, 0) - 1 AS change_vs_trailing,
                   share / nullif(trailing_share, 0) AS rate_ratio,
                   0.8 * share / nullif(trailing_share, 0) AS ratio_ci_low,
                   1.2 * share / nullif(trailing_share, 0) AS ratio_ci_high,
                   0.5 AS p_value, 0.5 AS q_value,
                   (theme_id % 37 = 0) AS is_emerging, false AS is_new,
                   CASE WHEN theme_id % 37 = 0 THEN 'synthetic: flagged for the benchmark' END
                       AS emerging_reason,
                   scored, avg_score, -20.0 AS nps, -0.3 AS nps_effect,
                   volume // 10 AS repeat_contacts, 0.1 AS repeat_rate, est_cost, department,
                   demand_type
            FROM tr
            """,
        )
        step(
            "weekly_chargeback",
            """
            INSERT INTO weekly_chargeback (week_start, department, contacts, failure_contacts,
                failure_cost, value_contacts, value_cost, total_cost, failure_share)
            SELECT week_start, coalesce(CASE WHEN department_source <> 'triage' THEN department END,
                                        'Needs triage'),
                   count(*), count(*) FILTER (WHERE demand_type = 'failure'),
                   coalesce(sum(cost) FILTER (WHERE demand_type = 'failure'), 0),
                   count(*) FILTER (WHERE demand_type <> 'failure'),
                   coalesce(sum(cost) FILTER (WHERE demand_type <> 'failure'), 0), sum(cost),
                   count(*) FILTER (WHERE demand_type = 'failure') / count(*)
            FROM contact GROUP BY 1, 2
            """,
        )
        step(
            "opportunities",
            """
            INSERT INTO opportunities
            SELECT week_start, theme_id, kind, department, volume, round(0.5 * est_cost, 2),
                   'synthetic opportunity', row_number() OVER (PARTITION BY week_start, kind
                                                               ORDER BY est_cost DESC)
            FROM theme_weekly, (VALUES ('self_service'), ('proactive_notice')) AS k(kind)
            WHERE demand_type = 'failure' AND theme_id % 3 = 0
            """,
        )
        step(
            "issues",
            """
            INSERT INTO issues (issue_id, theme_id, title, department, owner, status, priority,
                                due_date, root_cause, action, opened_reason, created_at,
                                updated_at, resolved_at, verified_at, weekly_volume,
                                weekly_cost, baseline_rate, after_rate, verification)
            SELECT n, t.theme_id, 'Fix ' || t.label, t.department,
                   CASE WHEN n % 3 = 0 THEN 'owner' || n END,
                   ['new', 'acknowledged', 'in_progress', 'fixed', 'verified', 'closed'][1 + n % 6],
                   ['P1', 'P2', 'P3', 'P4'][1 + n % 4],
                   $today::DATE + INTERVAL (n % 40 - 20) DAY,
                   CASE WHEN n % 2 = 0 THEN 'root cause ' || n END,
                   CASE WHEN n % 2 = 0 THEN 'action ' || n END,
                   'synthetic', $at, $at,
                   CASE WHEN n % 6 IN (3, 4) THEN $at END,
                   CASE WHEN n % 6 = 4 THEN $at END, 100, 480.0,
                   CASE WHEN n % 6 = 4 THEN 80.0 END, CASE WHEN n % 6 = 4 THEN 30.0 END,
                   CASE WHEN n % 6 = 4 THEN 'synthetic verification' END
            FROM (SELECT theme_id, row_number() OVER (ORDER BY theme_id) AS n, label, department
                  FROM themes WHERE theme_id > 0 AND department IS NOT NULL) AS t
            """,
            {"today": date.today(), "at": at},
        )
        step(
            "issue_events",
            """
            INSERT INTO issue_events
            SELECT issue_id, $at::TIMESTAMP + to_minutes(k), 'someone', 'status',
                   'new', 'acknowledged', NULL
            FROM issues, generate_series(1, 12) AS s(k)
            """,
            {"at": at},
        )
        step(
            "ingest history",
            """
            INSERT INTO ingest_runs
            SELECT 'run-' || w, channel || 's-' || w || '.csv', NULL, channel,
                   n + 10, n, 8, 2, $at, $at + INTERVAL 20 SECOND,
                   CASE WHEN n % 5 = 0 THEN 'partial' ELSE 'ok' END, NULL
            FROM (SELECT strftime(received_at, '%G-W%V') AS w, channel, count(*) AS n
                  FROM gen GROUP BY ALL)
            """,
            {"at": at},
        )
        step(
            "quarantine",
            """
            INSERT INTO quarantine
            SELECT 'q' || k, 'run-bench', 'broken-' || (k % 50) || '.csv', CAST(k AS VARCHAR),
                   ['empty_text', 'bad_date', 'too_long', 'unreadable_file'][1 + k % 4],
                   'synthetic reason ' || (k % 4), 'excerpt ' || k, $at
            FROM generate_series(1, 5000) AS s(k)
            """,
            {"at": at},
        )
        step(
            "weekly_runs",
            """
            INSERT INTO weekly_runs
            SELECT 'weekly-' || week_start, week_start, week_start + INTERVAL 7 DAY,
                   week_start + INTERVAL 7 DAY + INTERVAL 2 MINUTE, 'ok', count(*),
                   count(*) FILTER (WHERE is_emerging), 0, 0, 0, NULL
            FROM theme_weekly GROUP BY week_start
            """,
        )
    return steps


def page_reads(analyst: Viewer, head: Viewer) -> dict[str, Callable[[], object]]:
    """What each page asks ``dashboard.data`` for on its first render."""

    def latest() -> date:
        return data.filter_options(analyst).weeks[0]

    def this_week():
        week = latest()
        return data.this_week(analyst, week)

    def explorer():
        options = data.theme_options(analyst)
        return data.theme_page(analyst, int(options["theme_id"][0]))

    def triage():
        data.filter_options(analyst)
        return data.triage_queue(analyst)

    def tracker(viewer: Viewer):
        def read():
            department = viewer.department
            issues = data.issues(viewer, department)
            detail = data.issue_detail(viewer, int(issues["issue_id"][0]))
            if detail.issue["department"]:
                data.department_owners(viewer, detail.issue["department"])
            return detail

        return read

    def cost():
        return data.cost(analyst, latest())

    def quality():
        return data.data_quality(analyst)

    return {
        "This week": this_week,
        "Theme explorer": explorer,
        "Triage": triage,
        "Issue tracker (analyst)": tracker(analyst),
        "My department (head)": tracker(head),
        "Cost of failure demand": cost,
        "Data quality": quality,
    }


PAGE_FILES = {
    "This week": "pages/this_week.py",
    "Theme explorer": "pages/theme_explorer.py",
    "Triage": "pages/triage.py",
    "Issue tracker (analyst)": "pages/tracker.py",
    "Cost of failure demand": "pages/cost.py",
    "Data quality": "pages/data_quality.py",
}


def render_times(path: Path, repeat: int) -> dict[str, float]:
    """Whole-page render with Streamlit's AppTest (script, charts, tables), caches cold."""
    from streamlit.testing.v1 import AppTest

    from warehouse.users import create_user, get_viewer

    wh = data.warehouse()
    if get_viewer(wh, "bench.analyst") is None:
        create_user(wh, "bench.analyst", "Bench Analyst", "analyst", "bench-password")
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    app.session_state["authentication_status"] = True
    app.session_state["username"] = "bench.analyst"
    app.session_state["name"] = "Bench Analyst"
    app.session_state["logout"] = None
    app.run()  # warm-up: imports, first connection
    data.quiet_bare_mode()  # AppTest resets Streamlit's log levels
    times: dict[str, float] = {}
    for name, page in PAGE_FILES.items():
        best = float("inf")
        for _ in range(repeat):
            data.clear_caches()
            app.switch_page(page)
            start = time.perf_counter()
            app.run()
            best = min(best, time.perf_counter() - start)
            if app.exception:
                raise RuntimeError(f"{name}: {app.exception[0].value}")
        times[name] = best
    return times


def timed(func: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        data.clear_caches()
        data._open_warehouse.clear()  # a new process's first render: no cached Warehouse
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=150)
    parser.add_argument("--weeks", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="reuse (or keep) the warehouse at this path")
    parser.add_argument("--keep", action="store_true", help="keep the temporary warehouse")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="voc-bench-dashboard-"))
    path = args.db or tmp / "voc.duckdb"
    try:
        if not path.exists():
            start = time.perf_counter()
            steps = build(path, args.rows, args.themes, args.weeks)
            total = time.perf_counter() - start
            print(
                f"built {path} in {total:.1f}s ({args.rows:,} feedback rows, "
                f"{args.themes} themes × {args.weeks} weeks)"
            )
            for name, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:6]:
                print(f"  {name:<22} {seconds:6.2f}s")
        import os

        os.environ["VOC_DB"] = str(path)
        wh = data.warehouse()
        with wh.read() as con:
            rows = con.execute("SELECT count(*) FROM feedback").fetchall()[0][0]
            heads = con.execute(
                "SELECT department, count(*) FROM issues GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
            ).fetchall()
        analyst = Viewer("analyst", "Bench Analyst", "analyst")
        head = Viewer("head", "Bench Head", "head", heads[0][0])

        def baseline() -> None:
            with data.warehouse().read() as con:
                con.execute("SELECT count(*) FROM feedback").fetchall()

        base = timed(baseline, args.repeat)
        print(f"\nwarehouse: {rows:,} feedback rows; {path.stat().st_size / 1e6:,.0f} MB")
        print(f"baseline  Warehouse.read() + count(*) of feedback: {base * 1000:.1f} ms\n")
        print(
            f"{'page (cold: caches cleared)':<30} {'seconds':>8} {'× baseline':>11}  bar < {BAR_SECONDS:.0f}s"
        )
        worst = 0.0
        for name, read in page_reads(analyst, head).items():
            seconds = timed(read, args.repeat)
            worst = max(worst, seconds)
            verdict = "ok" if seconds < BAR_SECONDS else "SLOW"
            print(f"{name:<30} {seconds:8.3f} {seconds / base:11.1f}  {verdict}")
        print(f"\n{'page rendered (AppTest, cold)':<30} {'seconds':>8} {'× baseline':>11}")
        for name, seconds in render_times(path, args.repeat).items():
            worst = max(worst, seconds)
            verdict = "ok" if seconds < BAR_SECONDS else "SLOW"
            print(f"{name:<30} {seconds:8.3f} {seconds / base:11.1f}  {verdict}")
        # the one page read that counts raw rows, on its own
        with data.warehouse().read() as con:
            start = time.perf_counter()
            con.sql(named_query("dash_rows_per_channel_week")).pl()
            scan = time.perf_counter() - start
        print(f"\n  of which rows per channel and week (scans feedback): {scan:.3f}s")
        print(
            f"\nslowest page {worst:.3f}s: {'PASS' if worst < BAR_SECONDS else 'FAIL'} (bar < {BAR_SECONDS:.0f}s)"
        )
        return 0 if worst < BAR_SECONDS else 1
    finally:
        if not (args.keep or args.db):
            shutil.rmtree(tmp, ignore_errors=True)
        elif args.keep and not args.db:
            print(f"kept {path}")


if __name__ == "__main__":
    raise SystemExit(main())
