-- 005: how each item routes on its own, cached per router version, so a weekly review
-- scores only new items (a new departments file or new analyst examples make a new
-- router version, and everything is scored again once).

-- grain: one row per (feedback item, router version)
CREATE TABLE item_routes (
    feedback_id    VARCHAR NOT NULL,
    router_version VARCHAR NOT NULL,
    best_guess     VARCHAR,
    confidence     DOUBLE  NOT NULL,
    margin         DOUBLE  NOT NULL,
    PRIMARY KEY (feedback_id, router_version)
);
