"""A small but realistic warehouse for the dashboard tests: 8 weeks of contacts for a
broadband company, 5 departments, an emerging theme, a theme waiting for triage, a
low-confidence route, a fixed-and-verified issue, an overdue one, and quarantined rows.

Rows go in through ``Warehouse.write()`` and the tracker/core_tables functions (the schema is
applied by the Warehouse); the weekly tables are the weekly review's own: its rules
(``models.review.build_review``) run on the contact facts week by week and its writes
(``warehouse.review_tables``) store them, so every page's figures agree with each other
and with what ``voc weekly`` would show.

    python tests/app/dashboard_sample.py PATH      # build one by hand (demo users too)
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from warehouse import Warehouse, core_tables, review_tables, tracker  # noqa: E402
from warehouse.sql import named_query  # noqa: E402
from warehouse.users import ensure_demo_users  # noqa: E402

COSTS = {"survey": 0.40, "complaint": 12.00, "email": 3.20, "call": 4.80}
DEPARTMENTS = [
    ("Network", "Outages, line faults and slow speeds.", "head.network@lumen.example"),
    ("Billing", "Bills, prices, payments and refunds.", "head.billing@lumen.example"),
    ("Field Operations", "Engineer visits and installations.", "head.fieldops@lumen.example"),
    ("Digital", "The My Lumen app and website.", "head.digital@lumen.example"),
    ("Customer Service", "Phone lines, chat and replies.", "head.cs@lumen.example"),
]


@dataclass(frozen=True)
class SampleTheme:
    theme_id: int
    label: str
    keywords: list[str]
    department: str | None
    confidence: float | None
    source: str | None
    demand: str
    weekly: list[int]  # contacts per week, oldest first (8 weeks)
    texts: list[str]


THEMES = [
    SampleTheme(
        1,
        "Broadband drops in the evening",
        ["drops", "evening", "connection"],
        "Network",
        0.91,
        "model",
        "failure",
        [14, 15, 13, 16, 14, 15, 16, 15],
        [
            "My broadband drops every evening around eight.",
            "Connection keeps dropping when I'm on video calls, call me on <PHONE>.",
            "Internet cuts out every night, it is unusable.",
        ],
    ),
    SampleTheme(
        2,
        "Charged twice for the same month",
        ["charged twice", "bill", "refund"],
        "Billing",
        0.88,
        "model",
        "failure",
        [9, 10, 8, 9, 11, 10, 9, 10],
        [
            "I've been charged twice for March.",
            "Double charged again, where is my refund?",
            "Two payments taken for the same bill.",
        ],
    ),
    SampleTheme(
        3,
        "Engineer did not turn up",
        ["engineer", "appointment", "no-show"],
        "Field Operations",
        0.81,
        "model",
        "failure",
        [6, 7, 6, 5, 7, 6, 6, 7],
        [
            "The engineer never turned up and I took the day off.",
            "Waited in all day, nobody came for the installation.",
            "Appointment cancelled without telling me.",
        ],
    ),
    SampleTheme(
        4,
        "App login loop after password reset",
        ["login", "app", "password reset"],
        "Digital",
        0.77,
        "model",
        "failure",
        [2, 3, 2, 2, 3, 2, 3, 24],
        [
            "The app sends me back to the login screen after the password reset.",
            "Can't log in to My Lumen since the update, it just loops.",
            "Password reset email arrives but the app still won't let me in.",
        ],
    ),
    SampleTheme(
        5,
        "Long hold times on the phone",
        ["hold", "queue", "callback"],
        "Customer Service",
        0.70,
        "model",
        "failure",
        [8, 7, 9, 8, 8, 9, 7, 8],
        [
            "On hold for an hour then cut off.",
            "Promised a callback that never came.",
            "Forty minutes in the queue to ask a simple question.",
        ],
    ),
    SampleTheme(
        6,
        "Upgrading to faster fibre",
        ["upgrade", "fibre", "package"],
        None,
        None,
        "triage",
        "value",
        [3, 4, 3, 4, 3, 4, 4, 3],
        [
            "I'd like to upgrade to the 900 Mbps package.",
            "Can I get full fibre at my address?",
            "What deals do you have for faster broadband?",
        ],
    ),
    SampleTheme(
        7,
        "Praise for friendly engineers",
        ["friendly", "engineer", "thanks"],
        "Field Operations",
        0.42,
        "model",
        "value",
        [4, 3, 4, 5, 4, 3, 4, 4],
        [
            "The engineer was lovely and quick.",
            "Great install, friendly team, thank you.",
            "Really helpful technician, please pass on my thanks.",
        ],
    ),
    SampleTheme(
        8,
        "Price rise without warning",
        ["price rise", "bill went up", "letter"],
        "Billing",
        0.85,
        "model",
        "failure",
        [12, 13, 12, 11, 3, 2, 2, 1],
        [
            "My bill went up by eight pounds without any warning.",
            "Nobody told me about the price increase.",
            "Why has my direct debit gone up?",
        ],
    ),
    SampleTheme(
        9,
        "Wi-Fi setup questions",
        ["wifi", "set up", "router"],
        "Digital",
        0.35,
        "triage",
        "failure",
        [0, 0, 0, 0, 0, 0, 0, 5],
        [
            "How do I set up the Wi-Fi on the new router?",
            "Which light should be on?",
            "How do I change the Wi-Fi password?",
        ],
    ),
]
# what routing's demand classifier would call each theme's contacts (models/demand.py):
# the login loop is an outage (a notice while it emerges), Wi-Fi setup a "how do I"
SUBTYPES = {
    1: "broken",
    2: "mistake",
    3: "chasing_progress",
    4: "broken",
    5: "repeat_contact",
    6: "purchase_upgrade",
    7: "praise",
    8: "mistake",
    9: "confusion_how_do_i",
}
CHANNELS = ["survey", "email", "call", "complaint"]
CHANNEL_WEIGHTS = [0.4, 0.25, 0.25, 0.1]


@dataclass(frozen=True)
class Sample:
    path: Path
    weeks: list[date]  # oldest first
    issues: dict[str, int]  # name → issue_id
    departments: list[str]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build(path: Path, today: date | None = None, *, users: bool = True) -> Sample:
    """Write the sample warehouse at ``path`` (which must not exist yet)."""
    today = today or date.today()
    last = _monday(today) - timedelta(days=7)  # the latest complete week
    weeks = [last - timedelta(days=7 * (7 - i)) for i in range(8)]
    wh = Warehouse(path, lock_timeout=20)
    rng = random.Random(7)
    loaded = datetime.combine(last + timedelta(days=7), datetime.min.time()) + timedelta(hours=6)

    feedback, assigned, routes = [], [], []
    n = 0
    for theme in THEMES:
        for w, count in enumerate(theme.weekly):
            for k in range(count):
                n += 1
                channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
                fid = f"fb{n:05d}"
                received = datetime.combine(weeks[w], datetime.min.time()) + timedelta(
                    hours=rng.randrange(8, 24 * 7 - 8)
                )
                score = None
                if channel == "survey":
                    base = 9 if theme.demand == "value" else 5
                    score = float(max(0, min(10, base + rng.randint(-4, 3))))
                feedback.append(
                    {
                        "feedback_id": fid,
                        "channel": channel,
                        "source_file": f"{channel}s-{weeks[w]:%Y%m%d}.csv",
                        "source_ref": str(n),
                        "customer_ref": f"cust{rng.randrange(300):03d}",
                        "received_at": received,
                        "text": theme.texts[k % len(theme.texts)],
                        "score": score,
                        "score_kind": "nps" if score is not None else None,
                        "language": "en",
                        "run_id": f"run-{weeks[w]:%Y%m%d}",
                        "ingested_at": loaded,
                    }
                )
                assigned.append((fid, theme.theme_id, round(rng.uniform(0.55, 0.95), 3)))
                if theme.source == "triage":
                    routes.append((fid, None, theme.confidence, "triage"))
                elif k % 9 == 4:  # an item routed on its own, without much confidence
                    routes.append((fid, theme.department, 0.31, "item"))
                else:
                    routes.append((fid, theme.department, theme.confidence, "theme"))
    # a few contacts no theme explains
    for w in range(8):
        n += 1
        fid = f"fb{n:05d}"
        feedback.append(
            {
                "feedback_id": fid,
                "channel": "email",
                "source_file": "emails.mbox",
                "source_ref": f"<m{n}@mail.example>",
                "customer_ref": None,
                "received_at": datetime.combine(weeks[w], datetime.min.time())
                + timedelta(days=2, hours=10),
                "text": "Please see attached.",
                "score": None,
                "score_kind": None,
                "language": "en",
                "run_id": f"run-{weeks[w]:%Y%m%d}",
                "ingested_at": loaded,
            }
        )
        assigned.append((fid, 0, None))
        routes.append((fid, None, None, "triage"))

    staged = pl.DataFrame(feedback)
    with wh.write() as con:
        con.register("staged_feedback", staged)
        con.execute("INSERT INTO feedback BY NAME SELECT * FROM staged_feedback")
        con.unregister("staged_feedback")
        for theme in THEMES:
            first = min(
                f["received_at"]
                for f, a in zip(feedback, assigned, strict=True)
                if a[1] == theme.theme_id
            )
            last_seen = max(
                f["received_at"]
                for f, a in zip(feedback, assigned, strict=True)
                if a[1] == theme.theme_id
            )
            con.execute(
                "INSERT INTO themes (theme_id, label, label_source, keywords, department,"
                " department_confidence, department_source, demand_type, demand_subtype,"
                " demand_source, status, size, first_seen, last_seen, created_run_id,"
                " created_at, updated_at)"
                " VALUES (?, ?, 'model', ?, ?, ?, ?, ?, ?, 'model', 'active', ?, ?, ?,"
                " 'topics-1', ?, ?)",
                [
                    theme.theme_id,
                    theme.label,
                    theme.keywords,
                    theme.department,
                    theme.confidence,
                    theme.source,
                    theme.demand,
                    SUBTYPES[theme.theme_id],
                    sum(theme.weekly),
                    first,
                    last_seen,
                    loaded,
                    loaded,
                ],
            )
        con.executemany(
            "INSERT INTO feedback_themes VALUES (?, ?, ?, 'topics-1', ?)",
            [(fid, tid, score, loaded) for fid, tid, score in assigned],
        )
        con.executemany("INSERT INTO feedback_departments VALUES (?, ?, ?, ?)", routes)
        con.execute(
            "INSERT INTO theme_examples SELECT theme_id, rank, feedback_id FROM ("
            " SELECT theme_id, feedback_id, row_number() OVER (PARTITION BY theme_id"
            " ORDER BY score DESC NULLS LAST, feedback_id) AS rank FROM feedback_themes)"
            " WHERE rank <= 5"
        )
        _review(con, weeks, loaded)
        con.execute(
            "INSERT INTO weekly_runs SELECT 'weekly-' || strftime(week_start, '%Y%m%d'),"
            " week_start, week_start + INTERVAL 7 DAY + INTERVAL 6 HOUR,"
            " week_start + INTERVAL 7 DAY + INTERVAL 6 HOUR + INTERVAL 40 SECOND, 'ok',"
            " count(*), count(*) FILTER (WHERE is_emerging), 0, 0, 0, NULL"
            " FROM theme_weekly GROUP BY week_start"
        )
        _ingest_history(con, weeks, loaded)
        core_tables.rename_theme(con, 5, "Long hold times on the phone line", "analyst", loaded)

    issues = _issues(wh, weeks, today, loaded)
    if users:
        ensure_demo_users(wh, [{"name": name, "head": head} for name, _, head in DEPARTMENTS])
    return Sample(Path(path), weeks, issues, [d[0] for d in DEPARTMENTS])


def sample_org():
    """The sample company's departments file: five departments, one cost per channel."""
    from models.departments import parse_departments

    return parse_departments(
        {
            "departments": [
                {"name": name, "description": description, "head": head}
                for name, description, head in DEPARTMENTS
            ],
            "default": {"cost_per_contact": COSTS},
        },
        "dashboard_sample",
    )


def theme_routes() -> pl.DataFrame:
    """The themes as routing decided them (``models.theme_routes.Routing.themes``): a
    theme in triage has no department, its best guess kept."""
    from models.theme_routes import THEME_ROUTE_SCHEMA

    return pl.DataFrame(
        [
            {
                "theme_id": t.theme_id,
                "department": None if t.source == "triage" else t.department,
                "confidence": t.confidence,
                "source": t.source,
                "best_guess": t.department,
                "demand_type": t.demand,
                "demand_subtype": SUBTYPES[t.theme_id],
                "demand_reason": None,
            }
            for t in THEMES
        ],
        schema=THEME_ROUTE_SCHEMA,
    ).with_columns(demand_source=pl.lit("model"))


def _review(con, weeks: list[date], loaded: datetime) -> None:
    """The weekly review of each week in turn, as `voc serve` runs it every Monday: its
    rules (models.review) on the contact facts, its writes (warehouse.review_tables)."""
    from models.review import build_review, departments_frame
    from models.theme_routes import ITEM_ROUTE_SCHEMA, Routing

    org = sample_org()
    routing = Routing(theme_routes(), pl.DataFrame(schema=ITEM_ROUTE_SCHEMA))
    labels = dict(con.execute(named_query("theme_labels")).fetchall())
    review_tables.replace_departments(con, departments_frame(org), loaded)
    for week in weeks:
        until = datetime.combine(week + timedelta(days=7), datetime.min.time())
        facts = core_tables.fetch_frame(con, named_query("contact_facts"), {"until": until})
        review = build_review(
            facts.with_columns(pl.col("theme_id").cast(pl.Int32)),
            routing,
            org,
            week,
            labels,
            core_tables.fetch_frame(con, named_query("issues_to_verify"), {"until": until}),
            core_tables.fetch_frame(con, named_query("resolved_issue_customers")),
            computed_at=loaded,
        )
        review_tables.replace_weekly_tables(
            con,
            week=week,
            theme_weekly=review.theme_weekly,
            subtheme_weekly=review.subtheme_weekly,
            channel_weekly=review.channel_weekly,
            chargeback=review.chargeback,
            opportunities=review.opportunities,
            service_recovery=review.service_recovery,
        )


def _ingest_history(con, weeks: list[date], loaded: datetime) -> None:
    for w in weeks:
        for channel in CHANNELS:
            con.execute(
                named_query("insert_ingest_run"),
                {
                    "run_id": f"run-{w:%Y%m%d}",
                    "source_file": f"{channel}s-{w:%Y%m%d}.csv",
                    "file_sha256": None,
                    "channel": channel,
                    "rows_read": 12,
                    "rows_loaded": 10,
                    "rows_duplicate": 2,
                    "rows_quarantined": 0,
                    "started_at": datetime.combine(w + timedelta(days=7), datetime.min.time()),
                    "finished_at": datetime.combine(w + timedelta(days=7), datetime.min.time())
                    + timedelta(seconds=3),
                    "status": "ok",
                    "message": None,
                },
            )
    con.execute(
        named_query("insert_ingest_run"),
        {
            "run_id": "run-bad",
            "source_file": "complaints-broken.csv",
            "file_sha256": None,
            "channel": "complaint",
            "rows_read": 5,
            "rows_loaded": 2,
            "rows_duplicate": 0,
            "rows_quarantined": 3,
            "started_at": loaded,
            "finished_at": loaded + timedelta(seconds=1),
            "status": "partial",
            "message": "3 records quarantined",
        },
    )
    bad = [
        ("q1", "complaints-broken.csv", "3", "empty_text", "the record has no text", ""),
        (
            "q2",
            "complaints-broken.csv",
            "4",
            "bad_date",
            "date '31/31/2026' is not a date",
            "31/31/2026,charged twice",
        ),
        ("q3", "complaints-broken.csv", "5", "empty_text", "the record has no text", ""),
        (
            "q4",
            "calls/garbled.vtt",
            "garbled.vtt",
            "unreadable_file",
            "not a WebVTT file",
            "WEBVTT?? <PHONE>",
        ),
    ]
    con.executemany(
        "INSERT INTO quarantine VALUES (?, 'run-bad', ?, ?, ?, ?, ?, ?)",
        [(*row, loaded) for row in bad],
    )


def _issues(wh: Warehouse, weeks: list[date], today: date, loaded: datetime) -> dict[str, int]:
    created = loaded - timedelta(days=30)
    last = weeks[-1]

    def open_issue(con, theme_id, title, department, priority, due, reason):
        return tracker.create_issue(
            con,
            theme_id=theme_id,
            title=title,
            department=department,
            priority=priority,
            due_date=due,
            opened_reason=reason,
            week=last,
            weekly_volume=10,
            weekly_cost=80.0,
            at=created,
        )

    ids: dict[str, int] = {}
    with wh.write() as con:
        ids["network_overdue"] = open_issue(
            con,
            1,
            "Evening drop-outs on the network",
            "Network",
            "P1",
            today - timedelta(days=5),
            "15 contacts a week for 8 weeks",
        )
        tracker.update_issue(
            con,
            ids["network_overdue"],
            tracker.IssueChange(status="in_progress", owner="head.network"),
            "head.network",
            created + timedelta(days=1),
        )
        ids["billing_new"] = open_issue(
            con,
            2,
            "Duplicate direct debits",
            "Billing",
            "P2",
            today + timedelta(days=10),
            "10 contacts a week, complaint-heavy",
        )
        ids["billing_verified"] = open_issue(
            con,
            8,
            "Price rise letters not sent",
            "Billing",
            "P1",
            weeks[3] + timedelta(days=14),
            "12 contacts a week about an unannounced price rise",
        )
        fixed_at = datetime.combine(weeks[4], datetime.min.time()) + timedelta(hours=9)
        tracker.update_issue(
            con,
            ids["billing_verified"],
            tracker.IssueChange(
                status="fixed", root_cause="Letters batch failed", action="Resent the letters"
            ),
            "head.billing",
            fixed_at,
        )
        tracker.update_issue(
            con,
            ids["billing_verified"],
            tracker.IssueChange(status="verified"),
            "weekly-review",
            fixed_at + timedelta(days=21),
            system=True,
        )
        con.execute(
            named_query("record_verification"),
            {
                "issue_id": ids["billing_verified"],
                "baseline_rate": 168.0,
                "after_rate": 24.0,
                "verification": "contacts fell from 168 to 24 per 1,000 after the fix (p < 0.001)",
                "p_value": 0.0002,
                "at": fixed_at + timedelta(days=21),
            },
        )
        ids["fieldops_ack"] = open_issue(
            con,
            3,
            "Engineer no-shows",
            "Field Operations",
            "P2",
            today + timedelta(days=3),
            "6 contacts a week",
        )
        tracker.update_issue(
            con,
            ids["fieldops_ack"],
            tracker.IssueChange(status="acknowledged"),
            "head.fieldops",
            created + timedelta(days=2),
        )
        ids["digital_new"] = open_issue(
            con,
            4,
            "Login loop after password reset",
            "Digital",
            "P1",
            today + timedelta(days=7),
            "emerging: 24 contacts against about 3 expected",
        )
        ids["cs_closed"] = open_issue(
            con, 5, "Hold times", "Customer Service", "P3", None, "8 contacts a week"
        )
        tracker.update_issue(
            con,
            ids["cs_closed"],
            tracker.IssueChange(status="closed", note="staffing fixed"),
            "head.cs",
            created + timedelta(days=3),
        )
    return ids


if __name__ == "__main__":
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # no "no runtime" warnings
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "data/dashboard-sample.duckdb")
    if target.exists():
        sys.exit(f"{target} exists; pick a new path")
    sample = build(target)
    print(f"built {target}: weeks {sample.weeks[0]}..{sample.weeks[-1]}, issues {sample.issues}")
