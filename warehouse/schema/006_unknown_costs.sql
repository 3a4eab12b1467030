-- 006: costs per contact are optional in the departments file. A contact whose department
-- (and the file's default) has no figure for its channel has an unknown cost: NULL, never
-- 0. Every cost total sums the known costs only and counts the contacts it could not cost
-- beside it, so a partial total says so (and a total with nothing known is NULL).

ALTER TABLE theme_channel_weekly ALTER COLUMN est_cost DROP NOT NULL;
ALTER TABLE theme_channel_weekly ADD COLUMN uncosted_contacts BIGINT DEFAULT 0;

ALTER TABLE theme_weekly ADD COLUMN uncosted_contacts BIGINT DEFAULT 0;

ALTER TABLE weekly_chargeback ALTER COLUMN failure_cost DROP NOT NULL;
ALTER TABLE weekly_chargeback ALTER COLUMN value_cost DROP NOT NULL;
ALTER TABLE weekly_chargeback ALTER COLUMN total_cost DROP NOT NULL;
-- contacts of the department (of its failure demand) whose cost is unknown
ALTER TABLE weekly_chargeback ADD COLUMN uncosted_contacts BIGINT DEFAULT 0;
ALTER TABLE weekly_chargeback ADD COLUMN failure_uncosted_contacts BIGINT DEFAULT 0;

-- a saving is unknown where the theme's cost is
ALTER TABLE opportunities ALTER COLUMN est_weekly_saving DROP NOT NULL;
