-- 009: urgent contacts. A contact flagged as a legal threat, a regulator, a vulnerable
-- customer, a safety risk, a repeat failure or a churn risk needs a person the same day,
-- not the weekly review. Flags are only ever added: re-running the flagging changes
-- nothing, and an acknowledgement, once made, is kept.

-- grain: one row per (contact, kind): why the contact is urgent, in its own words
CREATE TABLE contact_flags (
    feedback_id     VARCHAR   NOT NULL,
    kind            VARCHAR   NOT NULL,   -- legal_threat | regulator | vulnerability | safety | repeat_failure | churn_risk | (a kind the cue file adds)
    evidence        VARCHAR   NOT NULL,   -- the phrase that flagged it (redacted text), or the repeat contacts
    flagged_at      TIMESTAMP NOT NULL,
    acknowledged_by VARCHAR,
    acknowledged_at TIMESTAMP,
    rule_version    VARCHAR,              -- the cue file (hash) that flagged it
    PRIMARY KEY (feedback_id, kind)
);

-- grain: one row per contact whose text was checked against one version of the cue file,
-- so the hourly sweep reads only contacts it has not checked yet
CREATE TABLE contact_flag_checks (
    feedback_id  VARCHAR   NOT NULL,
    rule_version VARCHAR   NOT NULL,
    checked_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (feedback_id, rule_version)
);

-- grain: one row per change to a flag (the audit trail, as issue_events is for issues)
CREATE TABLE contact_flag_events (
    feedback_id VARCHAR   NOT NULL,
    kind        VARCHAR   NOT NULL,
    "at"        TIMESTAMP NOT NULL,
    actor       VARCHAR   NOT NULL,
    field       VARCHAR   NOT NULL,   -- acknowledged
    old_value   VARCHAR,
    new_value   VARCHAR,
    note        VARCHAR
);
