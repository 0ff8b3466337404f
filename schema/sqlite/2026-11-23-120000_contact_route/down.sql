ALTER TABLE contacts DROP COLUMN route;
