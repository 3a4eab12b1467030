-- 014: a contact written in another language than the team's, rendered in the team's
-- language by an offline engine where voc has one (models/rendering.py), for the person
-- reading it. Themes, labels and routes never read a rendering.

-- grain: one row per feedback item per language it was rendered in
CREATE TABLE renderings (
    feedback_id VARCHAR   NOT NULL,
    language    VARCHAR   NOT NULL,   -- the rendering's language (ISO 639-1, the team's)
    text        VARCHAR   NOT NULL,
    engine      VARCHAR   NOT NULL,   -- what made it, e.g. 'apertium spa-eng'
    rendered_at TIMESTAMP NOT NULL,
    PRIMARY KEY (feedback_id, language)
);
