DROP INDEX call_log_record_key;
ALTER TABLE call_log DROP COLUMN record_key;
