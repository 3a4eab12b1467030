-- The dashboard's reads and its few writes (dashboard/data.py is the only caller).
--
-- Pages read the weekly review's pre-aggregated tables (theme_weekly,
-- theme_channel_weekly, weekly_chargeback, opportunities, issues) plus point lookups
-- into feedback by primary key; only the data-quality page counts raw rows.
-- Filters are bound parameters: $departments and $channels are lists, or NULL for all.
--
-- Figures kept under old theme ids read through the view `theme_now` (schema 013): a
-- merged theme's rows count towards the theme it was merged into, and a theme routed to
-- triage has no department yet. issue_is_open(status) (013) is the open/closed split.

-- ------------------------------------------------------------------ filters and weeks

-- name: dash_review_weeks
-- grain: one row per week that has a weekly review, newest first
SELECT week_start, count(*) AS themes, sum(volume)::BIGINT AS contacts
FROM theme_weekly
GROUP BY week_start
ORDER BY week_start DESC;

-- name: dash_last_weekly_run
-- grain: the latest weekly review run (zero or one row)
SELECT run_id, week_start, started_at, finished_at, status, themes, emerging,
       issues_opened, issues_verified, issues_reopened
FROM weekly_runs
ORDER BY started_at DESC
LIMIT 1;

-- name: dash_channels
-- grain: one row per channel seen by the weekly review
SELECT DISTINCT channel FROM theme_channel_weekly ORDER BY channel;

-- ------------------------------------------------------------------------- this week

-- name: dash_headline
-- grain: one row per week in the 12 weeks up to $week: contacts, failure demand, cost, NPS
SELECT c.week_start,
       sum(c.volume)::BIGINT AS contacts,
       coalesce((sum(c.volume) FILTER (WHERE t.demand_type = 'failure'))::BIGINT, 0) AS failure_contacts,
       sum(c.est_cost) AS est_cost,  -- NULL: no contact could be costed
       CASE WHEN count(*) FILTER (WHERE t.demand_type = 'failure') = 0 THEN 0
            ELSE sum(c.est_cost) FILTER (WHERE t.demand_type = 'failure') END AS failure_cost,
       -- contacts without a cost per contact: above 0, the cost beside it is partial
       coalesce(sum(c.uncosted_contacts), 0)::BIGINT AS uncosted_contacts,
       coalesce(sum(c.uncosted_contacts) FILTER (WHERE t.demand_type = 'failure'), 0)::BIGINT
           AS failure_uncosted_contacts,
       sum(c.promoters)::BIGINT AS promoters,
       sum(c.detractors)::BIGINT AS detractors,
       sum(c.nps_responses)::BIGINT AS nps_responses,
       sum(c.scored)::BIGINT AS scored,
       sum(c.score_sum) AS score_sum
FROM theme_channel_weekly AS c
JOIN theme_now AS t ON t.theme_id = c.theme_id
WHERE c.week_start <= $week AND c.week_start > $week - INTERVAL 12 WEEK
  AND ($channels IS NULL OR list_contains($channels, c.channel))
  AND ($departments IS NULL OR list_contains($departments, t.department))
GROUP BY c.week_start
ORDER BY c.week_start;

-- name: dash_theme_week
-- grain: one row per current theme with contacts in $week or $previous_week
WITH per_week AS (
    SELECT t.current_id AS theme_id, t.label, t.department, t.demand_type,
           (sum(c.volume) FILTER (WHERE c.week_start = $week))::BIGINT AS volume,
           (sum(c.volume) FILTER (WHERE c.week_start = $previous_week))::BIGINT AS previous_volume,
           sum(c.est_cost) FILTER (WHERE c.week_start = $week) AS est_cost,
           sum(c.est_cost) FILTER (WHERE c.week_start = $previous_week) AS previous_cost,
           (sum(c.uncosted_contacts) FILTER (WHERE c.week_start = $week))::BIGINT AS uncosted_contacts,
           (sum(c.promoters) FILTER (WHERE c.week_start = $week))::BIGINT AS promoters,
           (sum(c.detractors) FILTER (WHERE c.week_start = $week))::BIGINT AS detractors,
           (sum(c.nps_responses) FILTER (WHERE c.week_start = $week))::BIGINT AS nps_responses
    FROM theme_channel_weekly AS c
    JOIN theme_now AS t ON t.theme_id = c.theme_id
    WHERE c.week_start IN ($week, $previous_week)
      AND ($channels IS NULL OR list_contains($channels, c.channel))
      AND ($departments IS NULL OR list_contains($departments, t.department))
    GROUP BY ALL
)
SELECT p.theme_id, p.label, p.department, p.demand_type,
       coalesce(p.volume, 0) AS volume,
       coalesce(p.previous_volume, 0) AS previous_volume,
       -- no contacts: 0; contacts none of which could be costed: NULL (unknown)
       CASE WHEN coalesce(p.volume, 0) = 0 THEN 0 ELSE p.est_cost END AS est_cost,
       CASE WHEN coalesce(p.previous_volume, 0) = 0 THEN 0 ELSE p.previous_cost END AS previous_cost,
       coalesce(p.uncosted_contacts, 0) AS uncosted_contacts,
       p.promoters, p.detractors, p.nps_responses,
       w.share, w.is_emerging, w.is_new, w.repeat_rate, w.nps_effect, w.avg_score
FROM per_week AS p
LEFT JOIN theme_weekly AS w ON w.theme_id = p.theme_id AND w.week_start = $week
ORDER BY volume DESC, p.theme_id;

-- name: dash_emerging
-- grain: one row per theme that emerged or is new in $week, with the evidence
SELECT w.theme_id, t.label, t.department, t.demand_type,
       w.volume, w.share, w.share_ci_low, w.share_ci_high,
       w.trailing_share, w.trailing_weeks, w.change_vs_trailing,
       w.rate_ratio, w.ratio_ci_low, w.ratio_ci_high, w.p_value, w.q_value,
       w.is_emerging, w.is_new, w.emerging_reason, w.est_cost, w.repeat_rate, w.nps_effect
FROM theme_weekly AS w
JOIN themes AS t ON t.theme_id = w.theme_id
WHERE w.week_start = $week
  AND (w.is_emerging OR w.is_new)
  AND t.status <> 'merged'
  AND ($departments IS NULL OR (coalesce(t.department_source, '') <> 'triage'
                                AND list_contains($departments, t.department)))
  AND ($channels IS NULL OR EXISTS (
        SELECT 1 FROM theme_channel_weekly AS c
        WHERE c.week_start = w.week_start AND c.theme_id = w.theme_id
          AND c.volume > 0 AND list_contains($channels, c.channel)))
ORDER BY w.is_emerging DESC, w.rate_ratio DESC NULLS LAST, w.volume DESC;

-- name: dash_theme_trend
-- grain: one row per (week up to $week, current theme in $theme_ids)
SELECT c.week_start, t.current_id AS theme_id, t.label,
       sum(c.volume)::BIGINT AS volume, sum(c.est_cost) AS est_cost
FROM theme_channel_weekly AS c
JOIN theme_now AS t ON t.theme_id = c.theme_id
WHERE c.week_start <= $week
  AND list_contains($theme_ids, t.current_id)
  AND ($channels IS NULL OR list_contains($channels, c.channel))
  AND ($departments IS NULL OR list_contains($departments, t.department))
GROUP BY ALL
ORDER BY c.week_start, theme_id;

-- name: dash_theme_examples
-- grain: one row per (theme in $theme_ids, rank <= $per_theme): representative verbatims,
-- looked up in feedback by primary key (text is stored redacted)
SELECT x.theme_id, x.rank, f.feedback_id, f.channel, f.received_at, f.score, f.score_kind,
       f.text
FROM theme_examples AS x
JOIN feedback AS f ON f.feedback_id = x.feedback_id
WHERE list_contains($theme_ids, x.theme_id) AND x.rank <= $per_theme
ORDER BY x.theme_id, x.rank;

-- name: dash_theme_other_languages
-- grain: one row per contact of a theme in $theme_ids written in another language than
-- $team (placed in the theme by meaning), most clearly placed first, at most $limit
-- with its rendering in $team where voc made one (rendering, rendered_by; else null)
SELECT ft.theme_id, f.feedback_id, f.language, f.channel, f.received_at, f.score,
       f.score_kind, ft.score AS placed_with, f.text, r.text AS rendering,
       r.engine AS rendered_by
FROM feedback_themes AS ft
JOIN feedback AS f ON f.feedback_id = ft.feedback_id
LEFT JOIN renderings AS r ON r.feedback_id = f.feedback_id AND r.language = $team
WHERE list_contains($theme_ids, ft.theme_id)
  AND f.language IS NOT NULL AND f.language NOT IN ($team, 'und')
ORDER BY ft.score DESC, f.feedback_id
LIMIT $limit;

-- -------------------------------------------------------------------- theme explorer

-- name: dash_theme_options
-- grain: one row per theme a person can open, biggest first (Unclassified last)
SELECT t.theme_id, t.label, t.status, t.merged_into, t.size,
       CASE WHEN t.department_source = 'triage' THEN NULL ELSE t.department END AS department,
       t.demand_type
FROM themes AS t
WHERE (t.status NOT IN ('merged', 'dormant') OR $include_inactive)
  AND ($departments IS NULL OR (t.theme_id <> 0
                                AND coalesce(t.department_source, '') <> 'triage'
                                AND list_contains($departments, t.department)))
ORDER BY t.theme_id = 0, t.status <> 'active', t.size DESC, t.theme_id;

-- name: dash_theme_detail
-- grain: one theme, with the label of the theme it was merged into
SELECT t.theme_id, t.label, t.label_source, t.keywords,
       CASE WHEN t.department_source = 'triage' THEN NULL ELSE t.department END AS department,
       CASE WHEN t.department_source = 'triage' THEN t.department END AS suggested_department,
       t.department_confidence, t.department_source,
       t.demand_type, t.demand_subtype, t.demand_reason, t.demand_source,
       t.status, t.merged_into, m.label AS merged_into_label, t.size, t.first_seen, t.last_seen,
       t.updated_at
FROM themes AS t
LEFT JOIN themes AS m ON m.theme_id = t.merged_into
WHERE t.theme_id = $theme_id;

-- name: dash_theme_weekly_stats
-- grain: one row per week of the theme's own weekly review rows, oldest first
SELECT week_start, volume, share, share_ci_low, share_ci_high, trailing_share,
       change_vs_trailing, rate_ratio, is_emerging, is_new, emerging_reason,
       scored, avg_score, nps, nps_effect, csat, repeat_contacts, repeat_rate, est_cost,
       uncosted_contacts
FROM theme_weekly
WHERE theme_id = $theme_id
ORDER BY week_start;

-- name: dash_theme_channel_mix
-- grain: one row per channel: the theme's contacts (merged themes included) over the
-- $weeks weeks up to $week
SELECT c.channel,
       sum(c.volume)::BIGINT AS volume,
       sum(c.est_cost) AS est_cost,
       coalesce(sum(c.uncosted_contacts), 0)::BIGINT AS uncosted_contacts,
       sum(c.scored)::BIGINT AS scored,
       sum(c.score_sum) AS score_sum,
       sum(c.promoters)::BIGINT AS promoters,
       sum(c.detractors)::BIGINT AS detractors,
       sum(c.nps_responses)::BIGINT AS nps_responses
FROM theme_channel_weekly AS c
JOIN theme_now AS t ON t.theme_id = c.theme_id
WHERE t.current_id = $theme_id
  AND c.week_start <= $week AND c.week_start > $week - to_weeks($weeks)
GROUP BY c.channel
ORDER BY volume DESC;

-- name: dash_theme_issues
-- grain: one row per issue ever opened for the theme, open ones first, newest first
SELECT issue_id, title, department, owner, status, priority, due_date, created_at,
       resolved_at, verified_at, baseline_rate, after_rate, verification
FROM issues
WHERE theme_id = $theme_id
ORDER BY NOT issue_is_open(status), created_at DESC;

-- name: dash_theme_history
-- grain: one row per analyst edit of the theme, including themes merged into it, newest first
SELECT "at", actor, theme_id, field, old_value, new_value
FROM theme_events
WHERE theme_id = $theme_id
   OR (field = 'merged_into' AND new_value = CAST($theme_id AS VARCHAR))
ORDER BY "at" DESC;

-- ---------------------------------------------------------------------------- triage

-- name: dash_triage_themes
-- grain: one row per live theme with no department (or routed to triage), biggest first;
-- the best guess, when routing kept one, is `suggested_department`
SELECT theme_id, label, keywords, size,
       CASE WHEN department_source = 'triage' THEN department END AS suggested_department,
       department_confidence AS confidence, demand_type, last_seen
FROM themes
WHERE theme_id <> 0 AND status NOT IN ('merged', 'dormant')
  AND (department IS NULL OR department_source = 'triage')
ORDER BY size DESC, theme_id;

-- name: dash_low_confidence_themes
-- grain: one row per live theme routed to a department with confidence below $threshold
-- and not confirmed by an analyst, least confident first
SELECT theme_id, label, keywords, size, department, department_confidence AS confidence,
       department_source, demand_type
FROM themes
WHERE theme_id <> 0 AND status NOT IN ('merged', 'dormant')
  AND department IS NOT NULL
  AND coalesce(department_source, '') NOT IN ('analyst', 'triage')
  AND department_confidence < $threshold
ORDER BY department_confidence, size DESC;

-- name: dash_triage_counts
-- grain: one row: items waiting for a department, and items routed with low confidence
SELECT count(*) FILTER (WHERE department IS NULL) AS needs_triage,
       count(*) FILTER (WHERE department IS NOT NULL AND source <> 'analyst'
                          AND confidence < $threshold) AS low_confidence
FROM feedback_departments;

-- name: dash_triage_items
-- grain: one row per item waiting for a department or routed with low confidence (at
-- most $limit, unrouted first, then least confident); text by primary-key lookup
WITH queue AS (
    SELECT feedback_id, department, confidence, source
    FROM feedback_departments
    WHERE department IS NULL
       OR (source <> 'analyst' AND confidence < $threshold)
    ORDER BY department IS NOT NULL, confidence NULLS FIRST, feedback_id
    LIMIT $limit
)
SELECT qu.feedback_id, qu.department, qu.confidence, qu.source,
       f.channel, f.received_at, f.text, ft.theme_id, t.label AS theme_label
FROM queue AS qu
JOIN feedback AS f ON f.feedback_id = qu.feedback_id
LEFT JOIN feedback_themes AS ft ON ft.feedback_id = qu.feedback_id
LEFT JOIN themes AS t ON t.theme_id = ft.theme_id
ORDER BY qu.department IS NOT NULL, qu.confidence NULLS FIRST, qu.feedback_id;

-- --------------------------------------------------------------------------- tracker

-- name: dash_issues
-- grain: one row per issue in $departments (NULL: all), or the one issue $issue_id,
-- open and most urgent first
SELECT i.issue_id, i.title, i.theme_id, t.label AS theme_label, i.department, i.status,
       i.priority, i.owner, i.due_date,
       date_diff('day', CAST(i.created_at AS DATE), $today) AS age_days,
       (issue_is_open(i.status) AND i.due_date < $today) AS overdue,
       i.root_cause, i.action, i.opened_reason, i.weekly_volume, i.weekly_cost,
       i.baseline_rate, i.after_rate, i.verification, i.verification_p,
       i.created_at, i.updated_at, i.resolved_at, i.verified_at, i.version
FROM issues AS i
LEFT JOIN themes AS t ON t.theme_id = i.theme_id
WHERE ($departments IS NULL OR list_contains($departments, i.department))
  AND ($issue_id IS NULL OR i.issue_id = $issue_id)
ORDER BY NOT issue_is_open(i.status), overdue DESC, i.priority,
         i.due_date NULLS LAST, i.issue_id;

-- name: dash_issue_history
-- grain: one row per change to the issue, newest first
SELECT "at", actor, field, old_value, new_value, note
FROM issue_events
WHERE issue_id = $issue_id
ORDER BY "at" DESC, field;

-- name: dash_issue_theme_share
-- grain: one row per week of the issue's theme: its share of contacts (per 1,000)
SELECT week_start, volume, 1000 * share AS per_1000,
       1000 * share_ci_low AS per_1000_low, 1000 * share_ci_high AS per_1000_high
FROM theme_weekly
WHERE theme_id = $theme_id
ORDER BY week_start;

-- name: dash_department_owners
-- grain: one row per person who can own an issue of $department (its head, analysts, admins)
SELECT username, name, role
FROM users
WHERE role IN ('admin', 'analyst') OR department = $department
ORDER BY role = 'head' DESC, name;

-- ------------------------------------------------------------------------------ cost

-- name: dash_chargeback
-- grain: one row per (week up to $week, department in $departments)
SELECT week_start, department, contacts, failure_contacts, failure_cost, value_contacts,
       value_cost, total_cost, failure_share,
       -- contacts without a cost per contact (NULL cost: none could be costed)
       uncosted_contacts, failure_uncosted_contacts
FROM weekly_chargeback
WHERE week_start <= $week
  AND ($departments IS NULL OR list_contains($departments, department))
ORDER BY week_start, department;

-- name: dash_opportunities
-- grain: one row per (theme, kind) opportunity in $week, best saving first
SELECT o.rank, o.kind, o.theme_id, t.label, o.department, o.weekly_contacts,
       o.est_weekly_saving, 52 * o.est_weekly_saving AS est_yearly_saving, o.rationale
FROM opportunities AS o
LEFT JOIN themes AS t ON t.theme_id = o.theme_id
WHERE o.week_start = $week
  AND ($departments IS NULL OR list_contains($departments, o.department))
ORDER BY o.est_weekly_saving DESC, o.rank NULLS LAST, o.theme_id, o.kind;

-- ---------------------------------------------------------------------- data quality

-- name: dash_ingest_runs
-- grain: one row per (ingest run, source file), newest first, at most $limit
SELECT run_id, source_file, channel, status, rows_read, rows_loaded, rows_duplicate,
       rows_quarantined, started_at, finished_at,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds, message
FROM ingest_runs
ORDER BY started_at DESC, source_file
LIMIT $limit;

-- name: dash_quarantine
-- grain: one row per quarantined record (or whole file), newest first, at most $limit
SELECT quarantined_at, source_file, source_ref, reason_code, reason, raw_excerpt, run_id
FROM quarantine
ORDER BY quarantined_at DESC, source_file, source_ref
LIMIT $limit;

-- name: dash_quarantine_reasons
-- grain: one row per reason code
SELECT reason_code, count(*) AS records, count(DISTINCT source_file) AS files,
       min(reason) AS example_reason, max(quarantined_at) AS last_seen
FROM quarantine
GROUP BY reason_code
ORDER BY records DESC, reason_code;

-- name: dash_rows_per_channel_week
-- grain: one row per (ISO week of received_at, channel); the one page read that scans
-- feedback (two narrow columns)
SELECT CAST(date_trunc('week', received_at) AS DATE) AS week_start, channel,
       count(*) AS contacts
FROM feedback
GROUP BY ALL
ORDER BY week_start, channel;
