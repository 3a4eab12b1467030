-- 010: the weekly review reads through the theme hierarchy (008). theme_weekly,
-- theme_channel_weekly, opportunities, service_recovery and issues speak of top-level
-- themes (a contact counts under theme_top.top_id of its fine theme); the sub-themes
-- beneath a group keep weekly figures of their own here, so "this week" can show which
-- sub-themes grow. On a warehouse without groups this table stays empty.

-- grain: one row per (ISO week, fine theme that sits under a group): parent_id is the
-- group (the top-level theme its contacts count under in theme_weekly)
CREATE TABLE subtheme_weekly (
    week_start         DATE    NOT NULL,
    theme_id           INTEGER NOT NULL,   -- the fine theme (feedback_themes.theme_id)
    parent_id          INTEGER NOT NULL,   -- its top-level theme
    volume             BIGINT  NOT NULL,
    share              DOUBLE  NOT NULL,   -- of all contacts that week
    share_of_parent    DOUBLE,             -- of the parent's contacts that week
    trailing_share     DOUBLE,             -- the sub-theme's own rate over the trailing weeks
    trailing_weeks     INTEGER,
    change_vs_trailing DOUBLE,             -- share / trailing_share - 1
    rate_ratio         DOUBLE,
    p_value            DOUBLE,
    q_value            DOUBLE,             -- Benjamini-Hochberg across the week's sub-themes
    is_new             BOOLEAN NOT NULL DEFAULT false,
    is_growing         BOOLEAN NOT NULL DEFAULT false,
    growth_reason      VARCHAR,
    scored             BIGINT,
    avg_score          DOUBLE,
    est_cost           DOUBLE,             -- known costs only (NULL when none is known)
    uncosted_contacts  BIGINT  DEFAULT 0,
    PRIMARY KEY (week_start, theme_id)
);

-- an issue folded into another when the fine themes they were opened on came to share a
-- top-level theme: its status is 'closed', its history stays, both sides carry an event
ALTER TABLE issues ADD COLUMN folded_into INTEGER;
