-- 003: the weekly review: departments and routing, weekly theme metrics, cost and
-- chargeback, opportunities, and the issue tracker with its audit trail.
-- Pages of the dashboard read these pre-aggregated tables, never raw feedback scans.

-- grain: one row per department (loaded from departments.yaml on every weekly run)
CREATE TABLE departments (
    name             VARCHAR   PRIMARY KEY,
    description      VARCHAR,
    keywords         VARCHAR[],
    head             VARCHAR,
    cost_per_contact JSON,                 -- {"call": 4.80, "email": 3.20, ...}
    updated_at       TIMESTAMP NOT NULL
);

-- grain: one row per example an analyst gave routing (a reassignment teaches it)
CREATE TABLE routing_examples (
    theme_id    INTEGER,
    feedback_id VARCHAR,
    text        VARCHAR   NOT NULL,
    department  VARCHAR   NOT NULL,
    actor       VARCHAR   NOT NULL,
    "at"        TIMESTAMP NOT NULL,
    weight      DOUBLE    NOT NULL DEFAULT 1.0
);

-- grain: one row per feedback item: the department that owns it
CREATE TABLE feedback_departments (
    feedback_id VARCHAR PRIMARY KEY,
    department  VARCHAR,              -- null = needs triage
    confidence  DOUBLE,
    source      VARCHAR NOT NULL      -- theme | item | triage | analyst
);

-- grain: one row per (ISO week, theme)
CREATE TABLE theme_weekly (
    week_start         DATE    NOT NULL,
    theme_id           INTEGER NOT NULL,
    volume             BIGINT  NOT NULL,
    share              DOUBLE  NOT NULL,   -- of all contacts that week
    share_ci_low       DOUBLE,
    share_ci_high      DOUBLE,
    trailing_share     DOUBLE,             -- the theme's own rate over the trailing weeks
    trailing_weeks     INTEGER,
    change_vs_trailing DOUBLE,             -- share / trailing_share - 1
    rate_ratio         DOUBLE,
    ratio_ci_low       DOUBLE,
    ratio_ci_high      DOUBLE,
    p_value            DOUBLE,
    q_value            DOUBLE,             -- Benjamini-Hochberg across the week's themes
    is_emerging        BOOLEAN NOT NULL DEFAULT false,
    is_new             BOOLEAN NOT NULL DEFAULT false,
    emerging_reason    VARCHAR,
    scored             BIGINT,
    avg_score          DOUBLE,
    nps                DOUBLE,
    nps_effect         DOUBLE,             -- overall NPS minus NPS without this theme
    csat               DOUBLE,
    repeat_contacts    BIGINT,
    repeat_rate        DOUBLE,             -- same customer, same theme, within 14 days
    est_cost           DOUBLE,
    department         VARCHAR,
    demand_type        VARCHAR,
    PRIMARY KEY (week_start, theme_id)
);

-- grain: one row per (ISO week, theme, channel): for filters and channel mix
CREATE TABLE theme_channel_weekly (
    week_start DATE    NOT NULL,
    theme_id   INTEGER NOT NULL,
    channel    VARCHAR NOT NULL,
    volume     BIGINT  NOT NULL,
    est_cost   DOUBLE  NOT NULL,
    scored     BIGINT  NOT NULL,
    score_sum  DOUBLE,
    promoters  BIGINT  NOT NULL,
    detractors BIGINT  NOT NULL,
    nps_responses BIGINT NOT NULL,
    PRIMARY KEY (week_start, theme_id, channel)
);

-- grain: one row per (ISO week, department): what failure demand cost each department
CREATE TABLE weekly_chargeback (
    week_start       DATE    NOT NULL,
    department       VARCHAR NOT NULL,   -- 'Needs triage' for unrouted contacts
    contacts         BIGINT  NOT NULL,
    failure_contacts BIGINT  NOT NULL,
    failure_cost     DOUBLE  NOT NULL,
    value_contacts   BIGINT  NOT NULL,
    value_cost       DOUBLE  NOT NULL,
    total_cost       DOUBLE  NOT NULL,
    failure_share    DOUBLE,
    PRIMARY KEY (week_start, department)
);

-- grain: one row per (ISO week, theme, kind): where self-service or a proactive notice
-- would prevent contacts, ranked by estimated weekly saving
CREATE TABLE opportunities (
    week_start         DATE    NOT NULL,
    theme_id           INTEGER NOT NULL,
    kind               VARCHAR NOT NULL,   -- self_service | proactive_notice
    department         VARCHAR,
    weekly_contacts    BIGINT  NOT NULL,
    est_weekly_saving  DOUBLE  NOT NULL,
    rationale          VARCHAR,
    rank               INTEGER,
    PRIMARY KEY (week_start, theme_id, kind)
);

CREATE SEQUENCE issue_ids START 1;

-- grain: one row per issue; one open issue per theme at a time
CREATE TABLE issues (
    issue_id        INTEGER   PRIMARY KEY DEFAULT nextval('issue_ids'),
    theme_id        INTEGER   NOT NULL,
    title           VARCHAR   NOT NULL,
    department      VARCHAR,
    owner           VARCHAR,
    status          VARCHAR   NOT NULL,   -- new | acknowledged | in_progress | fixed | verified | reopened | closed
    priority        VARCHAR   NOT NULL,   -- P1 (highest) .. P4
    due_date        DATE,
    root_cause      VARCHAR,
    action          VARCHAR,
    opened_reason   VARCHAR,              -- why the weekly review opened it
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    resolved_at     TIMESTAMP,            -- when it was marked fixed
    verified_at     TIMESTAMP,
    last_review_week DATE,
    weekly_volume   BIGINT,
    weekly_cost     DOUBLE,
    baseline_rate   DOUBLE,               -- contacts per 1,000 before the fix
    after_rate      DOUBLE,               -- and after it
    verification    VARCHAR,              -- the evidence, in a sentence
    verification_p  DOUBLE,
    version         INTEGER   NOT NULL DEFAULT 1   -- bumped by every change
);

-- grain: one row per change to an issue (the audit trail)
CREATE TABLE issue_events (
    issue_id  INTEGER   NOT NULL,
    "at"      TIMESTAMP NOT NULL,
    actor     VARCHAR   NOT NULL,
    field     VARCHAR   NOT NULL,
    old_value VARCHAR,
    new_value VARCHAR,
    note      VARCHAR
);

-- grain: one row per (theme, department, score kind): scores before and after the issue
-- of customers whose issue was resolved
CREATE TABLE service_recovery (
    theme_id     INTEGER NOT NULL,
    department   VARCHAR,
    score_kind   VARCHAR NOT NULL,
    customers    BIGINT  NOT NULL,
    score_before DOUBLE,
    score_after  DOUBLE,
    change       DOUBLE,
    computed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (theme_id, score_kind)
);

-- grain: one row per weekly review run
CREATE TABLE weekly_runs (
    run_id          VARCHAR   PRIMARY KEY,
    week_start      DATE      NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR   NOT NULL,
    themes          INTEGER,
    emerging        INTEGER,
    issues_opened   INTEGER,
    issues_verified INTEGER,
    issues_reopened INTEGER,
    params          JSON
);
