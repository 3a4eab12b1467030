-- Ingest: write one prepared file (staged_* are frames registered by core_tables.py) and
-- report on what was loaded. Each block runs inside the caller's one transaction.

-- name: insert_new_feedback
-- grain: one row per feedback_id not yet in the warehouse
INSERT INTO feedback BY NAME
SELECT s.*, $run_id AS run_id, $ingested_at AS ingested_at
FROM staged_feedback AS s
ANTI JOIN feedback AS f ON f.feedback_id = s.feedback_id;

-- name: insert_ingest_notes
INSERT INTO ingest_notes BY NAME
SELECT n.feedback_id, $run_id AS run_id, $source_file AS source_file, n.source_ref,
       n.note_code, n.note, $noted_at AS noted_at
FROM staged_notes AS n
ON CONFLICT DO NOTHING;

-- name: insert_customer_links
-- grain: one row per pair of identifiers of one customer (staged_links: ref_a < ref_b);
-- a pair already known keeps when it was first seen
INSERT INTO customer_links (ref_a, ref_b, first_seen, run_id)
SELECT DISTINCT l.ref_a, l.ref_b, $seen_at, $run_id
FROM staged_links AS l
ON CONFLICT DO NOTHING;

-- name: insert_quarantine
-- grain: one row per (file content, record, reason): the same bad record is kept once
INSERT INTO quarantine BY NAME
SELECT q.quarantine_id, $run_id AS run_id, $source_file AS source_file, q.source_ref,
       q.reason_code, q.reason, q.raw_excerpt, $quarantined_at AS quarantined_at
FROM staged_quarantine AS q
ON CONFLICT DO NOTHING;

-- name: insert_ingest_run
INSERT INTO ingest_runs (run_id, source_file, file_sha256, channel, rows_read, rows_loaded,
                         rows_duplicate, rows_quarantined, started_at, finished_at, status, message)
VALUES ($run_id, $source_file, $file_sha256, $channel, $rows_read, $rows_loaded,
        $rows_duplicate, $rows_quarantined, $started_at, $finished_at, $status, $message);

-- name: remember_source_file
INSERT INTO source_files (file_sha256, first_path, channel, size_bytes, first_run_id, first_seen_at)
VALUES ($file_sha256, $path, $channel, $size_bytes, $run_id, $seen_at)
ON CONFLICT DO NOTHING;

-- name: known_file_hashes
SELECT file_sha256 FROM source_files;

-- name: rows_per_channel_week
-- grain: one row per (channel, ISO week of received_at)
SELECT channel,
       strftime(received_at, '%G-W%V') AS week,
       count(*) AS contacts,
       count(score) AS scored,
       round(avg(score), 2) AS avg_score
FROM feedback
GROUP BY ALL
ORDER BY week, channel;

-- name: contacts_by_language
-- grain: one row per language (ISO 639-1 code, or 'und' where a text is too short to tell)
SELECT language, count(*) AS contacts,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_pct
FROM feedback
GROUP BY language
ORDER BY contacts DESC, language;

-- name: recent_runs
-- grain: one row per ingest run
SELECT run_id,
       min(started_at) AS started_at,
       max(finished_at) AS finished_at,
       count(*) AS files,
       sum(rows_read) AS rows_read,
       sum(rows_loaded) AS rows_loaded,
       sum(rows_duplicate) AS rows_duplicate,
       sum(rows_quarantined) AS rows_quarantined,
       CASE WHEN bool_and(status = 'ok') THEN 'ok'
            WHEN bool_or(status IN ('ok', 'partial')) THEN 'partial'
            ELSE 'failed' END AS status
FROM ingest_runs
GROUP BY run_id
ORDER BY started_at DESC
LIMIT $limit;

-- name: quarantine_by_reason
-- grain: one row per reason code
SELECT reason_code, count(*) AS records, count(DISTINCT source_file) AS files,
       any_value(reason) AS example
FROM quarantine
GROUP BY reason_code
ORDER BY records DESC;

-- name: feedback_count
SELECT count(*) FROM feedback;
