-- A staff key is a named service account for an integration: who created it and what for are
-- kept with it and shown to auditors in the staff console. Keys made before this say neither.
ALTER TABLE staff_keys ADD COLUMN created_by text, ADD COLUMN purpose text;
