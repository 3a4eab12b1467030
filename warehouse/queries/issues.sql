-- The issue tracker: one write path for the CLI, the weekly review and the dashboard.

-- name: issue_by_id
SELECT * FROM issues WHERE issue_id = $issue_id;

-- name: update_issue_fields
-- grain: one issue; each field changes only when its flag is set, so an edit touches
-- exactly the fields the person changed and nothing a concurrent run just wrote
UPDATE issues SET
    status      = CASE WHEN $set_status      THEN $status      ELSE status      END,
    owner       = CASE WHEN $set_owner       THEN $owner       ELSE owner       END,
    priority    = CASE WHEN $set_priority    THEN $priority    ELSE priority    END,
    due_date    = CASE WHEN $set_due_date    THEN $due_date    ELSE due_date    END,
    root_cause  = CASE WHEN $set_root_cause  THEN $root_cause  ELSE root_cause  END,
    action      = CASE WHEN $set_action      THEN $action      ELSE action      END,
    department  = CASE WHEN $set_department  THEN $department  ELSE department  END,
    theme_id    = CASE WHEN $set_theme_id    THEN $theme_id    ELSE theme_id    END,
    title       = CASE WHEN $set_title       THEN $title       ELSE title       END,
    folded_into = CASE WHEN $set_folded_into THEN $folded_into ELSE folded_into END,
    resolved_at = CASE WHEN $set_status AND $status = 'fixed' THEN $fixed_at
                       WHEN $set_status AND $status IN ('reopened', 'in_progress', 'acknowledged', 'new') THEN NULL
                       ELSE resolved_at END,
    verified_at = CASE WHEN $set_status AND $status = 'verified' THEN $at
                       WHEN $set_status AND $status = 'reopened' THEN NULL
                       ELSE verified_at END,
    updated_at  = $at,
    version     = version + 1
WHERE issue_id = $issue_id;

-- name: record_issue_event
INSERT INTO issue_events (issue_id, "at", actor, field, old_value, new_value, note)
VALUES ($issue_id, $at, $actor, $field, $old_value, $new_value, $note);

-- name: issue_history
-- grain: one row per change to the issue, oldest first
SELECT "at", actor, field, old_value, new_value, note
FROM issue_events WHERE issue_id = $issue_id ORDER BY "at", field;

-- name: priority_set_by_person
-- grain: one answer: has anyone but ``$system_actor`` changed this issue's priority?
SELECT count(*) > 0 AS set_by_person FROM issue_events
WHERE issue_id = $issue_id AND field = 'priority' AND actor <> $system_actor;

-- name: list_issues
-- grain: one row per issue, most urgent first
SELECT i.issue_id, i.theme_id, i.title, i.department, i.owner, i.status, i.priority, i.due_date,
       i.root_cause, i.action, i.opened_reason, i.created_at, i.updated_at, i.resolved_at,
       i.verified_at, i.weekly_volume, i.weekly_cost, i.baseline_rate, i.after_rate,
       i.verification, i.version, i.folded_into, t.label AS theme_label
FROM issues AS i LEFT JOIN themes AS t USING (theme_id)
WHERE ($department IS NULL OR i.department = $department)
  AND ($status IS NULL OR i.status = $status)
ORDER BY NOT issue_is_open(i.status), i.priority, i.due_date NULLS LAST, i.issue_id;

-- name: open_issue_for_theme
SELECT issue_id, status, department, priority, due_date FROM issues
WHERE theme_id = $theme_id AND issue_is_open(status)
ORDER BY issue_id DESC LIMIT 1;

-- name: create_issue
INSERT INTO issues (theme_id, title, department, owner, status, priority, due_date, opened_reason,
                    created_at, updated_at, last_review_week, weekly_volume, weekly_cost)
VALUES ($theme_id, $title, $department, $owner, 'new', $priority, $due_date, $opened_reason,
        $at, $at, $week, $weekly_volume, $weekly_cost)
RETURNING issue_id;

-- name: refresh_issue_review
-- the weekly review's own columns: never the fields a person edits
UPDATE issues SET last_review_week = $week, weekly_volume = $weekly_volume,
       weekly_cost = $weekly_cost, updated_at = $at
WHERE issue_id = $issue_id;

-- name: record_verification
UPDATE issues SET baseline_rate = $baseline_rate, after_rate = $after_rate,
       verification = $verification, verification_p = $p_value, updated_at = $at
WHERE issue_id = $issue_id;

-- name: open_issues_with_top
-- grain: one row per open issue, with the top-level theme its theme reads under now
SELECT i.issue_id, i.theme_id, coalesce(tt.top_id, i.theme_id) AS top_id, i.status,
       i.created_at, t.label AS theme_label, p.label AS top_label
FROM issues AS i
LEFT JOIN theme_top AS tt ON tt.theme_id = i.theme_id
LEFT JOIN themes AS t ON t.theme_id = i.theme_id
LEFT JOIN themes AS p ON p.theme_id = coalesce(tt.top_id, i.theme_id)
WHERE issue_is_open(i.status)
ORDER BY i.issue_id;
