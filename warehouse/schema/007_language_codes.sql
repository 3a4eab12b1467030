-- 007: feedback.language is an ISO 639-1 code ('en', 'fr', ...) or 'und' where the text
-- is too short to tell. It held the source's own tags ('en-gb', 'es-es', lowercased) and
-- NULL where no language was found. The region a tag named ('GB') moves into the record's
-- attributes as language_region; a tag that names no ISO 639-1 language is kept there as
-- source_language. New records are settled the same way at ingest (flows/language.py).
-- grain: feedback, one row per contact (updated in place)

UPDATE feedback
SET attributes = CAST(json_merge_patch(
        coalesce(attributes, '{}'),
        json_object('language_region', upper(regexp_extract(
            lower(replace(language, '_', '-')), '^[a-z]{2}-([a-z]{2}|[0-9]{3})(-|$)', 1)))
    ) AS JSON)
WHERE regexp_matches(lower(replace(language, '_', '-')), '^[a-z]{2}-([a-z]{2}|[0-9]{3})(-|$)');

UPDATE feedback
SET language = lower(left(language, 2))
WHERE regexp_matches(lower(replace(language, '_', '-')), '^[a-z]{2}(-|$)');

UPDATE feedback
SET attributes = CAST(json_merge_patch(
        coalesce(attributes, '{}'), json_object('source_language', language)
    ) AS JSON),
    language = 'und'
WHERE language IS NOT NULL AND NOT regexp_matches(language, '^[a-z]{2}$') AND language <> 'und';

UPDATE feedback SET language = 'und' WHERE language IS NULL;
