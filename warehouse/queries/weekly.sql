-- The weekly review: routing inputs, contact facts, and the pre-aggregated tables the
-- dashboard reads. staged_* are frames the weekly flow registers for one transaction.

-- name: replace_departments
DELETE FROM departments;

-- name: insert_departments
INSERT INTO departments BY NAME
SELECT name, description, keywords, head, cost_per_contact, $at AS updated_at FROM staged_departments;

-- name: themes_for_review
-- grain: one row per theme that holds items now (not Unclassified)
SELECT theme_id, label, keywords, department, department_confidence, department_source,
       demand_type, demand_subtype, demand_source, size
FROM themes
WHERE status = 'active' AND theme_id <> 0 AND size > 0
ORDER BY theme_id;

-- name: theme_samples
-- grain: the (up to) $per_theme most typical items of every theme, with their vectors
SELECT theme_id, feedback_id, text, vector FROM (
    SELECT ft.theme_id, ft.feedback_id, f.text, e.vector,
           row_number() OVER (PARTITION BY ft.theme_id ORDER BY ft.score DESC, ft.feedback_id) AS r
    FROM feedback_themes AS ft
    JOIN feedback AS f USING (feedback_id)
    JOIN embeddings AS e ON e.feedback_id = ft.feedback_id AND e.model = $model
    WHERE ft.theme_id <> 0
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

-- name: clear_feedback_departments
DELETE FROM feedback_departments WHERE source <> 'analyst';

-- name: insert_feedback_departments
INSERT INTO feedback_departments BY NAME
SELECT s.feedback_id, s.department, s.confidence, s.source FROM staged_item_routes AS s
ANTI JOIN feedback_departments AS d ON d.feedback_id = s.feedback_id;

-- name: contact_facts
-- grain: one row per feedback item received up to $until, with what the review needs
SELECT f.feedback_id, f.channel, f.customer_ref, f.received_at, f.score, f.score_kind,
       CAST(date_trunc('week', f.received_at) AS DATE) AS week_start,
       coalesce(ft.theme_id, 0) AS theme_id,
       t.department, t.demand_type, t.demand_subtype
FROM feedback AS f
LEFT JOIN feedback_themes AS ft USING (feedback_id)
LEFT JOIN themes AS t ON t.theme_id = coalesce(ft.theme_id, 0)
WHERE f.received_at < $until;

-- name: clear_weekly_tables
DELETE FROM theme_weekly;

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
-- issue was resolved: before = scored before the fix, after = scored after it
SELECT i.issue_id, i.theme_id, i.department, i.resolved_at, f.customer_ref, f.score_kind,
       f.score, f.received_at
FROM issues AS i
JOIN feedback_themes AS ft ON ft.theme_id = i.theme_id
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
SELECT i.*, t.label AS theme_label FROM issues AS i LEFT JOIN themes AS t USING (theme_id) ORDER BY issue_id;

-- name: export_themes
SELECT theme_id, label, label_source, keywords, department, department_confidence,
       department_source, demand_type, demand_subtype, demand_reason, status, merged_into,
       size, first_seen, last_seen
FROM themes ORDER BY theme_id;

-- name: export_weekly
SELECT w.*, t.label FROM theme_weekly AS w LEFT JOIN themes AS t USING (theme_id)
ORDER BY week_start, theme_id;

-- name: export_chargeback
SELECT * FROM weekly_chargeback ORDER BY week_start, department;

-- name: export_opportunities
SELECT o.*, t.label FROM opportunities AS o LEFT JOIN themes AS t USING (theme_id)
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
