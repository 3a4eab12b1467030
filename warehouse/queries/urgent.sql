-- Urgent contacts (schema 009): the flagging flow's reads and writes, the same-day queue
-- of the dashboard and `voc urgent`, and acknowledgements with their audit trail.
-- $departments and $kinds are lists, or NULL for all.

-- name: urgent_feedback_to_check
-- grain: one row per contact whose text has not been checked against this cue file yet
SELECT f.feedback_id, f.text
FROM feedback AS f
WHERE NOT EXISTS (
    SELECT 1 FROM contact_flag_checks AS c
    WHERE c.feedback_id = f.feedback_id AND c.rule_version = $rule_version
)
ORDER BY f.feedback_id;

-- name: urgent_record_checks
-- grain: one row per contact checked (from the registered frame staged_checks)
INSERT INTO contact_flag_checks (feedback_id, rule_version, checked_at)
SELECT DISTINCT s.feedback_id, $rule_version, $checked_at
FROM staged_checks AS s
ON CONFLICT DO NOTHING;

-- name: urgent_insert_flags
-- grain: one row per new (contact, kind) from the registered frame staged_flags; a flag
-- already there keeps its evidence, time and acknowledgement
INSERT INTO contact_flags (feedback_id, kind, evidence, flagged_at, rule_version)
SELECT s.feedback_id, s.kind, s.evidence, $flagged_at, $rule_version
FROM staged_flags AS s
WHERE EXISTS (SELECT 1 FROM feedback AS f WHERE f.feedback_id = s.feedback_id)
ON CONFLICT DO NOTHING
RETURNING feedback_id, kind;

-- name: urgent_repeat_candidates
-- grain: one row per contact with a customer and a theme: what repeat_failure counts over
SELECT f.feedback_id, f.customer_ref, tt.top_id, f.received_at, f.channel,
       coalesce(t.label, '') AS top_label
FROM feedback AS f
JOIN feedback_themes AS ft ON ft.feedback_id = f.feedback_id
JOIN theme_top AS tt ON tt.theme_id = ft.theme_id
LEFT JOIN themes AS t ON t.theme_id = tt.top_id
WHERE f.customer_ref IS NOT NULL
ORDER BY f.customer_ref, tt.top_id, f.received_at;

-- name: urgent_customer_links
-- grain: one row per pair of identifiers seen naming one customer (repeat contacts are
-- counted per customer, whichever identifier each contact came with)
SELECT ref_a, ref_b FROM customer_links ORDER BY ref_a, ref_b;

-- name: urgent_queue
-- grain: one row per flagged contact, newest first: its kinds and evidence, where it
-- is routed, and whether (and by whom) it was acknowledged
SELECT cf.feedback_id,
       f.channel,
       f.received_at,
       f.language,
       f.source_file,
       f.source_ref,
       f.text,
       fd.department,
       t.label AS theme,
       string_agg(cf.kind, ', ' ORDER BY cf.kind) AS kinds,
       string_agg(cf.kind || ': ' || cf.evidence, ' | ' ORDER BY cf.kind) AS evidence,
       min(cf.flagged_at) AS flagged_at,
       bool_and(cf.acknowledged_at IS NOT NULL) AS acknowledged,
       max(cf.acknowledged_by) AS acknowledged_by,
       max(cf.acknowledged_at) AS acknowledged_at
FROM contact_flags AS cf
JOIN feedback AS f ON f.feedback_id = cf.feedback_id
LEFT JOIN feedback_departments AS fd ON fd.feedback_id = cf.feedback_id
LEFT JOIN feedback_themes AS ft ON ft.feedback_id = cf.feedback_id
LEFT JOIN theme_top AS tt ON tt.theme_id = ft.theme_id
LEFT JOIN themes AS t ON t.theme_id = tt.top_id
WHERE ($departments IS NULL OR list_contains($departments, fd.department))
  AND ($kinds IS NULL OR list_contains($kinds, cf.kind))
  AND ($since IS NULL OR f.received_at >= $since)
GROUP BY ALL
HAVING $include_acknowledged OR NOT bool_and(cf.acknowledged_at IS NOT NULL)
ORDER BY acknowledged, f.received_at DESC, cf.feedback_id
LIMIT $limit;

-- name: urgent_counts
-- grain: one row per kind: flagged contacts, and those not yet acknowledged
SELECT cf.kind,
       count(*) AS flagged,
       count(*) FILTER (WHERE cf.acknowledged_at IS NULL) AS open
FROM contact_flags AS cf
LEFT JOIN feedback_departments AS fd ON fd.feedback_id = cf.feedback_id
WHERE ($departments IS NULL OR list_contains($departments, fd.department))
GROUP BY cf.kind
ORDER BY cf.kind;

-- name: urgent_flags_of_contact
-- grain: one row per flag of one contact, with the department it is routed to
SELECT cf.feedback_id, cf.kind, cf.evidence, cf.flagged_at, cf.acknowledged_by,
       cf.acknowledged_at, fd.department
FROM contact_flags AS cf
LEFT JOIN feedback_departments AS fd ON fd.feedback_id = cf.feedback_id
WHERE cf.feedback_id = $feedback_id
ORDER BY cf.kind;

-- name: urgent_acknowledge
-- grain: one flag; only one not yet acknowledged (the first acknowledgement stands)
UPDATE contact_flags
SET acknowledged_by = $actor, acknowledged_at = $at
WHERE feedback_id = $feedback_id AND kind = $kind AND acknowledged_at IS NULL;

-- name: urgent_record_event
INSERT INTO contact_flag_events (feedback_id, kind, "at", actor, field, old_value, new_value, note)
VALUES ($feedback_id, $kind, $at, $actor, $field, $old_value, $new_value, $note);

-- name: urgent_history
-- grain: one row per change to one contact's flags, oldest first
SELECT "at", actor, kind, field, old_value, new_value, note
FROM contact_flag_events WHERE feedback_id = $feedback_id ORDER BY "at", kind;

-- name: urgent_open_contacts
-- grain: one row: flagged contacts with a flag nobody has acknowledged yet
SELECT count(DISTINCT feedback_id) AS open_contacts
FROM contact_flags WHERE acknowledged_at IS NULL;

-- name: urgent_contact_department
-- grain: zero or one row: the department a contact is routed to
SELECT department FROM feedback_departments WHERE feedback_id = $feedback_id;
