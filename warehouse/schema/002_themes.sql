-- 002: themes found by the topics flow, the registry that keeps their ids stable, and the
-- analyst's edits that every later run respects.

-- grain: one row per (feedback item, embedding model); only new items are ever embedded
CREATE TABLE embeddings (
    feedback_id VARCHAR   NOT NULL,
    model       VARCHAR   NOT NULL,
    vector      FLOAT[]   NOT NULL,   -- L2-normalised
    embedded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (feedback_id, model)
);

-- grain: one row per theme ever created; theme_id never changes meaning
CREATE TABLE themes (
    theme_id        INTEGER   PRIMARY KEY,   -- 0 is "Unclassified"
    label           VARCHAR   NOT NULL,
    label_source    VARCHAR   NOT NULL DEFAULT 'model',   -- model | analyst
    keywords        VARCHAR[],
    department      VARCHAR,
    department_confidence DOUBLE,
    department_source VARCHAR,                           -- model | analyst | triage
    demand_type     VARCHAR,                              -- failure | value
    demand_subtype  VARCHAR,
    demand_reason   VARCHAR,
    demand_source   VARCHAR,                              -- model | analyst
    status          VARCHAR   NOT NULL DEFAULT 'active',  -- active | dormant | merged | unclassified
    merged_into     INTEGER,
    centroid        FLOAT[],                              -- the registry's memory of the theme
    centroid_model  VARCHAR,
    size            BIGINT    NOT NULL DEFAULT 0,         -- items assigned now
    first_seen      TIMESTAMP,                            -- earliest received_at of its items
    last_seen       TIMESTAMP,
    created_run_id  VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

-- grain: one row per feedback item: its current theme
CREATE TABLE feedback_themes (
    feedback_id   VARCHAR   PRIMARY KEY,
    theme_id      INTEGER   NOT NULL,
    score         DOUBLE,             -- similarity to the theme's centre (0..1)
    model_version VARCHAR   NOT NULL, -- the topic run that assigned it
    assigned_at   TIMESTAMP NOT NULL
);

-- grain: one row per (theme, rank): the examples that show what a theme is about
CREATE TABLE theme_examples (
    theme_id    INTEGER NOT NULL,
    rank        INTEGER NOT NULL,
    feedback_id VARCHAR NOT NULL,
    PRIMARY KEY (theme_id, rank)
);

-- grain: one row per registry decision in a topic run (created, matched, split, merged)
CREATE TABLE theme_lineage (
    run_id           VARCHAR   NOT NULL,
    "at"             TIMESTAMP NOT NULL,
    event            VARCHAR   NOT NULL,
    theme_id         INTEGER   NOT NULL,
    related_theme_id INTEGER,
    similarity       DOUBLE,
    detail           VARCHAR
);

-- grain: one row per change an analyst made to a theme (audit trail; kept across runs)
CREATE TABLE theme_events (
    theme_id  INTEGER   NOT NULL,
    "at"      TIMESTAMP NOT NULL,
    actor     VARCHAR   NOT NULL,
    field     VARCHAR   NOT NULL,   -- label | merged_into | department | demand_type
    old_value VARCHAR,
    new_value VARCHAR
);

-- grain: one row per topic run
CREATE TABLE topic_runs (
    run_id             VARCHAR   PRIMARY KEY,
    embedder           VARCHAR   NOT NULL,
    started_at         TIMESTAMP NOT NULL,
    finished_at        TIMESTAMP,
    items              BIGINT,
    embedded           BIGINT,
    themes             INTEGER,
    new_themes         INTEGER,
    matched_themes     INTEGER,
    unclassified_share DOUBLE,
    params             JSON,
    status             VARCHAR   NOT NULL
);

INSERT INTO themes (theme_id, label, label_source, status, created_at, updated_at)
VALUES (0, 'Unclassified', 'model', 'unclassified', current_timestamp, current_timestamp);
