-- `voc notify`: who hears what (digests and alerts), and the record of every message.

-- name: notify_recipients
-- grain: one row per (department, address): the department's head from departments.yaml
-- when it is an e-mail address, and dashboard users who are its head
SELECT name AS department, lower(head) AS email
FROM departments WHERE head LIKE '%@%'
UNION
SELECT department, lower(email) AS email
FROM users WHERE role = 'head' AND department IS NOT NULL AND email LIKE '%@%'
ORDER BY department, email;

-- name: notify_insight_team
-- grain: one row per address of an analyst or admin
SELECT DISTINCT lower(email) AS email FROM users
WHERE role IN ('admin', 'analyst') AND email LIKE '%@%'
ORDER BY email;

-- name: notify_departments
-- grain: one row per department, with its head as written in departments.yaml
SELECT name AS department, head FROM departments ORDER BY name;

-- name: notify_issues
-- grain: one row per issue of one department, with what the digest sorts it by
SELECT issue_id, title, status, priority, owner, due_date, created_at, verified_at,
       issue_is_open(status) AS is_open,
       issue_is_open(status) AND due_date < $today AS is_overdue,
       created_at >= $week_start AND created_at < $week_end AS opened_this_week,
       verified_at >= $week_start AND verified_at < $week_end AS verified_this_week
FROM issues
WHERE department = $department
ORDER BY priority, due_date NULLS LAST, issue_id;

-- name: notify_urgent_of_week
-- grain: one row per urgent contact of one department received in the week and not yet
-- acknowledged
SELECT cf.feedback_id, f.channel, f.received_at,
       string_agg(cf.kind, ', ' ORDER BY cf.kind) AS kinds,
       string_agg(cf.evidence, ' | ' ORDER BY cf.kind) AS evidence
FROM contact_flags AS cf
JOIN feedback AS f ON f.feedback_id = cf.feedback_id
JOIN feedback_departments AS fd ON fd.feedback_id = cf.feedback_id
WHERE fd.department = $department
  AND cf.acknowledged_at IS NULL
  AND f.received_at >= $week_start AND f.received_at < $week_end
GROUP BY ALL
ORDER BY f.received_at DESC, cf.feedback_id;

-- name: notify_emerging
-- grain: one row per theme that turned emerging in the week
SELECT tw.theme_id, t.label, tw.volume, tw.emerging_reason, tw.department
FROM theme_weekly AS tw JOIN themes AS t USING (theme_id)
WHERE tw.week_start = $week_start AND tw.is_emerging
ORDER BY tw.volume DESC, tw.theme_id;

-- name: notify_new_urgent
-- grain: one row per urgent contact flagged since $since, not acknowledged and not yet
-- alerted, with the department it is routed to
SELECT cf.feedback_id, f.channel, f.received_at, fd.department,
       string_agg(cf.kind, ', ' ORDER BY cf.kind) AS kinds,
       string_agg(cf.evidence, ' | ' ORDER BY cf.kind) AS evidence
FROM contact_flags AS cf
JOIN feedback AS f ON f.feedback_id = cf.feedback_id
LEFT JOIN feedback_departments AS fd ON fd.feedback_id = cf.feedback_id
WHERE cf.acknowledged_at IS NULL
  AND cf.flagged_at >= $since
  AND NOT EXISTS (SELECT 1 FROM alerted_contacts AS a WHERE a.feedback_id = cf.feedback_id)
GROUP BY ALL
ORDER BY fd.department NULLS LAST, f.received_at, cf.feedback_id;

-- name: notify_mark_alerted
INSERT INTO alerted_contacts (feedback_id, message_key, alerted_at)
SELECT s.feedback_id, $message_key, $at FROM staged_alerted AS s
ON CONFLICT DO NOTHING;

-- name: notify_status
-- grain: zero or one row: what became of one message to one recipient
SELECT status, attempts FROM notifications
WHERE message_key = $message_key AND transport = $transport AND recipient = $recipient;

-- name: notify_record
-- grain: one message to one recipient; a retry adds to its attempts
INSERT INTO notifications (message_key, kind, department, transport, recipient, subject,
                           status, attempts, error, first_tried_at, last_tried_at, sent_at)
VALUES ($message_key, $kind, $department, $transport, $recipient, $subject, $status,
        $attempts, $error, $at, $at, CASE WHEN $status = 'sent' THEN $at END)
ON CONFLICT (message_key, transport, recipient) DO UPDATE SET
    status = excluded.status,
    attempts = notifications.attempts + excluded.attempts,
    error = excluded.error,
    last_tried_at = excluded.last_tried_at,
    sent_at = coalesce(notifications.sent_at, excluded.sent_at);

-- name: notify_log
-- grain: one row per message and recipient, newest first
SELECT message_key, kind, department, transport, recipient, subject, status, attempts, error,
       last_tried_at, sent_at
FROM notifications ORDER BY last_tried_at DESC, message_key LIMIT $limit;

-- name: notify_latest_week
-- grain: one row: the latest week the weekly review has figures for (NULL before any)
SELECT max(week_start) AS week_start FROM theme_weekly;
