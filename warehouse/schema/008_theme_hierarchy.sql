-- 008: themes in two levels. A fine theme (a cluster; what feedback_themes.theme_id names)
-- sits under a top-level theme: themes.parent_id is that top-level theme's id, NULL on a
-- top-level theme. A top-level theme is either a group (kind 'group': a themes row of its
-- own, holding no contact directly, whose members are the fine themes beneath it) or a
-- lone fine theme that is its own top-level theme (kind 'fine', parent_id NULL).
-- The weekly review, routing, issues, emerging flags, cost and chargeback speak of
-- top-level themes; the view theme_top gives every theme's top-level theme.

ALTER TABLE themes ADD COLUMN parent_id INTEGER;
ALTER TABLE themes ADD COLUMN kind VARCHAR DEFAULT 'fine';           -- fine | group
ALTER TABLE themes ADD COLUMN parent_source VARCHAR DEFAULT 'model'; -- model | analyst
-- who made the theme: 'model' (a topic run) or 'analyst' (a split or a new group made by
-- hand). A topic run, --refit included, keeps an analyst's themes and their items.
ALTER TABLE themes ADD COLUMN origin VARCHAR DEFAULT 'model';

-- grain: one row per theme: the top-level theme it reads under (itself when top-level)
CREATE VIEW theme_top AS
SELECT theme_id, coalesce(parent_id, theme_id) AS top_id
FROM themes;
