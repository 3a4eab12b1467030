-- The theme map as analysts read and edit it (#14): the tree of top-level themes over
-- their sub-themes, and the edits at either level (move, merge, split, new group).
-- The write functions are in warehouse/theme_edits.py; every edit is also a theme_events row.

-- name: theme_level
-- grain: one theme, with where it sits in the map
SELECT theme_id, label, label_source, keywords, coalesce(kind, 'fine') AS kind, status,
       merged_into, parent_id, coalesce(parent_source, 'model') AS parent_source,
       coalesce(origin, 'model') AS origin, size, centroid, centroid_model,
       department, department_source, demand_type, first_seen, last_seen
FROM themes
WHERE theme_id = $theme_id;

-- name: group_members
-- grain: one row per fine theme under the group $group_id that is not merged away, biggest first
SELECT theme_id, label, status, size, centroid, centroid_model, parent_source
FROM themes
WHERE parent_id = $group_id AND coalesce(kind, 'fine') = 'fine' AND status <> 'merged'
ORDER BY size DESC, theme_id;

-- name: label_holder
-- grain: the live themes (other than $theme_id) that carry the label $label, any case
SELECT theme_id FROM themes
WHERE lower(label) = lower($label) AND status IN ('active', 'unclassified')
  AND theme_id <> $theme_id
ORDER BY theme_id;

-- name: set_theme_parent
-- an analyst's placement: later topic runs keep it (parent_source = 'analyst')
UPDATE themes SET parent_id = $parent_id, parent_source = 'analyst', updated_at = $at
WHERE theme_id = $theme_id;

-- name: pin_theme_parent
-- an analyst confirmed where the theme sits (a group split): later runs keep it
UPDATE themes SET parent_source = 'analyst', updated_at = $at
WHERE theme_id = $theme_id;

-- name: refresh_group
-- a group's size and dates are its live members'; a group no live member is left in goes
-- dormant (its id stays taken), and one that has members again is active
UPDATE themes SET
    size = coalesce((SELECT sum(m.size) FROM themes AS m
                     WHERE m.parent_id = $group_id AND coalesce(m.kind, 'fine') = 'fine'
                       AND m.status = 'active'), 0),
    first_seen = coalesce((SELECT min(m.first_seen) FROM themes AS m
                           WHERE m.parent_id = $group_id AND m.status = 'active'), first_seen),
    last_seen = coalesce((SELECT max(m.last_seen) FROM themes AS m
                          WHERE m.parent_id = $group_id AND m.status = 'active'), last_seen),
    status = CASE
        WHEN status = 'merged' THEN status
        WHEN EXISTS (SELECT 1 FROM themes AS m
                     WHERE m.parent_id = $group_id AND coalesce(m.kind, 'fine') = 'fine'
                       AND m.status = 'active') THEN 'active'
        ELSE 'dormant' END,
    updated_at = $at
WHERE theme_id = $group_id AND kind = 'group';

-- name: insert_analyst_theme
-- a theme an analyst made (a new group, or one part of a split): origin 'analyst', so
-- every later topic run keeps it; department and demand type come from the theme $like_id
INSERT INTO themes (theme_id, label, label_source, keywords, kind, parent_id, parent_source,
                    origin, status, centroid, centroid_model, size, first_seen, last_seen,
                    department, department_confidence, department_source, demand_type,
                    demand_subtype, demand_reason, demand_source, created_run_id,
                    created_at, updated_at)
SELECT $theme_id, $label, $label_source, $keywords, $kind, $parent_id, $parent_source,
       'analyst', 'active', CAST($centroid AS FLOAT[]), $centroid_model, $size, $first_seen,
       $last_seen, s.department, s.department_confidence, s.department_source, s.demand_type,
       s.demand_subtype, s.demand_reason, s.demand_source, NULL, $at, $at
FROM themes AS s
WHERE s.theme_id = $like_id;

-- name: theme_contacts
-- grain: one row per contact of the fine theme $theme_id, with its vector for $model (NULL
-- when it has none)
SELECT ft.feedback_id, f.text, f.received_at, ft.score, e.vector
FROM feedback_themes AS ft
JOIN feedback AS f USING (feedback_id)
LEFT JOIN embeddings AS e ON e.feedback_id = ft.feedback_id AND e.model = $model
WHERE ft.theme_id = $theme_id
ORDER BY ft.feedback_id;

-- name: move_split_contacts
-- each contact of a split theme to the part it fell in (staged_split: feedback_id, theme_id, score)
UPDATE feedback_themes SET theme_id = s.theme_id, score = s.score
FROM staged_split AS s
WHERE feedback_themes.feedback_id = s.feedback_id;

-- name: insert_edit_examples
INSERT INTO theme_examples BY NAME
SELECT theme_id, rank, feedback_id FROM staged_edit_examples;

-- name: clear_theme_examples
DELETE FROM theme_examples WHERE theme_id = $theme_id;

-- name: retire_split_theme
-- a fine theme whose contacts went to the two parts of a split: kept, never re-used
UPDATE themes SET status = 'dormant', size = 0, updated_at = $at WHERE theme_id = $theme_id;

-- name: make_group
-- a lone top-level fine theme that was split becomes the group over its two parts, so the
-- top-level theme (its weekly history, route and issues) keeps its id
UPDATE themes SET kind = 'group', parent_id = NULL, updated_at = $at WHERE theme_id = $theme_id;

-- name: record_edit_lineage
INSERT INTO theme_lineage (run_id, "at", event, theme_id, related_theme_id, similarity, detail)
VALUES ('analyst-edit', $at, $event, $theme_id, $related_theme_id, NULL, $detail);

-- name: theme_tree
-- grain: one row per theme: every top-level theme followed by its sub-themes, biggest first
-- at each level; depth 0 = top level, 1 = sub-theme. Merged and dormant themes only with
-- $include_all. A group's volume is its live sub-themes' contacts. department and
-- demand_type are the top-level theme's, on its sub-themes' rows too: routing, issues and
-- the weekly review speak of top-level themes
WITH shown AS (
    SELECT t.* FROM themes AS t
    WHERE t.status NOT IN ('merged', 'dormant') OR $include_all
),
volume AS (
    SELECT t.theme_id,
           CASE WHEN coalesce(t.kind, 'fine') = 'group'
                THEN coalesce((SELECT sum(m.size) FROM themes AS m
                               WHERE m.parent_id = t.theme_id AND m.status = 'active'), 0)
                ELSE t.size END AS volume,
           (SELECT count(*) FROM themes AS m
            WHERE m.parent_id = t.theme_id AND m.status = 'active') AS sub_themes
    FROM themes AS t
)
SELECT s.theme_id, s.label, s.label_source, s.keywords, coalesce(s.kind, 'fine') AS kind,
       s.status, s.merged_into, s.parent_id, coalesce(s.parent_source, 'model') AS parent_source,
       coalesce(s.origin, 'model') AS origin,
       CASE WHEN s.parent_id IS NULL THEN 0 ELSE 1 END AS depth,
       coalesce(s.parent_id, s.theme_id) AS top_id,
       CASE WHEN top.department_source = 'triage' THEN NULL ELSE top.department END
           AS department,
       top.demand_type, v.volume, v.sub_themes, top.label AS top_label
FROM shown AS s
JOIN volume AS v ON v.theme_id = s.theme_id
JOIN themes AS top ON top.theme_id = coalesce(s.parent_id, s.theme_id)
JOIN volume AS tv ON tv.theme_id = top.theme_id
WHERE s.parent_id IS NULL OR top.status NOT IN ('merged', 'dormant') OR $include_all
ORDER BY top.status IN ('merged', 'dormant'), top.theme_id = 0, tv.volume DESC, top.theme_id,
         depth, s.status <> 'active', v.volume DESC, s.theme_id;

-- name: theme_parent
-- grain: the top-level theme over $theme_id (none when it is top-level itself)
SELECT p.theme_id, p.label, p.status
FROM themes AS t JOIN themes AS p ON p.theme_id = t.parent_id
WHERE t.theme_id = $theme_id;
