-- The weekly review: routing inputs, contact facts, and the pre-aggregated tables the
-- dashboard reads. staged_* are frames the weekly flow registers for one transaction.

-- name: replace_departments
DELETE FROM departments;

-- name: insert_departments
INSERT INTO departments BY NAME
SELECT name, description, keywords, head, cost_per_contact, $at AS updated_at FROM staged_departments;

-- name: themes_for_review
-- grain: one row per top-level theme that holds items now (not Unclassified): routing and
-- demand type are decided for top-level themes; a sub-theme follows its parent
SELECT theme_id, label, keywords, department, department_confidence, department_source,
       demand_type, demand_subtype, demand_source, size
FROM themes
WHERE status = 'active' AND theme_id <> 0 AND size > 0 AND parent_id IS NULL
ORDER BY theme_id;

-- name: theme_samples
-- grain: the (up to) $per_theme most typical items of every top-level theme, with their
-- vectors, taken in turn across its sub-themes (each one's most typical first), so a
-- group is routed on all its sub-themes, not on its biggest one
SELECT theme_id, feedback_id, text, vector FROM (
    SELECT top_id AS theme_id, feedback_id, text, vector,
           row_number() OVER (PARTITION BY top_id
                              ORDER BY r_sub, score DESC, sub_id, feedback_id) AS r
    FROM (
        SELECT tt.top_id, ft.theme_id AS sub_id, ft.feedback_id, ft.score, f.text, e.vector,
               row_number() OVER (PARTITION BY ft.theme_id
                                  ORDER BY ft.score DESC, ft.feedback_id) AS r_sub
        FROM feedback_themes AS ft
        JOIN theme_top AS tt ON tt.theme_id = ft.theme_id
        JOIN feedback AS f ON f.feedback_id = ft.feedback_id
        JOIN embeddings AS e ON e.feedback_id = ft.feedback_id AND e.model = $model
        WHERE ft.theme_id <> 0
    )
)
WHERE r <= $per_theme
ORDER BY theme_id, r;

-- name: routing_examples
SELECT text, department, weight FROM routing_examples ORDER BY "at";

-- name: calibration_vectors
-- a seeded sample of recent vectors the router calibrates its scale on
SELECT e.vector FROM embeddings AS e
WHERE e.model = $model
ORDER BY hash(e.feedback_id)
LIMIT $limit;

-- name: item_vectors
-- grain: one row per feedback item with a vector and a theme
SELECT f.feedback_id, f.text, e.vector, coalesce(ft.theme_id, 0) AS theme_id
FROM feedback AS f
JOIN embeddings AS e ON e.feedback_id = f.feedback_id AND e.model = $model
LEFT JOIN feedback_themes AS ft ON ft.feedback_id = f.feedback_id
ORDER BY f.feedback_id;

-- name: last_topic_embedder
SELECT embedder FROM topic_runs WHERE status = 'ok' ORDER BY finished_at DESC LIMIT 1;

-- name: update_theme_route
UPDATE themes SET department = $department, department_confidence = $confidence,
       department_source = $source, updated_at = $at
WHERE theme_id = $theme_id AND coalesce(department_source, '') <> 'analyst';

-- name: update_theme_demand
UPDATE themes SET demand_type = $demand_type, demand_subtype = $demand_subtype,
       demand_reason = $demand_reason, demand_source = 'model', updated_at = $at
WHERE theme_id = $theme_id AND coalesce(demand_source, '') <> 'analyst';

-- name: route_sub_themes_with_parents
-- grain: one row per sub-theme (a fine theme under a group): it carries its parent's
-- department (source 'parent', or 'triage' when the parent waits for triage), so no
-- sub-theme keeps a route of its own that the review no longer uses; an analyst's stands
UPDATE themes AS s
SET department = p.department, department_confidence = p.department_confidence,
    department_source = CASE WHEN p.department_source = 'triage' THEN 'triage' ELSE 'parent' END,
    updated_at = $at
FROM themes AS p
WHERE s.parent_id = p.theme_id AND coalesce(s.department_source, '') <> 'analyst'
  AND (s.department IS DISTINCT FROM p.department
       OR s.department_confidence IS DISTINCT FROM p.department_confidence
       OR s.department_source IS DISTINCT FROM
          CASE WHEN p.department_source = 'triage' THEN 'triage' ELSE 'parent' END);

-- name: demand_of_sub_themes_with_parents
-- grain: one row per sub-theme: its parent's demand type (an analyst's choice stands)
UPDATE themes AS s
SET demand_type = p.demand_type, demand_subtype = p.demand_subtype,
    demand_reason = p.demand_reason, demand_source = 'parent', updated_at = $at
FROM themes AS p
WHERE s.parent_id = p.theme_id AND coalesce(s.demand_source, '') <> 'analyst'
  AND (s.demand_type IS DISTINCT FROM p.demand_type
       OR s.demand_subtype IS DISTINCT FROM p.demand_subtype
       OR s.demand_reason IS DISTINCT FROM p.demand_reason
       OR s.demand_source IS DISTINCT FROM 'parent');

-- name: clear_feedback_departments
DELETE FROM feedback_departments WHERE source <> 'analyst';

-- name: insert_feedback_departments
INSERT INTO feedback_departments BY NAME
SELECT s.feedback_id, s.department, s.confidence, s.source FROM staged_item_routes AS s
ANTI JOIN feedback_departments AS d ON d.feedback_id = s.feedback_id;

-- name: contact_facts
-- grain: one row per feedback item received up to $until, with what the review needs:
-- theme_id is the item's top-level theme (what the review speaks of), sub_theme_id its
-- fine theme (the same id when the fine theme is top-level itself)
SELECT f.feedback_id, f.channel, f.customer_ref, f.received_at, f.score, f.score_kind,
       CAST(date_trunc('week', f.received_at) AS DATE) AS week_start,
       coalesce(tt.top_id, ft.theme_id, 0) AS theme_id,
       coalesce(ft.theme_id, 0) AS sub_theme_id,
       t.department, t.demand_type, t.demand_subtype
FROM feedback AS f
LEFT JOIN feedback_themes AS ft USING (feedback_id)
LEFT JOIN theme_top AS tt ON tt.theme_id = coalesce(ft.theme_id, 0)
LEFT JOIN themes AS t ON t.theme_id = coalesce(tt.top_id, ft.theme_id, 0)
WHERE f.received_at < $until;

-- name: item_top_themes
-- grain: one row per feedback item with a theme: its top-level theme, whose route an item
-- follows unless it routes clearly elsewhere on its own, and its language
SELECT ft.feedback_id, coalesce(tt.top_id, ft.theme_id) AS theme_id, f.language
FROM feedback_themes AS ft
JOIN feedback AS f USING (feedback_id)
LEFT JOIN theme_top AS tt ON tt.theme_id = ft.theme_id;

-- name: clear_weekly_tables
DELETE FROM theme_weekly;

-- name: clear_subtheme_weekly
DELETE FROM subtheme_weekly;

-- name: insert_subtheme_weekly
INSERT INTO subtheme_weekly BY NAME SELECT * FROM staged_subtheme_weekly;

-- name: clear_channel_weekly
DELETE FROM theme_channel_weekly;

-- name: clear_chargeback
DELETE FROM weekly_chargeback;

-- name: clear_opportunities
DELETE FROM opportunities WHERE week_start = $week;

-- name: insert_theme_weekly
INSERT INTO theme_weekly BY NAME SELECT * FROM staged_theme_weekly;

-- name: insert_channel_weekly
INSERT INTO theme_channel_weekly BY NAME SELECT * FROM staged_channel_weekly;

-- name: insert_chargeback
INSERT INTO weekly_chargeback BY NAME SELECT * FROM staged_chargeback;

-- name: insert_opportunities
INSERT INTO opportunities BY NAME SELECT * FROM staged_opportunities;

-- name: replace_service_recovery
DELETE FROM service_recovery;

-- name: insert_service_recovery
INSERT INTO service_recovery BY NAME SELECT * FROM staged_service_recovery;

-- name: issues_to_verify
-- grain: one row per issue marked fixed by the end of the reviewed week
SELECT issue_id, theme_id, department, status, resolved_at
FROM issues
WHERE status IN ('fixed', 'verified') AND resolved_at IS NOT NULL AND resolved_at < $until;

-- name: resolved_issue_customers
-- grain: one row per scored contact of a customer who contacted about a theme whose
-- issue was resolved: before = scored before the fix, after = scored after it. A contact
-- is about the issue's theme when its fine theme is that theme or sits under it.
SELECT i.issue_id, i.theme_id, i.department, i.resolved_at, f.customer_ref, f.score_kind,
       f.score, f.received_at
FROM issues AS i
JOIN theme_top AS tt ON i.theme_id IN (tt.theme_id, tt.top_id)
JOIN feedback_themes AS ft ON ft.theme_id = tt.theme_id
JOIN feedback AS c ON c.feedback_id = ft.feedback_id AND c.received_at < i.resolved_at
JOIN feedback AS f ON f.customer_ref = c.customer_ref
WHERE i.status IN ('fixed', 'verified', 'closed') AND i.resolved_at IS NOT NULL
  AND c.customer_ref IS NOT NULL AND f.score IS NOT NULL;

-- name: insert_weekly_run
INSERT INTO weekly_runs (run_id, week_start, started_at, finished_at, status, themes, emerging,
                         issues_opened, issues_verified, issues_reopened, params)
VALUES ($run_id, $week_start, $started_at, $finished_at, $status, $themes, $emerging,
        $issues_opened, $issues_verified, $issues_reopened, $params);

-- name: latest_week
SELECT CAST(date_trunc('week', max(received_at)) AS DATE) FROM feedback;

-- name: theme_labels
SELECT theme_id, label FROM themes;

-- name: export_issues
-- grain: one row per issue; theme_id is the theme it speaks of (a top-level theme, or a
-- fine one for issues from before the hierarchy), top_theme_id that theme's top-level
-- theme and sub_theme_ids the fine themes it covers
SELECT i.*, t.label AS theme_label, coalesce(tt.top_id, i.theme_id) AS top_theme_id,
       (SELECT list(s.theme_id ORDER BY s.theme_id)
        FROM theme_top AS s JOIN themes AS k ON k.theme_id = s.theme_id
        WHERE coalesce(k.kind, 'fine') = 'fine' AND i.theme_id IN (s.theme_id, s.top_id))
           AS sub_theme_ids
FROM issues AS i
LEFT JOIN themes AS t ON t.theme_id = i.theme_id
LEFT JOIN theme_top AS tt ON tt.theme_id = i.theme_id
ORDER BY issue_id;

-- name: export_themes
-- grain: one row per theme, both levels: parent_id is the top-level theme (NULL on one)
SELECT theme_id, parent_id, kind, label, label_source, keywords, department,
       department_confidence, department_source, demand_type, demand_subtype, demand_reason,
       status, merged_into, size, first_seen, last_seen
FROM themes ORDER BY theme_id;

-- name: export_weekly
-- grain: one row per (ISO week, top-level theme); `voc export subthemes` has the sub-themes
SELECT w.*, t.label, t.kind FROM theme_weekly AS w LEFT JOIN themes AS t USING (theme_id)
ORDER BY week_start, theme_id;

-- name: export_chargeback
SELECT * FROM weekly_chargeback ORDER BY week_start, department;

-- name: export_opportunities
-- grain: one row per (ISO week, top-level theme, kind)
SELECT o.*, t.label, t.kind FROM opportunities AS o LEFT JOIN themes AS t USING (theme_id)
ORDER BY week_start, rank;

-- name: export_quarantine
SELECT * FROM quarantine ORDER BY quarantined_at, source_file, source_ref;

-- name: items_to_score
-- grain: one row per item with a vector but no cached route for $router_version
SELECT f.feedback_id, f.text, e.vector
FROM feedback AS f
JOIN embeddings AS e ON e.feedback_id = f.feedback_id AND e.model = $model
ANTI JOIN item_routes AS r ON r.feedback_id = f.feedback_id AND r.router_version = $router_version
ORDER BY f.feedback_id;

-- name: cached_item_routes
-- grain: one row per item with a theme and a cached route for $router_version
SELECT ft.feedback_id, ft.theme_id, r.best_guess, r.confidence, r.margin
FROM feedback_themes AS ft
JOIN item_routes AS r ON r.feedback_id = ft.feedback_id AND r.router_version = $router_version;

-- name: drop_old_item_routes
DELETE FROM item_routes WHERE router_version <> $router_version;

-- name: insert_item_routes
INSERT INTO item_routes BY NAME
SELECT feedback_id, $router_version AS router_version, best_guess, confidence, margin
FROM staged_item_scores
ON CONFLICT DO NOTHING;
