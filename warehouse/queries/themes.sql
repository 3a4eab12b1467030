-- Themes: embeddings cache, theme registry, assignments and analyst edits.

-- name: feedback_needing_embedding
-- grain: one row per feedback item without a vector for $model
SELECT f.feedback_id, f.text
FROM feedback AS f
ANTI JOIN embeddings AS e ON e.feedback_id = f.feedback_id AND e.model = $model
ORDER BY f.feedback_id;

-- name: texts_to_fit
-- grain: one row per feedback item in $language, or with no language found (every item
-- when $language is NULL): what a model fitted to this warehouse learns from
SELECT f.text
FROM feedback AS f
WHERE $language IS NULL OR coalesce(f.language, 'und') IN ($language, 'und')
ORDER BY f.feedback_id;

-- name: insert_embeddings
INSERT INTO embeddings BY NAME
SELECT s.feedback_id, $model AS model, s.vector, $at AS embedded_at
FROM staged_embeddings AS s
ON CONFLICT DO NOTHING;

-- name: corpus_for_topics
-- grain: one row per feedback item that has a vector for $model (the vectors: corpus_vectors)
SELECT f.feedback_id, f.text, f.received_at, f.language, f.score, f.score_kind
FROM feedback AS f
JOIN embeddings AS e ON e.feedback_id = f.feedback_id AND e.model = $model
ORDER BY f.feedback_id;

-- name: crosslingual_needed
-- grain: one row per feedback item that placement by meaning needs a $model vector for:
-- every item in another language than $team (not 'und'), and, when there is one, the
-- first items in $team by feedback_id (a fixed sample, its vectors cached): 20 per item
-- to place, at least 500 and at most $sample, so one stray item costs little;
-- only those without a $model vector yet when $missing
WITH others AS (
    SELECT feedback_id, text
    FROM feedback
    WHERE language IS NOT NULL AND language NOT IN ($team, 'und')
),
sample AS (
    SELECT feedback_id, text
    FROM feedback
    WHERE language = $team AND EXISTS (SELECT 1 FROM others)
    ORDER BY feedback_id
    LIMIT least($sample, greatest(500, 20 * (SELECT count(*) FROM others)))
),
needed AS (
    SELECT * FROM others
    UNION
    SELECT * FROM sample
)
SELECT n.feedback_id, n.text, e.vector
FROM needed AS n
LEFT JOIN embeddings AS e ON e.feedback_id = n.feedback_id AND e.model = $model
WHERE NOT $missing OR e.vector IS NULL
ORDER BY n.feedback_id;

-- name: renderings_needed
-- grain: one row per item written in one of $languages (those voc can render into $team)
-- with no rendering in $team yet
SELECT f.feedback_id, f.language, f.text
FROM feedback AS f
ANTI JOIN renderings AS r ON r.feedback_id = f.feedback_id AND r.language = $team
WHERE list_contains($languages, f.language)
ORDER BY f.feedback_id;

-- name: insert_renderings
INSERT INTO renderings BY NAME
SELECT s.feedback_id, $team AS language, s.text, s.engine, $at AS rendered_at
FROM staged_renderings AS s
ON CONFLICT DO NOTHING;

-- name: other_language_counts
-- grain: one row per language other than $team (not 'und') with its contacts and renderings
SELECT f.language, count(*) AS contacts, count(r.feedback_id) AS rendered
FROM feedback AS f
LEFT JOIN renderings AS r ON r.feedback_id = f.feedback_id AND r.language = $team
WHERE f.language IS NOT NULL AND f.language NOT IN ($team, 'und')
GROUP BY f.language
ORDER BY contacts DESC, f.language;

-- name: corpus_vectors
-- grain: one row per row of corpus_for_topics, with its position there (pos, from 0);
-- only the keys are sorted, the vectors stream in storage order
WITH ordered AS (
    SELECT f.feedback_id, row_number() OVER (ORDER BY f.feedback_id) - 1 AS pos
    FROM feedback AS f
    JOIN embeddings AS e ON e.feedback_id = f.feedback_id AND e.model = $model
)
SELECT o.pos, e.vector
FROM embeddings AS e
JOIN ordered AS o ON o.feedback_id = e.feedback_id
WHERE e.model = $model;

-- name: embedding_counts
SELECT (SELECT count(*) FROM feedback) AS feedback,
       (SELECT count(*) FROM embeddings WHERE model = $model) AS embedded;

-- name: current_assignments
-- grain: one row per feedback item with a theme
SELECT feedback_id, theme_id FROM feedback_themes;

-- name: known_themes
-- grain: one row per theme
SELECT theme_id, label, label_source, keywords, status, merged_into, centroid, centroid_model,
       size, department, department_source, demand_type, demand_source,
       parent_id, coalesce(kind, 'fine') AS kind, coalesce(parent_source, 'model') AS parent_source,
       coalesce(origin, 'model') AS origin
FROM themes
ORDER BY theme_id;

-- name: next_theme_id
SELECT coalesce(max(theme_id), 0) + 1 FROM themes;

-- name: last_topic_run
SELECT run_id, embedder, items, finished_at, params FROM topic_runs
WHERE status = 'ok' ORDER BY finished_at DESC LIMIT 1;

-- name: last_theme_edit
SELECT max("at") FROM theme_events;

-- name: insert_topic_run
INSERT INTO topic_runs (run_id, embedder, started_at, finished_at, items, embedded, themes,
                        new_themes, matched_themes, unclassified_share, params, status)
VALUES ($run_id, $embedder, $started_at, $finished_at, $items, $embedded, $themes,
        $new_themes, $matched_themes, $unclassified_share, $params, $status);

-- name: upsert_themes
-- grain: one row per theme found or kept by this run, fine themes and the top-level groups
-- over them; analyst labels and analyst moves (parent_source = 'analyst') are never overwritten
INSERT INTO themes (theme_id, label, label_source, keywords, status, centroid, centroid_model,
                         size, first_seen, last_seen, created_run_id, created_at, updated_at,
                         parent_id, kind, parent_source, origin)
SELECT s.theme_id, s.label, 'model', s.keywords, 'active', s.centroid, $model, s.size,
       s.first_seen, s.last_seen, $run_id, $at, $at, s.parent_id, s.kind, 'model', 'model'
FROM staged_themes AS s
ON CONFLICT (theme_id) DO UPDATE SET
    label = CASE WHEN themes.label_source = 'analyst' THEN themes.label ELSE excluded.label END,
    keywords = excluded.keywords,
    status = CASE WHEN themes.status = 'merged' THEN themes.status ELSE 'active' END,
    centroid = excluded.centroid,
    centroid_model = excluded.centroid_model,
    size = excluded.size,
    first_seen = least(themes.first_seen, excluded.first_seen),
    last_seen = greatest(themes.last_seen, excluded.last_seen),
    parent_id = CASE WHEN themes.parent_source = 'analyst' THEN themes.parent_id
                     ELSE excluded.parent_id END,
    kind = excluded.kind,
    updated_at = excluded.updated_at;

-- name: mark_dormant_themes
-- themes no item belongs to any more (kept, never deleted: their id stays taken)
UPDATE themes SET status = 'dormant', size = 0, updated_at = $at
WHERE status = 'active' AND theme_id <> 0
  AND theme_id NOT IN (SELECT theme_id FROM staged_themes);

-- name: update_unclassified_size
UPDATE themes SET size = $size, updated_at = $at WHERE theme_id = 0;

-- name: clear_assignments
DELETE FROM feedback_themes;

-- name: insert_assignments
INSERT INTO feedback_themes BY NAME
SELECT s.feedback_id, s.theme_id, s.score, $run_id AS model_version, $at AS assigned_at
FROM staged_assignments AS s;

-- name: clear_examples
DELETE FROM theme_examples;

-- name: insert_examples
INSERT INTO theme_examples BY NAME SELECT theme_id, rank, feedback_id FROM staged_examples;

-- name: insert_lineage
INSERT INTO theme_lineage BY NAME
SELECT $run_id AS run_id, $at AS "at", event, theme_id, related_theme_id, similarity, detail
FROM staged_lineage;

-- name: theme_list
-- grain: one row per theme that holds items (or was merged), biggest first
SELECT t.theme_id, t.label, t.label_source, t.keywords, t.status, t.merged_into,
       t.department, t.demand_type, t.size AS volume, t.first_seen, t.last_seen
FROM themes AS t
WHERE t.status <> 'dormant' OR $include_all
ORDER BY t.status = 'merged', t.size DESC, t.theme_id;

-- name: theme_by_id
SELECT theme_id, label, label_source, status, merged_into, department, demand_type, size
FROM themes WHERE theme_id = $theme_id;

-- name: theme_example_texts
SELECT x.theme_id, x.rank, f.text
FROM theme_examples AS x JOIN feedback AS f USING (feedback_id)
WHERE x.theme_id = $theme_id
ORDER BY x.rank;

-- name: rename_theme
UPDATE themes SET label = $label, label_source = 'analyst', updated_at = $at WHERE theme_id = $theme_id;

-- name: merge_theme_into
UPDATE themes SET status = 'merged', merged_into = $into, size = 0, updated_at = $at
WHERE theme_id = $theme_id;

-- name: move_assignments
UPDATE feedback_themes SET theme_id = $into WHERE theme_id = $theme_id;

-- name: refresh_theme_size
UPDATE themes SET size = (SELECT count(*) FROM feedback_themes WHERE theme_id = $theme_id), updated_at = $at
WHERE theme_id = $theme_id;

-- name: record_theme_event
INSERT INTO theme_events (theme_id, "at", actor, field, old_value, new_value)
VALUES ($theme_id, $at, $actor, $field, $old_value, $new_value);

-- name: theme_history
SELECT "at", actor, field, old_value, new_value FROM theme_events
WHERE theme_id = $theme_id ORDER BY "at";

-- name: assign_theme_department
UPDATE themes SET department = $department, department_confidence = 1.0,
       department_source = 'analyst', updated_at = $at
WHERE theme_id = $theme_id;

-- name: learn_routing_from_theme
-- the analyst's choice becomes examples routing learns from: the label and the examples
INSERT INTO routing_examples (theme_id, feedback_id, text, department, actor, "at", weight)
SELECT $theme_id, NULL, $label, $department, $actor, $at, 2.0
UNION ALL
SELECT x.theme_id, x.feedback_id, f.text, $department, $actor, $at, 1.0
FROM theme_examples AS x JOIN feedback AS f USING (feedback_id)
WHERE x.theme_id = $theme_id;

-- name: route_theme_items_to
-- items that follow their theme move with it (a top-level theme's: every sub-theme's
-- items too, as they follow their top-level theme); items routed on their own stay
UPDATE feedback_departments SET department = $department, confidence = 1.0, source = 'analyst'
WHERE source IN ('theme', 'triage')
  AND feedback_id IN (
      SELECT ft.feedback_id
      FROM feedback_themes AS ft
      JOIN theme_top AS tt ON tt.theme_id = ft.theme_id
      WHERE ft.theme_id = $theme_id OR tt.top_id = $theme_id
  );

-- name: department_names
-- grain: one row per department (from the departments file), plus any name a theme or
-- an issue carries that the file no longer lists
SELECT name FROM departments
UNION
SELECT DISTINCT department FROM themes
WHERE department IS NOT NULL AND coalesce(department_source, '') <> 'triage'
UNION
SELECT DISTINCT department FROM issues
WHERE department IS NOT NULL
ORDER BY name;

-- name: item_route
-- grain: one feedback item's current route
SELECT feedback_id, department, confidence, source
FROM feedback_departments
WHERE feedback_id = $feedback_id;

-- name: route_item
-- an analyst's routing of one item: kept by later runs (source = 'analyst')
UPDATE feedback_departments
SET department = $department, confidence = 1.0, source = 'analyst'
WHERE feedback_id = $feedback_id;

-- name: learn_routing_from_item
-- the item's text becomes an example routing learns from, attributed to the analyst
INSERT INTO routing_examples (theme_id, feedback_id, text, department, actor, "at", weight)
SELECT ft.theme_id, f.feedback_id, f.text, $department, $actor, $at, 1.0
FROM feedback AS f
LEFT JOIN feedback_themes AS ft ON ft.feedback_id = f.feedback_id
WHERE f.feedback_id = $feedback_id;

-- name: set_theme_demand
UPDATE themes SET demand_type = $demand_type, demand_subtype = $demand_subtype,
       demand_reason = $demand_reason, demand_source = 'analyst', updated_at = $at
WHERE theme_id = $theme_id;

-- name: theme_detail
SELECT theme_id, label, label_source, keywords, department, department_confidence,
       department_source, demand_type, demand_subtype, demand_reason, demand_source,
       status, merged_into, size, first_seen, last_seen
FROM themes WHERE theme_id = $theme_id;

-- name: majority_theme_of_sources
-- the theme most of the records with these source refs belong to
SELECT ft.theme_id, count(*) AS n
FROM feedback AS f JOIN feedback_themes AS ft USING (feedback_id)
WHERE list_contains($refs, f.source_ref) AND ft.theme_id <> 0
GROUP BY ft.theme_id ORDER BY n DESC LIMIT 1;
