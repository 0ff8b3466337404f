-- A completed-call record (SMDR/CDR) is stored once: its key (a hash of the switch
-- and the record's raw lines) is unique, so a record the switch replays, also after
-- the daemon restarted, neither adds a row nor completes a row twice. Rows of CTI
-- calls that no record completed have none (NULLs do not collide).
ALTER TABLE call_log ADD COLUMN record_key TEXT;
CREATE UNIQUE INDEX call_log_record_key ON call_log (record_key);
