-- 001: raw facts written by the ingest flow.
-- Timestamps are UTC without a zone. Text columns hold redacted text only.

-- grain: one row per (ingest run, source file)
CREATE TABLE ingest_runs (
    run_id           VARCHAR   NOT NULL,
    source_file      VARCHAR   NOT NULL,
    file_sha256      VARCHAR,
    channel          VARCHAR,
    rows_read        BIGINT    NOT NULL DEFAULT 0,
    rows_loaded      BIGINT    NOT NULL DEFAULT 0,
    rows_duplicate   BIGINT    NOT NULL DEFAULT 0,
    rows_quarantined BIGINT    NOT NULL DEFAULT 0,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    status           VARCHAR   NOT NULL,  -- ok | partial | failed | rejected
    message          VARCHAR,
    PRIMARY KEY (run_id, source_file)
);

-- grain: one row per customer contact (a survey response, a complaint, an email, a call)
CREATE TABLE feedback (
    feedback_id  VARCHAR   NOT NULL,   -- unique: every write anti-joins under the writer lock
    channel      VARCHAR   NOT NULL,   -- survey | complaint | email | call
    source_file  VARCHAR   NOT NULL,   -- file name it was first loaded from
    source_ref   VARCHAR   NOT NULL,   -- its id in the source, else its 1-based row number
    customer_ref VARCHAR,              -- keyed hash of the customer's identifier
    received_at  TIMESTAMP NOT NULL,
    text         VARCHAR   NOT NULL,   -- what the customer said, PII-redacted
    score        DOUBLE,
    score_kind   VARCHAR,              -- nps | csat | rating | ces | csat_binary
    language     VARCHAR,
    context      VARCHAR,              -- e.g. the agent's side of a call, redacted
    attributes   JSON,                 -- the source's other columns, kept not dropped
    run_id       VARCHAR   NOT NULL,
    ingested_at  TIMESTAMP NOT NULL
);

-- grain: one row per record (or whole file) that could not be loaded, with the reason
CREATE TABLE quarantine (
    quarantine_id  VARCHAR   PRIMARY KEY,  -- stable: the same bad record is kept once
    run_id         VARCHAR   NOT NULL,
    source_file    VARCHAR   NOT NULL,
    source_ref     VARCHAR   NOT NULL,
    reason_code    VARCHAR   NOT NULL,
    reason         VARCHAR   NOT NULL,
    raw_excerpt    VARCHAR,                -- redacted like feedback text
    quarantined_at TIMESTAMP NOT NULL
);

-- grain: one row per loaded record that was changed on the way in (e.g. text cut)
CREATE TABLE ingest_notes (
    feedback_id VARCHAR   NOT NULL,
    run_id      VARCHAR   NOT NULL,
    source_file VARCHAR   NOT NULL,
    source_ref  VARCHAR   NOT NULL,
    note_code   VARCHAR   NOT NULL,
    note        VARCHAR   NOT NULL,
    noted_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (feedback_id, note_code)
);

-- grain: one row per distinct file content ever ingested; lets the inbox sweep skip
-- files it has already taken, whatever they are now called
CREATE TABLE source_files (
    file_sha256   VARCHAR   PRIMARY KEY,
    first_path    VARCHAR   NOT NULL,
    channel       VARCHAR,
    size_bytes    BIGINT,
    first_run_id  VARCHAR   NOT NULL,
    first_seen_at TIMESTAMP NOT NULL
);
