-- 013: rules the queries shared by copy, defined once here (issue 19).
-- (012 is left free for the customer links being written beside this change.)

-- grain: one row per theme: what the theme is now, for figures kept under old theme ids.
-- * a merged theme's rows count towards the theme it was merged into (one level: the
--   next weekly run recomputes them under the surviving id anyway), under its label;
-- * a theme routed to triage has no department yet, whatever best guess it carries.
CREATE VIEW theme_now AS
SELECT t.theme_id,
       coalesce(m.theme_id, t.theme_id) AS current_id,
       coalesce(m.label, t.label) AS label,
       CASE WHEN coalesce(m.department_source, t.department_source) = 'triage' THEN NULL
            ELSE coalesce(m.department, t.department) END AS department,
       coalesce(m.demand_type, t.demand_type) AS demand_type
FROM themes AS t LEFT JOIN themes AS m ON m.theme_id = t.merged_into;

-- true while an issue is someone's work (warehouse/contract.py OPEN_ISSUE_STATUSES; at
-- most one open issue per theme); verified and closed issues are done
CREATE MACRO issue_is_open(status) AS
    status IN ('new', 'acknowledged', 'in_progress', 'fixed', 'reopened');
