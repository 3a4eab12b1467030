-- The weekly review through the theme hierarchy: the sub-themes beneath top-level themes
-- (what grows this week, what an issue is made of). The review itself, issues and alerts
-- speak of top-level themes (theme_weekly); subtheme_weekly holds the detail.

-- name: week_subthemes
-- grain: one row per sub-theme (a fine theme under a group) with contacts in $week, with
-- its top-level theme (parent_id): per parent, growing ones first, then by volume.
-- $growing_only keeps the growing ones; $departments (a list, or NULL for all) keeps
-- those whose top-level theme belongs to one of them
SELECT w.week_start, w.parent_id, p.label AS parent_label,
       CASE WHEN p.department_source = 'triage' THEN NULL ELSE p.department END AS department,
       w.theme_id, t.label, t.keywords, w.volume, w.share, w.share_of_parent,
       w.trailing_share, w.change_vs_trailing, w.rate_ratio, w.q_value, w.is_new,
       w.is_growing, w.growth_reason, w.avg_score, w.est_cost, w.uncosted_contacts
FROM subtheme_weekly AS w
JOIN themes AS t ON t.theme_id = w.theme_id
LEFT JOIN themes AS p ON p.theme_id = w.parent_id
WHERE w.week_start = $week
  AND (NOT coalesce($growing_only, false) OR w.is_growing)
  AND ($departments IS NULL OR (coalesce(p.department_source, '') <> 'triage'
                                AND list_contains($departments, p.department)))
ORDER BY w.parent_id, w.is_growing DESC, w.volume DESC, w.theme_id;

-- name: issue_subthemes
-- grain: one row per sub-theme of the issue's theme (the fine themes beneath it; for an
-- issue on a lone fine theme, that theme), the evidence of the issue: its contacts in
-- $week (NULL: the issue's last review week), its growth and up to $per_theme examples
WITH issue AS (
    SELECT theme_id, coalesce($week, last_review_week) AS week FROM issues
    WHERE issue_id = $issue_id
),
subs AS (
    SELECT tt.theme_id, i.week
    FROM theme_top AS tt
    JOIN themes AS s ON s.theme_id = tt.theme_id
    CROSS JOIN issue AS i
    WHERE coalesce(s.kind, 'fine') = 'fine' AND i.theme_id IN (tt.theme_id, tt.top_id)
)
SELECT s.theme_id, t.label, t.keywords, t.status, t.size,
       s.week AS week_start,
       coalesce(w.volume, tw.volume, 0)::BIGINT AS week_volume,
       w.share_of_parent, coalesce(w.change_vs_trailing, tw.change_vs_trailing) AS change_vs_trailing,
       coalesce(w.is_growing, false) AS is_growing, w.growth_reason,
       (SELECT list(f.text ORDER BY x.rank)
        FROM theme_examples AS x JOIN feedback AS f ON f.feedback_id = x.feedback_id
        WHERE x.theme_id = s.theme_id AND x.rank <= $per_theme) AS examples
FROM subs AS s
JOIN themes AS t ON t.theme_id = s.theme_id
LEFT JOIN subtheme_weekly AS w ON w.theme_id = s.theme_id AND w.week_start = s.week
LEFT JOIN theme_weekly AS tw ON tw.theme_id = s.theme_id AND tw.week_start = s.week
ORDER BY week_volume DESC, t.size DESC, s.theme_id;

-- name: issue_folds
-- grain: one row per issue folded into $issue_id (its history stays under its own id)
SELECT i.issue_id, i.theme_id, t.label AS theme_label, i.title, i.department, i.owner,
       i.created_at, i.updated_at
FROM issues AS i LEFT JOIN themes AS t ON t.theme_id = i.theme_id
WHERE i.folded_into = $issue_id
ORDER BY i.issue_id;

-- name: export_subthemes
-- grain: one row per (ISO week, sub-theme under a group), with both levels' labels
SELECT w.*, t.label, p.label AS parent_label
FROM subtheme_weekly AS w
LEFT JOIN themes AS t ON t.theme_id = w.theme_id
LEFT JOIN themes AS p ON p.theme_id = w.parent_id
ORDER BY week_start, parent_id, theme_id;

-- name: top_theme_counts_of_sources
-- grain: one row per top-level theme holding records with these source refs, most first
SELECT tt.top_id AS theme_id, count(*) AS n
FROM feedback AS f
JOIN feedback_themes AS ft ON ft.feedback_id = f.feedback_id
JOIN theme_top AS tt ON tt.theme_id = ft.theme_id
WHERE list_contains($refs, f.source_ref) AND ft.theme_id <> 0
GROUP BY tt.top_id
ORDER BY n DESC, tt.top_id;
